// SPDX-License-Identifier: MIT
#include <meetingbaas/retry/retrier.hpp>

#include "manual_clock.hpp"
#include "recording_sleeper.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <deque>
#include <stop_token>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas::attempt_outcome;
using meetingbaas::failure_class;
using meetingbaas::stop_reason;
using meetingbaas::test::manual_clock;
using meetingbaas::test::recording_sleeper;
using std::chrono::milliseconds;

namespace {

// A deterministic policy: no jitter, exponential 100 ms doubling, cap 1 s, 5 attempts.
constexpr auto plain_policy = meetingbaas::checked(meetingbaas::retry_policy<>{
    .backoff = {.initial = 100ms, .multiplier = 2.0, .maximum = 1s},
    .jitter = meetingbaas::no_jitter,
    .stop = meetingbaas::stop_after_attempts(5),
});

// A retry_event's outcome pointer is valid only during the hook call (it points into retry()'s frame: keeping
// it was a stack-use-after-return that Clang's ASan found), so the log keeps its own copy of each outcome.
struct event_log {
    std::vector<meetingbaas::retry_event> events;
    std::deque<meetingbaas::attempt_outcome> outcomes;  // stable addresses for events[i].outcome

    void add(const meetingbaas::retry_event& e)
    {
        events.push_back(e);
        if (e.outcome) {
            outcomes.push_back(*e.outcome);
            events.back().outcome = &outcomes.back();
        }
    }
};
struct logging_hooks {
    event_log* log;
    void on_attempt(const meetingbaas::retry_event& e) const { log->add(e); }
    void on_retry(const meetingbaas::retry_event& e) const { log->add(e); }
    void on_give_up(const meetingbaas::retry_event& e) const { log->add(e); }
    void on_success(const meetingbaas::retry_event& e) const { log->add(e); }
};

}  // namespace

TEST_CASE("http_classifier retries transport errors and transient statuses", "[retry]")
{
    constexpr meetingbaas::http_classifier classify;
    STATIC_REQUIRE(classify(attempt_outcome::not_sent()) == failure_class::transient);
    STATIC_REQUIRE(classify(attempt_outcome::maybe_sent()) == failure_class::transient);
    const int status = GENERATE(408, 425, 500, 502, 504);
    CAPTURE(status);
    CHECK(classify(attempt_outcome::http(status)) == failure_class::transient);
}

TEST_CASE("http_classifier treats 429 and 503 as throttling", "[retry]")
{
    STATIC_REQUIRE(meetingbaas::http_classifier{}(attempt_outcome::http(429)) == failure_class::throttled);
    STATIC_REQUIRE(meetingbaas::http_classifier{}(attempt_outcome::http(503)) == failure_class::throttled);
}

TEST_CASE("http_classifier never retries other 4xx, 501 and 505", "[retry]")
{
    const int status =
        GENERATE(400, 401, 403, 404, 405, 409, 410, 413, 422, 451, 499, 501, 505, 511, 599, 600, 0, -1);
    CAPTURE(status);
    CHECK(meetingbaas::http_classifier{}(attempt_outcome::http(status)) == failure_class::permanent);
}

TEST_CASE("http_classifier treats 1xx to 3xx as success", "[retry]")
{
    const int status = GENERATE(100, 200, 201, 204, 299, 301, 304, 399);
    CAPTURE(status);
    CHECK(meetingbaas::http_classifier{}(attempt_outcome::http(status)) == failure_class::success);
}

TEST_CASE("http_classifier makes the daily bot cap final", "[retry]")
{
    STATIC_REQUIRE(meetingbaas::http_classifier{}(attempt_outcome::http(
                       429, 60s, "FST_ERR_DAILY_BOT_CAP_REACHED")) == failure_class::permanent);
    STATIC_REQUIRE(meetingbaas::http_classifier{}(attempt_outcome::http(
                       429, 1s, "FST_ERR_TOO_MANY_REQUESTS")) == failure_class::throttled);
}

