// SPDX-License-Identifier: MIT
#include <meetingbaas/core/error.hpp>

#include <catch2/catch_test_macros.hpp>

TEST_CASE("to_string(errc) names every enumerator", "[error]")
{
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::errc::missing_field) == "missing_field");
    STATIC_REQUIRE(noexcept(meetingbaas::to_string(meetingbaas::errc::too_deep)));
    CHECK(meetingbaas::to_string(meetingbaas::errc::pagination_loop) == "pagination_loop");
    CHECK(meetingbaas::to_string(static_cast<meetingbaas::errc>(12345)) == "unknown");
}

TEST_CASE("to_string(error) joins code, location and message", "[error]")
{
    const meetingbaas::error e{meetingbaas::errc::wrong_type, "/data/calendar_id", "expected a string"};
    CHECK(meetingbaas::to_string(e) == "wrong_type at /data/calendar_id: expected a string");
    CHECK(meetingbaas::to_string(meetingbaas::error{meetingbaas::errc::cancelled, {}, {}}) == "cancelled");
}
