// SPDX-License-Identifier: MIT
#include "hmac_cases.hpp"

#include <meetingbaas/auth/hmac.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <vector>

using meetingbaas::builtin_hmac_sha256;

TEST_CASE("builtin_hmac_sha256 matches the seven RFC 4231 vectors", "[hmac]")
{
    hmac_cases::check_rfc4231<builtin_hmac_sha256>();
}

TEST_CASE("builtin_hmac_sha256 gives the same MAC however the message is split", "[hmac]")
{
    hmac_cases::check_incremental<builtin_hmac_sha256>();
}

TEST_CASE("builtin_hmac_sha256 verifies the Svix vectors of the spec including rotation", "[hmac]")
{
    hmac_cases::check_svix_vectors<builtin_hmac_sha256>();
}

TEST_CASE("builtin_hmac_sha256 treats a 64-byte key as is and hashes a 65-byte key", "[hmac]")
{
    // A key of exactly one block is used directly; one byte more is hashed first. Expected values computed
    // with Python's hmac module.
    const std::vector<std::uint8_t> k64(64, 0x61);
    const std::vector<std::uint8_t> k65(65, 0x61);
    const auto m64 = meetingbaas::detail::hmac_sha256(k64, "message");
    const auto m65 = meetingbaas::detail::hmac_sha256(k65, "message");
    REQUIRE(m64.has_value());
    REQUIRE(m65.has_value());
    CHECK(meetingbaas::detail::to_hex(*m64) ==
          "6117f44d3e99fd884a6c9dc786e91e812c2a7b1c6240231edfcfe60343ff61cb");
    CHECK(meetingbaas::detail::to_hex(*m65) ==
          "88d81ab6f6f7dd8671c038c63fff879a74aa747f0ce7ff496b867eb554419e73");
}
