// SPDX-License-Identifier: MIT
#pragma once

// Decoding JSON values straight into C++ values on top of json_reader: no DOM. Each read_value
// overload consumes exactly one value or records an error in the reader. Objects are decoded by an
// object_decoder<T> specialization, which reads members with the field helpers below.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/events/detail/json_reader.hpp>
#include <meetingbaas/events/enums.hpp>
#include <meetingbaas/events/event_types.hpp>

#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace meetingbaas::inline v0::detail {

/// Specialize with `static bool decode(json_reader&, T&)` (reader positioned at a '{') to make T
/// decodable with read_value, in vectors and optionals, and with meetingbaas::decode_json<T>.
template <class T>
struct object_decoder;

template <class T>
concept decodable_object = requires(json_reader& r, T& t) {
    { object_decoder<T>::decode(r, t) } -> std::same_as<bool>;
};

/// Records a type mismatch. A malformed value is reported as malformed_json instead, so syntax errors
/// take precedence over type errors at the same place.
inline bool type_mismatch(json_reader& r, std::string_view expected, json_kind got)
{
    if (got == json_kind::end) return r.fail_syntax("unexpected end of input, expected a value");
    if (!r.skip_value()) return false;
    std::string m = "expected ";
    m += expected;
    m += ", got ";
    m += describe(got);
    return r.fail(expected == "an object" ? errc::not_an_object : errc::wrong_type, std::move(m));
}

template <class T>
bool read_value(json_reader& r, std::optional<T>& out);
template <class T>
bool read_value(json_reader& r, std::vector<T>& out);
template <class E>
bool read_value(json_reader& r, open_enum<E>& out);
template <decodable_object T>
bool read_value(json_reader& r, T& out);

inline bool read_value(json_reader& r, std::string& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::string) return type_mismatch(r, "a string", k);
    return r.read_string(out);
}

inline bool read_value(json_reader& r, bool& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::boolean) return type_mismatch(r, "a boolean", k);
    return r.read_bool(out);
}

inline bool read_value(json_reader& r, std::int64_t& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::number) return type_mismatch(r, "an integer", k);
    std::string_view text;
    if (!r.read_number(text)) return false;
    if (text.find_first_of(".eE") != std::string_view::npos) {
        return r.fail(errc::wrong_type, "expected an integer, got a number with a fraction or exponent");
    }
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        return r.fail(errc::invalid_value, "integer out of range");
    }
    return true;
}

/// Converts a number that json_reader accepted (so within a double's range) to the nearest double. A
/// magnitude too small for a double (1e-400) is zero of the same sign, as with strtod: see
/// number_overflow_message for the library's rule on numbers.
inline bool to_double(json_reader& r, std::string_view text, double& out)
{
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc::result_out_of_range && ptr == text.data() + text.size()) {
        out = text.front() == '-' ? -0.0 : 0.0;  // underflow: the reader already refused overflow
        return true;
    }
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        return r.fail(errc::invalid_value, "number not representable as a double");
    }
    return true;
}

inline bool read_value(json_reader& r, double& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::number) return type_mismatch(r, "a number", k);
    std::string_view text;
    if (!r.read_number(text)) return false;  // rejects magnitudes beyond a double (number_overflow_message)
    return to_double(r, text, out);
}

inline bool read_value(json_reader& r, timestamp& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::string) return type_mismatch(r, "a timestamp string", k);
    std::string scratch;
    std::string_view text;
    if (!r.read_string_view(text, scratch)) return false;
    auto parsed = parse_timestamp(text);
    if (!parsed) return r.fail(errc::invalid_timestamp, std::move(parsed.error().message));
    out = std::move(*parsed);
    return true;
}

/// Any JSON value, kept as its exact text.
inline bool read_value(json_reader& r, raw_json& out)
{
    std::string_view text;
    if (!r.skip_value(&text)) return false;
    out.text.assign(text.data(), text.size());
    return true;
}

template <class E>
bool read_value(json_reader& r, open_enum<E>& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::string) return type_mismatch(r, "a string", k);
    if (!r.read_string(out.raw)) return false;
    out.value = enum_from_string<E>(out.raw);
    return true;
}

template <class T>
bool read_value(json_reader& r, std::optional<T>& out)
{
    if (r.peek() == json_kind::null) {
        out.reset();
        return r.read_null();
    }
    return read_value(r, out.emplace());
}