TEST_CASE("http_classifier can be extended by wrapping and its final codes replaced", "[retry]")
{
    static constexpr std::string_view codes[] = {"MY_QUOTA"};
    constexpr meetingbaas::http_classifier custom{codes};
    STATIC_REQUIRE(custom(attempt_outcome::http(503, {}, "MY_QUOTA")) == failure_class::permanent);
    STATIC_REQUIRE(custom(attempt_outcome::http(429, {}, "FST_ERR_DAILY_BOT_CAP_REACHED")) ==
                   failure_class::throttled);

    // A calendar sync may treat 409 (bad bot status, being updated) as transient.
    constexpr auto extended = [](const attempt_outcome& o) {
        if (o.kind == meetingbaas::outcome_kind::http_status && o.status == 409)
            return failure_class::transient;
        return meetingbaas::http_classifier{}(o);
    };
    STATIC_REQUIRE(meetingbaas::retry_classifier<decltype(extended)>);
    STATIC_REQUIRE(extended(attempt_outcome::http(409)) == failure_class::transient);
    STATIC_REQUIRE(extended(attempt_outcome::http(404)) == failure_class::permanent);
}

TEST_CASE("retry_is_safe gates non-idempotent requests on proof that they were not applied", "[retry]")
{
    using meetingbaas::idempotence;
    STATIC_REQUIRE(meetingbaas::retry_is_safe(attempt_outcome::maybe_sent(), idempotence::idempotent));
    STATIC_REQUIRE(meetingbaas::retry_is_safe(attempt_outcome::not_sent(), idempotence::non_idempotent));
    STATIC_REQUIRE(!meetingbaas::retry_is_safe(attempt_outcome::maybe_sent(), idempotence::non_idempotent));
    // The server refused before processing: 408, 425, 429, 503 prove nothing was applied.
    const int refused = GENERATE(408, 425, 429, 503);
    CAPTURE(refused);
    CHECK(meetingbaas::retry_is_safe(attempt_outcome::http(refused), idempotence::non_idempotent));
    // 500, 502, 504 and an unusable 2xx may have been applied.
    const int unknown = GENERATE(500, 502, 504);
    CHECK_FALSE(meetingbaas::retry_is_safe(attempt_outcome::http(unknown), idempotence::non_idempotent));
    STATIC_REQUIRE(
        !meetingbaas::retry_is_safe(attempt_outcome::invalid_answer(200), idempotence::non_idempotent));
    STATIC_REQUIRE(meetingbaas::retry_is_safe(attempt_outcome::cancelled(), idempotence::non_idempotent));
}

TEST_CASE("http_classifier: unusable answers, cancellation and local failures are transient", "[retry]")
{
    constexpr meetingbaas::http_classifier classify;
    STATIC_REQUIRE(classify(attempt_outcome::invalid_answer(200)) == failure_class::transient);
    STATIC_REQUIRE(classify(attempt_outcome::cancelled()) == failure_class::transient);
    STATIC_REQUIRE(classify(attempt_outcome::local_failure()) == failure_class::transient);
    STATIC_REQUIRE(classify(attempt_outcome::invalid_request()) == failure_class::permanent);
    STATIC_REQUIRE(classify(attempt_outcome::http(429, {}, "DAILY_BOT_CAP_REACHED")) ==
                   failure_class::permanent);
}

TEST_CASE("stop_policy composes with any-of semantics", "[retry]")
{
    using meetingbaas::stop_after_attempts;
    using meetingbaas::stop_after_elapsed;
    constexpr auto s = stop_after_attempts(5) | stop_after_elapsed(30s) | stop_after_attempts(7);
    STATIC_REQUIRE(s.max_attempts == 5);
    STATIC_REQUIRE(s.max_elapsed == 30s);
    // Elapsed alone does not silently bring an attempt cap (failsafe#364).
    STATIC_REQUIRE(stop_after_elapsed(10s).max_attempts == meetingbaas::unlimited_attempts);
    STATIC_REQUIRE(!stop_after_elapsed(10s).check());
    STATIC_REQUIRE(meetingbaas::stop_policy{}.check().field == "/stop");
    STATIC_REQUIRE(stop_after_attempts(0).check().field == "/stop/max_attempts");
}

