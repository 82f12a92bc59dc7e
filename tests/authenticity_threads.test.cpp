// SPDX-License-Identifier: MIT
// verify() is const and documented as safe to call concurrently on one verifier: exercise that under
// ThreadSanitizer for both HMAC backends (the OpenSSL one shares one EVP_MAC_CTX between threads and
// duplicates it per call).
#include "detail/hmac_cases.hpp"

#include <meetingbaas/adapters/openssl.hpp>
#include <meetingbaas/auth/authenticity.hpp>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

TEMPLATE_TEST_CASE("basic_svix_verifier verifies from several threads at once", "[authenticity]",
                   meetingbaas::builtin_hmac_sha256, meetingbaas::openssl_hmac_sha256)
{
    const auto vec = hmac_cases::project_vector();
    auto verifier = meetingbaas::basic_svix_verifier<TestType>::from_secrets(
        {hmac_cases::rotation_old_secret, vec.secret});
    REQUIRE(verifier.has_value());
    const auto good = hmac_cases::svix_headers(vec, vec.signature);
    const std::string tampered = vec.body + " ";
    std::atomic<int> accepted{0};
    std::atomic<int> rejected{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                if (verifier->verify_at(good, vec.body, hmac_cases::ts_of(vec))) ++accepted;
                if (!verifier->verify_at(good, tampered, hmac_cases::ts_of(vec))) ++rejected;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(accepted.load() == 800);
    CHECK(rejected.load() == 800);
}

TEST_CASE("api_key_keyring checks from several threads at once", "[authenticity]")
{
    auto ring = meetingbaas::api_key_keyring::from_keys({"key-one", "key-two"});
    REQUIRE(ring.has_value());
    const meetingbaas::http_headers two{{"x-meeting-baas-api-key", "key-two"}};
    std::atomic<int> matched_second{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                const auto r = ring->check(two);
                if (r && r->index == 1) ++matched_second;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(matched_second.load() == 2000);
}
