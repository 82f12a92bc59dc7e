// SPDX-License-Identifier: MIT
// Proves that the hot verification paths do not allocate: this executable replaces the global
// operator new with a counting one (it is a separate test executable for that reason).
#include "detail/hmac_cases.hpp"

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/core/headers.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <string>

// This TU provides the counting replacement of the global operator new for the whole executable.
#define MEETINGBAAS_TEST_COUNT_ALLOCATIONS
#include "counting_allocator.hpp"

namespace {
using allocation_counter = meetingbaas::test::allocation_scope;
}  // namespace

TEST_CASE("the counting allocator sees allocations", "[authenticity]")
{
    const allocation_counter counter;
    const auto* s = new std::string(100, 'x');  // NOLINT: deliberately allocating
    delete s;
    CHECK(counter.count() >= 1);
}

TEST_CASE("api_key_keyring check does not allocate, matching or not", "[authenticity]")
{
    auto ring = meetingbaas::api_key_keyring::from_keys({"key-one-AAAAAAAAAAAA", "key-two-BBBBBBBBBBBB"});
    REQUIRE(ring.has_value());
    const meetingbaas::http_headers good{{"x-meeting-baas-api-key", "key-two-BBBBBBBBBBBB"}};
    const meetingbaas::http_headers wrong{{"x-meeting-baas-api-key", "key-three"}};
    const meetingbaas::http_headers none{{"content-type", "application/json"}};
    std::size_t matched = 0;
    bool wrong_rejected = false;
    bool none_rejected = false;
    std::size_t used = 0;
    {
        const allocation_counter counter;
        const auto a = ring->check(good);
        const auto b = ring->check(wrong);
        const auto c = ring->check(none);
        const auto d = ring->verify(good, "{}");
        matched = a ? a->index : 99;
        wrong_rejected = !b && b.error().reason == meetingbaas::auth_failure::key_mismatch;
        none_rejected = !c && c.error().reason == meetingbaas::auth_failure::missing_header;
        matched += d ? 0U : 100U;
        used = counter.count();
    }
    CHECK(used == 0);
    CHECK(matched == 1);
    CHECK(wrong_rejected);
    CHECK(none_rejected);
}

TEST_CASE("svix_verifier verify with the built-in backend does not allocate", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    auto v = meetingbaas::svix_verifier::from_secrets({hmac_cases::rotation_old_secret, vec.secret});
    REQUIRE(v.has_value());
    const auto headers =
        hmac_cases::svix_headers(vec, std::string(hmac_cases::rotation_old_signature) + " " + vec.signature);
    const meetingbaas::header_view view = headers;
    bool ok = false;
    bool rejected = false;
    std::size_t used = 0;
    {
        const allocation_counter counter;
        const auto r = v->verify_at(view, vec.body, hmac_cases::ts_of(vec));
        const auto bad = v->verify_at(view, vec.body, hmac_cases::ts_of(vec) + 10'000);
        ok = r.has_value();
        rejected = !bad.has_value();
        used = counter.count();
    }
    CHECK(used == 0);
    CHECK(ok);
    CHECK(rejected);
}
