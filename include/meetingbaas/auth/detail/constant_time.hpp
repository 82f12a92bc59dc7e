// SPDX-License-Identifier: MIT
#pragma once

// Comparisons whose running time does not depend on the *contents* of the compared bytes (only on
// their lengths, which are public here: digests are 32 bytes, lengths of presented headers are known to
// the sender). Used for API keys, callback secrets and HMAC signatures.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace meetingbaas::inline v0::detail {

/// An optimisation barrier: the compiler must assume `v` may have changed, so it cannot turn an
/// accumulate-then-test loop back into an early-exit comparison.
template <class T>
inline T value_barrier(T v) noexcept
{
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(v));
    return v;
#else
    volatile T sink = v;
    return sink;
#endif
}

/// True when the two byte ranges are equal. Time depends on the lengths only, never on where the first
/// difference is. Ranges of different lengths compare unequal (after a full pass over `a`).
inline bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept
{
    std::uint32_t diff = a.size() == b.size() ? 0U : 1U;  // lengths are public
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i) {
        diff = value_barrier(diff | static_cast<std::uint32_t>(a[i] ^ b[i]));
    }
    return value_barrier(diff) == 0;
}

/// String form of constant_time_equal.
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    return constant_time_equal(std::span(reinterpret_cast<const std::uint8_t*>(a.data()), a.size()),
                               std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
}

/// All-ones when `condition` is true, zero otherwise, without a branch on `condition`.
constexpr std::size_t constant_time_mask(bool condition) noexcept
{
    return std::size_t{0} - static_cast<std::size_t>(condition);
}

/// `condition ? a : b` without a branch on `condition`.
inline std::size_t constant_time_select(bool condition, std::size_t a, std::size_t b) noexcept
{
    const std::size_t mask = value_barrier(constant_time_mask(condition));
    return (a & mask) | (b & ~mask);
}

}  // namespace meetingbaas::inline v0::detail
