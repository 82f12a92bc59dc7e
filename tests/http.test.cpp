// SPDX-License-Identifier: MIT
#include <meetingbaas/http.hpp>

#include "fake_http_client.hpp"

#include <catch2/catch_test_macros.hpp>

TEST_CASE("http_client accepts the scripted fake", "[http]")
{
    STATIC_REQUIRE(meetingbaas::http_client<meetingbaas_test::fake_http_client>);
    STATIC_REQUIRE(meetingbaas::http_client<meetingbaas_test::fake_http_client&>);
}
