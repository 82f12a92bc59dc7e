// SPDX-License-Identifier: MIT
#include <meetingbaas/core/timestamp.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

// An independent oracle: counts days one year and one month at a time (no closed formula).
bool oracle_leap(std::int64_t y)
{
    if (y % 400 == 0) return true;
    if (y % 100 == 0) return false;
    return y % 4 == 0;
}

std::int64_t oracle_days(std::int64_t y, int m, int d)
{
    static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    std::int64_t days = 0;
    // Whole 400-year cycles (146097 days each) first, to keep the loop short over wide ranges.
    while (y - 1970 >= 400) {
        days += 146097;
        y -= 400;
    }
    while (1970 - y > 400) {
        days -= 146097;
        y += 400;
    }
    for (std::int64_t yy = 1970; yy < y; ++yy) days += oracle_leap(yy) ? 366 : 365;
    for (std::int64_t yy = y; yy < 1970; ++yy) days -= oracle_leap(yy) ? 366 : 365;
    for (int mm = 1; mm < m; ++mm) days += month_days[mm - 1] + ((mm == 2 && oracle_leap(y)) ? 1 : 0);
    return days + d - 1;
}

std::string two(int v)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d", v);
    return buf;
}

std::int64_t micros_of(const mb::utc_time& t)
{
    return t.time_since_epoch().count();
}

}  // namespace

