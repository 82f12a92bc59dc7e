// SPDX-License-Identifier: MIT
// Zero heap allocations per attempt, in the blocking and the step paths. This TU replaces the global
// operator new (counting_allocator.hpp) for the whole test executable.
#define MEETINGBAAS_TEST_COUNT_ALLOCATIONS
#include "counting_allocator.hpp"

#include <meetingbaas/retry/retrier.hpp>

#include "manual_clock.hpp"
#include "recording_sleeper.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

using namespace std::chrono_literals;
using meetingbaas::attempt_outcome;
using meetingbaas::test::allocation_scope;

namespace {
struct counting_hooks {
    std::size_t* events;
    void on_attempt(const meetingbaas::retry_event&) const { ++*events; }
    void on_retry(const meetingbaas::retry_event&) const { ++*events; }
    void on_give_up(const meetingbaas::retry_event&) const { ++*events; }
};
}  // namespace

TEST_CASE("the allocation counter sees heap allocations", "[retry]")
{
    const allocation_scope scope;
    auto p = std::make_unique<int>(3);
    const std::size_t seen = scope.count();
    CHECK(*p == 3);
    CHECK(seen == 1);
}

TEST_CASE("blocking retry performs no heap allocation", "[retry]")
{
    meetingbaas::test::manual_clock clock;
    meetingbaas::test::recording_sleeper sleeper(clock, 64);
    meetingbaas::retry_budget budget({.max_tokens = 100, .token_ratio = 0.1});
    std::size_t events = 0;
    constexpr auto policy = meetingbaas::checked(meetingbaas::retry_policy<>{
        .backoff = {.initial = 10ms, .multiplier = 1.5, .maximum = 1s},
        .jitter = meetingbaas::decorrelated_jitter,
        .stop = meetingbaas::stop_after_attempts(20) | meetingbaas::stop_after_elapsed(1h)});
    const meetingbaas::call_options<meetingbaas::test::manual_clock> call{.deadline = clock.now() + 1h};
    const meetingbaas::retry_effects effects{.clock = clock,
                                             .sleeper = sleeper,
                                             .random = meetingbaas::splitmix64(5),
                                             .hooks = counting_hooks{&events},
                                             .budget = &budget};
    int calls = 0;
    auto fn = [&] {
        ++calls;
        return calls < 20 ? attempt_outcome::http(429, 5ms, "FST_ERR_TOO_MANY_REQUESTS")
                          : attempt_outcome::http(200);
    };

    const allocation_scope scope;
    const auto r = meetingbaas::retry(policy, fn, call, effects);
    const std::size_t allocations = scope.count();

    CHECK(allocations == 0);
    CHECK(r.attempts == 20);
    CHECK(r.decision.reason == meetingbaas::stop_reason::succeeded);
    CHECK(events == 20 + 19);
}

TEST_CASE("blocking retry with default effects performs no heap allocation", "[retry]")
{
    // Real steady_clock, this_thread sleeper and a splitmix64 seeded from std::random_device.
    constexpr auto policy = meetingbaas::checked(meetingbaas::retry_policy<meetingbaas::constant_backoff>{
        .backoff = {.interval = 0ms},
        .jitter = meetingbaas::no_jitter,
        .stop = meetingbaas::stop_after_attempts(8)});
    int calls = 0;
    auto fn = [&] { return ++calls < 8 ? attempt_outcome::maybe_sent() : attempt_outcome::succeeded(); };

    const allocation_scope scope;
    const auto r = meetingbaas::retry(policy, fn);
    const std::size_t allocations = scope.count();

    CHECK(allocations == 0);
    CHECK(r.attempts == 8);
}

TEST_CASE("step API performs no heap allocation over 10,000 attempts", "[retry]")
{
    meetingbaas::test::manual_clock clock;
    meetingbaas::retry_budget budget({.max_tokens = 1000, .token_ratio = 1});
    constexpr auto policy = meetingbaas::checked(
        meetingbaas::retry_policy<>{.backoff = {.initial = 1ms, .multiplier = 2.0, .maximum = 10s},
                                    .jitter = meetingbaas::full_jitter,
                                    .stop = meetingbaas::stop_after_attempts(20'000)});
    meetingbaas::retrier r(
        policy,
        meetingbaas::retry_effects{.clock = clock, .random = meetingbaas::splitmix64(9), .budget = &budget});
    std::size_t retries = 0;

    const allocation_scope scope;
    r.start();
    for (int i = 0; i < 10'000; ++i) {
        if (!r.begin_attempt()) break;
        // Alternate a throttled failure and a success so that the budget refills.
        const auto d = r.next(i % 2 == 0 ? attempt_outcome::http(503, 3ms) : attempt_outcome::http(200));
        if (d) {
            ++retries;
            clock.advance(d.delay);
        } else {
            r.start();
        }
    }
    const std::size_t allocations = scope.count();

    CHECK(allocations == 0);
    CHECK(retries == 5'000);
}