TEST_CASE("validated reports the offending field of an invalid policy", "[retry]")
{
    meetingbaas::retry_policy<> p;
    p.backoff.multiplier = 0.5;
    const auto r = meetingbaas::validated(p);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == meetingbaas::errc::invalid_argument);
    CHECK(r.error().where == "/backoff/multiplier");
    CHECK(meetingbaas::validated(meetingbaas::meetingbaas_api_policy).has_value());

    meetingbaas::retry_policy<meetingbaas::linear_backoff> lin{.backoff = {.initial = 0ms},
                                                               .jitter = meetingbaas::decorrelated_jitter};
    const auto r2 = meetingbaas::validated(lin);
    REQUIRE_FALSE(r2);
    CHECK(r2.error().where == "/jitter/kind");
    CHECK(meetingbaas::validated(meetingbaas::retry_budget_config{.max_tokens = 0}).error().where ==
          "/budget/max_tokens");
}

TEST_CASE("retry succeeds after two 503s with exactly the backoff slept", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    int calls = 0;
    const auto r = meetingbaas::retry(
        plain_policy, [&] { return ++calls < 3 ? attempt_outcome::http(503) : attempt_outcome::http(200); },
        {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper, .random = meetingbaas::splitmix64(1)});
    CHECK(calls == 3);
    CHECK(r.attempts == 3);
    CHECK(r.decision.reason == stop_reason::succeeded);
    CHECK(r.slept == 300ms);
    CHECK(sleeper.delays() == std::vector<milliseconds>{100ms, 200ms});
    REQUIRE(r.last);
    CHECK(r.last->status == 200);
}

