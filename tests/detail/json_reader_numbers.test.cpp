// SPDX-License-Identifier: MIT
// The library's rule for JSON numbers (issue 12 section 4; json_reader.hpp, number_overflow_message): a
// number whose magnitude rounds to infinity as a double is refused wherever it appears (typed or skipped
// member, webhook or API answer) with errc::invalid_value at its pointer; a number too small for a double
// is a zero of the same sign; -0 is negative zero; any number of digits is read correctly rounded.
// Each case below was a fuzzer finding or is a sibling of one (see docs/fuzzing.md).

#include <meetingbaas/api/models.hpp>
#include <meetingbaas/events/event.hpp>

#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace mb = meetingbaas;

namespace {

bool is_overflow(const mb::error& e)
{
    return e.code == mb::errc::invalid_value && e.message == mb::detail::number_overflow_message;
}

mb::result<double> typed_double(std::string_view number)
{
    auto w =
        mb::decode_json<mb::transcript_word>(R"({"word":"w","end":0,"start":)" + std::string(number) + "}");
    if (!w) return w.error();
    return w->start;
}

}  // namespace

TEST_CASE("numbers beyond a double are refused in skipped members, as in typed ones", "[event][json]")
{
    SECTION("the parse_delivery fuzzer's finding: an overflowing number in an unknown member")
    {
        const auto d = mb::parse_delivery("{\"event\":\"got.status_change\",\"id\":\n\n\n\n\n\n\n\n15e9222}");
        REQUIRE_FALSE(d.has_value());
        CHECK(is_overflow(d.error()));
        CHECK(d.error().where == "/id");
        CHECK_FALSE(
            nlohmann::json::accept("{\"id\":15e9222}"));  // the reason it matters: nlohmann refuses it
    }
    SECTION("at any depth of a skipped value, and at the root")
    {
        const auto d =
            mb::parse_delivery(R"({"event":"complete","data":{"bot_id":"b","x":{"y":[1,2,{"z":-1e400}]}}})");
        REQUIRE_FALSE(d.has_value());
        CHECK(is_overflow(d.error()));
        CHECK(d.error().where == "/data/x/y/2/z");
        const auto root = mb::parse_delivery("1e309");  // the fuzzer's second finding (a wrong oracle)
        REQUIRE_FALSE(root.has_value());
        CHECK(is_overflow(root.error()));
        CHECK(root.error().where.empty());
    }
    SECTION("typed members: double, integer and epoch number report the same error")
    {
        CHECK(is_overflow(typed_double("1e999").error()));
        const auto i =
            mb::parse_delivery(R"({"event":"bot.completed","data":{"bot_id":"b","duration_seconds":1e999}})");
        REQUIRE_FALSE(i.has_value());
        CHECK(is_overflow(i.error()));  // not wrong_type: the range rule comes first, wherever the number is
        CHECK(i.error().where == "/data/duration_seconds");
        const auto epoch = mb::parse_delivery(
            R"({"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"x","created_at":"2024-01-01T12:00:00Z","start_time":-2e308}}})");
        REQUIRE_FALSE(epoch.has_value());
        CHECK(is_overflow(epoch.error()));
        CHECK(epoch.error().where == "/data/status/start_time");
    }
    SECTION("the boundary is the double's: what rounds to DBL_MAX is accepted, what rounds up is not")
    {
        const auto max = typed_double("1.7976931348623158e308");
        REQUIRE(max.has_value());
        CHECK(*max == std::numeric_limits<double>::max());
        CHECK(is_overflow(typed_double("1.7976931348623159e308").error()));
        CHECK(is_overflow(typed_double("-1.7976931348623159e308").error()));
        // The same values spelled with many digits, a leading fraction, and a huge exponent.
        const std::string digits = "17976931348623158" + std::string(292, '0');  // 309 digits: 1.79...e308
        CHECK(typed_double(digits).has_value());
        CHECK(is_overflow(typed_double("1" + std::string(309, '0')).error()));  // 1e309
        CHECK(typed_double("0.0001e312").has_value());                          // 1e308
        CHECK(is_overflow(typed_double("0.001e312").error()));                  // 1e309
        CHECK(is_overflow(typed_double("1e" + std::string(5000, '9')).error()));
        CHECK(typed_double("0e" + std::string(5000, '9')).value_or(-1.0) == 0.0);  // zero never overflows
    }
}

TEST_CASE("numbers too small for a double round to a signed zero, as strtod does", "[event][json]")
{
    const auto tiny = typed_double("1e-400");
    REQUIRE(tiny.has_value());
    CHECK(*tiny == 0.0);
    CHECK_FALSE(std::signbit(*tiny));
    const auto negative_tiny = typed_double("-1e-400");
    REQUIRE(negative_tiny.has_value());
    CHECK(*negative_tiny == 0.0);
    CHECK(std::signbit(*negative_tiny));
    const auto minus_zero = typed_double("-0");
    REQUIRE(minus_zero.has_value());
    CHECK(std::signbit(*minus_zero));
    CHECK(typed_double("4.9e-324").value_or(-1.0) == std::numeric_limits<double>::denorm_min());
    CHECK(typed_double("1e-" + std::string(5000, '9')).value_or(-1.0) == 0.0);
    // Many digits: correctly rounded (1000 digits of 1/3 scaled down).
    CHECK(typed_double("0." + std::string(1000, '3')).value_or(-1.0) == 1.0 / 3.0);
    // A tiny epoch number is the epoch itself, not an error.
    const auto d = mb::parse_delivery(
        R"({"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"x","created_at":"2024-01-01T12:00:00Z","start_time":1e-400}}})");
    REQUIRE(d.has_value());
    // Skipped members of any size and precision are fine.
    CHECK(mb::parse_delivery(R"({"event":"complete","data":{"bot_id":"b","x":[-0,1e-400,-1e-400,)" +
                             std::string(400, '1') + "e-300]}}")
              .has_value());
}

TEST_CASE("API answers: the streaming decoder and the DOM path agree on out-of-range numbers",
          "[event][json]")
{
    // The api_response fuzzer's sibling: before the rule, the streaming fast path skipped 1e999 in an
    // unknown member and returned the event, while the DOM path (nlohmann) refused the body.
    const std::string event = R"({"uuid":"u","calendar_uuid":"c","start_time":"2024-01-01T00:00:00Z",)"
                              R"("end_time":"2024-01-01T01:00:00Z","deleted":false,)"
                              R"("last_updated_at":"2024-01-01T00:00:00Z","x":)";
    const auto overflow = mb::parse_v1_event_text(event + "1e999}");
    REQUIRE_FALSE(overflow.has_value());
    const auto dom = mb::detail::parse_json_body(event + "1e999}");
    REQUIRE_FALSE(dom.has_value());
    CHECK(overflow.error().code == dom.error().code);
    CHECK(overflow.error().where == dom.error().where);
    const auto tiny = mb::parse_v1_event_text(event + "-1e-400}");
    REQUIRE(tiny.has_value());
    CHECK(tiny->uuid == "u");
}
