// SPDX-License-Identifier: MIT
#pragma once

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0 {

/// A UTC time point with microsecond precision (the finest precision Meeting BaaS payloads carry).
using utc_time = std::chrono::sys_time<std::chrono::microseconds>;

/// A parsed timestamp: the UTC time point plus the exact text it came from.
///
/// Keep `text` when echoing a timestamp back to the provider (e.g. `updated_at_gte = last_updated_ts`):
/// re-formatting can lose precision. See docs/events.md, "Timestamps".
struct timestamp {
    utc_time time{};              ///< UTC, truncated (never rounded) to microseconds
    std::string text;             ///< the original text, exactly as received
    bool offset_missing = false;  ///< the text had no `Z` or offset: it was read as UTC

    friend bool operator==(const timestamp&, const timestamp&) = default;
};

/// How to read an epoch number (`status.start_time` is milliseconds in v1 and seconds in v2).
enum class epoch_unit {
    seconds,
    milliseconds,
    automatic,  ///< |value| >= 1e11 means milliseconds, otherwise seconds (1e11 s is the year 5138)
};

namespace detail {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept
{
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

/// Inverse of days_from_civil.
constexpr civil_date civil_from_days(std::int64_t z) noexcept
{
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
    const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11]
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;               // [1, 31]
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;                  // [1, 12]
    return {m <= 2 ? y + 1 : y, m, d};
}

constexpr bool is_leap_year(std::int64_t y) noexcept
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept
{
    constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29U : days[m - 1];
}

inline error timestamp_error(std::string message)
{
    return error{errc::invalid_timestamp, {}, std::move(message)};
}

/// Reads exactly `n` ASCII digits at `pos`; false if any is not a digit or the text is too short.
constexpr bool read_digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) noexcept
{
    if (pos + n > s.size()) return false;
    unsigned v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        const char c = s[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return true;
}

inline void append_digits(std::string& out, std::int64_t value, int width)
{
    char buf[24];
    int n = 0;
    std::uint64_t v = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width) buf[n++] = '0';
    if (value < 0) out += '-';
    while (n > 0) out += buf[--n];
}

inline std::string format_time(utc_time t, bool with_fraction)
{
    const auto total = t.time_since_epoch().count();  // microseconds
    std::int64_t days = total / 86'400'000'000;
    std::int64_t rem = total % 86'400'000'000;
    if (rem < 0) {  // floor, so that times before 1970 stay truncated towards the past
        rem += 86'400'000'000;
        --days;
    }
    const civil_date date = civil_from_days(days);
    const std::int64_t secs = rem / 1'000'000;
    std::string out;
    out.reserve(32);
    append_digits(out, date.year, 4);
    out += '-';
    append_digits(out, date.month, 2);
    out += '-';
    append_digits(out, date.day, 2);
    out += 'T';
    append_digits(out, secs / 3600, 2);
    out += ':';
    append_digits(out, secs / 60 % 60, 2);
    out += ':';
    append_digits(out, secs % 60, 2);
    if (with_fraction) {
        out += '.';
        append_digits(out, rem % 1'000'000, 6);
    }
    out += 'Z';
    return out;
}

}  // namespace detail

