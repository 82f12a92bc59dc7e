// SPDX-License-Identifier: MIT
#include "../detail/hmac_cases.hpp"

#include <meetingbaas/adapters/openssl.hpp>
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/hmac.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using meetingbaas::builtin_hmac_sha256;
using meetingbaas::openssl_hmac_sha256;

TEST_CASE("openssl_hmac_sha256 matches the seven RFC 4231 vectors", "[adapters/openssl]")
{
    hmac_cases::check_rfc4231<openssl_hmac_sha256>();
}

TEST_CASE("openssl_hmac_sha256 gives the same MAC however the message is split", "[adapters/openssl]")
{
    hmac_cases::check_incremental<openssl_hmac_sha256>();
}

TEST_CASE("openssl_hmac_sha256 verifies the Svix vectors of the spec including rotation",
          "[adapters/openssl]")
{
    hmac_cases::check_svix_vectors<openssl_hmac_sha256>();
}

TEST_CASE("openssl_hmac_sha256 and builtin_hmac_sha256 agree on pseudo-random keys and messages",
          "[adapters/openssl]")
{
    std::uint32_t state = 12345;
    const auto next = [&] {
        state = state * 1664525U + 1013904223U;
        return static_cast<std::uint8_t>(state >> 24U);
    };
    for (int round = 0; round < 200; ++round) {
        std::vector<std::uint8_t> key(1 + static_cast<std::size_t>(next()) % 150);
        for (auto& b : key) b = next();
        std::string message(static_cast<std::size_t>(next()) * 9U, '\0');
        for (auto& c : message) c = static_cast<char>(next());
        const auto a = meetingbaas::detail::hmac_sha256<builtin_hmac_sha256>(key, message);
        const auto b = meetingbaas::detail::hmac_sha256<openssl_hmac_sha256>(key, message);
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        CHECK(*a == *b);
    }
}

TEST_CASE("openssl_hmac_sha256 rejects an empty key with invalid_secret", "[adapters/openssl]")
{
    const auto key = openssl_hmac_sha256::make_key({});
    REQUIRE_FALSE(key.has_value());
    CHECK(key.error().code == meetingbaas::errc::invalid_secret);
}

TEST_CASE("openssl_hmac_sha256 keys are shared by copies of the verifier", "[adapters/openssl]")
{
    const auto v = hmac_cases::project_vector();
    auto verifier = meetingbaas::basic_svix_verifier<openssl_hmac_sha256>::from_secrets({v.secret});
    REQUIRE(verifier.has_value());
    const auto copy = *verifier;  // copies share the prepared EVP_MAC_CTX
    verifier->clear();
    const auto headers = hmac_cases::svix_headers(v, v.signature);
    CHECK(copy.verify_at(headers, v.body, hmac_cases::ts_of(v)).has_value());
    CHECK(verifier->verify_at(headers, v.body, hmac_cases::ts_of(v)).error().reason ==
          meetingbaas::auth_failure::not_configured);
}
