// SPDX-License-Identifier: MIT
#pragma once

// Server pushback: the Retry-After header (delta-seconds or an HTTP-date, RFC 9110 section 10.2.3),
// millisecond variants (retry-after-ms, x-amz-retry-after, grpc-retry-pushback-ms), and the Meeting BaaS
// v2 error body's integer `retryAfter` (seconds). Parsers never throw and never crash on untrusted
// input: they return errc::empty_input or errc::invalid_value with `where` = the header or field.
// See docs/retries.md.

#include <meetingbaas/core/detail/ascii.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0 {

namespace detail {

/// A forward-only cursor over header text. Every read checks bounds.
class date_cursor {
public:
    constexpr explicit date_cursor(std::string_view s) noexcept : s_(s) {}

    constexpr bool done() const noexcept { return pos_ == s_.size(); }
    constexpr bool literal(std::string_view lit) noexcept
    {
        if (s_.substr(pos_, lit.size()) != lit) return false;
        pos_ += lit.size();
        return true;
    }
    /// Exactly n ASCII digits.
    constexpr bool digits(std::size_t n, int& out) noexcept
    {
        if (s_.size() - pos_ < n) return false;
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = s_[pos_ + i];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        pos_ += n;
        out = v;
        return true;
    }
    /// One of `names` (exact, case-sensitive as RFC 9110 requires); its index.
    template <std::size_t N>
    constexpr bool one_of(const std::array<std::string_view, N>& names, int& index) noexcept
    {
        for (std::size_t i = 0; i < N; ++i) {
            if (literal(names[i])) {
                index = static_cast<int>(i);
                return true;
            }
        }
        return false;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

inline constexpr std::array<std::string_view, 7> short_days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
inline constexpr std::array<std::string_view, 7> long_days{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                           "Thursday", "Friday", "Saturday"};
inline constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr bool parse_time_of_day(date_cursor& c, int& h, int& m, int& s) noexcept
{
    return c.digits(2, h) && c.literal(":") && c.digits(2, m) && c.literal(":") && c.digits(2, s) &&
           h <= 23 && m <= 59 && s <= 60;  // 60: a leap second, as RFC 9110 allows
}

/// Result of parsing the fields of an HTTP-date, before calendar validation.
struct date_fields {
    int weekday = -1;  // 0 = Sunday
    int day = 0;
    int month = 0;  // 1..12
    int year = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    bool two_digit_year = false;
};

constexpr std::optional<date_fields> parse_imf_fixdate(std::string_view s) noexcept
{
    // Sun, 06 Nov 1994 08:49:37 GMT
    date_cursor c(s);
    date_fields f;
    int mon = 0;
    if (!c.one_of(short_days, f.weekday) || !c.literal(", ") || !c.digits(2, f.day) || !c.literal(" ") ||
        !c.one_of(months, mon) || !c.literal(" ") || !c.digits(4, f.year) || !c.literal(" ") ||
        !parse_time_of_day(c, f.hour, f.minute, f.second) || !c.literal(" GMT") || !c.done()) {
        return std::nullopt;
    }
    f.month = mon + 1;
    return f;
}

constexpr std::optional<date_fields> parse_rfc850_date(std::string_view s) noexcept
{
    // Sunday, 06-Nov-94 08:49:37 GMT
    date_cursor c(s);
    date_fields f;
    int mon = 0;
    if (!c.one_of(long_days, f.weekday) || !c.literal(", ") || !c.digits(2, f.day) || !c.literal("-") ||
        !c.one_of(months, mon) || !c.literal("-") || !c.digits(2, f.year) || !c.literal(" ") ||
        !parse_time_of_day(c, f.hour, f.minute, f.second) || !c.literal(" GMT") || !c.done()) {
        return std::nullopt;
    }
    f.month = mon + 1;
    f.two_digit_year = true;
    return f;
}

constexpr std::optional<date_fields> parse_asctime_date(std::string_view s) noexcept
{
    // Sun Nov  6 08:49:37 1994
    date_cursor c(s);
    date_fields f;
    int mon = 0;
    if (!c.one_of(short_days, f.weekday) || !c.literal(" ") || !c.one_of(months, mon) || !c.literal(" ")) {
        return std::nullopt;
    }
    if (c.literal(" ")) {
        if (!c.digits(1, f.day)) return std::nullopt;
    } else if (!c.digits(2, f.day)) {
        return std::nullopt;
    }
    if (!c.literal(" ") || !parse_time_of_day(c, f.hour, f.minute, f.second) || !c.literal(" ") ||
        !c.digits(4, f.year) || !c.done()) {
        return std::nullopt;
    }
    f.month = mon + 1;
    return f;
}

// is_ows / trim_ows: from core/detail/ascii.hpp (shared with headers.hpp and authenticity.hpp).

/// Non-negative decimal integer, saturating at `cap`. nullopt if s is empty or has a non-digit.
constexpr std::optional<std::uint64_t> parse_digits_saturating(std::string_view s, std::uint64_t cap) noexcept
{
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        v = (v > (cap - d) / 10) ? cap : v * 10 + d;
    }
    return v;
}

inline error retry_after_error(std::string_view where, std::string_view message)
{
    return error{errc::invalid_value, std::string(where), std::string(message)};
}

}  // namespace detail

/// Parses an HTTP-date (RFC 9110 section 5.6.7) in any of its three formats: IMF-fixdate
/// ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850 form ("Sunday, 06-Nov-94 08:49:37 GMT") and
/// asctime ("Sun Nov  6 08:49:37 1994"). A two-digit RFC 850 year that would lie more than 50 years
/// after `now` means the most recent past year with those digits (RFC 9110). The weekday must match the
/// date. Errors: errc::empty_input, errc::invalid_value (where = "HTTP-date"). No allocation on success.
inline result<std::chrono::sys_seconds> parse_http_date(std::string_view text, std::chrono::sys_seconds now)
{
    using namespace std::chrono;
    const std::string_view s = detail::trim_ows(text);
    if (s.empty()) return error{errc::empty_input, "HTTP-date", "empty date"};
    std::optional<detail::date_fields> f = detail::parse_imf_fixdate(s);
    if (!f) f = detail::parse_rfc850_date(s);
    if (!f) f = detail::parse_asctime_date(s);
    if (!f) return detail::retry_after_error("HTTP-date", "not an IMF-fixdate, RFC 850 or asctime date");
    int y = f->year;
    if (f->two_digit_year) {
        const int now_year = static_cast<int>(year_month_day(floor<days>(now)).year());
        y = now_year - (now_year % 100) + f->year;  // same century as now
        if (y > now_year + 50) y -= 100;
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(f->month)},
                             day{static_cast<unsigned>(f->day)}};
    if (!ymd.ok()) return detail::retry_after_error("HTTP-date", "no such calendar day");
    const sys_days date{ymd};
    if (weekday(date).c_encoding() != static_cast<unsigned>(f->weekday)) {
        return detail::retry_after_error("HTTP-date", "weekday does not match the date");
    }
    return date + hours(f->hour) + minutes(f->minute) + seconds(f->second);
}

/// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), e.g. for a Retry-After or Date header a server
/// sends. Fixed size, no allocation; view() is valid while the object lives.
struct http_date_text {
    std::array<char, 29> chars{};
    std::size_t size = 0;
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars.data(), size}; }
};

/// Formats `t` as an IMF-fixdate. Years outside [0, 9999] cannot be written in that format: the result
/// is then empty.
constexpr http_date_text format_http_date(std::chrono::sys_seconds t) noexcept
{
    using namespace std::chrono;
    http_date_text out;
    const sys_days day_point = floor<days>(t);
    const year_month_day ymd{day_point};
    const int y = static_cast<int>(ymd.year());
    if (y < 0 || y > 9999) return out;
    const hh_mm_ss<seconds> tod{t - day_point};
    auto put = [&out](std::string_view s) {
        for (const char c : s) out.chars[out.size++] = c;
    };
    auto put_digits = [&out](int v, int n) {
        for (int i = n - 1; i >= 0; --i) {
            out.chars[out.size + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
            v /= 10;
        }
        out.size += static_cast<std::size_t>(n);
    };
    put(detail::short_days[weekday(day_point).c_encoding()]);
    put(", ");
    put_digits(static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
    put(" ");
    put(detail::months[static_cast<unsigned>(ymd.month()) - 1]);
    put(" ");
    put_digits(y, 4);
    put(" ");
    put_digits(static_cast<int>(tod.hours().count()), 2);
    put(":");
    put_digits(static_cast<int>(tod.minutes().count()), 2);
    put(":");
    put_digits(static_cast<int>(tod.seconds().count()), 2);
    put(" GMT");
    return out;
}

/// The largest delay any parser here returns: 2^31 - 1 seconds (about 68 years), the bound RFC 9111
/// uses for delta-seconds. Larger or overflowing values saturate to it; policies cap it much lower.
inline constexpr std::chrono::milliseconds max_pushback = std::chrono::seconds(2147483647);

/// Parses a Retry-After header value: delta-seconds ("120") or an HTTP-date, relative to `now`.
/// Surrounding spaces and tabs are ignored. A date in the past yields 0 (retry now); huge values
/// saturate at max_pushback. Errors (where = "Retry-After"): errc::empty_input; errc::invalid_value for
/// a negative number, a fraction, trailing garbage or an invalid date. No allocation on success.
inline result<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::sys_seconds now)
{
    using namespace std::chrono;
    const std::string_view s = detail::trim_ows(value);
    if (s.empty()) return error{errc::empty_input, "Retry-After", "empty value"};
    if (s.front() == '-' || s.front() == '+') {
        return detail::retry_after_error("Retry-After", "delta-seconds must be unsigned digits");
    }
    if (s.front() >= '0' && s.front() <= '9') {
        const auto cap = static_cast<std::uint64_t>(duration_cast<seconds>(max_pushback).count());
        const auto v = detail::parse_digits_saturating(s, cap);
        if (!v) return detail::retry_after_error("Retry-After", "delta-seconds must be digits only");
        return milliseconds(seconds(static_cast<seconds::rep>(*v)));
    }
    auto date = parse_http_date(s, now);
    if (!date) return detail::retry_after_error("Retry-After", date.error().message);
    const auto delta = *date - now;
    if (delta <= seconds(0)) return milliseconds(0);
    if (delta >= duration_cast<seconds>(max_pushback)) return max_pushback;
    return milliseconds(delta);
}

/// The same, with `now` read from std::chrono::system_clock (HTTP-dates are wall-clock times).
inline result<std::chrono::milliseconds> parse_retry_after(std::string_view value)
{
    return parse_retry_after(value,
                             std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

/// Parses a millisecond pushback header (retry-after-ms, x-amz-retry-after, grpc-retry-pushback-ms):
/// unsigned decimal milliseconds, saturating at max_pushback. Errors as parse_retry_after, where = `header`.
/// (gRPC treats a negative pushback as "do not retry": callers map that error to a permanent failure.)
inline result<std::chrono::milliseconds> parse_pushback_ms(std::string_view value,
                                                           std::string_view header = "retry-after-ms")
{
    const std::string_view s = detail::trim_ows(value);
    if (s.empty()) return error{errc::empty_input, std::string(header), "empty value"};
    const auto v = detail::parse_digits_saturating(s, static_cast<std::uint64_t>(max_pushback.count()));
    if (!v) return detail::retry_after_error(header, "milliseconds must be unsigned digits");
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(*v));
}

/// The v2 error body's `retryAfter` (integer seconds, spec section 4.3). Negative is invalid_value
/// (where = "/retryAfter"); large values saturate at max_pushback.
inline result<std::chrono::milliseconds> retry_after_from_seconds(std::int64_t seconds)
{
    if (seconds < 0) return detail::retry_after_error("/retryAfter", "must not be negative");
    const auto cap = std::chrono::duration_cast<std::chrono::seconds>(max_pushback).count();
    return std::chrono::milliseconds(std::chrono::seconds(seconds < cap ? seconds : cap));
}

/// Combines two pushback hints (e.g. the header and the body): the longer one wins, as the spec's
/// "wait max(Retry-After, body.retryAfter, backoff)" rule asks.
constexpr std::optional<std::chrono::milliseconds>
combine_pushback(std::optional<std::chrono::milliseconds> a,
                 std::optional<std::chrono::milliseconds> b) noexcept
{
    if (!a) return b;
    if (!b) return a;
    return *a < *b ? b : a;
}

}  // namespace meetingbaas::inline v0
