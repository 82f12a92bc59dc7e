// SPDX-License-Identifier: MIT
#pragma once

// A strict RFC 8259 pull reader over a string_view, written for untrusted webhook bodies:
// * no recursion of its own (skipping an unknown value is iterative), an explicit depth limit,
//   and no allocation except when a string contains escapes or a skipped value nests deeply;
// * strings are checked for UTF-8 validity, control characters and lone surrogates;
// * the first error wins and is kept in the reader; every function returns false from then on.
//   Callers build the JSON Pointer of the failing value while unwinding (prefix_key/prefix_index),
//   so the happy path pays nothing for error locations.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/events/detail/json_pointer.hpp>

#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace meetingbaas::inline v0::detail {

/// The kind of the next JSON value, from its first byte.
enum class json_kind { end, object, array, string, number, boolean, null, invalid };

/// The name of a kind for messages ("a string", "an object", ...).
constexpr std::string_view describe(json_kind k) noexcept
{
    switch (k) {
        case json_kind::end: return "the end of the input";
        case json_kind::object: return "an object";
        case json_kind::array: return "an array";
        case json_kind::string: return "a string";
        case json_kind::number: return "a number";
        case json_kind::boolean: return "a boolean";
        case json_kind::null: return "null";
        case json_kind::invalid: return "an invalid token";
    }
    return "an invalid token";
}

/// Is `c` a byte that a JSON string scan must look at (quote, backslash, control, non-ASCII)?
constexpr bool is_string_stop_byte(unsigned char c) noexcept
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

/// Portable block scan: how many leading bytes of [p, p + n) can be skipped in whole 8-byte words that
/// contain no stop byte. Stops at the first word that contains one (the result is a multiple of 8, at
/// most the offset of the first stop byte).
inline std::size_t skip_plain_string_bytes_swar(const char* p, std::size_t n) noexcept
{
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t high = 0x8080808080808080ULL;
    std::size_t i = 0;
    while (n - i >= 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p + i, 8);
        const std::uint64_t quote = w ^ (ones * '"');
        const std::uint64_t backslash = w ^ (ones * '\\');
        // Each term is exact for "some byte is ...": zero after the XOR, below 0x20, or >= 0x80.
        const std::uint64_t stop =
            ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((w - ones * 0x20) & ~w) | w;
        if ((stop & high) != 0) break;
        i += 8;
    }
    return i;
}

#if defined(__SSE2__)
/// SSE2 block scan: the exact offset of the first stop byte within the whole 16-byte blocks of
/// [p, p + n), or the length of those blocks when none has one.
inline std::size_t skip_plain_string_bytes_sse2(const char* p, std::size_t n) noexcept
{
    std::size_t i = 0;
    while (n - i >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        // Signed compare: bytes 0x00-0x1F and 0x80-0xFF are both "less than 0x20".
        const __m128i stop = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
            _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
        if (mask != 0) return i + static_cast<std::size_t>(std::countr_zero(mask));
        i += 16;
    }
    return i;
}
#endif

/// The block scan json_reader uses: SSE2 where the target has it (every x86-64), otherwise portable.
inline std::size_t skip_plain_string_bytes(const char* p, std::size_t n) noexcept
{
#if defined(__SSE2__)
    return skip_plain_string_bytes_sse2(p, n);
#else
    return skip_plain_string_bytes_swar(p, n);
#endif
}

/// Numbers beyond a double's range. RFC 8259 section 6 lets an implementation limit the range of numbers;
/// this library's limit is the IEEE 754 double's, everywhere: a number whose magnitude rounds to
/// infinity as a double (above about 1.8e308: `1e309`, `-15e9222`, a 310-digit integer) is rejected with
/// errc::invalid_value and this message, at the number's JSON Pointer, whether the member is typed
/// or skipped, so that no accepted body (or raw_json captured from it) holds a number that nlohmann::json
/// and other double-based parsers reject. Numbers too small for a double (`1e-400`) are not errors:
/// they round to zero of the same sign, as strtod does; `-0` is negative zero; any number of digits is
/// accepted and rounded to the nearest double.
inline constexpr std::string_view number_overflow_message =
    "number out of range: beyond a double (about 1.8e308)";

/// Does the number `text` (already valid JSON) round to infinity as a double? The slow, exact test for
/// magnitudes near the limit (scan_number decides the rest from the exponent alone).
inline bool number_out_of_range(std::string_view text) noexcept
{
    double ignored = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), ignored);
    return r.ec == std::errc::result_out_of_range;
}

