// SPDX-License-Identifier: MIT
#include "detail/hmac_cases.hpp"

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/detail/base64.hpp>
#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/auth/signer.hpp>
#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/headers.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas::api_key_keyring;
using meetingbaas::api_version;
using meetingbaas::auth_failure;
using meetingbaas::callback_secret_keyring;
using meetingbaas::http_headers;
using meetingbaas::svix_options;
using meetingbaas::svix_verifier;
using meetingbaas::verification_error;
using meetingbaas::verified_body;

namespace {

constexpr std::string_view key_a = "mb_live_key_AAAAAAAAAAAAAAAAAAAAAAAAAAAA";
constexpr std::string_view key_b = "mb_live_key_BBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/// A clock the test controls: now() returns whatever it was set to.
struct fixed_clock {
    using duration = std::chrono::seconds;
    using time_point = std::chrono::sys_seconds;
    time_point t{};
    time_point now() const noexcept { return t; }
};

std::string sign(std::string_view secret, std::string_view id, std::string_view ts, std::string_view body)
{
    const auto signer = meetingbaas::svix_signer::from_secret(secret);
    REQUIRE(signer);
    const auto sig = signer->signature(id, std::stoll(std::string(ts)), body);
    REQUIRE(sig);
    return *sig;
}

svix_verifier project_verifier(svix_options options = {})
{
    auto v = svix_verifier::from_secrets({hmac_cases::project_vector().secret}, options);
    REQUIRE(v.has_value());
    return std::move(*v);
}

/// Headers of the project vector with one header replaced (or removed when value is nullopt).
http_headers project_headers_with(std::string_view name, std::optional<std::string> value)
{
    auto h = hmac_cases::svix_headers(hmac_cases::project_vector(), hmac_cases::project_vector().signature);
    h.erase(name);
    if (value) h.add(std::string(name), *value);
    return h;
}

verification_error failure_of(const meetingbaas::result<verified_body, verification_error>& r)
{
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// --- v1 keyring ---------------------------------------------------------------------------------------

TEST_CASE("api_key_keyring accepts any configured key and says which one matched", "[authenticity]")
{
    api_key_keyring ring;
    REQUIRE(ring.add(key_a, "2026-q2").has_value());
    REQUIRE(ring.add(key_b, "2026-q3").has_value());
    CHECK(ring.size() == 2);

    const auto a = ring.check(http_headers{{"X-Meeting-Baas-Api-Key", std::string(key_a)}});
    REQUIRE(a.has_value());
    CHECK(a->index == 0);
    CHECK(a->label == "2026-q2");
    const auto b = ring.check(http_headers{{"x-meeting-baas-api-key", std::string(key_b)}});
    REQUIRE(b.has_value());
    CHECK(b->index == 1);
    CHECK(b->label == "2026-q3");
    // Surrounding optional whitespace is not part of the value (RFC 9110).
    // (Built by appending: `" " + std::string` trips GCC 12's -Wrestrict at -O3, a false positive in
    // libstdc++'s operator+(const char*, string&&), GCC bug 105651.)
    std::string padded(" ");
    padded.append(key_b).append("\t");
    CHECK(ring.check(http_headers{{"x-meeting-baas-api-key", padded}}).has_value());
}

TEST_CASE("api_key_keyring tells a missing key from a wrong key", "[authenticity]")
{
    auto ring = api_key_keyring::from_keys({key_a});
    REQUIRE(ring.has_value());
    const auto missing = ring->check(http_headers{{"content-type", "application/json"}});
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error() == verification_error{auth_failure::missing_header, "x-meeting-baas-api-key"});

    const auto wrong = ring->check(http_headers{{"x-meeting-baas-api-key", std::string(key_b)}});
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error() == verification_error{auth_failure::key_mismatch, "x-meeting-baas-api-key"});

