// SPDX-License-Identifier: MIT
#include <meetingbaas/core/version.hpp>

#include <catch2/catch_test_macros.hpp>

TEST_CASE("version constants mirror the macros", "[version]")
{
    STATIC_REQUIRE(meetingbaas::version_major == MEETINGBAAS_VERSION_MAJOR);
    STATIC_REQUIRE(meetingbaas::version_minor == MEETINGBAAS_VERSION_MINOR);
    STATIC_REQUIRE(meetingbaas::version_patch == MEETINGBAAS_VERSION_PATCH);
}