class json_reader {
public:
    /// `base_depth` is the nesting depth at which `text` starts (used when a captured sub-document is
    /// decoded later, so that the limit still applies to the whole body).
    json_reader(std::string_view text, std::size_t max_depth, std::size_t base_depth = 0) noexcept
        : s_(text), max_depth_(max_depth), depth_(base_depth)
    {}

    // ---- errors ----------------------------------------------------------------------------------

    [[nodiscard]] bool failed() const noexcept { return failed_; }
    [[nodiscard]] const error& err() const noexcept { return err_; }
    [[nodiscard]] error take_error() noexcept { return std::move(err_); }

    /// Records an error (if none is recorded yet) with an empty pointer; always returns false.
    bool fail(errc code, std::string message)
    {
        if (!failed_) {
            failed_ = true;
            err_ = error{code, {}, std::move(message)};
        }
        return false;
    }

    /// A syntax error at the current position: errc::malformed_json, the message names the byte offset.
    bool fail_syntax(std::string_view what)
    {
        std::string m(what);
        m += " at offset ";
        m += std::to_string(pos_);
        return fail(errc::malformed_json, std::move(m));
    }

    /// Prepends "/key" to the recorded error's pointer (called while unwinding out of a member).
    void prefix_key(std::string_view key)
    {
        if (!failed_) return;
        std::string p;
        p.reserve(key.size() + 1 + err_.where.size());
        append_pointer_segment(p, key);
        p += err_.where;
        err_.where = std::move(p);
    }

    /// Prepends "/index" to the recorded error's pointer (called while unwinding out of an element).
    void prefix_index(std::size_t index)
    {
        if (!failed_) return;
        err_.where.insert(0, "/" + std::to_string(index));
    }

    // ---- position ----------------------------------------------------------------------------------

    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] std::string_view text() const noexcept { return s_; }
    [[nodiscard]] std::size_t depth() const noexcept { return depth_; }

    /// Skips whitespace and classifies the next value.
    json_kind peek() noexcept
    {
        skip_ws();
        if (pos_ >= s_.size()) return json_kind::end;
        switch (s_[pos_]) {
            case '{': return json_kind::object;
            case '[': return json_kind::array;
            case '"': return json_kind::string;
            case 't':
            case 'f': return json_kind::boolean;
            case 'n': return json_kind::null;
            case '-':
            case '0':
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
            case '8':
            case '9': return json_kind::number;
            default: return json_kind::invalid;
        }
    }

    /// True when only whitespace remains.
    bool at_end() noexcept
    {
        skip_ws();
        return pos_ >= s_.size();
    }

    // ---- containers --------------------------------------------------------------------------------

    /// Reads an object, calling `on_member(std::string_view key)` with the reader positioned at each
    /// member's value; `on_member` must consume the value and return false on error. Keys are decoded
    /// (escapes resolved). Precondition: peek() == json_kind::object.
    template <class F>
    bool read_object(F&& on_member)
    {
        if (!enter()) return false;
        ++pos_;  // '{'
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            --depth_;
            return true;
        }
        for (;;) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"') return fail_syntax("expected a member name");
            std::string_view key;
            bool escaped = false;
            if (!scan_string(key, escaped)) return false;
            std::string decoded;
            if (escaped) {
                unescape(key, decoded);
                key = decoded;
            }
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != ':') return fail_syntax("expected ':' after a member name");
            ++pos_;
            skip_ws();
            if (!on_member(key)) {
                prefix_key(key);
                return false;
            }
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == '}') {
                ++pos_;
                --depth_;
                return true;
            }
            return fail_syntax(pos_ >= s_.size() ? "unexpected end of input in an object"
                                                 : "expected ',' or '}' after a member");
        }
    }

    /// Reads an array, calling `on_element(std::size_t index)` with the reader positioned at each
    /// element. Precondition: peek() == json_kind::array.
    template <class F>
    bool read_array(F&& on_element)
    {
        if (!enter()) return false;
        ++pos_;  // '['
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            --depth_;
            return true;
        }
        for (std::size_t index = 0;; ++index) {
            skip_ws();
            if (!on_element(index)) {
                prefix_index(index);
                return false;
            }
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == ']') {
                ++pos_;
                --depth_;
                return true;
            }
            return fail_syntax(pos_ >= s_.size() ? "unexpected end of input in an array"
                                                 : "expected ',' or ']' after an element");
        }
    }

    // ---- scalars -----------------------------------------------------------------------------------

    /// Reads a string. `out` points into the input when the string has no escapes, otherwise into
    /// `scratch`. Precondition: peek() == json_kind::string.
    bool read_string_view(std::string_view& out, std::string& scratch)
    {
        bool escaped = false;
        if (!scan_string(out, escaped)) return false;
        if (escaped) {
            scratch.clear();
            unescape(out, scratch);
            out = scratch;
        }
        return true;
    }

    /// Reads a string into `out`. Precondition: peek() == json_kind::string.
    bool read_string(std::string& out)
    {
        std::string_view raw;
        bool escaped = false;
        if (!scan_string(raw, escaped)) return false;
        if (escaped) {
            out.clear();
            unescape(raw, out);
        } else {
            out.assign(raw.data(), raw.size());
        }
        return true;
    }

    /// Reads a number and returns its text (validated against the RFC 8259 grammar).
    /// Precondition: peek() == json_kind::number.
    bool read_number(std::string_view& out)
    {
        const std::size_t start = pos_;
        if (!scan_number()) return false;
        out = s_.substr(start, pos_ - start);
        return true;
    }

    /// Reads `true` or `false`. Precondition: peek() == json_kind::boolean.
    bool read_bool(bool& out)
    {
        if (s_.substr(pos_, 4) == "true") {
            pos_ += 4;
            out = true;
            return true;
        }
        if (s_.substr(pos_, 5) == "false") {
            pos_ += 5;
            out = false;
            return true;
        }
        return fail_syntax("invalid literal");
    }

    /// Reads `null`. Precondition: peek() == json_kind::null.
    bool read_null()
    {
        if (s_.substr(pos_, 4) == "null") {
            pos_ += 4;
            return true;
        }
        return fail_syntax("invalid literal");
    }

    /// Validates and skips one value of any kind, without recursion; nesting counts against the depth
    /// limit. `out` (optional) receives the exact text of the value. On error, the pointer names the
    /// innermost member or element inside the skipped value.
    bool skip_value(std::string_view* out = nullptr)
    {
        skip_ws();
        const std::size_t start = pos_;
        const std::size_t base = frames_.size();
        if (!skip_value_impl(base)) {
            annotate_skip_error(base);
            return false;
        }
        if (out != nullptr) *out = s_.substr(start, pos_ - start);
        return true;
    }