template <class T>
bool read_value(json_reader& r, std::vector<T>& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::array) return type_mismatch(r, "an array", k);
    out.clear();
    return r.read_array([&](std::size_t) { return read_value(r, out.emplace_back()); });
}

template <decodable_object T>
bool read_value(json_reader& r, T& out)
{
    const json_kind k = r.peek();
    if (k != json_kind::object) return type_mismatch(r, "an object", k);
    return object_decoder<T>::decode(r, out);
}

/// User data (`extra`): an object kept as raw text, or null.
inline bool read_extra(json_reader& r, std::optional<raw_json>& out)
{
    const json_kind k = r.peek();
    if (k == json_kind::null) {
        out.reset();
        return r.read_null();
    }
    if (k != json_kind::object) return type_mismatch(r, "an object", k);
    return read_value(r, out.emplace());
}

/// An epoch number (seconds or milliseconds, see epoch_unit::automatic) or an RFC 3339 string, or null.
inline bool read_epoch_time(json_reader& r, std::optional<utc_time>& out)
{
    const json_kind k = r.peek();
    if (k == json_kind::null) {
        out.reset();
        return r.read_null();
    }
    if (k == json_kind::string) {
        timestamp ts;
        if (!read_value(r, ts)) return false;
        out = ts.time;
        return true;
    }
    if (k != json_kind::number) return type_mismatch(r, "an epoch number", k);
    std::string_view text;
    if (!r.read_number(text)) return false;
    result<utc_time> t = utc_time{};
    if (text.find_first_of(".eE") == std::string_view::npos) {
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || ptr != text.data() + text.size()) {
            return r.fail(errc::invalid_timestamp, "epoch number out of range");
        }
        t = time_from_epoch(v, epoch_unit::automatic);
    } else {
        double v = 0;
        if (!to_double(r, text, v)) return false;
        t = time_from_epoch(v, epoch_unit::automatic);
    }
    if (!t) return r.fail(errc::invalid_timestamp, std::move(t.error().message));
    out = *t;
    return true;
}

// ---- members ------------------------------------------------------------------------------------------

/// Marks member `bit` as seen; a second occurrence of a known member is an error (parsers disagree
/// on which duplicate wins, so accepting them would make the meaning of a body parser-dependent).
inline bool mark_seen(json_reader& r, std::uint64_t& seen, unsigned bit)
{
    const std::uint64_t mask = std::uint64_t{1} << bit;
    if ((seen & mask) != 0) return r.fail(errc::invalid_value, "duplicate member");
    seen |= mask;
    return true;
}

/// A member whose value must have T's type (null only when T is an optional).
template <class T>
bool field(json_reader& r, std::uint64_t& seen, unsigned bit, T& member)
{
    return mark_seen(r, seen, bit) && read_value(r, member);
}

/// An optional member: null leaves the default value in place.
template <class T>
bool lenient_field(json_reader& r, std::uint64_t& seen, unsigned bit, T& member)
{
    if (!mark_seen(r, seen, bit)) return false;
    if (r.peek() == json_kind::null) return r.read_null();
    return read_value(r, member);
}

/// A member with a second documented spelling: the value is kept unless the primary spelling (bit
/// `primary`) was already read; the primary spelling, read later, overwrites it.
template <class T>
bool alias_field(json_reader& r, std::uint64_t& seen, unsigned bit, unsigned primary, T& member)
{
    if (!mark_seen(r, seen, bit)) return false;
    if ((seen & (std::uint64_t{1} << primary)) != 0) {
        T ignored{};
        if (r.peek() == json_kind::null) return r.read_null();
        return read_value(r, ignored);
    }
    if (r.peek() == json_kind::null) return r.read_null();
    return read_value(r, member);
}

/// Checks that one of the bits in `mask` was seen; otherwise errc::missing_field at "/name".
inline bool require(json_reader& r, std::uint64_t seen, std::uint64_t mask, std::string_view name)
{
    if ((seen & mask) != 0) return true;
    r.fail(errc::missing_field, "required member is absent");
    r.prefix_key(name);
    return false;
}

constexpr std::uint64_t bit(unsigned b) noexcept
{
    return std::uint64_t{1} << b;
}

}  // namespace meetingbaas::inline v0::detail
