// SPDX-License-Identifier: MIT
#pragma once

// Test cases shared by every HMAC-SHA256 backend: tests/detail/hmac.test.cpp runs them against
// builtin_hmac_sha256 and tests/adapters/openssl.test.cpp against openssl_hmac_sha256, so both backends
// pass exactly the same checks.

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/core/detail/sha256.hpp>
#include <meetingbaas/core/headers.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hmac_cases {

inline std::vector<std::uint8_t> repeat(std::uint8_t byte, std::size_t n)
{
    return std::vector<std::uint8_t>(n, byte);
}

inline std::string as_string(const std::vector<std::uint8_t>& bytes)
{
    return std::string(bytes.begin(), bytes.end());
}

struct rfc4231_case {
    std::string name;
    std::vector<std::uint8_t> key;
    std::string data;
    std::string expected_hex;  // truncated to 128 bits in case 5
};

/// RFC 4231 section 4, test cases 1..7 (HMAC-SHA-256 column).
inline std::vector<rfc4231_case> rfc4231_cases()
{
    std::vector<std::uint8_t> key4;
    for (std::uint8_t b = 1; b <= 25; ++b) key4.push_back(b);
    return {
        {"1: 20-byte key", repeat(0x0b, 20), "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"2: key shorter than the output",
         {'J', 'e', 'f', 'e'},
         "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"3: combined length of key and data > 64", repeat(0xaa, 20), as_string(repeat(0xdd, 50)),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"4: 25-byte key, 0xcd data", key4, as_string(repeat(0xcd, 50)),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"5: truncation to 128 bits", repeat(0x0c, 20), "Test With Truncation",
         "a3b6167473100ee06e0c796c2955552b"},
        {"6: 131-byte key (hashed first)", repeat(0xaa, 131),
         "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"7: 131-byte key and data larger than a block", repeat(0xaa, 131),
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs "
         "to be "
         "hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
}

template <class Backend>
void check_rfc4231()
{
    const auto cases = rfc4231_cases();
    REQUIRE(cases.size() == 7);
    for (const auto& c : cases) {
        INFO("RFC 4231 test case " << c.name);
        const auto mac = meetingbaas::detail::hmac_sha256<Backend>(c.key, c.data);
        REQUIRE(mac.has_value());
        const std::string hex = meetingbaas::detail::to_hex(*mac);
        CHECK(hex.substr(0, c.expected_hex.size()) == c.expected_hex);
    }
}

/// Feeding the message in pieces of every size gives the one-shot MAC.
template <class Backend>
void check_incremental()
{
    std::string message;
    for (int i = 0; i < 300; ++i) message.push_back(static_cast<char>('a' + i % 26));
    const std::vector<std::uint8_t> key = repeat(0x42, 32);
    const auto one_shot = meetingbaas::detail::hmac_sha256<Backend>(key, message);
    REQUIRE(one_shot.has_value());
    auto prepared = Backend::make_key(key);
    REQUIRE(prepared.has_value());
    for (std::size_t piece = 1; piece <= 130; piece += 7) {
        typename Backend::context_type ctx(*prepared);
        for (std::size_t pos = 0; pos < message.size(); pos += piece) {
            const std::string_view part = std::string_view(message).substr(pos, piece);
            ctx.update(part.data(), part.size());
        }
        const auto mac = ctx.finish();
        REQUIRE(mac.has_value());
        CHECK(*mac == *one_shot);
    }
    // The prepared key is reusable: two contexts from one key give the same MAC.
    typename Backend::context_type a(*prepared);
    typename Backend::context_type b(*prepared);
    a.update(message.data(), message.size());
    b.update(message.data(), message.size());
    CHECK(a.finish() == b.finish());
}

struct svix_vector {
    std::string secret;
    std::string id;
    std::string timestamp;
    std::string body;
    std::string signature;
};

/// Spec section 9, vector 1 (Svix documentation).
inline svix_vector svix_docs_vector()
{
    return {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
            R"({"test": 2432232314})", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="};
}

/// Spec section 9, vector 2 (project vector over the compact v2.bot.failed payload).
inline svix_vector project_vector()
{
    return {
        "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f", "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA", "1789571529",
        R"({"event":"bot.failed","data":{"bot_id":"f0c3e290-8374-42fd-92d1-75ac8e695c3c","event_id":null,)"
        R"("error_message":"Bot was not accepted into the meeting","error_code":"BOT_NOT_ACCEPTED",)"
        R"("sent_at":"2026-09-16T15:12:09.331Z"},"extra":null})",
        "v1,HS4HPtA64JHC5LQ5pPqUxFvOGjqjvrqR5mo7OFXpD0k="};
}

inline constexpr std::string_view rotation_old_secret = "whsec_ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3";
inline constexpr std::string_view rotation_old_signature = "v1,MFrqHgtgkSbxKMLkf5YL7UEo68c3GELwMSJHdDE62MQ=";

inline meetingbaas::http_headers svix_headers(const svix_vector& v, std::string_view signature)
{
    return {{"svix-id", v.id}, {"svix-timestamp", v.timestamp}, {"svix-signature", std::string(signature)}};
}

inline std::int64_t ts_of(const svix_vector& v)
{
    return std::stoll(v.timestamp);
}

/// The Svix vectors of spec section 9, including the rotation vector, through the full verifier.
template <class Backend>
void check_svix_vectors()
{
    using verifier = meetingbaas::basic_svix_verifier<Backend>;
    using meetingbaas::auth_failure;

    for (const auto& v : {svix_docs_vector(), project_vector()}) {
        INFO("svix-id " << v.id);
        auto ver = verifier::from_secrets({v.secret});
        REQUIRE(ver.has_value());
        const auto headers = svix_headers(v, v.signature);
        const auto ok = ver->verify_at(headers, v.body, ts_of(v));
        REQUIRE(ok.has_value());
        CHECK(ok->bytes() == v.body);
        CHECK(ok->delivery_id() == v.id);
        CHECK(ok->timestamp() == ts_of(v));
        CHECK(ok->version() == meetingbaas::api_version::v2);
        CHECK(ok->method() == meetingbaas::auth_method::svix_signature);
        CHECK(ok->is_verified());

        // One byte changed anywhere in the signed content: mismatch.
        std::string tampered = v.body;
        tampered.back() = tampered.back() == '}' ? ' ' : '}';
        const auto bad = ver->verify_at(headers, tampered, ts_of(v));
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().reason == auth_failure::signature_mismatch);
        CHECK(bad.error().header == "svix-signature");

        // The same delivery under the Standard Webhooks header names.
        const meetingbaas::http_headers standard{
            {"webhook-id", v.id}, {"webhook-timestamp", v.timestamp}, {"webhook-signature", v.signature}};
        CHECK(ver->verify_at(standard, v.body, ts_of(v)).has_value());
    }

    // Rotation: the header carries both signatures, and either secret alone verifies it.
    const auto v = project_vector();
    std::string both(rotation_old_signature);  // appended, not string&& + " ": a GCC 12 -O3 false positive
    both += ' ';
    both += v.signature;
    const auto headers = svix_headers(v, both);
    auto with_new = verifier::from_secrets({v.secret});
    auto with_old = verifier::from_secrets({rotation_old_secret});
    auto with_both = verifier::from_secrets({rotation_old_secret, v.secret});
    REQUIRE(with_new.has_value());
    REQUIRE(with_old.has_value());
    REQUIRE(with_both.has_value());
    const auto by_new = with_new->verify_at(headers, v.body, ts_of(v));
    const auto by_old = with_old->verify_at(headers, v.body, ts_of(v));
    const auto by_both = with_both->verify_at(headers, v.body, ts_of(v));
    REQUIRE(by_new.has_value());
    REQUIRE(by_old.has_value());
    REQUIRE(by_both.has_value());
    CHECK(by_both->key_index() == 0);  // first configured secret that matches
    // The old signature alone verifies with the old secret only.
    const auto old_only = svix_headers(v, rotation_old_signature);
    CHECK(with_old->verify_at(old_only, v.body, ts_of(v)).has_value());
    const auto rejected = with_new->verify_at(old_only, v.body, ts_of(v));
    REQUIRE_FALSE(rejected.has_value());
    CHECK(rejected.error().reason == auth_failure::signature_mismatch);
    // The new signature alone, with both secrets configured: the new secret (index 1) matched.
    const auto new_only = svix_headers(v, v.signature);
    const auto by_second = with_both->verify_at(new_only, v.body, ts_of(v));
    REQUIRE(by_second.has_value());
    CHECK(by_second->key_index() == 1);
}

}  // namespace hmac_cases