    // Prefixes, extensions and case changes of the key are wrong keys too.
    for (const std::string& candidate :
         {std::string(key_a.substr(0, key_a.size() - 1)), std::string(key_a) + "A",
          std::string("MB_LIVE_KEY_AAAAAAAAAAAAAAAAAAAAAAAAAAAA")}) {
        const auto r = ring->check(http_headers{{"x-meeting-baas-api-key", candidate}});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().reason == auth_failure::key_mismatch);
    }
    const auto empty = ring->check(http_headers{{"x-meeting-baas-api-key", "  "}});
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error().reason == auth_failure::malformed_header);
    const auto huge = ring->check(http_headers{{"x-meeting-baas-api-key", std::string(100'000, 'k')}});
    REQUIRE_FALSE(huge.has_value());
    CHECK(huge.error().reason == auth_failure::header_too_large);
}

TEST_CASE("api_key_keyring without keys rejects everything as not_configured", "[authenticity]")
{
    const api_key_keyring ring;
    const auto r = ring.check(http_headers{{"x-meeting-baas-api-key", std::string(key_a)}});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason == auth_failure::not_configured);
}

TEST_CASE("api_key_keyring refuses unusable keys at configuration time without echoing them",
          "[authenticity]")
{
    api_key_keyring ring;
    const auto bad = GENERATE(as<std::string>{}, "", " k3y-1ead", "k3y-tra1l ", "ctl\x01key",
                              std::string(2000, 'k'), std::string("nul\0key", 7));
    const auto r = ring.add(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == meetingbaas::errc::invalid_secret);
    CHECK(r.error().where == "x-meeting-baas-api-key");
    if (bad.size() > 3) CHECK(meetingbaas::to_string(r.error()).find(bad) == std::string::npos);
    CHECK(ring.empty());
}

TEST_CASE("api_key_keyring never puts a key into an error or its text", "[authenticity]")
{
    auto ring = api_key_keyring::from_keys({key_a});
    REQUIRE(ring.has_value());
    const std::string presented = "presented_secret_value_123";
    const auto r = ring->check(http_headers{{"x-meeting-baas-api-key", presented}});
    REQUIRE_FALSE(r.has_value());
    const std::string text = meetingbaas::to_string(r.error());
    const auto as_error = meetingbaas::to_error(r.error());
    for (const std::string_view secret : {std::string_view(presented), key_a}) {
        CHECK(text.find(secret) == std::string::npos);
        CHECK(as_error.message.find(secret) == std::string::npos);
        CHECK(as_error.where.find(secret) == std::string::npos);
    }
    CHECK(text == "key_mismatch (x-meeting-baas-api-key)");
    CHECK(as_error.code == meetingbaas::errc::unauthenticated);
}

TEST_CASE("api_key_keyring verify yields a v1 verified_body over the raw bytes", "[authenticity]")
{
    auto ring = api_key_keyring::from_keys({key_a, key_b});
    REQUIRE(ring.has_value());
    const std::string body = R"({"event":"complete","data":{}})";
    const auto v = ring->verify(http_headers{{"x-meeting-baas-api-key", std::string(key_b)}}, body);
    REQUIRE(v.has_value());
    CHECK(v->bytes().data() == body.data());  // the caller's buffer, not a copy
    CHECK(v->version() == api_version::v1);
    CHECK(v->method() == meetingbaas::auth_method::api_key);
    CHECK(v->key_index() == 1);
    CHECK(v->delivery_id().empty());
    CHECK_FALSE(v->timestamp().has_value());
    ring->set_max_body_size(4);
    CHECK(failure_of(ring->verify(http_headers{{"x-meeting-baas-api-key", std::string(key_b)}}, body)) ==
          verification_error{auth_failure::body_too_large, {}});
}

TEST_CASE("callback_secret_keyring checks x-mb-secret", "[authenticity]")
{
    auto ring = callback_secret_keyring::from_keys({"cb-secret-1"});
    REQUIRE(ring.has_value());
    const auto ok = ring->verify(http_headers{{"X-MB-Secret", "cb-secret-1"}}, "{}");
    REQUIRE(ok.has_value());
    CHECK(ok->version() == api_version::v2);
    CHECK(ok->method() == meetingbaas::auth_method::callback_secret);
    CHECK(failure_of(ring->verify(http_headers{{"x-mb-secret", "cb-secret-2"}}, "{}")) ==
          verification_error{auth_failure::key_mismatch, "x-mb-secret"});
    CHECK(failure_of(ring->verify(http_headers{}, "{}")) ==
          verification_error{auth_failure::missing_header, "x-mb-secret"});
}

// --- v2 secrets ---------------------------------------------------------------------------------------

TEST_CASE("svix_verifier refuses malformed whsec_ secrets with invalid_secret", "[authenticity]")
{
    const auto bad = GENERATE(as<std::string>{},
                              "",                                         // empty
                              "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",         // no prefix
                              "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",   // wrong prefix case
                              "whsec_",                                   // nothing after the prefix
                              "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",    // length not a multiple of 4
                              "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w",   // URL-safe alphabet
                              "whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw",  // whitespace
                              "whsec_Zg==",                               // 1 byte: too short
                              "whsec_AAAAAAAAAAAAAAAAAAAAAh==",           // non-canonical padding bits
                              "whsec_" + std::string(5000, 'A'));         // enormous
    svix_verifier v;
    const auto r = v.add_secret(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == meetingbaas::errc::invalid_secret);
    CHECK(r.error().where == "whsec secret");
    if (bad.size() > 6) CHECK(meetingbaas::to_string(r.error()).find(bad.substr(6)) == std::string::npos);
    CHECK(v.empty());
}

TEST_CASE("svix_verifier from_secrets names the index of the bad secret", "[authenticity]")
{
    const auto r = svix_verifier::from_secrets({hmac_cases::project_vector().secret, "whsec_nope"});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == meetingbaas::errc::invalid_secret);
    CHECK(r.error().where == "whsec secret #1");
}

TEST_CASE("from_secrets and from_keys take secrets loaded from configuration (any range)", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    // A comma-separated setting, split into std::strings at run time.
    const std::string setting = std::string(hmac_cases::rotation_old_secret) + "," + std::string(vec.secret);
    std::vector<std::string> secrets;
    for (std::size_t begin = 0; begin <= setting.size();) {
        const std::size_t end = std::min(setting.find(',', begin), setting.size());
        secrets.push_back(setting.substr(begin, end - begin));
        begin = end + 1;
    }
    const auto v = svix_verifier::from_secrets(secrets);
    REQUIRE(v);
    CHECK(v->size() == 2);
    const auto h = hmac_cases::svix_headers(vec, vec.signature);
    const auto ok = v->verify_at(h, vec.body, hmac_cases::ts_of(vec));
    REQUIRE(ok);
    CHECK(ok->key_index() == 1);

    const std::array<const char*, 3> with_bad{vec.secret.c_str(), vec.secret.c_str(), "whsec_"};
    const auto bad = svix_verifier::from_secrets(std::span(with_bad));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().where == "whsec secret #2");

    const std::vector<std::string_view> keys{"key-one", "key two "};
    const auto ring = api_key_keyring::from_keys(keys);
    REQUIRE_FALSE(ring);
    CHECK(ring.error().code == meetingbaas::errc::invalid_secret);
    CHECK(ring.error().where == "x-meeting-baas-api-key #1");
    CHECK(meetingbaas::to_string(ring.error()).find("key two") == std::string::npos);
    REQUIRE(api_key_keyring::from_keys(std::vector<std::string>{"key-one", "key-two"}));
}