TEST_CASE("retry stops at max_attempts and reports it", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    const auto r = meetingbaas::retry(
        plain_policy, [] { return attempt_outcome::maybe_sent(); }, {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    CHECK(r.attempts == 5);
    CHECK(r.decision.reason == stop_reason::attempts_exhausted);
    CHECK(meetingbaas::to_errc(r.decision.reason) == meetingbaas::errc::retries_exhausted);
    CHECK(sleeper.delays() == std::vector<milliseconds>{100ms, 200ms, 400ms, 800ms});
}

TEST_CASE("retry does not retry a permanent failure", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    int calls = 0;
    const auto r = meetingbaas::retry(
        plain_policy,
        [&] {
            ++calls;
            return attempt_outcome::http(404);
        },
        {}, meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    CHECK(calls == 1);
    CHECK(r.decision.reason == stop_reason::permanent_failure);
    CHECK(r.decision.classification == failure_class::permanent);
    CHECK(sleeper.count() == 0);
}

TEST_CASE("retry gives up on a non-idempotent request that may have been sent", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    int calls = 0;
    auto fn = [&] { return ++calls == 1 ? attempt_outcome::not_sent() : attempt_outcome::maybe_sent(); };
    const auto r =
        meetingbaas::retry(plain_policy, fn, {.idempotence = meetingbaas::idempotence::non_idempotent},
                           meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    CHECK(calls == 2);  // the first failure proved nothing was sent: retried once
    CHECK(r.decision.reason == stop_reason::not_idempotent);
}

TEST_CASE("retry treats Retry-After as a floor, capped by max_retry_after", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    auto policy = plain_policy;
    policy.max_retry_after = 5s;
    int calls = 0;
    auto fn = [&] {
        ++calls;
        if (calls == 1) return attempt_outcome::http(429, 2s);    // longer than 100 ms backoff: wins
        if (calls == 2) return attempt_outcome::http(429, 10ms);  // shorter than 200 ms backoff: ignored
        if (calls == 3) return attempt_outcome::http(503, 1h);    // capped at 5 s
        return attempt_outcome::http(204);
    };
    std::vector<meetingbaas::delay_source> sources;
    struct source_hooks {
        std::vector<meetingbaas::delay_source>* out;
        void on_retry(const meetingbaas::retry_event& e) const { out->push_back(e.source); }
    };
    const auto r = meetingbaas::retry(
        policy, fn, {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper, .hooks = source_hooks{&sources}});
    CHECK(r.decision.reason == stop_reason::succeeded);
    CHECK(sleeper.delays() == std::vector<milliseconds>{2s, 200ms, 5s});
    using meetingbaas::delay_source;
    CHECK(sources == std::vector<delay_source>{delay_source::retry_after, delay_source::backoff,
                                               delay_source::retry_after});
}

TEST_CASE("retry never starts a sleep that would cross the deadline", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    auto policy = plain_policy;
    policy.stop = meetingbaas::stop_after_attempts(100);
    // Each attempt takes 50 ms; deadline 1 s from now.
    auto fn = [&] {
        clock.advance(50ms);
        return attempt_outcome::http(500);
    };
    const auto deadline = clock.now() + 1s;
    const auto r = meetingbaas::retry(policy, fn, {.deadline = deadline},
                                      meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    CHECK(r.decision.reason == stop_reason::deadline_exceeded);
    CHECK(r.decision.source == meetingbaas::delay_source::deadline);
    CHECK(meetingbaas::to_errc(r.decision.reason) == meetingbaas::errc::deadline_exceeded);
    // attempts at 0, 150, 400, 850 ms (after 100, 200, 400 ms sleeps); the next 800 ms sleep would end
    // at 1700 ms > 1 s, so it is refused.
    CHECK(sleeper.delays() == std::vector<milliseconds>{100ms, 200ms, 400ms});
    CHECK(r.attempts == 4);
    CHECK(clock.now() < deadline);
}

TEST_CASE("retry honours max_elapsed as a distinct stop reason", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    auto policy = plain_policy;
    policy.stop = meetingbaas::stop_after_elapsed(1s);
    const auto r = meetingbaas::retry(
        policy, [] { return attempt_outcome::maybe_sent(); }, {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    CHECK(r.decision.reason == stop_reason::elapsed_exhausted);
    CHECK(sleeper.delays() == std::vector<milliseconds>{100ms, 200ms, 400ms});  // 700 ms; +800 crosses 1 s
}

TEST_CASE("retry does not start an attempt after the deadline passed", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    int calls = 0;
    const auto r = meetingbaas::retry(
        plain_policy,
        [&] {
            ++calls;
            return attempt_outcome::succeeded();
        },
        {.deadline = clock.now() - 1ms}, meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    CHECK(calls == 0);
    CHECK_FALSE(r.last);
    CHECK(r.decision.reason == stop_reason::deadline_exceeded);
}

TEST_CASE("retry charges the attempt reserve against the deadline", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    auto policy = plain_policy;
    policy.attempt_reserve = 500ms;
    const auto r = meetingbaas::retry(
        policy, [] { return attempt_outcome::http(502); }, {.deadline = clock.now() + 1s},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    // at 0 ms: 100 + 500 < 1000 left (ok); at 100 ms: 200 + 500 < 900 (ok); at 300 ms: 400 + 500 >= 700: stop
    CHECK(sleeper.delays() == std::vector<milliseconds>{100ms, 200ms});
    CHECK(r.decision.reason == stop_reason::deadline_exceeded);
}

TEST_CASE("retry passes the permit to functions that want the time left", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    std::vector<milliseconds> budgets;
    const auto r = meetingbaas::retry(
        plain_policy,
        [&](const meetingbaas::attempt_permit& p) {
            budgets.push_back(p.time_left.value_or(milliseconds(-1)));
            return p.attempt < 3 ? attempt_outcome::http(500) : attempt_outcome::http(200);
        },
        {.deadline = clock.now() + 10s}, meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    CHECK(r.attempts == 3);
    CHECK(budgets == std::vector<milliseconds>{10s, 9900ms, 9700ms});
}

TEST_CASE("retry maps arbitrary results through an observer", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    struct response {
        int status;
        int body;
    };
    int calls = 0;
    const auto r = meetingbaas::retry(
        plain_policy, [&] { return response{++calls < 2 ? 500 : 200, calls}; },
        [](const response& resp) { return attempt_outcome::http(resp.status); }, {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper});
    REQUIRE(r.last);
    CHECK(r.last->body == 2);
    CHECK(r.decision.reason == stop_reason::succeeded);
}

TEST_CASE("hooks see attempts, retries and the give-up with delay, source and classification", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    event_log log;
    auto policy = plain_policy;
    policy.stop = meetingbaas::stop_after_attempts(3);
    const auto r = meetingbaas::retry(
        policy, [] { return attempt_outcome::http(503, 150ms); }, {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper, .hooks = logging_hooks{&log}});
    CHECK(r.decision.reason == stop_reason::attempts_exhausted);
    using K = meetingbaas::retry_event_kind;
    REQUIRE(log.events.size() == 6);
    CHECK(log.events[0].kind == K::attempt);
    CHECK(log.events[0].attempt == 1);
    CHECK(log.events[1].kind == K::retry);
    CHECK(log.events[1].delay == 150ms);
    CHECK(log.events[1].source == meetingbaas::delay_source::retry_after);
    CHECK(log.events[1].classification == failure_class::throttled);
    REQUIRE(log.events[1].outcome != nullptr);
    CHECK(log.events[1].outcome->status == 503);
    CHECK(log.events[2].kind == K::attempt);
    CHECK(log.events[3].kind == K::retry);
    CHECK(log.events[3].delay == 200ms);
    CHECK(log.events[3].source == meetingbaas::delay_source::backoff);
    CHECK(log.events[5].kind == K::give_up);
    CHECK(log.events[5].attempt == 3);
    CHECK(log.events[5].reason == stop_reason::attempts_exhausted);
}

TEST_CASE("retrier step API drives retries without sleeping", "[retry]")
{
    manual_clock clock;
    meetingbaas::retrier r(plain_policy,
                           meetingbaas::retry_effects{.clock = clock, .random = meetingbaas::splitmix64(3)});
    r.start({.deadline = clock.now() + 10s});
    auto p = r.begin_attempt();
    REQUIRE(p);
    CHECK(p.attempt == 1);
    auto d = r.next(attempt_outcome::http(500));
    REQUIRE(d);
    CHECK(d.delay == 100ms);
    CHECK(d.source == meetingbaas::delay_source::backoff);
    clock.advance(d.delay);
    REQUIRE(r.begin_attempt());
    d = r.next(attempt_outcome::http(201));
    CHECK_FALSE(d);
    CHECK(d.reason == stop_reason::succeeded);
    CHECK(d.attempt == 2);
}

TEST_CASE("retrier state can be saved and resumed by a job queue", "[retry]")
{
    manual_clock clock;
    using retrier_t =
        meetingbaas::retrier<meetingbaas::exponential_backoff, meetingbaas::retry_effects<manual_clock>>;
    meetingbaas::retry_state<manual_clock> saved;
    {
        retrier_t r(plain_policy, {.clock = clock, .random = meetingbaas::splitmix64(3)});
        r.start();
        REQUIRE(r.begin_attempt());
        REQUIRE(r.next(attempt_outcome::http(503)));
        REQUIRE(r.begin_attempt());
        const auto d = r.next(attempt_outcome::http(503));
        REQUIRE(d);
        CHECK(d.delay == 200ms);
        saved = r.state();
    }
    clock.advance(200ms);
    retrier_t again(plain_policy, {.clock = clock, .random = meetingbaas::splitmix64(4)});
    again.resume(saved);
    const auto p = again.begin_attempt();
    REQUIRE(p);
    CHECK(p.attempt == 3);
    const auto d = again.next(attempt_outcome::maybe_sent());
    REQUIRE(d);
    CHECK(d.delay == 400ms);
}

TEST_CASE("meetingbaas_api_policy is valid and bounded", "[retry]")
{
    constexpr auto& p = meetingbaas::meetingbaas_api_policy;
    STATIC_REQUIRE(!p.check());
    STATIC_REQUIRE(p.stop.max_attempts == 5);
    STATIC_REQUIRE(p.backoff.delay(0) == 500ms);
    STATIC_REQUIRE(p.backoff.delay(10'000) == 10s);
    STATIC_REQUIRE(!meetingbaas::meetingbaas_budget_config.check());
}

TEST_CASE("to_string names every enumerator", "[retry]")
{
    STATIC_REQUIRE(meetingbaas::to_string(stop_reason::budget_exhausted) == "budget_exhausted");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::delay_source::retry_after) == "retry_after");
    STATIC_REQUIRE(meetingbaas::to_string(failure_class::throttled) == "throttled");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::outcome_kind::transport_not_sent) ==
                   "transport_not_sent");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::jitter_kind::decorrelated) == "decorrelated");
}

TEST_CASE("decisions and parsing are noexcept where documented", "[retry]")
{
    STATIC_REQUIRE(noexcept(std::declval<const meetingbaas::exponential_backoff&>().delay(1)));
    STATIC_REQUIRE(noexcept(
        std::declval<const meetingbaas::http_classifier&>()(std::declval<const attempt_outcome&>())));
    STATIC_REQUIRE(noexcept(std::declval<meetingbaas::retry_budget&>().on_failure()));
}

TEST_CASE("effect concepts accept the test fakes and the standard defaults", "[retry]")
{
    STATIC_REQUIRE(meetingbaas::retry_clock<manual_clock>);
    STATIC_REQUIRE(meetingbaas::retry_clock<std::chrono::system_clock>);
    STATIC_REQUIRE(meetingbaas::retry_sleeper<recording_sleeper>);
    STATIC_REQUIRE(meetingbaas::retry_sleeper<meetingbaas::this_thread_sleeper>);
    STATIC_REQUIRE(meetingbaas::backoff_policy<meetingbaas::linear_backoff>);
    STATIC_REQUIRE(meetingbaas::retry_classifier<meetingbaas::http_classifier>);
    STATIC_REQUIRE(!meetingbaas::retry_clock<int>);
    STATIC_REQUIRE(!meetingbaas::retry_sleeper<int>);
}

TEST_CASE("a refused attempt reports the last classification to the give-up hook", "[retry]")
{
    manual_clock clock;
    event_log log;
    meetingbaas::retrier r(plain_policy, meetingbaas::retry_effects{.clock = clock,
                                                                    .random = meetingbaas::splitmix64(1),
                                                                    .hooks = logging_hooks{&log}});
    r.start({.deadline = clock.now() + 1s});
    REQUIRE(r.begin_attempt());
    const auto d = r.next(attempt_outcome::http(503));
    REQUIRE(d);
    clock.advance(5s);  // the timer fired far too late (e.g. a stalled event loop)
    const auto p = r.begin_attempt();
    CHECK_FALSE(p);
    CHECK(p.reason == stop_reason::deadline_exceeded);
    REQUIRE_FALSE(log.events.empty());
    CHECK(log.events.back().kind == meetingbaas::retry_event_kind::give_up);
    CHECK(log.events.back().classification == failure_class::throttled);
    CHECK(log.events.back().reason == stop_reason::deadline_exceeded);
}

TEST_CASE("retry_effects deduces its types from the members that are set", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    // Changing only the sleeper restates nothing else.
    meetingbaas::retry_effects only_sleeper{.sleeper = sleeper};
    STATIC_REQUIRE(std::is_same_v<decltype(only_sleeper),
                                  meetingbaas::retry_effects<std::chrono::steady_clock, recording_sleeper>>);
    meetingbaas::retry_budget budget;
    meetingbaas::retry_effects only_budget{.budget = &budget};
    STATIC_REQUIRE(std::is_same_v<decltype(only_budget), meetingbaas::retry_effects<>>);
    CHECK(only_budget.budget == &budget);
    meetingbaas::retry_effects clock_and_hooks{.clock = clock, .hooks = logging_hooks{nullptr}};
    STATIC_REQUIRE(std::is_same_v<decltype(clock_and_hooks),
                                  meetingbaas::retry_effects<manual_clock, meetingbaas::this_thread_sleeper,
                                                             meetingbaas::splitmix64, logging_hooks>>);
    // The retrier deduces its backoff from the policy and its effects from the effects.
    meetingbaas::retrier r(plain_policy, clock_and_hooks);
    STATIC_REQUIRE(std::is_same_v<decltype(r)::clock_type, manual_clock>);
}

TEST_CASE("the effects' budget and classifier drive retry()", "[retry]")
{
    manual_clock clock;
    recording_sleeper sleeper(clock);
    // A classifier that makes 404 transient (e.g. an eventually consistent read).
    constexpr auto not_found_is_transient = [](const attempt_outcome& o) {
        if (o.kind == meetingbaas::outcome_kind::http_status && o.status == 404)
            return failure_class::transient;
        return meetingbaas::http_classifier{}(o);
    };
    int calls = 0;
    const auto r = meetingbaas::retry(
        plain_policy, [&] { return ++calls < 3 ? attempt_outcome::http(404) : attempt_outcome::http(200); },
        {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper, .classifier = not_found_is_transient});
    CHECK(r.decision.reason == stop_reason::succeeded);
    CHECK(calls == 3);

    // A drained budget stops retries.
    meetingbaas::retry_budget budget({.max_tokens = 2, .token_ratio = 0.1});
    budget.on_failure();
    budget.on_failure();
    const auto denied = meetingbaas::retry(
        plain_policy, [] { return attempt_outcome::http(503); }, {},
        meetingbaas::retry_effects{.clock = clock, .sleeper = sleeper, .budget = &budget});
    CHECK(denied.decision.reason == stop_reason::budget_exhausted);
    CHECK(denied.attempts == 1);
}

TEST_CASE("an interrupted sleeper ends retry() with stop_reason::cancelled", "[retry]")
{
    std::stop_source stop;
    int calls = 0;
    struct stopping_sleeper {
        std::stop_source* stop;
        bool operator()(milliseconds) const
        {
            stop->request_stop();  // shutdown begins while we wait
            return false;
        }
    };
    event_log log;
    const auto r = meetingbaas::retry(
        plain_policy,
        [&] {
            ++calls;
            return attempt_outcome::http(503);
        },
        {}, meetingbaas::retry_effects{.sleeper = stopping_sleeper{&stop}, .hooks = logging_hooks{&log}});
    CHECK(calls == 1);
    CHECK(r.decision.reason == stop_reason::cancelled);
    CHECK(meetingbaas::to_errc(r.decision.reason) == meetingbaas::errc::cancelled);
    CHECK(r.slept == 0ms);
    REQUIRE_FALSE(log.events.empty());
    CHECK(log.events.back().kind == meetingbaas::retry_event_kind::give_up);
    CHECK(log.events.back().reason == stop_reason::cancelled);
}

TEST_CASE("stop_aware_sleeper wakes early on a stop request and says so", "[retry]")
{
    std::stop_source stop;
    const meetingbaas::stop_aware_sleeper sleeper(stop.get_token());
    CHECK(sleeper(1ms));  // not stopped: sleeps and reports true
    std::jthread stopper([&stop] {
        std::this_thread::sleep_for(50ms);
        stop.request_stop();
    });
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(sleeper(std::chrono::seconds(30)));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    CHECK_FALSE(sleeper(1ms));                      // already stopped: returns at once
    CHECK(meetingbaas::stop_aware_sleeper{}(1ms));  // without a token it never stops
}

TEST_CASE("max_call_duration bounds one call by the elapsed limit, else by attempts and waits", "[retry]")
{
    STATIC_REQUIRE(meetingbaas::max_call_duration(meetingbaas::meetingbaas_api_policy, 30s) == 60s);
    constexpr auto attempts_only = meetingbaas::checked(
        meetingbaas::retry_policy<>{.backoff = {.initial = 100ms, .multiplier = 2.0, .maximum = 1s},
                                    .stop = meetingbaas::stop_after_attempts(3),
                                    .max_retry_after = 5s});
    // 3 attempts of 2 s + 2 waits of at most max(1 s cap, 5 s pushback)
    STATIC_REQUIRE(meetingbaas::max_call_duration(attempts_only, 2s) == 16s);
    // a short elapsed limit wins
    constexpr auto both = meetingbaas::checked(meetingbaas::retry_policy<>{
        .stop = meetingbaas::stop_after_attempts(3) | meetingbaas::stop_after_elapsed(6s)});
    STATIC_REQUIRE(meetingbaas::max_call_duration(both, 4s) == 6s);
}
