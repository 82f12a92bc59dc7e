// SPDX-License-Identifier: MIT
#pragma once

#include <meetingbaas/core/error.hpp>

#include <concepts>
#include <new>
#include <type_traits>
#include <utility>

namespace meetingbaas::inline v0 {

/// Wraps an error value so that it can be returned where a result is expected, like std::unexpected.
template <class E>
class unexpected {
public:
    constexpr explicit unexpected(E e) noexcept(std::is_nothrow_move_constructible_v<E>)
        : error_(std::move(e))
    {}
    constexpr const E& error() const& noexcept { return error_; }
    constexpr E& error() & noexcept { return error_; }
    constexpr E&& error() && noexcept { return std::move(error_); }

private:
    E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

/// The outcome of a fallible operation: a T, or an E (meetingbaas::error by default).
///
/// Its API is a subset of std::expected<T, E> (C++23), so that moving to std::expected later is
/// mechanical. It has no throwing accessor: `*r` and `r.error()` have preconditions (has_value() and
/// !has_value() respectively), checked with MEETINGBAAS_ASSERT at most, as in std::expected.
/// An E converts implicitly when T is not constructible from E; otherwise use meetingbaas::unexpected.
template <class T, class E = error>
class [[nodiscard]] result {
public:
    using value_type = T;
    using error_type = E;  // spelled error_type everywhere in the class: see STYLE.md 3.3 (GCC gotcha)

    template <class U = T>
        requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::remove_cvref_t<U>, result>) &&
                     (!std::is_same_v<std::remove_cvref_t<U>, error_type>)
    constexpr result(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>)  // NOLINT(*-explicit-*)
        : value_(std::forward<U>(value)), has_value_(true)
    {}

    template <class G = error_type>
        requires std::is_same_v<std::remove_cvref_t<G>, error_type> && (!std::is_constructible_v<T, G &&>)
    constexpr result(G&& e) noexcept(
        std::is_nothrow_constructible_v<error_type, G&&>)  // NOLINT(*-explicit-*)
        : error_(std::forward<G>(e)), has_value_(false)
    {}

    template <class G>
        requires std::is_constructible_v<error_type, G&&>
    constexpr result(unexpected<G> e) noexcept(std::is_nothrow_constructible_v<error_type, G&&>)  // NOLINT
        : error_(std::move(e).error()), has_value_(false)
    {}

    // A hand-written tagged union rather than std::variant<T, E>: the library instantiates result for dozens
    // of types, and libstdc++'s variant generates visitation tables for every special member of each, which
    // was a large share of the headers' compile time.
    result(const result& other) noexcept(std::is_nothrow_copy_constructible_v<T> &&
                                         std::is_nothrow_copy_constructible_v<error_type>)
        requires std::is_copy_constructible_v<T> && std::is_copy_constructible_v<error_type>
        : has_value_(other.has_value_)
    {
        if (has_value_) {
            ::new (static_cast<void*>(__builtin_addressof(value_))) T(other.value_);
        } else {
            ::new (static_cast<void*>(__builtin_addressof(error_))) error_type(other.error_);
        }
    }
    result(result&& other) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                    std::is_nothrow_move_constructible_v<error_type>)
        : has_value_(other.has_value_)
    {
        if (has_value_) {
            ::new (static_cast<void*>(__builtin_addressof(value_))) T(std::move(other.value_));
        } else {
            ::new (static_cast<void*>(__builtin_addressof(error_))) error_type(std::move(other.error_));
        }
    }
    result& operator=(const result& other)
        requires std::is_copy_constructible_v<T> && std::is_copy_constructible_v<error_type>
    {
        if (this != &other) assign(result(other));
        return *this;
    }
    result& operator=(result&& other) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                               std::is_nothrow_move_constructible_v<error_type> &&
                                               std::is_nothrow_move_assignable_v<T> &&
                                               std::is_nothrow_move_assignable_v<error_type>)
    {
        if (this != &other) assign(std::move(other));
        return *this;
    }
    constexpr ~result() { destroy(); }

    [[nodiscard]] constexpr bool has_value() const noexcept { return has_value_; }
    constexpr explicit operator bool() const noexcept { return has_value(); }

    constexpr T& operator*() & noexcept { return value_; }
    constexpr const T& operator*() const& noexcept { return value_; }
    constexpr T&& operator*() && noexcept { return std::move(value_); }
    constexpr T* operator->() noexcept { return __builtin_addressof(value_); }
    constexpr const T* operator->() const noexcept { return __builtin_addressof(value_); }

    constexpr const error_type& error() const& noexcept { return error_; }
    constexpr error_type& error() & noexcept { return error_; }
    constexpr error_type&& error() && noexcept { return std::move(error_); }

    template <class U>
    constexpr T value_or(U&& fallback) const&
    {
        return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
    }
    template <class U>
    constexpr T value_or(U&& fallback) &&
    {
        return has_value() ? std::move(**this) : static_cast<T>(std::forward<U>(fallback));
    }

    /// Calls f(value) when there is a value; f returns a result with the same error type.
    template <class F>
    constexpr auto and_then(F&& f) const&
    {
        using R = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
        if (has_value()) return std::forward<F>(f)(**this);
        return R(unexpected<error_type>(error()));
    }
    template <class F>
    constexpr auto and_then(F&& f) &&
    {
        using R = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
        if (has_value()) return std::forward<F>(f)(std::move(**this));
        return R(unexpected<error_type>(std::move(*this).error()));
    }

    /// Maps the value with f, keeping the error.
    template <class F>
    constexpr auto transform(F&& f) const&
    {
        using U = std::remove_cv_t<std::invoke_result_t<F, const T&>>;
        if (has_value()) return result<U, error_type>(std::forward<F>(f)(**this));
        return result<U, error_type>(unexpected<error_type>(error()));
    }

private:
    constexpr void destroy() noexcept
    {
        if (has_value_) {
            value_.~T();
        } else {
            error_.~error_type();
        }
    }
    // `from` is a temporary or a moved-from operand: its alternatives are moved into this one.
    void assign(result&& from)
    {
        if (has_value_ && from.has_value_) {
            value_ = std::move(from.value_);
        } else if (!has_value_ && !from.has_value_) {
            error_ = std::move(from.error_);
        } else {
            destroy();
            has_value_ = from.has_value_;
            if (has_value_) {
                ::new (static_cast<void*>(__builtin_addressof(value_))) T(std::move(from.value_));
            } else {
                ::new (static_cast<void*>(__builtin_addressof(error_))) error_type(std::move(from.error_));
            }
        }
    }

    union {
        T value_;
        error_type error_;
    };
    bool has_value_;
};

/// result<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] result<void, E> {
public:
    using value_type = void;
    using error_type = E;

    constexpr result() noexcept = default;
    constexpr result(error_type e) noexcept(std::is_nothrow_move_constructible_v<error_type>)  // NOLINT
        : error_(std::move(e)), has_error_(true)
    {}
    template <class G>
        requires std::is_constructible_v<error_type, G&&>
    constexpr result(unexpected<G> e) noexcept(std::is_nothrow_constructible_v<error_type, G&&>)  // NOLINT
        : error_(std::move(e).error()), has_error_(true)
    {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return !has_error_; }
    constexpr explicit operator bool() const noexcept { return has_value(); }
    constexpr void operator*() const noexcept {}

    constexpr const error_type& error() const& noexcept { return error_; }
    constexpr error_type& error() & noexcept { return error_; }
    constexpr error_type&& error() && noexcept { return std::move(error_); }

private:
    error_type error_{};
    bool has_error_ = false;
};

}  // namespace meetingbaas::inline v0