// --- v2 timestamps and the clock ----------------------------------------------------------------------

TEST_CASE("svix_verifier accepts exactly the tolerance and rejects one second more", "[authenticity]")
{
    const auto v = project_verifier();
    const auto vec = hmac_cases::project_vector();
    const auto h = hmac_cases::svix_headers(vec, vec.signature);
    const std::int64_t ts = hmac_cases::ts_of(vec);
    CHECK(v.verify_at(h, vec.body, ts + 300).has_value());
    CHECK(v.verify_at(h, vec.body, ts - 300).has_value());
    CHECK(failure_of(v.verify_at(h, vec.body, ts + 301)) ==
          verification_error{auth_failure::timestamp_too_old, "svix-timestamp"});
    CHECK(failure_of(v.verify_at(h, vec.body, ts - 301)) ==
          verification_error{auth_failure::timestamp_in_future, "svix-timestamp"});
    // Extreme clocks do not overflow.
    CHECK(failure_of(v.verify_at(h, vec.body, INT64_MIN)).reason == auth_failure::timestamp_in_future);
    CHECK(failure_of(v.verify_at(h, vec.body, INT64_MAX)).reason == auth_failure::timestamp_too_old);
}

TEST_CASE("svix_verifier applies past and future tolerances separately", "[authenticity]")
{
    svix_options o;
    o.past_tolerance = 3600s;
    o.future_tolerance = 10s;
    const auto v = project_verifier(o);
    const auto vec = hmac_cases::project_vector();
    const auto h = hmac_cases::svix_headers(vec, vec.signature);
    const std::int64_t ts = hmac_cases::ts_of(vec);
    CHECK(v.verify_at(h, vec.body, ts + 3600).has_value());
    CHECK(failure_of(v.verify_at(h, vec.body, ts + 3601)).reason == auth_failure::timestamp_too_old);
    CHECK(v.verify_at(h, vec.body, ts - 10).has_value());
    CHECK(failure_of(v.verify_at(h, vec.body, ts - 11)).reason == auth_failure::timestamp_in_future);
}

