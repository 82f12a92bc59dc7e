// SPDX-License-Identifier: MIT
// Property tests: random policies, outcomes and timings (seeded, so failures reproduce) against the
// invariants the documentation promises.
#include <meetingbaas/retry/retrier.hpp>

#include "manual_clock.hpp"
#include "recording_sleeper.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <utility>

using namespace std::chrono_literals;
using meetingbaas::attempt_outcome;
using meetingbaas::splitmix64;
using meetingbaas::stop_reason;
using meetingbaas::test::manual_clock;
using std::chrono::milliseconds;

namespace {

std::int64_t pick(splitmix64& g, std::int64_t lo, std::int64_t hi)  // inclusive
{
    return lo + static_cast<std::int64_t>(g() % static_cast<std::uint64_t>(hi - lo + 1));
}

meetingbaas::jitter_policy random_jitter(splitmix64& g)
{
    switch (pick(g, 0, 4)) {
        case 0: return meetingbaas::no_jitter;
        case 1: return meetingbaas::full_jitter;
        case 2: return meetingbaas::equal_jitter;
        case 3: return meetingbaas::decorrelated_jitter;
        default: return meetingbaas::plus_minus(static_cast<double>(pick(g, 1, 100)) / 100.0);
    }
}

meetingbaas::retry_policy<> random_policy(splitmix64& g)
{
    meetingbaas::retry_policy<> p;
    p.backoff.initial = milliseconds(pick(g, 1, 2000));
    p.backoff.multiplier = 1.0 + static_cast<double>(pick(g, 0, 3000)) / 1000.0;
    p.backoff.maximum = p.backoff.initial + milliseconds(pick(g, 0, 60'000));
    p.jitter = random_jitter(g);
    p.stop = meetingbaas::stop_after_attempts(static_cast<std::uint32_t>(pick(g, 1, 30)));
    if (pick(g, 0, 1) == 1)
        p.stop = p.stop | meetingbaas::stop_after_elapsed(milliseconds(pick(g, 1, 120'000)));
    p.max_retry_after = milliseconds(pick(g, 0, 30'000));
    p.attempt_reserve = milliseconds(pick(g, 0, 500));
    return p;
}

attempt_outcome random_outcome(splitmix64& g)
{
    constexpr int statuses[] = {200, 204, 400, 404, 408, 425, 429, 500, 501, 502, 503, 504, 505};
    const auto k = pick(g, 0, 9);
    if (k == 0) return attempt_outcome::not_sent();
    if (k == 1) return attempt_outcome::maybe_sent();
    attempt_outcome o = attempt_outcome::http(statuses[pick(g, 0, 12)]);
    // Mostly failures, so that runs are long.
    if (pick(g, 0, 3) != 0) o.status = (pick(g, 0, 1) == 0) ? 503 : 500;
    if (pick(g, 0, 2) == 0) o.retry_after = milliseconds(pick(g, 0, 100'000));
    return o;
}

}  // namespace

/// One random operation driven through the step API, checking every invariant on the way; returns why
/// it stopped and how many retries it made.
std::pair<stop_reason, int> run_random_operation(std::uint64_t seed)
{
    splitmix64 g(seed);
    const auto policy = random_policy(g);
    REQUIRE_FALSE(policy.check());

    manual_clock clock;
    const auto start = clock.now();
    const bool has_deadline = pick(g, 0, 2) != 0;
    const auto deadline = start + milliseconds(pick(g, 1, 200'000));
    meetingbaas::retry_budget budget({.max_tokens = 20, .token_ratio = 0.5});
    meetingbaas::retrier r(policy, meetingbaas::retry_effects{
                                       .clock = clock, .random = splitmix64(seed * 7919), .budget = &budget});
    const auto idempotence =
        pick(g, 0, 4) == 0 ? meetingbaas::idempotence::non_idempotent : meetingbaas::idempotence::idempotent;
    r.start({.idempotence = idempotence, .deadline = has_deadline ? std::optional(deadline) : std::nullopt});

    const auto cap = std::max(policy.backoff.maximum, policy.max_retry_after);
    int retries = 0;
    for (int step = 0; step < 100; ++step) {
        const auto permit = r.begin_attempt();
        if (!permit) {
            CHECK((permit.reason == stop_reason::deadline_exceeded ||
                   permit.reason == stop_reason::elapsed_exhausted));
            return {permit.reason, retries};
        }
        // The attempt starts strictly before the deadline, with room for its reserve.
        if (has_deadline) REQUIRE(clock.now() + policy.attempt_reserve < deadline);
        if (policy.stop.max_elapsed != milliseconds::max()) {
            REQUIRE(meetingbaas::detail::saturating_ms(clock.now() - start) + policy.attempt_reserve <
                    policy.stop.max_elapsed);
        }
        REQUIRE(permit.attempt <= policy.stop.max_attempts);
        clock.advance(milliseconds(pick(g, 0, 300)));  // the attempt's own duration
        const attempt_outcome o = random_outcome(g);
        const auto d = r.next(o);
        REQUIRE(budget.tokens() >= 0.0);
        REQUIRE(budget.tokens() <= 20.0);
        if (!d) {
            CHECK(d.reason != stop_reason::none);
            return {d.reason, retries};
        }
        REQUIRE(d.delay >= 0ms);
        REQUIRE(d.delay <= cap);
        if (d.source == meetingbaas::delay_source::backoff) REQUIRE(d.delay <= policy.backoff.maximum);
        if (o.retry_after) REQUIRE(d.delay >= std::min(*o.retry_after, policy.max_retry_after));
        if (idempotence == meetingbaas::idempotence::non_idempotent)
            REQUIRE(meetingbaas::proves_not_applied(o));
        if (has_deadline) REQUIRE(clock.now() + d.delay + policy.attempt_reserve < deadline);
        if (policy.stop.max_elapsed != milliseconds::max()) {
            REQUIRE(meetingbaas::detail::saturating_ms(clock.now() - start) + d.delay +
                        policy.attempt_reserve <
                    policy.stop.max_elapsed);
        }
        ++retries;
        clock.advance(d.delay);
    }
    return {stop_reason::none, retries};
}

TEST_CASE("property: retry delays respect bounds, caps, pushback floors and the deadline", "[retry]")
{
    const auto seed = GENERATE(range<std::uint64_t>(0, 300));
    CAPTURE(seed);
    (void)run_random_operation(seed);
}

TEST_CASE("property: the random operations reach every stop reason", "[retry]")
{
    // Guards against a vacuous property test: the generated operations must exercise retries and
    // every way of stopping.
    std::map<stop_reason, int> reasons;
    int retries = 0;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        const auto [reason, n] = run_random_operation(seed);
        ++reasons[reason];
        retries += n;
    }
    CHECK(retries > 600);  // 937 with these seeds
    for (const stop_reason r :
         {stop_reason::succeeded, stop_reason::permanent_failure, stop_reason::not_idempotent,
          stop_reason::attempts_exhausted, stop_reason::elapsed_exhausted, stop_reason::deadline_exceeded,
          stop_reason::budget_exhausted}) {
        CAPTURE(meetingbaas::to_string(r));
        CHECK(reasons[r] > 0);
    }
}

TEST_CASE("property: jittered backoff stays within [0, cap] at any retry number", "[backoff]")
{
    const auto seed = GENERATE(range<std::uint64_t>(0, 200));
    CAPTURE(seed);
    splitmix64 g(seed);
    const auto policy = random_policy(g);
    milliseconds previous = 0ms;
    for (int i = 0; i < 200; ++i) {
        const auto n = static_cast<std::uint32_t>(i < 100 ? i : pick(g, 0, 4'000'000'000));
        const auto computed = policy.backoff.delay(n);
        REQUIRE(computed >= policy.backoff.initial);
        REQUIRE(computed <= policy.backoff.maximum);
        REQUIRE(policy.backoff.delay(n + (n < 4'000'000'000U ? 1 : 0)) >= computed);  // monotone
        const auto d =
            policy.jitter.apply(computed, policy.backoff.base(), policy.backoff.cap(), previous, g);
        REQUIRE(d >= 0ms);
        REQUIRE(d <= policy.backoff.maximum);
        if (policy.jitter.kind == meetingbaas::jitter_kind::equal) REQUIRE(d >= computed / 2);
        if (policy.jitter.kind == meetingbaas::jitter_kind::decorrelated)
            REQUIRE(d >= policy.backoff.initial);
        previous = d;
    }
}

TEST_CASE("property: the same seed gives the same delays", "[retry]")
{
    const auto seed = GENERATE(range<std::uint64_t>(0, 20));
    splitmix64 g(seed);
    const auto policy = random_policy(g);
    auto run = [&] {
        manual_clock clock;
        meetingbaas::test::recording_sleeper sleeper(clock);
        (void)meetingbaas::retry(
            policy, [] { return attempt_outcome::http(503); }, {},
            meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper, .random = splitmix64(seed)});
        return sleeper.delays();
    };
    CHECK(run() == run());
}