/// Parses an RFC 3339 / ISO 8601 date-time: `YYYY-MM-DD(T|t|
/// )HH:MM[:SS[.fraction]][Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM]`.
///
/// * Seconds are optional; a fraction (one or more digits; digits beyond the sixth are truncated,
///   never rounded) needs seconds. Second 60 (a leap second) is read as 59.999999.
/// * No offset means UTC, and sets `offset_missing`. `-00:00` is read as UTC.
/// * Years 0000..9999; months, days (leap years included), hours, minutes and offsets are
///   range-checked. Whitespace around the text is an error.
///
/// Errors: errc::invalid_timestamp with `where` empty (the caller fills in the JSON Pointer) and a
/// message saying what is wrong. Pure function; thread-safe.
[[nodiscard]] inline result<timestamp> parse_timestamp(std::string_view text)
{
    using detail::read_digits;
    using detail::timestamp_error;
    if (text.empty()) return timestamp_error("empty timestamp");
    if (text.size() > 64) return timestamp_error("timestamp longer than 64 characters");
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(text, 0, 4, year)) return timestamp_error("expected a 4-digit year");
    if (text.size() < 5 || text[4] != '-') return timestamp_error("expected '-' after the year");
    if (!read_digits(text, 5, 2, month)) return timestamp_error("expected a 2-digit month");
    if (text.size() < 8 || text[7] != '-') return timestamp_error("expected '-' after the month");
    if (!read_digits(text, 8, 2, day)) return timestamp_error("expected a 2-digit day");
    if (month < 1 || month > 12) return timestamp_error("month out of range");
    if (day < 1 || day > detail::days_in_month(year, month)) return timestamp_error("day out of range");
    if (text.size() == 10) return timestamp_error("date without a time");
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') {
        return timestamp_error("expected 'T' between date and time");
    }
    if (!read_digits(text, 11, 2, hour)) return timestamp_error("expected a 2-digit hour");
    if (text.size() < 14 || text[13] != ':') return timestamp_error("expected ':' after the hour");
    if (!read_digits(text, 14, 2, minute)) return timestamp_error("expected 2-digit minutes");
    if (hour > 23) return timestamp_error("hour out of range");
    if (minute > 59) return timestamp_error("minute out of range");
    std::size_t pos = 16;
    std::int64_t micros = 0;
    if (pos < text.size() && text[pos] == ':') {
        if (!read_digits(text, pos + 1, 2, second)) return timestamp_error("expected 2-digit seconds");
        if (second > 60) return timestamp_error("second out of range");
        pos += 3;
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
            ++pos;
            const std::size_t first = pos;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                if (pos - first < 6) micros = micros * 10 + (text[pos] - '0');
                ++pos;
            }
            if (pos == first) return timestamp_error("expected digits after the decimal point");
            for (std::size_t n = pos - first; n < 6; ++n) micros *= 10;
        }
        if (second == 60) {  // a leap second: stay inside the previous second, never round up
            second = 59;
            micros = 999'999;
        }
    }
    bool offset_missing = false;
    std::int64_t offset_minutes = 0;
    if (pos == text.size()) {
        offset_missing = true;
    } else if (text[pos] == 'Z' || text[pos] == 'z') {
        if (pos + 1 != text.size()) return timestamp_error("unexpected characters after 'Z'");
    } else if (text[pos] == '+' || text[pos] == '-') {
        unsigned oh = 0, om = 0;
        if (!read_digits(text, pos + 1, 2, oh)) return timestamp_error("expected a 2-digit offset hour");
        std::size_t mpos = pos + 3;
        if (mpos < text.size() && text[mpos] == ':') ++mpos;
        if (!read_digits(text, mpos, 2, om)) return timestamp_error("expected 2-digit offset minutes");
        if (mpos + 2 != text.size()) return timestamp_error("unexpected characters after the offset");
        if (oh > 23 || om > 59) return timestamp_error("offset out of range");
        offset_minutes = static_cast<std::int64_t>(oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    } else {
        return timestamp_error("expected 'Z' or an offset such as +02:00");
    }
    const std::int64_t days = detail::days_from_civil(year, month, day);
    const std::int64_t seconds = days * 86400 + static_cast<std::int64_t>(hour) * 3600 +
                                 static_cast<std::int64_t>(minute) * 60 + second - offset_minutes * 60;
    const utc_time t{std::chrono::microseconds(seconds * 1'000'000 + micros)};
    return timestamp{t, std::string(text), offset_missing};
}

/// Canonical UTC text with microseconds, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (e.g. "2023-05-01T12:00:00.000000Z").
/// Years outside 0000..9999 are printed with more digits or a '-' sign. Pure function; thread-safe.
[[nodiscard]] inline std::string format_timestamp(utc_time t)
{
    return detail::format_time(t, true);
}

/// Canonical UTC text in whole seconds, "YYYY-MM-DDTHH:MM:SSZ"; the fraction is truncated, never rounded
/// (so re-sending it as a lower bound never skips a change). Pure function; thread-safe.
[[nodiscard]] inline std::string format_timestamp_seconds(utc_time t)
{
    return detail::format_time(t, false);
}

/// Converts an integer epoch number (as in `status.start_time`) to a time point.
///
/// Errors: errc::invalid_timestamp when the result is outside the years 0000..9999.
[[nodiscard]] inline result<utc_time> time_from_epoch(std::int64_t value, epoch_unit unit)
{
    constexpr std::int64_t min_s = -62'167'219'200;  // 0000-01-01T00:00:00Z
    constexpr std::int64_t max_s = 253'402'300'799;  // 9999-12-31T23:59:59Z
    if (unit == epoch_unit::automatic) {
        unit = (value >= 100'000'000'000 || value <= -100'000'000'000) ? epoch_unit::milliseconds
                                                                       : epoch_unit::seconds;
    }
    if (unit == epoch_unit::milliseconds) {
        if (value < min_s * 1000 || value > max_s * 1000 + 999) {
            return detail::timestamp_error("epoch milliseconds out of range");
        }
        return utc_time{std::chrono::microseconds(value * 1000)};
    }
    if (value < min_s || value > max_s) return detail::timestamp_error("epoch seconds out of range");
    return utc_time{std::chrono::microseconds(value * 1'000'000)};
}

/// Converts a fractional epoch number to a time point, truncating towards the past to microseconds.
///
/// Errors: errc::invalid_timestamp when `value` is not finite or out of the years 0000..9999.
[[nodiscard]] inline result<utc_time> time_from_epoch(double value, epoch_unit unit)
{
    if (!std::isfinite(value)) return detail::timestamp_error("epoch number is not finite");
    if (unit == epoch_unit::automatic) {
        unit = std::fabs(value) >= 1e11 ? epoch_unit::milliseconds : epoch_unit::seconds;
    }
    const double micros = std::floor(unit == epoch_unit::milliseconds ? value * 1e3 : value * 1e6);
    constexpr double min_us = -62'167'219'200.0 * 1e6;
    constexpr double max_us = 253'402'300'800.0 * 1e6;
    if (!(micros >= min_us && micros < max_us)) {
        return detail::timestamp_error(unit == epoch_unit::milliseconds ? "epoch milliseconds out of range"
                                                                        : "epoch seconds out of range");
    }
    return utc_time{std::chrono::microseconds(static_cast<std::int64_t>(micros))};
}

}  // namespace meetingbaas::inline v0