TEST_CASE("svix_verifier reads the time from an injected clock", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    const auto ts = std::chrono::sys_seconds(std::chrono::seconds(hmac_cases::ts_of(vec)));
    using verifier = meetingbaas::basic_svix_verifier<meetingbaas::builtin_hmac_sha256, fixed_clock>;
    auto v = verifier::from_secrets({vec.secret}, {}, fixed_clock{ts + 60s});
    REQUIRE(v.has_value());
    const auto h = hmac_cases::svix_headers(vec, vec.signature);
    CHECK(v->verify(h, vec.body).has_value());
    auto late = verifier::from_secrets({vec.secret}, {}, fixed_clock{ts + 6min});
    REQUIRE(late.has_value());
    CHECK(failure_of(late->verify(h, vec.body)).reason == auth_failure::timestamp_too_old);
    auto early = verifier::from_secrets({vec.secret}, {}, fixed_clock{ts - 6min});
    REQUIRE(early.has_value());
    CHECK(failure_of(early->verify(h, vec.body)).reason == auth_failure::timestamp_in_future);
}

TEST_CASE("svix_verifier with the system clock rejects the years-old Svix documentation vector",
          "[authenticity]")
{
    const auto vec = hmac_cases::svix_docs_vector();
    auto v = svix_verifier::from_secrets({vec.secret});
    REQUIRE(v.has_value());
    CHECK(failure_of(v->verify(hmac_cases::svix_headers(vec, vec.signature), vec.body)).reason ==
          auth_failure::timestamp_too_old);
}

TEST_CASE("svix_verifier signs fresh deliveries with the current time", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::string ts = std::to_string(now);
    const http_headers h{{"svix-id", "msg_fresh"},
                         {"svix-timestamp", ts},
                         {"svix-signature", sign(vec.secret, "msg_fresh", ts, "{}")}};
    const auto v = project_verifier();
    const auto r = v.verify(h, "{}");
    REQUIRE(r.has_value());
    CHECK(r->timestamp() == now);
}

// --- v2 bad input ---------------------------------------------------------------------------------------

TEST_CASE("svix_verifier reports every missing header by name, for both header families", "[authenticity]")
{
    const auto v = project_verifier();
    const auto vec = hmac_cases::project_vector();
    const std::int64_t ts = hmac_cases::ts_of(vec);
    for (const std::string_view name : {"svix-id", "svix-timestamp", "svix-signature"}) {
        CHECK(failure_of(v.verify_at(project_headers_with(name, std::nullopt), vec.body, ts)) ==
              verification_error{auth_failure::missing_header, name});
    }
    const http_headers standard{{"webhook-id", vec.id}, {"webhook-signature", vec.signature}};
    CHECK(failure_of(v.verify_at(standard, vec.body, ts)) ==
          verification_error{auth_failure::missing_header, "webhook-timestamp"});
    CHECK(failure_of(v.verify_at(http_headers{}, vec.body, ts)) ==
          verification_error{auth_failure::missing_header, "webhook-id"});
}

