// SPDX-License-Identifier: MIT
#include <meetingbaas/retry/retry_after.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

using namespace std::chrono_literals;
using namespace std::chrono;
using meetingbaas::errc;

namespace {
// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date.
constexpr sys_seconds rfc_example = sys_days{year{1994} / November / 6} + 8h + 49min + 37s;
// "now" for relative tests: 2026-11-27 03:00:00 UTC.
constexpr sys_seconds now = sys_days{year{2026} / November / 27} + 3h;
}  // namespace

TEST_CASE("parse_http_date accepts the three RFC 9110 formats", "[retry_after]")
{
    const std::string_view text =
        GENERATE(as<std::string_view>{}, "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                 "Sun Nov  6 08:49:37 1994", "  Sun, 06 Nov 1994 08:49:37 GMT\t");
    CAPTURE(text);
    const auto r = meetingbaas::parse_http_date(text, now);
    REQUIRE(r);
    CHECK(*r == rfc_example);
}

TEST_CASE("parse_http_date reads two-digit years relative to now", "[retry_after]")
{
    // 2026: "30" is 2030 (less than 50 years ahead); "94" would be 2094 (more than 50 ahead): 1994.
    const auto a = meetingbaas::parse_http_date("Wednesday, 09-Jan-30 00:00:00 GMT", now);
    REQUIRE(a);
    CHECK(*a == sys_seconds{sys_days{year{2030} / January / 9}});
    const auto b = meetingbaas::parse_http_date("Wednesday, 01-Jan-70 00:00:00 GMT", now);
    REQUIRE(b);
    CHECK(*b == sys_seconds{sys_days{year{2070} / January / 1}});
    const auto c = meetingbaas::parse_http_date("Tuesday, 01-Jan-80 00:00:00 GMT", now);
    REQUIRE(c);
    CHECK(*c == sys_seconds{sys_days{year{1980} / January / 1}});
}

TEST_CASE("parse_http_date accepts leap days and a leap second", "[retry_after]")
{
    const auto leap = meetingbaas::parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT", now);
    REQUIRE(leap);
    CHECK(*leap == sys_days{year{2024} / February / 29} + 12h);
    const auto second60 = meetingbaas::parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT", now);
    REQUIRE(second60);
    CHECK(*second60 == sys_seconds{sys_days{year{2017} / January / 1}});
}

TEST_CASE("parse_http_date rejects malformed and impossible dates", "[retry_after]")
{
    const std::string_view text =
        GENERATE(as<std::string_view>{},
                 "Sun, 06 Nov 1994 08:49:37 UTC",     // zone must be GMT
                 "sun, 06 Nov 1994 08:49:37 GMT",     // case-sensitive names
                 "Sun, 6 Nov 1994 08:49:37 GMT",      // two-digit day
                 "Sun, 06 Nov 94 08:49:37 GMT",       // four-digit year in IMF-fixdate
                 "Sun, 06 Nov 1994 08:49 GMT",        // seconds required
                 "Sun, 06 Nov 1994 24:00:00 GMT",     // hour out of range
                 "Sun, 06 Nov 1994 08:60:00 GMT",     // minute out of range
                 "Sun, 06 Nov 1994 08:49:61 GMT",     // second out of range
                 "Thu, 30 Feb 2024 00:00:00 GMT",     // no such day
                 "Fri, 29 Feb 2023 00:00:00 GMT",     // not a leap year
                 "Mon, 06 Nov 1994 08:49:37 GMT",     // wrong weekday
                 "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing garbage
                 "Sun, 06 Nov 1994 08:49:37",         // truncated
                 "Sun Nov 06 08:49:37 1994 GMT",      // asctime has no zone
                 "Sun Nov 6 08:49:37 1994",           // asctime pads the day with a space
                 "Sunday, 06-Nov-1994 08:49:37 GMT",  // RFC 850 has a two-digit year
                 "Sun, 00 Nov 1994 08:49:37 GMT",     // day zero
                 "Sun, 06 Foo 1994 08:49:37 GMT",     // unknown month
                 "Sun,06 Nov 1994 08:49:37 GMT");     // missing space
    CAPTURE(text);
    const auto r = meetingbaas::parse_http_date(text, now);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_value);
    CHECK(r.error().where == "HTTP-date");
}

TEST_CASE("parse_retry_after reads delta-seconds", "[retry_after]")
{
    CHECK(*meetingbaas::parse_retry_after("0", now) == 0ms);
    CHECK(*meetingbaas::parse_retry_after("1", now) == 1s);
    CHECK(*meetingbaas::parse_retry_after(" 120 ", now) == 120s);
    CHECK(*meetingbaas::parse_retry_after("0000000000000000000000000000007", now) == 7s);
}

