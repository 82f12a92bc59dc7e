// SPDX-License-Identifier: MIT
#pragma once

// Heap-allocation counting for "this path never allocates" tests.
//
// * meetingbaas::test::allocation_count() counts every global operator new since program start, once
//   the replacement below is compiled into the test program: include this header with
//   MEETINGBAAS_TEST_COUNT_ALLOCATIONS defined in EXACTLY ONE translation unit of the executable
//   (replacement allocation functions must not be inline, so they cannot live in every TU).
// * allocation_scope measures a region: `allocation_scope s; work(); CHECK(s.count() == 0);`.
// * counting_allocator<T> is a std::allocator-compatible allocator that counts its own allocations,
//   for containers handed to code under test.

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace meetingbaas::test {

inline std::atomic<std::size_t>& allocation_counter() noexcept
{
    static std::atomic<std::size_t> counter{0};
    return counter;
}

/// Global operator new calls so far (only counts when the replacement is linked in; see above).
inline std::size_t allocation_count() noexcept
{
    return allocation_counter().load(std::memory_order_relaxed);
}

/// Counts allocations between its construction and count().
class allocation_scope {
public:
    allocation_scope() noexcept : start_(allocation_count()) {}
    [[nodiscard]] std::size_t count() const noexcept { return allocation_count() - start_; }

private:
    std::size_t start_;
};

template <class T>
struct counting_allocator {
    using value_type = T;

    std::shared_ptr<std::size_t> allocations = std::make_shared<std::size_t>(0);

    counting_allocator() = default;
    template <class U>
    counting_allocator(const counting_allocator<U>& other) noexcept
        : allocations(other.allocations)  // NOLINT
    {}

    T* allocate(std::size_t n)
    {
        ++*allocations;
        return std::allocator<T>{}.allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }

    template <class U>
    friend bool operator==(const counting_allocator& a, const counting_allocator<U>& b) noexcept
    {
        return a.allocations == b.allocations;
    }
};

}  // namespace meetingbaas::test

#ifdef MEETINGBAAS_TEST_COUNT_ALLOCATIONS
// Replacements of the global allocation functions ([replacement.functions]); one definition per program.
void* operator new(std::size_t size)
{
    meetingbaas::test::allocation_counter().fetch_add(1, std::memory_order_relaxed);
    if (size == 0) size = 1;
    if (void* p = std::malloc(size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size)
{
    return ::operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    meetingbaas::test::allocation_counter().fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept
{
    return ::operator new(size, tag);
}
void operator delete(void* p) noexcept
{
    std::free(p);
}
void operator delete[](void* p) noexcept
{
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept
{
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept
{
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept
{
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept
{
    std::free(p);
}
#endif