private:
    /// A container skip_value is inside.
    struct frame {
        char closer = '}';       // '}' or ']'
        bool in_value = false;   // positioned inside a member value / element (not between them)
        std::size_t index = 0;   // arrays: the current element
        std::string_view key{};  // objects: the current member name, raw (escapes unresolved)
    };

    bool skip_value_impl(std::size_t base)
    {
        for (;;) {
            // Here a value is expected.
            skip_ws();
            if (pos_ >= s_.size()) return fail_syntax("unexpected end of input, expected a value");
            const char c = s_[pos_];
            bool value_done = true;
            if (c == '{' || c == '[') {
                if (!enter()) return false;
                ++pos_;
                skip_ws();
                const char closer = c == '{' ? '}' : ']';
                if (pos_ < s_.size() && s_[pos_] == closer) {
                    ++pos_;
                    --depth_;
                } else {
                    frames_.push_back(frame{closer, closer == ']', 0, {}});
                    if (closer == '}' && !skip_member_name(frames_.back())) return false;
                    value_done = false;
                }
            } else if (!skip_scalar()) {
                return false;
            }
            if (!value_done) continue;
            // A value is complete: close containers until another value is expected or we are done.
            for (;;) {
                if (frames_.size() == base) return true;
                frame& f = frames_.back();
                f.in_value = false;
                skip_ws();
                if (pos_ >= s_.size()) {
                    return fail_syntax(f.closer == '}' ? "unexpected end of input in an object"
                                                       : "unexpected end of input in an array");
                }
                if (s_[pos_] == ',') {
                    ++pos_;
                    if (f.closer == '}') {
                        if (!skip_member_name(f)) return false;
                    } else {
                        ++f.index;
                        f.in_value = true;
                    }
                    break;
                }
                if (s_[pos_] == f.closer) {
                    ++pos_;
                    --depth_;
                    frames_.pop_back();
                    continue;
                }
                return fail_syntax(f.closer == '}' ? "expected ',' or '}' after a member"
                                                   : "expected ',' or ']' after an element");
            }
        }
    }

    /// Appends the path inside the skipped value to the error pointer and drops the frames.
    void annotate_skip_error(std::size_t base)
    {
        if (failed_ && frames_.size() > base) {
            std::string suffix;
            std::string decoded;
            for (std::size_t i = base; i < frames_.size(); ++i) {
                const frame& f = frames_[i];
                if (!f.in_value) break;
                if (f.closer == ']') {
                    suffix += '/';
                    suffix += std::to_string(f.index);
                } else {
                    decoded.clear();
                    unescape(f.key, decoded);
                    append_pointer_segment(suffix, decoded);
                }
            }
            err_.where.insert(0, suffix);
        }
        frames_.resize(base);
    }

    void skip_ws() noexcept
    {
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
            ++pos_;
        }
    }

    bool enter()
    {
        if (depth_ >= max_depth_) {
            return fail(errc::too_deep, "nesting deeper than " + std::to_string(max_depth_) + " levels");
        }
        ++depth_;
        return true;
    }

    bool skip_member_name(frame& f)
    {
        skip_ws();
        if (pos_ >= s_.size() || s_[pos_] != '"') return fail_syntax("expected a member name");
        std::string_view key;
        bool escaped = false;
        if (!scan_string(key, escaped)) return false;
        skip_ws();
        if (pos_ >= s_.size() || s_[pos_] != ':') return fail_syntax("expected ':' after a member name");
        ++pos_;
        f.key = key;
        f.in_value = true;
        return true;
    }

    bool skip_scalar()
    {
        switch (s_[pos_]) {
            case '"': {
                std::string_view ignored;
                bool escaped = false;
                return scan_string(ignored, escaped);
            }
            case 't':
            case 'f': {
                bool ignored = false;
                return read_bool(ignored);
            }
            case 'n': return read_null();
            case '-':
            case '0':
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
            case '8':
            case '9': return scan_number();
            default: return fail_syntax("expected a value");
        }
    }

    static constexpr int hex_value(char c) noexcept
    {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /// Reads 4 hex digits at pos_ (after "\u").
    bool read_hex4(std::uint32_t& out)
    {
        if (s_.size() - pos_ < 4) return fail_syntax("truncated \\u escape");
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex_value(s_[pos_ + static_cast<std::size_t>(i)]);
            if (h < 0) return fail_syntax("invalid \\u escape");
            v = v * 16 + static_cast<std::uint32_t>(h);
        }
        pos_ += 4;
        out = v;
        return true;
    }

    /// At an opening quote: validates the string and returns its raw contents (between the quotes).
    bool scan_string(std::string_view& raw, bool& escaped)
    {
        ++pos_;  // opening quote
        const std::size_t start = pos_;
        const std::size_t n = s_.size();
        for (;;) {
            // Fast path: skip plain ASCII a block at a time; the byte loop below then looks at the
            // byte that stopped the block.
            pos_ += skip_plain_string_bytes(s_.data() + pos_, n - pos_);
            while (pos_ < n) {
                const auto u = static_cast<unsigned char>(s_[pos_]);
                if (is_string_stop_byte(u)) break;
                ++pos_;
            }
            if (pos_ >= n) return fail_syntax("unterminated string");
            const auto u = static_cast<unsigned char>(s_[pos_]);
            if (u == '"') {
                raw = s_.substr(start, pos_ - start);
                ++pos_;
                return true;
            }
            if (u < 0x20) return fail_syntax("control character in a string");
            if (u == '\\') {
                escaped = true;
                ++pos_;
                if (pos_ >= n) return fail_syntax("unterminated string");
                const char e = s_[pos_++];
                switch (e) {
                    case '"':
                    case '\\':
                    case '/':
                    case 'b':
                    case 'f':
                    case 'n':
                    case 'r':
                    case 't': break;
                    case 'u': {
                        std::uint32_t cp = 0;
                        if (!read_hex4(cp)) return false;
                        if (cp >= 0xDC00 && cp <= 0xDFFF)
                            return fail_syntax("lone low surrogate in \\u escape");
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                            if (n - pos_ < 2 || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') {
                                return fail_syntax("lone high surrogate in \\u escape");
                            }
                            pos_ += 2;
                            std::uint32_t lo = 0;
                            if (!read_hex4(lo)) return false;
                            if (lo < 0xDC00 || lo > 0xDFFF)
                                return fail_syntax("lone high surrogate in \\u escape");
                        }
                        break;
                    }
                    default: return fail_syntax("invalid escape in a string");
                }
                continue;
            }
            if (!scan_utf8()) return false;
        }
    }

    /// Validates one multi-byte UTF-8 sequence at pos_ (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
    bool scan_utf8()
    {
        const auto b0 = static_cast<unsigned char>(s_[pos_]);
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        } else {
            return fail_syntax("invalid UTF-8 in a string");
        }
        if (s_.size() - pos_ < len) return fail_syntax("truncated UTF-8 sequence in a string");
        const auto b1 = static_cast<unsigned char>(s_[pos_ + 1]);
        if (b1 < lo || b1 > hi) return fail_syntax("invalid UTF-8 in a string");
        for (std::size_t i = 2; i < len; ++i) {
            const auto b = static_cast<unsigned char>(s_[pos_ + i]);
            if (b < 0x80 || b > 0xBF) return fail_syntax("invalid UTF-8 in a string");
        }
        pos_ += len;
        return true;
    }

    static void append_utf8(std::string& out, std::uint32_t cp)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    static std::uint32_t hex4(std::string_view s) noexcept
    {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = v * 16 + static_cast<std::uint32_t>(hex_value(s[i]));
        return v;
    }

    /// Decodes the contents of a string that scan_string already validated.
    static void unescape(std::string_view raw, std::string& out)
    {
        out.reserve(out.size() + raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) {
            const char c = raw[i];
            if (c != '\\') {
                out += c;
                continue;
            }
            const char e = raw[++i];
            switch (e) {
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    std::uint32_t cp = hex4(raw.substr(i + 1, 4));
                    i += 4;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        const std::uint32_t low = hex4(raw.substr(i + 3, 4));
                        i += 6;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: out += e; break;  // '"', '\\', '/'
            }
        }
    }

    /// Validates a number against the RFC 8259 grammar and the range limit (see number_out_of_range).
    bool scan_number()
    {
        const std::size_t start = pos_;
        const std::size_t n = s_.size();
        auto digit = [&](std::size_t p) { return p < n && s_[p] >= '0' && s_[p] <= '9'; };
        if (pos_ < n && s_[pos_] == '-') ++pos_;
        if (!digit(pos_)) return fail_syntax("invalid number");
        // `lead`: the decimal exponent of the first non-zero digit (1234 -> 3, 0.05 -> -2), for the range
        // check; meaningful only when `nonzero`.
        std::int64_t lead = 0;
        bool nonzero = false;
        if (s_[pos_] == '0') {
            ++pos_;
        } else {
            const std::size_t first = pos_;
            while (digit(pos_)) ++pos_;
            lead = static_cast<std::int64_t>(pos_ - first) - 1;
            nonzero = true;
        }
        if (pos_ < n && s_[pos_] == '.') {
            ++pos_;
            if (!digit(pos_)) return fail_syntax("invalid number: expected a digit after '.'");
            const std::size_t first = pos_;
            if (!nonzero) {
                while (pos_ < n && s_[pos_] == '0') ++pos_;
                if (digit(pos_)) {
                    nonzero = true;
                    lead = -static_cast<std::int64_t>(pos_ - first) - 1;
                }
            }
            while (digit(pos_)) ++pos_;
        }
        std::int64_t exponent = 0;
        if (pos_ < n && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            bool negative = false;
            if (pos_ < n && (s_[pos_] == '+' || s_[pos_] == '-')) negative = s_[pos_++] == '-';
            if (!digit(pos_)) return fail_syntax("invalid number: expected a digit in the exponent");
            constexpr std::int64_t saturated = 1'000'000'000'000'000;  // far beyond any double exponent
            while (digit(pos_)) {
                if (exponent < saturated) exponent = exponent * 10 + (s_[pos_] - '0');
                ++pos_;
            }
            if (negative) exponent = -exponent;
        }
        // Numbers below 1e308 always fit a double; at 1e309 and above none does; in between, ask the
        // correctly rounded conversion (whether the value rounds to the largest double or to infinity).
        if (nonzero && lead + exponent >= 308) {
            const std::string_view text = s_.substr(start, pos_ - start);
            if (lead + exponent >= 309 || number_out_of_range(text)) {
                return fail(errc::invalid_value, std::string(number_overflow_message));
            }
        }
        return true;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::size_t max_depth_;
    std::size_t depth_;
    std::vector<frame> frames_;  // containers skip_value is inside; reused
    bool failed_ = false;
    error err_;
};

}  // namespace meetingbaas::inline v0::detail