TEST_CASE("svix_verifier gives a reason for every malformed header value", "[authenticity]")
{
    struct bad_case {
        std::string_view header;
        std::string value;
        auth_failure reason;
    };
    const std::string good_sig = hmac_cases::project_vector().signature;
    const std::string good_b64 = good_sig.substr(3);
    const auto c = GENERATE_COPY(
        bad_case{"svix-id", "", auth_failure::malformed_header},
        bad_case{"svix-id", "msg with space", auth_failure::malformed_header},
        bad_case{"svix-id", "msg\x01", auth_failure::malformed_header},
        bad_case{"svix-id", std::string(10'000, 'i'), auth_failure::header_too_large},
        bad_case{"svix-timestamp", "", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", "abc", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", "1789571529.5", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", "-1789571529", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", "+1789571529", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", "0x6AAA", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", "1789571529 1", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", "9223372036854775808", auth_failure::invalid_timestamp},  // INT64_MAX + 1
        bad_case{"svix-timestamp", "99999999999999999999", auth_failure::invalid_timestamp},
        bad_case{"svix-timestamp", std::string(100, '1'), auth_failure::header_too_large},
        bad_case{"svix-timestamp", "9223372036854775807", auth_failure::timestamp_in_future},
        bad_case{"svix-timestamp", "0", auth_failure::timestamp_too_old},
        bad_case{"svix-signature", "", auth_failure::malformed_header},
        bad_case{"svix-signature", "    ", auth_failure::malformed_header},
        bad_case{"svix-signature", "v1,", auth_failure::malformed_header},
        bad_case{"svix-signature", "v1", auth_failure::malformed_header},  // a v1 entry without its signature
        bad_case{"svix-signature", "v1,not-base64!", auth_failure::malformed_header},
        bad_case{"svix-signature", "v1," + good_b64.substr(0, 40), auth_failure::malformed_header},  // short
        bad_case{"svix-signature", "v1," + good_b64 + "AAAA", auth_failure::malformed_header},       // long
        bad_case{"svix-signature", "v1," + meetingbaas::detail::base64_encode("short"),
                 auth_failure::malformed_header},
        bad_case{"svix-signature", "v1a," + good_b64, auth_failure::no_supported_signature},
        bad_case{"svix-signature", "v2," + good_b64, auth_failure::no_supported_signature},
        bad_case{"svix-signature", "V1," + good_b64, auth_failure::no_supported_signature},
        bad_case{"svix-signature", good_b64, auth_failure::no_supported_signature},
        bad_case{"svix-signature", "v1,\x7f" + good_b64.substr(1), auth_failure::malformed_header},
        bad_case{"svix-signature", "v1," + good_b64 + "\n", auth_failure::malformed_header},
        bad_case{"svix-signature", std::string(5000, 'v'), auth_failure::header_too_large},
        bad_case{"svix-signature",
                 "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", auth_failure::signature_mismatch});
    INFO(c.header << " = " << c.value.substr(0, 60));
    const auto v = project_verifier();
    const auto vec = hmac_cases::project_vector();
    const auto r = v.verify_at(project_headers_with(c.header, c.value), vec.body, hmac_cases::ts_of(vec));
    CHECK(failure_of(r) == verification_error{c.reason, c.header});
}

TEST_CASE("svix_verifier ignores other versions and malformed entries next to a good v1", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    const auto v = project_verifier();
    const std::string sig = "v1a,AAAA v2,zzz   v1,bm90LWEtc2ln garbage v1,!!!! " + vec.signature +
                            " v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const auto r = v.verify_at(project_headers_with("svix-signature", sig), vec.body, hmac_cases::ts_of(vec));
    CHECK(r.has_value());
}

TEST_CASE("svix_verifier caps the number of signature entries", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    const std::string filler = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    svix_options o;
    o.max_signature_header_size = 1 << 20;
    const auto v = project_verifier(o);
    // 63 wrong entries + the right one = 64 entries: accepted.
    std::string sig;
    for (int i = 0; i < 63; ++i) sig += filler + " ";
    sig += vec.signature;
    CHECK(v.verify_at(project_headers_with("svix-signature", sig), vec.body, hmac_cases::ts_of(vec))
              .has_value());
    // 65 entries: too many, whatever they contain.
    sig = filler + " " + sig;
    CHECK(failure_of(
              v.verify_at(project_headers_with("svix-signature", sig), vec.body, hmac_cases::ts_of(vec))) ==
          verification_error{auth_failure::too_many_signatures, "svix-signature"});
    // Hundreds of entries under the default options: the header size cap fires first.
    std::string hundreds;
    for (int i = 0; i < 500; ++i) hundreds += "v1,x ";
    CHECK(failure_of(project_verifier().verify_at(project_headers_with("svix-signature", hundreds), vec.body,
                                                  hmac_cases::ts_of(vec)))
              .reason == auth_failure::too_many_signatures);
    std::string long_hundreds;
    for (int i = 0; i < 300; ++i) long_hundreds += filler + " ";
    CHECK(failure_of(project_verifier().verify_at(project_headers_with("svix-signature", long_hundreds),
                                                  vec.body, hmac_cases::ts_of(vec)))
              .reason == auth_failure::header_too_large);
}

TEST_CASE("svix_verifier rejects a body over the cap before hashing it", "[authenticity]")
{
    svix_options o;
    o.max_body_size = 10;
    const auto v = project_verifier(o);
    const auto vec = hmac_cases::project_vector();
    CHECK(failure_of(
              v.verify_at(hmac_cases::svix_headers(vec, vec.signature), vec.body, hmac_cases::ts_of(vec))) ==
          verification_error{auth_failure::body_too_large, {}});
    CHECK(meetingbaas::to_error(verification_error{auth_failure::body_too_large, {}}).code ==
          meetingbaas::errc::too_large);
}

TEST_CASE("svix_verifier handles an empty body given as a null string_view", "[authenticity]")
{
    // Found by fuzzing: an empty std::string_view has a null data pointer, which must never reach memcpy.
    const auto vec = hmac_cases::project_vector();
    const http_headers h{{"svix-id", vec.id},
                         {"svix-timestamp", vec.timestamp},
                         {"svix-signature", sign(vec.secret, vec.id, vec.timestamp, "")}};
    const auto r = project_verifier().verify_at(h, std::string_view{}, hmac_cases::ts_of(vec));
    REQUIRE(r.has_value());
    CHECK(r->bytes().empty());
}

TEST_CASE("svix_verifier without secrets answers not_configured", "[authenticity]")
{
    const svix_verifier v;
    const auto vec = hmac_cases::project_vector();
    CHECK(failure_of(
              v.verify_at(hmac_cases::svix_headers(vec, vec.signature), vec.body, hmac_cases::ts_of(vec)))
              .reason == auth_failure::not_configured);
}

TEST_CASE("svix_verifier uses the svix- family when any svix- header is present", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    const auto v = project_verifier();
    // svix-id present, the rest only as webhook-*: the svix family is chosen and is incomplete.
    const http_headers mixed{
        {"svix-id", vec.id}, {"webhook-timestamp", vec.timestamp}, {"webhook-signature", vec.signature}};
    CHECK(failure_of(v.verify_at(mixed, vec.body, hmac_cases::ts_of(vec))) ==
          verification_error{auth_failure::missing_header, "svix-timestamp"});
}

// --- raw bytes first ------------------------------------------------------------------------------------

TEST_CASE("svix_verifier verifies the raw bytes, so a re-serialised body fails", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    const auto v = project_verifier();
    const auto h = hmac_cases::svix_headers(vec, vec.signature);
    // The fixture file holds the same JSON document, pretty-printed: semantically equal, different bytes.
    const std::string pretty = read_file(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/v2.bot.failed.json");
    REQUIRE(pretty != vec.body);
    REQUIRE(pretty.find("BOT_NOT_ACCEPTED") != std::string::npos);
    CHECK(failure_of(v.verify_at(h, pretty, hmac_cases::ts_of(vec))).reason ==
          auth_failure::signature_mismatch);
    // Even a trailing newline breaks it.
    CHECK(failure_of(v.verify_at(h, vec.body + "\n", hmac_cases::ts_of(vec))).reason ==
          auth_failure::signature_mismatch);
    // The exact bytes pass, and the verified_body refers to them, not to a copy.
    const auto ok = v.verify_at(h, vec.body, hmac_cases::ts_of(vec));
    REQUIRE(ok.has_value());
    CHECK(ok->bytes().data() == vec.body.data());
}

TEST_CASE("verified_body trust_unverified is explicit and marked unverified", "[authenticity]")
{
    constexpr auto body = verified_body::trust_unverified(R"({"event":"x"})", api_version::v2, "msg_test");
    static_assert(!body.is_verified());
    static_assert(body.method() == meetingbaas::auth_method::unverified);
    CHECK(body.bytes() == R"({"event":"x"})");
    CHECK(body.delivery_id() == "msg_test");
    CHECK(body.version() == api_version::v2);
    static_assert(!std::is_default_constructible_v<verified_body>);
    static_assert(!std::is_constructible_v<verified_body, std::string_view>);
}

TEST_CASE("verified_body to_owned survives the request buffers", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    std::optional<meetingbaas::owned_verified_body> kept;
    {
        std::string body = vec.body;
        auto h = hmac_cases::svix_headers(vec, vec.signature);
        const auto ok = project_verifier().verify_at(h, body, hmac_cases::ts_of(vec));
        REQUIRE(ok.has_value());
        kept.emplace(ok->to_owned());
        body.assign(body.size(), 'x');
        h.clear();
    }
    CHECK(kept->bytes() == vec.body);
    CHECK(kept->delivery_id() == vec.id);
    CHECK(kept->is_verified());
    CHECK(kept->view().timestamp() == hmac_cases::ts_of(vec));
    CHECK(kept->view().method() == meetingbaas::auth_method::svix_signature);
}

// --- dispatch -------------------------------------------------------------------------------------------

TEST_CASE("detect_api_version classifies deliveries by their headers", "[authenticity]")
{
    using meetingbaas::detect_api_version;
    CHECK(detect_api_version(http_headers{{"X-Meeting-Baas-Api-Key", "k"}}) == api_version::v1);
    CHECK(detect_api_version(http_headers{{"svix-id", "m"}}) == api_version::v2);
    CHECK(detect_api_version(http_headers{{"Webhook-Signature", "v1,x"}}) == api_version::v2);
    CHECK(detect_api_version(http_headers{{"x-mb-secret", "s"}}) == api_version::v2);
    CHECK(detect_api_version(http_headers{{"svix-signature", "v1,x"}, {"x-meeting-baas-api-key", "k"}}) ==
          api_version::v2);
    CHECK(detect_api_version(http_headers{{"content-type", "application/json"}}) == api_version::unknown);
    CHECK(detect_api_version(http_headers{}) == api_version::unknown);
    CHECK(meetingbaas::to_string(api_version::v1) == "v1");
    CHECK(meetingbaas::to_string(api_version::v2) == "v2");
    CHECK(meetingbaas::to_string(api_version::unknown) == "unknown");
}

TEST_CASE("webhook_verifier routes each delivery to its check", "[authenticity]")
{
    const auto vec = hmac_cases::project_vector();
    meetingbaas::webhook_verifier wv;
    CHECK(failure_of(wv.verify(http_headers{{"x-meeting-baas-api-key", std::string(key_a)}}, "{}")) ==
          verification_error{auth_failure::not_configured, "x-meeting-baas-api-key"});
    wv.accept_v1(*api_key_keyring::from_keys({key_a}))
        .accept_v2(project_verifier())
        .accept_callbacks(*callback_secret_keyring::from_keys({"cb"}));

    const auto v1 = wv.verify(http_headers{{"x-meeting-baas-api-key", std::string(key_a)}}, "{}");
    REQUIRE(v1.has_value());
    CHECK(v1->version() == api_version::v1);

    const auto cb = wv.verify(http_headers{{"x-mb-secret", "cb"}}, "{}");
    REQUIRE(cb.has_value());
    CHECK(cb->method() == meetingbaas::auth_method::callback_secret);

    // A v2 delivery is judged by its signature even if it also carries an API key header.
    auto h = hmac_cases::svix_headers(vec, vec.signature);
    h.add("x-meeting-baas-api-key", std::string(key_a));
    CHECK(failure_of(wv.verify(h, vec.body)).reason == auth_failure::timestamp_too_old);  // system clock

    CHECK(failure_of(wv.verify(http_headers{{"content-type", "application/json"}}, "{}")) ==
          verification_error{auth_failure::missing_header, "svix-signature"});
}

TEST_CASE("auth_failure names and HTTP statuses cover every value", "[authenticity]")
{
    using meetingbaas::recommended_http_status;
    using meetingbaas::to_string;
    for (int i = static_cast<int>(auth_failure::missing_header);
         i <= static_cast<int>(auth_failure::backend_failure); ++i) {
        const auto f = static_cast<auth_failure>(i);
        CHECK(to_string(f) != "unknown");
        const int status = recommended_http_status(f);
        CHECK((status == 401 || status == 413 || status == 500));
    }
    CHECK(to_string(auth_failure::signature_mismatch) == "signature_mismatch");
    CHECK(recommended_http_status(auth_failure::signature_mismatch) == 401);
    CHECK(recommended_http_status(auth_failure::missing_header) == 401);
    CHECK(recommended_http_status(auth_failure::body_too_large) == 413);
    CHECK(recommended_http_status(auth_failure::backend_failure) == 500);
    CHECK(to_string(meetingbaas::auth_method::svix_signature) == "svix_signature");
}