TEST_CASE("parse_timestamp reads the spellings the provider sends", "[timestamp]")
{
    struct row {
        std::string_view text;
        std::int64_t micros;
        bool offset_missing;
    };
    // 2023-05-01T12:00:00Z = 1682942400 s
    const auto r = GENERATE(values<row>({
        {"2023-05-01T12:00:00Z", 1'682'942'400'000'000, false},
        {"2023-05-01t12:00:00z", 1'682'942'400'000'000, false},
        {"2023-05-01 12:00:00Z", 1'682'942'400'000'000, false},
        {"2023-05-01T12:00Z", 1'682'942'400'000'000, false},
        {"2023-05-01T12:00:00.000Z", 1'682'942'400'000'000, false},
        {"2023-05-01T12:00:00.5Z", 1'682'942'400'500'000, false},
        {"2023-05-01T12:00:00.004561Z", 1'682'942'400'004'561, false},
        {"2023-05-01T12:00:00.004561999Z", 1'682'942'400'004'561, false},
        {"2023-05-01T12:00:00.123456789123Z", 1'682'942'400'123'456, false},
        {"2023-05-01T12:00:00", 1'682'942'400'000'000, true},
        {"2023-05-01T12:00", 1'682'942'400'000'000, true},
        {"2023-05-01T14:00:00+02:00", 1'682'942'400'000'000, false},
        {"2023-05-01T14:00:00+0200", 1'682'942'400'000'000, false},
        {"2023-05-01T07:30:00-04:30", 1'682'942'400'000'000, false},
        {"2023-05-01T07:30:00-0430", 1'682'942'400'000'000, false},
        {"2023-05-01T12:00:00-00:00", 1'682'942'400'000'000, false},
        {"2023-05-01T12:00:00+00:00", 1'682'942'400'000'000, false},
        {"2023-05-01T23:59:60Z", 1'682'985'599'999'999, false},
        {"1970-01-01T00:00:00Z", 0, false},
        {"1969-12-31T23:59:59.999999Z", -1, false},
        {"2024-02-29T00:00:00Z", 1'709'164'800'000'000, false},
        {"2000-02-29T00:00:00Z", 951'782'400'000'000, false},
    }));
    CAPTURE(r.text);
    const auto ts = mb::parse_timestamp(r.text);
    REQUIRE(ts.has_value());
    CHECK(micros_of(ts->time) == r.micros);
    CHECK(ts->offset_missing == r.offset_missing);
    CHECK(ts->text == r.text);
}

TEST_CASE("parse_timestamp rejects malformed and out-of-range text with a reason", "[timestamp]")
{
    struct row {
        std::string_view text;
        std::string_view message;
    };
    const auto r = GENERATE(values<row>({
        {"", "empty timestamp"},
        {"2023", "expected '-' after the year"},
        {"23-05-01T12:00:00Z", "expected a 4-digit year"},
        {"2023-5-01T12:00:00Z", "expected a 2-digit month"},
        {"2023-13-01T12:00:00Z", "month out of range"},
        {"2023-00-01T12:00:00Z", "month out of range"},
        {"2023-02-29T12:00:00Z", "day out of range"},
        {"1900-02-29T12:00:00Z", "day out of range"},
        {"2023-04-31T12:00:00Z", "day out of range"},
        {"2023-04-00T12:00:00Z", "day out of range"},
        {"2023-05-01", "date without a time"},
        {"2023-05-01X12:00:00Z", "expected 'T' between date and time"},
        {"2023-05-01T24:00:00Z", "hour out of range"},
        {"2023-05-01T12:60:00Z", "minute out of range"},
        {"2023-05-01T12:00:61Z", "second out of range"},
        {"2023-05-01T12", "expected ':' after the hour"},
        {"2023-05-01T12:0", "expected 2-digit minutes"},
        {"2023-05-01T12:00:0Z", "expected 2-digit seconds"},
        {"2023-05-01T12:00:00.Z", "expected digits after the decimal point"},
        {"2023-05-01T12:00.5Z", "expected 'Z' or an offset such as +02:00"},
        {"2023-05-01T12:00:00ZZ", "unexpected characters after 'Z'"},
        {"2023-05-01T12:00:00+2", "expected a 2-digit offset hour"},
        {"2023-05-01T12:00:00+02", "expected 2-digit offset minutes"},
        {"2023-05-01T12:00:00+02:0", "expected 2-digit offset minutes"},
        {"2023-05-01T12:00:00+24:00", "offset out of range"},
        {"2023-05-01T12:00:00+02:60", "offset out of range"},
        {"2023-05-01T12:00:00+02:00:00", "unexpected characters after the offset"},
        {" 2023-05-01T12:00:00Z", "expected a 4-digit year"},
        {"2023-05-01T12:00:00Z ", "unexpected characters after 'Z'"},
        {"2023-05-01T12:00:00 UTC", "expected 'Z' or an offset such as +02:00"},
        {"2023-05-01T12:00:00.000000000000000000000000000000000000000000000Z",
         "timestamp longer than 64 characters"},
    }));
    CAPTURE(r.text);
    const auto ts = mb::parse_timestamp(r.text);
    REQUIRE_FALSE(ts.has_value());
    CHECK(ts.error().code == mb::errc::invalid_timestamp);
    CHECK_THAT(ts.error().message, Catch::Matchers::Equals(std::string(r.message)));
}

TEST_CASE("parse_timestamp agrees with a day-counting oracle over 0000..9999 and all offsets", "[timestamp]")
{
    std::mt19937_64 rng(20240601);
    std::uniform_int_distribution<int> year(0, 9999), month(1, 12), hour(0, 23), minute(0, 59), second(0, 59);
    std::uniform_int_distribution<int> frac(0, 999'999), off_h(0, 23), off_m(0, 59), sign(0, 2), form(0, 3);
    static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 20'000; ++i) {
        const int y = year(rng), m = month(rng);
        const int dim = month_days[m - 1] + ((m == 2 && oracle_leap(y)) ? 1 : 0);
        const int d = std::uniform_int_distribution<int>(1, dim)(rng);
        const int hh = hour(rng), mi = minute(rng), ss = second(rng), us = frac(rng);
        std::string text = std::to_string(y);
        text.insert(0, 4 - text.size(), '0');
        // Appended piece by piece: `"-" + std::string` trips GCC 12's -Wrestrict at -O3 (a false positive in
        // libstdc++'s operator+(const char*, string&&), GCC bug 105651).
        for (const auto& [sep, v] : {std::pair{"-", m}, {"-", d}, {"T", hh}, {":", mi}, {":", ss}}) {
            text += sep;
            text += two(v);
        }
        char fbuf[16];
        std::snprintf(fbuf, sizeof fbuf, ".%06d", us);
        text += fbuf;
        std::int64_t offset = 0;
        const int s = sign(rng);
        if (s == 0) {
            text += "Z";
        } else {
            const int oh = off_h(rng), om = off_m(rng);
            offset = (oh * 60 + om) * (s == 1 ? 1 : -1);
            text += s == 1 ? "+" : "-";
            text += two(oh);
            text += form(rng) == 0 ? "" : ":";
            text += two(om);
        }
        CAPTURE(text);
        const auto ts = mb::parse_timestamp(text);
        REQUIRE(ts.has_value());
        const std::int64_t expected =
            ((oracle_days(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss) - offset * 60) * 1'000'000 + us;
        REQUIRE(micros_of(ts->time) == expected);
        // Cross-check against <chrono>'s calendar too.
        const auto ymd = std::chrono::year{y} / std::chrono::month{static_cast<unsigned>(m)} /
                         std::chrono::day{static_cast<unsigned>(d)};
        REQUIRE(std::chrono::sys_days{ymd}.time_since_epoch().count() == oracle_days(y, m, d));
        // Round trip through the canonical form when no offset was applied.
        if (s == 0) REQUIRE(mb::format_timestamp(ts->time) == text);
    }
}

TEST_CASE("civil conversions round-trip every day from 0000 to 9999", "[timestamp]")
{
    const std::int64_t first = mb::detail::days_from_civil(0, 1, 1);
    const std::int64_t last = mb::detail::days_from_civil(9999, 12, 31);
    CHECK(first == oracle_days(0, 1, 1));
    CHECK(last == oracle_days(9999, 12, 31));
    std::int64_t y = 0;
    unsigned m = 1, d = 1;
    for (std::int64_t day = first; day <= last; ++day) {
        const auto c = mb::detail::civil_from_days(day);
        REQUIRE((c.year == y && c.month == m && c.day == d));
        REQUIRE(mb::detail::days_from_civil(y, m, d) == day);
        if (++d > mb::detail::days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                ++y;
            }
        }
    }
}

TEST_CASE("format_timestamp truncates and never rounds up", "[timestamp]")
{
    const auto t = mb::utc_time{1'682'942'400'999'999us};
    CHECK(mb::format_timestamp(t) == "2023-05-01T12:00:00.999999Z");
    CHECK(mb::format_timestamp_seconds(t) == "2023-05-01T12:00:00Z");
    CHECK(mb::format_timestamp(mb::utc_time{-1us}) == "1969-12-31T23:59:59.999999Z");
    CHECK(mb::format_timestamp_seconds(mb::utc_time{-1us}) == "1969-12-31T23:59:59Z");
    CHECK(mb::format_timestamp(mb::utc_time{}) == "1970-01-01T00:00:00.000000Z");
    const auto nano = mb::parse_timestamp("2023-05-01T12:00:00.123456789Z");
    REQUIRE(nano.has_value());
    CHECK(mb::format_timestamp(nano->time) == "2023-05-01T12:00:00.123456Z");
    const auto edge = mb::parse_timestamp("9999-12-31T23:59:59.999999Z");
    REQUIRE(edge.has_value());
    CHECK(mb::format_timestamp(edge->time) == "9999-12-31T23:59:59.999999Z");
    const auto zero = mb::parse_timestamp("0000-01-01T00:00:00Z");
    REQUIRE(zero.has_value());
    CHECK(mb::format_timestamp_seconds(zero->time) == "0000-01-01T00:00:00Z");
}

TEST_CASE("time_from_epoch reads seconds, milliseconds and guesses by magnitude", "[timestamp]")
{
    const auto s = mb::time_from_epoch(std::int64_t{1'700'000'000}, mb::epoch_unit::seconds);
    REQUIRE(s.has_value());
    CHECK(mb::format_timestamp_seconds(*s) == "2023-11-14T22:13:20Z");
    const auto ms = mb::time_from_epoch(std::int64_t{1'700'000'000'123}, mb::epoch_unit::milliseconds);
    REQUIRE(ms.has_value());
    CHECK(mb::format_timestamp(*ms) == "2023-11-14T22:13:20.123000Z");
    const auto guess_s = mb::time_from_epoch(std::int64_t{1'700'000'000}, mb::epoch_unit::automatic);
    const auto guess_ms = mb::time_from_epoch(std::int64_t{1'700'000'000'000}, mb::epoch_unit::automatic);
    REQUIRE((guess_s.has_value() && guess_ms.has_value()));
    CHECK(*guess_s == *guess_ms);
    const auto frac = mb::time_from_epoch(1'700'000'000.25, mb::epoch_unit::seconds);
    REQUIRE(frac.has_value());
    CHECK(mb::format_timestamp(*frac) == "2023-11-14T22:13:20.250000Z");
    const auto neg = mb::time_from_epoch(-0.5, mb::epoch_unit::seconds);
    REQUIRE(neg.has_value());
    CHECK(neg->time_since_epoch() == -500'000us);

    CHECK(mb::time_from_epoch(std::int64_t{300'000'000'000'000}, mb::epoch_unit::milliseconds).error().code ==
          mb::errc::invalid_timestamp);
    CHECK(mb::time_from_epoch(std::int64_t{300'000'000'000}, mb::epoch_unit::seconds).error().message ==
          "epoch seconds out of range");
    CHECK_FALSE(mb::time_from_epoch(std::int64_t{INT64_MAX}, mb::epoch_unit::automatic).has_value());
    CHECK_FALSE(mb::time_from_epoch(std::int64_t{INT64_MIN}, mb::epoch_unit::seconds).has_value());
    CHECK_FALSE(mb::time_from_epoch(1e300, mb::epoch_unit::seconds).has_value());
    CHECK_FALSE(
        mb::time_from_epoch(std::numeric_limits<double>::quiet_NaN(), mb::epoch_unit::seconds).has_value());
    CHECK_FALSE(
        mb::time_from_epoch(std::numeric_limits<double>::infinity(), mb::epoch_unit::automatic).has_value());
}

TEST_CASE("timestamp calendar helpers are constexpr", "[timestamp]")
{
    STATIC_REQUIRE(mb::detail::days_from_civil(1970, 1, 1) == 0);
    STATIC_REQUIRE(mb::detail::days_from_civil(2000, 3, 1) == 11017);
    STATIC_REQUIRE(mb::detail::civil_from_days(11017).month == 3);
    STATIC_REQUIRE(mb::detail::days_in_month(2100, 2) == 28);
    STATIC_REQUIRE(mb::detail::days_in_month(2400, 2) == 29);
}
