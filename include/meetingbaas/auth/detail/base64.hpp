// SPDX-License-Identifier: MIT
#pragma once

// Standard base64 (RFC 4648 section 4: alphabet A-Z a-z 0-9 + /, '=' padding), strict decoding:
//  * the length must be a multiple of 4 (padding is required);
//  * only the alphabet, and '=' only as the last one or two characters;
//  * the unused low bits of the last symbol must be zero (canonical encoding only), so every byte string
//    has exactly one accepted encoding;
//  * no whitespace, no line breaks, no URL-safe alphabet.
// Decoding never allocates when given an output span, and never reads or writes out of bounds.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meetingbaas::inline v0::detail {

inline constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Length of the encoding of `n` bytes (with padding).
constexpr std::size_t base64_encoded_size(std::size_t n) noexcept
{
    return (n + 2) / 3 * 4;
}

/// Encodes `bytes` into `out`, which must hold base64_encoded_size(bytes.size()) characters.
inline void base64_encode_to(std::span<const std::uint8_t> bytes, char* out) noexcept
{
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v =
            (std::uint32_t{bytes[i]} << 16U) | (std::uint32_t{bytes[i + 1]} << 8U) | bytes[i + 2];
        *out++ = base64_alphabet[(v >> 18U) & 63U];
        *out++ = base64_alphabet[(v >> 12U) & 63U];
        *out++ = base64_alphabet[(v >> 6U) & 63U];
        *out++ = base64_alphabet[v & 63U];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t{bytes[i]} << 16U;
        *out++ = base64_alphabet[(v >> 18U) & 63U];
        *out++ = base64_alphabet[(v >> 12U) & 63U];
        *out++ = '=';
        *out++ = '=';
    } else if (rest == 2) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16U) | (std::uint32_t{bytes[i + 1]} << 8U);
        *out++ = base64_alphabet[(v >> 18U) & 63U];
        *out++ = base64_alphabet[(v >> 12U) & 63U];
        *out++ = base64_alphabet[(v >> 6U) & 63U];
        *out++ = '=';
    }
}

/// Base64 of `bytes`.
inline std::string base64_encode(std::span<const std::uint8_t> bytes)
{
    std::string out(base64_encoded_size(bytes.size()), '\0');
    base64_encode_to(bytes, out.data());
    return out;
}

inline std::string base64_encode(std::string_view bytes)
{
    return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

/// Why a base64 string was rejected.
enum class base64_error {
    bad_length,     ///< length is not a multiple of 4
    bad_character,  ///< a character outside the standard alphabet (including whitespace, '-', '_')
    bad_padding,    ///< '=' somewhere other than the last one or two positions
    non_canonical,  ///< the unused bits of the last symbol are not zero
    output_too_small,
};

constexpr std::string_view to_string(base64_error e) noexcept
{
    switch (e) {
        case base64_error::bad_length: return "bad_length";
        case base64_error::bad_character: return "bad_character";
        case base64_error::bad_padding: return "bad_padding";
        case base64_error::non_canonical: return "non_canonical";
        case base64_error::output_too_small: return "output_too_small";
    }
    return "unknown";
}

namespace base64_impl {
inline constexpr std::uint8_t invalid = 0xFF;
inline constexpr std::array<std::uint8_t, 256> decode_table = [] {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = invalid;
    for (std::size_t i = 0; i < base64_alphabet.size(); ++i) {
        t[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::uint8_t>(i);
    }
    return t;
}();
}  // namespace base64_impl

/// The exact number of bytes `text` decodes to, assuming it is valid (length multiple of 4).
constexpr std::size_t base64_decoded_size(std::string_view text) noexcept
{
    if (text.empty() || text.size() % 4 != 0) return text.size() / 4 * 3;
    std::size_t pad = 0;
    if (text[text.size() - 1] == '=') ++pad;
    if (text[text.size() - 2] == '=') ++pad;
    return text.size() / 4 * 3 - pad;
}

/// The outcome of a decode into a caller-provided buffer: bytes written, or the reason.
struct base64_decode_result {
    std::size_t size = 0;
    std::optional<base64_error> failure;
    [[nodiscard]] constexpr bool ok() const noexcept { return !failure.has_value(); }
};

/// Strictly decodes `text` into `out`. On failure the contents of `out` are unspecified.
inline base64_decode_result base64_decode_to(std::string_view text, std::span<std::uint8_t> out) noexcept
{
    using base64_impl::decode_table;
    using base64_impl::invalid;
    if (text.size() % 4 != 0) return {0, base64_error::bad_length};
    if (text.empty()) return {0, std::nullopt};
    std::size_t pad = 0;
    if (text.back() == '=') {
        pad = text[text.size() - 2] == '=' ? 2 : 1;
    }
    const std::size_t decoded = text.size() / 4 * 3 - pad;
    if (decoded > out.size()) return {0, base64_error::output_too_small};

    const std::size_t full_quads = text.size() / 4 - (pad != 0 ? 1 : 0);
    std::size_t o = 0;
    for (std::size_t q = 0; q < full_quads; ++q) {
        const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + 4 * q;
        const std::uint8_t a = decode_table[s[0]], b = decode_table[s[1]], c = decode_table[s[2]],
                           d = decode_table[s[3]];
        if (a == invalid || b == invalid || c == invalid || d == invalid) {
            const bool has_pad = s[0] == '=' || s[1] == '=' || s[2] == '=' || s[3] == '=';
            return {0, has_pad ? base64_error::bad_padding : base64_error::bad_character};
        }
        const std::uint32_t v =
            (std::uint32_t{a} << 18U) | (std::uint32_t{b} << 12U) | (std::uint32_t{c} << 6U) | d;
        out[o++] = static_cast<std::uint8_t>(v >> 16U);
        out[o++] = static_cast<std::uint8_t>(v >> 8U);
        out[o++] = static_cast<std::uint8_t>(v);
    }
    if (pad != 0) {
        const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + text.size() - 4;
        const std::uint8_t a = decode_table[s[0]], b = decode_table[s[1]];
        if (a == invalid || b == invalid) {
            return {0,
                    (s[0] == '=' || s[1] == '=') ? base64_error::bad_padding : base64_error::bad_character};
        }
        if (pad == 2) {
            if ((b & 0x0FU) != 0) return {0, base64_error::non_canonical};
            out[o++] = static_cast<std::uint8_t>((a << 2U) | (b >> 4U));
        } else {
            const std::uint8_t c = decode_table[s[2]];
            if (c == invalid) return {0, base64_error::bad_character};
            if ((c & 0x03U) != 0) return {0, base64_error::non_canonical};
            out[o++] = static_cast<std::uint8_t>((a << 2U) | (b >> 4U));
            out[o++] = static_cast<std::uint8_t>(((b & 0x0FU) << 4U) | (c >> 2U));
        }
    }
    return {o, std::nullopt};
}

/// Strictly decodes `text` into a new vector; nullopt when it is not canonical standard base64.
inline std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text)
{
    std::vector<std::uint8_t> out(base64_decoded_size(text));
    const auto r = base64_decode_to(text, out);
    if (!r.ok()) return std::nullopt;
    out.resize(r.size);
    return out;
}

}  // namespace meetingbaas::inline v0::detail
