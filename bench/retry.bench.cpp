// SPDX-License-Identifier: MIT
// Cost of one retry decision (classify + next delay, with jitter, Retry-After floor, deadline, attempt
// limit and a shared budget) through the library's step API, against a hand-written loop doing the
// same arithmetic. Both run in the same binary and process; docs/perf/retry.md has the results.

#include <meetingbaas/retry/retrier.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

using namespace std::chrono_literals;
namespace mb = meetingbaas;

namespace {

/// A clock that costs nothing to read (advanced by the loop), to measure arithmetic only.
struct counter_clock {
    using duration = std::chrono::milliseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<counter_clock, duration>;
    const std::int64_t* ticks;
    time_point now() const noexcept { return time_point(duration(*ticks)); }
};

constexpr auto policy = mb::checked(mb::retry_policy<>{
    .backoff = {.initial = 100ms, .multiplier = 2.0, .maximum = 10s},
    .jitter = mb::full_jitter,
    .stop = mb::stop_after_attempts(6),
    .max_retry_after = 30s,
});

// A repeating pattern of outcomes: throttled with pushback, transient, success, ...
const std::array<mb::attempt_outcome, 8> outcomes{
    mb::attempt_outcome::http(503, 250ms), mb::attempt_outcome::http(500),
    mb::attempt_outcome::maybe_sent(),     mb::attempt_outcome::http(200),
    mb::attempt_outcome::http(429, 2s),    mb::attempt_outcome::http(502),
    mb::attempt_outcome::http(504),        mb::attempt_outcome::http(201)};

template <class Clock>
void library_decisions(benchmark::State& state, Clock clock, std::int64_t* ticks)
{
    mb::retry_budget budget({.max_tokens = 1000, .token_ratio = 1});
    mb::retrier r(policy, mb::retry_effects{.clock = clock, .random = mb::splitmix64(42), .budget = &budget});
    r.start({.deadline = clock.now() + std::chrono::hours(24 * 365)});
    std::size_t i = 0;
    for (auto _ : state) {
        if (!r.begin_attempt()) r.start({.deadline = clock.now() + std::chrono::hours(24 * 365)});
        const mb::retry_decision d = r.next(outcomes[i++ & 7U]);
        benchmark::DoNotOptimize(d);
        if (!d) r.start({.deadline = clock.now() + std::chrono::hours(24 * 365)});
        if (ticks != nullptr) ++*ticks;
    }
    state.SetItemsProcessed(state.iterations());
}

// ---- The hand-written equivalent: the same steps, spelled out inline. ----

struct hand_state {
    std::uint32_t attempts = 0;
    std::uint64_t rng = 42;
    std::int64_t started = 0;
    std::int64_t deadline = 0;
};

inline std::uint64_t next_random(std::uint64_t& s) noexcept
{
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
}

struct hand_decision {
    bool retry;
    std::int64_t delay_ms;
};

inline hand_decision hand_decide(hand_state& s, const mb::attempt_outcome& o,
                                 std::atomic<std::int32_t>& tokens, std::int64_t now_ms) noexcept
{
    // classify
    int cls = 0;  // 0 success, 1 retryable, 2 permanent
    if (o.kind == mb::outcome_kind::transport_not_sent || o.kind == mb::outcome_kind::transport_maybe_sent) {
        cls = 1;
    } else if (o.kind == mb::outcome_kind::http_status) {
        const int st = o.status;
        if (st >= 100 && st < 400)
            cls = 0;
        else if (st == 408 || st == 425 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504)
            cls = 1;
        else
            cls = 2;
    }
    if (cls != 1) {
        std::int32_t t = tokens.load(std::memory_order_relaxed);
        while (!tokens.compare_exchange_weak(t, t + 1000 > 1'000'000 ? 1'000'000 : t + 1000,
                                             std::memory_order_relaxed)) {
        }
        return {false, 0};
    }
    std::int32_t t = tokens.load(std::memory_order_relaxed);
    while (!tokens.compare_exchange_weak(t, t > 1000 ? t - 1000 : 0, std::memory_order_relaxed)) {
    }
    if (s.attempts >= 6) return {false, 0};
    // exponential backoff with cap, in floating point
    double factor = 1.0;
    for (std::uint32_t k = 1; k < s.attempts && factor < 100.0; ++k) factor *= 2.0;
    std::int64_t computed = static_cast<std::int64_t>(100.0 * factor);
    if (computed > 10'000) computed = 10'000;
    // full jitter
    const double unit = static_cast<double>(next_random(s.rng) >> 11U) * 0x1.0p-53;
    std::int64_t delay = static_cast<std::int64_t>(unit * (static_cast<double>(computed) + 1.0));
    if (delay > computed) delay = computed;
    // Retry-After floor, capped
    if (o.retry_after) {
        std::int64_t ra = o.retry_after->count();
        if (ra > 30'000) ra = 30'000;
        if (ra > delay) delay = ra;
    }
    // deadline
    if (delay >= s.deadline - now_ms) return {false, delay};
    if (2 * tokens.load(std::memory_order_relaxed) <= 1'000'000) return {false, delay};
    return {true, delay};
}

template <class NowMs>
void hand_written_decisions(benchmark::State& state, NowMs now_ms, std::int64_t* ticks)
{
    std::atomic<std::int32_t> tokens{1'000'000};
    hand_state s;
    auto restart = [&] {
        s.attempts = 0;
        s.started = now_ms();
        s.deadline = s.started + std::int64_t{24} * 365 * 24 * 3600 * 1000;
    };
    restart();
    std::size_t i = 0;
    for (auto _ : state) {
        if (s.deadline - now_ms() <= 0) restart();
        ++s.attempts;
        const hand_decision d = hand_decide(s, outcomes[i++ & 7U], tokens, now_ms());
        benchmark::DoNotOptimize(d);
        if (!d.retry) restart();
        if (ticks != nullptr) ++*ticks;
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_decision_library_counter_clock(benchmark::State& state)
{
    std::int64_t ticks = 0;
    library_decisions(state, counter_clock{&ticks}, &ticks);
}
void BM_decision_handwritten_counter_clock(benchmark::State& state)
{
    std::int64_t ticks = 0;
    hand_written_decisions(state, [&ticks] { return ticks; }, &ticks);
}
void BM_decision_library_steady_clock(benchmark::State& state)
{
    library_decisions(state, std::chrono::steady_clock{}, nullptr);
}
void BM_decision_handwritten_steady_clock(benchmark::State& state)
{
    hand_written_decisions(
        state,
        [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                .count();
        },
        nullptr);
}

void BM_parse_retry_after_delta(benchmark::State& state)
{
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    for (auto _ : state) benchmark::DoNotOptimize(mb::parse_retry_after("120", now));
}
void BM_parse_retry_after_imf_fixdate(benchmark::State& state)
{
    const auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + std::chrono::hours(3);
    for (auto _ : state)
        benchmark::DoNotOptimize(mb::parse_retry_after("Fri, 27 Nov 2026 03:00:30 GMT", now));
}

}  // namespace

BENCHMARK(BM_decision_library_counter_clock);
BENCHMARK(BM_decision_handwritten_counter_clock);
BENCHMARK(BM_decision_library_steady_clock);
BENCHMARK(BM_decision_handwritten_steady_clock);
BENCHMARK(BM_parse_retry_after_delta);
BENCHMARK(BM_parse_retry_after_imf_fixdate);
