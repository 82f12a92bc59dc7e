// SPDX-License-Identifier: MIT
#pragma once

// SHA-1 (FIPS 180-4), constexpr, for one purpose: naming Lua scripts the way Redis does (EVALSHA takes the
// lowercase hex SHA-1 of the script's source). Not for anything that needs a secure hash.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meetingbaas::inline v0::redis::detail {

constexpr std::uint32_t rotl32(std::uint32_t x, int n) noexcept
{
    return (x << n) | (x >> (32 - n));
}

constexpr void sha1_block(std::array<std::uint32_t, 5>& h, const std::array<std::uint8_t, 64>& block) noexcept
{
    std::array<std::uint32_t, 80> w{};
    for (std::size_t i = 0; i < 16; ++i) {
        w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
               (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
    }
    for (std::size_t i = 16; i < 80; ++i) w[i] = rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0];
    std::uint32_t b = h[1];
    std::uint32_t c = h[2];
    std::uint32_t d = h[3];
    std::uint32_t e = h[4];
    for (std::size_t i = 0; i < 80; ++i) {
        std::uint32_t f = 0;
        std::uint32_t k = 0;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999U;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1U;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCU;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6U;
        }
        const std::uint32_t t = rotl32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rotl32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/// The lowercase hex SHA-1 of `text` (40 characters).
constexpr std::array<char, 40> sha1_hex(std::string_view text) noexcept
{
    std::array<std::uint32_t, 5> h{0x67452301U, 0xEFCDAB89U, 0x98BADCFEU, 0x10325476U, 0xC3D2E1F0U};
    std::array<std::uint8_t, 64> block{};
    std::size_t used = 0;
    for (const char ch : text) {
        block[used++] = static_cast<std::uint8_t>(ch);
        if (used == 64) {
            sha1_block(h, block);
            used = 0;
        }
    }
    const std::uint64_t bits = static_cast<std::uint64_t>(text.size()) * 8U;
    block[used++] = 0x80;
    if (used > 56) {
        while (used < 64) block[used++] = 0;
        sha1_block(h, block);
        used = 0;
    }
    while (used < 56) block[used++] = 0;
    for (int i = 7; i >= 0; --i) block[used++] = static_cast<std::uint8_t>(bits >> (8 * i));
    sha1_block(h, block);

    constexpr std::string_view digits = "0123456789abcdef";
    std::array<char, 40> out{};
    for (std::size_t i = 0; i < 5; ++i) {
        for (std::size_t j = 0; j < 8; ++j) out[8 * i + j] = digits[(h[i] >> (28 - 4 * j)) & 0xFU];
    }
    return out;
}

}  // namespace meetingbaas::inline v0::redis::detail
