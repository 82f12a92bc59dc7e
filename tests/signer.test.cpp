// SPDX-License-Identifier: MIT
// svix_signer: the spec's vectors (section 9), rotation, both header styles, round trips through the
// verifier, and the inputs a verifier would refuse. The JavaScript interop is in tests/interop/.
#include "detail/hmac_cases.hpp"
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/signer.hpp>
#include <meetingbaas/core/headers.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using meetingbaas::svix_signer;
using meetingbaas::svix_verifier;

namespace {

struct fixed_clock {
    std::chrono::sys_seconds t{};
    [[nodiscard]] std::chrono::sys_seconds now() const noexcept { return t; }
};

}  // namespace

TEST_CASE("svix_signer reproduces the spec's signature vectors", "[signer]")
{
    for (const auto& v : {hmac_cases::svix_docs_vector(), hmac_cases::project_vector()}) {
        CAPTURE(v.id);
        const auto signer = svix_signer::from_secret(v.secret);
        REQUIRE(signer);
        const auto sig = signer->signature(v.id, hmac_cases::ts_of(v), v.body);
        REQUIRE(sig);
        CHECK(*sig == v.signature);
        const auto headers = signer->sign(v.id, hmac_cases::ts_of(v), v.body);
        REQUIRE(headers);
        CHECK(headers->id == v.id);
        CHECK(headers->timestamp == v.timestamp);
        CHECK(headers->signature == v.signature);
        CHECK(headers->to_headers().find("svix-signature") == v.signature);
    }
    // The rotation vector: two secrets give both entries, in the order given.
    const auto v = hmac_cases::project_vector();
    const auto both =
        svix_signer::from_secrets({hmac_cases::rotation_old_secret, std::string_view(v.secret)});
    REQUIRE(both);
    CHECK(both->size() == 2);
    const auto sig = both->signature(v.id, hmac_cases::ts_of(v), v.body);
    REQUIRE(sig);
    CHECK(*sig == std::string(hmac_cases::rotation_old_signature) + " " + v.signature);
}

TEST_CASE("svix_signer output verifies, under either header style, and only for the signed bytes", "[signer]")
{
    const auto v = hmac_cases::project_vector();
    const auto signer = svix_signer::from_secret(v.secret);
    const auto verifier = svix_verifier::from_secrets({v.secret});
    REQUIRE(signer);
    REQUIRE(verifier);
    const auto style =
        GENERATE(meetingbaas::signature_header_style::svix, meetingbaas::signature_header_style::webhook);
    const std::string body =
        GENERATE(as<std::string>{}, "", "{}", std::string(70'000, 'x'), std::string("\0\xff\nbinary", 9));
    const std::int64_t ts = 1'800'000'000;
    const auto signed_headers = signer->sign("msg_round_trip", ts, body, style);
    REQUIRE(signed_headers);
    const auto headers = signed_headers->to_headers();
    CHECK(headers.find(style == meetingbaas::signature_header_style::svix ? "svix-id" : "webhook-id") ==
          "msg_round_trip");
    const auto ok = verifier->verify_at(headers, body, ts);
    REQUIRE(ok);
    CHECK(ok->delivery_id() == "msg_round_trip");
    CHECK(ok->timestamp() == ts);
    CHECK_FALSE(verifier->verify_at(headers, body + " ", ts));
    const auto other = svix_signer::from_secret(hmac_cases::rotation_old_secret);
    REQUIRE(other);
    const auto forged = other->sign("msg_round_trip", ts, body, style);
    REQUIRE(forged);
    CHECK(verifier->verify_at(forged->to_headers(), body, ts).error().reason ==
          meetingbaas::auth_failure::signature_mismatch);
}

TEST_CASE("svix_signer::sign_now uses the clock's Unix time", "[signer]")
{
    const auto v = hmac_cases::project_vector();
    const auto signer = svix_signer::from_secret(v.secret);
    REQUIRE(signer);
    const fixed_clock clock{std::chrono::sys_seconds(std::chrono::seconds(hmac_cases::ts_of(v)))};
    const auto h = signer->sign_now(v.id, v.body, meetingbaas::signature_header_style::svix, clock);
    REQUIRE(h);
    CHECK(h->timestamp == v.timestamp);
    CHECK(h->signature == v.signature);
    const auto now = signer->sign_now("msg_now", "{}");
    REQUIRE(now);
    const auto verifier = svix_verifier::from_secrets({v.secret});
    REQUIRE(verifier);
    CHECK(verifier->verify(now->to_headers(), "{}"));  // the system clock on both sides
}

TEST_CASE("svix_signer refuses what a verifier would refuse, without echoing the secret", "[signer]")
{
    for (const std::string_view bad :
         {"", "whsec_", "XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f", "whsec_not base64!", "whsec_c2hvcnQ="}) {
        CAPTURE(bad);
        const auto s = svix_signer::from_secret(bad);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == meetingbaas::errc::invalid_secret);
        CHECK(s.error().where == "whsec secret");
        if (bad.size() > 6) CHECK(meetingbaas::to_string(s.error()).find(bad.substr(6)) == std::string::npos);
    }
    const std::vector<std::string> secrets{hmac_cases::project_vector().secret, "whsec_nope"};
    const auto second_bad = svix_signer::from_secrets(secrets);
    REQUIRE_FALSE(second_bad);
    CHECK(second_bad.error().where == "whsec secret #1");
    CHECK_FALSE(svix_signer::from_secrets(std::vector<std::string>{}));

    const auto signer = svix_signer::from_secret(hmac_cases::project_vector().secret);
    REQUIRE(signer);
    const std::string too_long(257, 'm');
    for (const std::string_view id : {std::string_view(""), std::string_view("msg with space"),
                                      std::string_view("msg\n"), std::string_view(too_long)}) {
        const auto r = signer->sign(id, 1, "{}");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == meetingbaas::errc::invalid_argument);
    }
    CHECK(signer->sign("msg_ok", -1, "{}").error().code == meetingbaas::errc::invalid_argument);
    CHECK(signer->sign(std::string(256, 'm'), 0, "{}"));
}
