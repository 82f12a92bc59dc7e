// SPDX-License-Identifier: MIT
#include <catch2/catch_test_macros.hpp>
#include <meetingbaas/api/rate_limit.hpp>
TEST_CASE("placeholder", "[rate_limit]")
{
    CHECK(true);
}
