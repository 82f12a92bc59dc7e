// SPDX-License-Identifier: MIT
#include <meetingbaas/retry/budget.hpp>
#include <meetingbaas/retry/retrier.hpp>

#include "manual_clock.hpp"
#include "recording_sleeper.hpp"

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas::attempt_outcome;
using meetingbaas::stop_reason;

TEST_CASE("retry_budget follows gRPC retryThrottling arithmetic", "[retry_budget]")
{
    meetingbaas::retry_budget b({.max_tokens = 10, .token_ratio = 0.1});
    CHECK(b.tokens() == 10.0);
    CHECK(b.allow_retry());
    for (int i = 0; i < 4; ++i) b.on_failure();
    CHECK(b.tokens() == 6.0);
    CHECK(b.allow_retry());
    b.on_failure();
    CHECK(b.tokens() == 5.0);
    CHECK_FALSE(b.allow_retry());  // at max/2 retries are throttled
    b.on_success();
    CHECK(b.tokens() == 5.1);
    CHECK(b.allow_retry());
    for (int i = 0; i < 100; ++i) b.on_success();
    CHECK(b.tokens() == 10.0);  // never above max
    for (int i = 0; i < 100; ++i) b.on_failure();
    CHECK(b.tokens() == 0.0);  // never below zero
}

TEST_CASE("retry_budget denial is a distinct stop reason", "[retry_budget]")
{
    meetingbaas::test::manual_clock clock;
    meetingbaas::test::recording_sleeper sleeper(clock);
    meetingbaas::retry_budget budget({.max_tokens = 4, .token_ratio = 0.5});
    constexpr auto policy = meetingbaas::checked(
        meetingbaas::retry_policy<>{.backoff = {.initial = 10ms, .multiplier = 2, .maximum = 1s},
                                    .jitter = meetingbaas::no_jitter,
                                    .stop = meetingbaas::stop_after_attempts(10)});
    const auto r = meetingbaas::retry(
        policy, [] { return attempt_outcome::http(503); }, {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper, .budget = &budget});
    // tokens 4 -> 3 (retry), 3 -> 2 (2 is max/2: denied)
    CHECK(r.attempts == 2);
    CHECK(r.decision.reason == stop_reason::budget_exhausted);
    CHECK(r.decision.source == meetingbaas::delay_source::budget);
    CHECK(meetingbaas::to_errc(r.decision.reason) == meetingbaas::errc::budget_exhausted);
}

TEST_CASE("retry_budget is safe to share between threads", "[retry_budget]")
{
    meetingbaas::retry_budget b({.max_tokens = 100, .token_ratio = 0.25});
    std::atomic<bool> go{false};
    std::atomic<int> negative_seen{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            for (int i = 0; i < 20'000; ++i) {
                if ((i + t) % 3 == 0)
                    b.on_success();
                else
                    b.on_failure();
                const double tokens = b.tokens();
                if (tokens < 0.0 || tokens > 100.0) negative_seen.fetch_add(1);
                (void)b.allow_retry();
            }
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    CHECK(negative_seen.load() == 0);
    CHECK(b.tokens() >= 0.0);
    CHECK(b.tokens() <= 100.0);
}

TEST_CASE("a shared retry_budget stops a retry storm during an outage", "[retry_budget]")
{
    // 1,000 calls during a full outage (every attempt fails), 5 attempts each. Without a budget the
    // backend receives 5,000 attempts; with one shared budget it receives barely more than 1,000.
    constexpr auto policy = meetingbaas::checked(
        meetingbaas::retry_policy<>{.backoff = {.initial = 10ms, .multiplier = 2, .maximum = 1s},
                                    .stop = meetingbaas::stop_after_attempts(5)});
    auto run = [&](meetingbaas::retry_budget* budget) {
        meetingbaas::test::manual_clock clock;
        meetingbaas::test::recording_sleeper sleeper(clock);
        int attempts = 0;
        int budget_stops = 0;
        for (int call = 0; call < 1000; ++call) {
            const auto r = meetingbaas::retry(
                policy,
                [&] {
                    ++attempts;
                    return attempt_outcome::http(503);
                },
                {},
                meetingbaas::retry_effects{.clock = clock,
                                           .sleeper = sleeper,
                                           .random =
                                               meetingbaas::splitmix64(static_cast<std::uint64_t>(call)),
                                           .budget = budget});
            if (r.decision.reason == stop_reason::budget_exhausted) ++budget_stops;
        }
        return std::pair{attempts, budget_stops};
    };
    const auto [unbudgeted, none] = run(nullptr);
    meetingbaas::retry_budget budget(meetingbaas::meetingbaas_budget_config);
    const auto [budgeted, denied] = run(&budget);
    CHECK(unbudgeted == 5000);
    CHECK(none == 0);
    CHECK(budgeted <= 1010);  // 1,000 first attempts + the 5 retries the initial half-bucket allows
    CHECK(denied >= 995);
    CHECK(budget.tokens() >= 0.0);
}