TEST_CASE("parse_retry_after saturates huge values", "[retry_after]")
{
    const std::string_view text = GENERATE(as<std::string_view>{}, "2147483647", "2147483648",
                                           "99999999999999999999999999999999999999", "18446744073709551616");
    CAPTURE(text);
    const auto r = meetingbaas::parse_retry_after(text, now);
    REQUIRE(r);
    CHECK(*r == meetingbaas::max_pushback);
    const auto far = meetingbaas::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now);
    REQUIRE(far);
    CHECK(*far == meetingbaas::max_pushback);
}

TEST_CASE("parse_retry_after reads HTTP-dates relative to now", "[retry_after]")
{
    CHECK(*meetingbaas::parse_retry_after("Fri, 27 Nov 2026 03:00:30 GMT", now) == 30s);
    CHECK(*meetingbaas::parse_retry_after("Friday, 27-Nov-26 03:02:00 GMT", now) == 120s);
    CHECK(*meetingbaas::parse_retry_after("Fri Nov 27 03:00:01 2026", now) == 1s);
}

TEST_CASE("parse_retry_after maps past dates to zero", "[retry_after]")
{
    CHECK(*meetingbaas::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0ms);
    CHECK(*meetingbaas::parse_retry_after("Fri, 27 Nov 2026 03:00:00 GMT", now) == 0ms);
    CHECK(*meetingbaas::parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0ms);
}

TEST_CASE("parse_retry_after rejects negative, fractional and garbage values", "[retry_after]")
{
    const std::string_view text =
        GENERATE(as<std::string_view>{}, "-1", "-0", "+5", "1.5", "1e3", "10s", "0x10", "5 5", "abc",
                 "\xff\xfe", "NaN", "Infinity", ",", "120,", "Sun, 06 Nov 1994", "tomorrow");
    CAPTURE(text);
    const auto r = meetingbaas::parse_retry_after(text, now);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_value);
    CHECK(r.error().where == "Retry-After");
}

TEST_CASE("parse_retry_after reports empty values", "[retry_after]")
{
    const std::string_view text = GENERATE(as<std::string_view>{}, "", " ", "\t \t");
    const auto r = meetingbaas::parse_retry_after(text, now);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::empty_input);
}

TEST_CASE("parse_pushback_ms reads millisecond headers", "[retry_after]")
{
    CHECK(*meetingbaas::parse_pushback_ms("250") == 250ms);
    CHECK(*meetingbaas::parse_pushback_ms("99999999999999999999999") == meetingbaas::max_pushback);
    const auto neg = meetingbaas::parse_pushback_ms("-1", "grpc-retry-pushback-ms");
    REQUIRE_FALSE(neg);
    CHECK(neg.error().where == "grpc-retry-pushback-ms");
}

TEST_CASE("retry_after_from_seconds reads the v2 body field", "[retry_after]")
{
    CHECK(*meetingbaas::retry_after_from_seconds(3) == 3s);
    CHECK(*meetingbaas::retry_after_from_seconds(INT64_MAX) == meetingbaas::max_pushback);
    const auto r = meetingbaas::retry_after_from_seconds(-3);
    REQUIRE_FALSE(r);
    CHECK(r.error().where == "/retryAfter");
}

TEST_CASE("combine_pushback keeps the longer hint", "[retry_after]")
{
    using meetingbaas::combine_pushback;
    STATIC_REQUIRE(combine_pushback(std::nullopt, std::nullopt) == std::nullopt);
    STATIC_REQUIRE(combine_pushback(1s, std::nullopt) == 1s);
    STATIC_REQUIRE(combine_pushback(std::nullopt, 2s) == 2s);
    STATIC_REQUIRE(combine_pushback(3s, 2s) == 3s);
}

TEST_CASE("format_http_date writes IMF-fixdate and round-trips", "[retry_after]")
{
    STATIC_REQUIRE(meetingbaas::format_http_date(rfc_example).view() == "Sun, 06 Nov 1994 08:49:37 GMT");
    const sys_seconds t = sys_days{year{2026} / November / 27} + 23h + 5min + 9s;
    const auto text = meetingbaas::format_http_date(t);
    CHECK(text.view() == "Fri, 27 Nov 2026 23:05:09 GMT");
    const auto back = meetingbaas::parse_http_date(text.view(), now);
    REQUIRE(back);
    CHECK(*back == t);
    CHECK(meetingbaas::format_http_date(sys_days{year{10000} / January / 1}).view().empty());
    CHECK(meetingbaas::format_http_date(sys_days{year{-1} / January / 1}).view().empty());
}
