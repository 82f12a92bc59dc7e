// SPDX-License-Identifier: MIT
#pragma once

// Locale-independent ASCII helpers for header names and header values (RFC 9110 field syntax).

#include <cstddef>
#include <string_view>

namespace meetingbaas::inline v0::detail {

/// 'A'..'Z' -> 'a'..'z'; every other byte unchanged (no locale, no UTF-8 folding).
constexpr char ascii_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// ASCII case-insensitive equality, as HTTP field names compare.
constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

/// Optional whitespace of RFC 9110 (SP / HTAB).
constexpr bool is_ows(char c) noexcept
{
    return c == ' ' || c == '\t';
}

/// The value without leading and trailing SP / HTAB.
constexpr std::string_view trim_ows(std::string_view s) noexcept
{
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

constexpr bool is_ascii_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

}  // namespace meetingbaas::inline v0::detail
