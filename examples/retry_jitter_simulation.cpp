// SPDX-License-Identifier: MIT
// Reproduces the AWS Architecture Blog experiment "Exponential Backoff And Jitter" with this library's
// policies: N clients each update one row of an optimistic-concurrency (OCC) store exactly once. A client
// reads the row's version, then writes with that version; the write fails if another client wrote in
// between, and the client backs off and starts over. "Work" is the number of write calls, "time" is when
// the last client succeeded. Time is simulated (a manual clock), randomness is seeded: the output is
// deterministic, and no thread ever sleeps.
//
// Model as in aws-samples/aws-arch-backoff-simulator: network delay |N(10 ms, 2 ms)| per message, base
// 5 ms, cap 2 s. Differences: delays are whole milliseconds, and retry n (0-based) waits on base * 2^n
// (the original starts at base * 2).
//
// Usage: retry_jitter_simulation [--runs N] [--clients a,b,c]   (defaults: 100 runs; 10,50,100,190)
// Exit code 0 when the blog's qualitative result holds (unjittered exponential does the most work of
// the backoff variants and takes longer than full jitter) and the retry budget cuts the storm.
//
// Experiment 2 shows a retry storm and how a shared retry_budget prevents it.

#include <meetingbaas/retry/retrier.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace mb = meetingbaas;

namespace {

/// The simulation's clock: reads the event loop's current time. Any type with now() is a retry_clock.
struct sim_clock {
    using duration = std::chrono::microseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<sim_clock, duration>;
    const time_point* current;
    time_point now() const noexcept { return *current; }
};

/// A conflicting write is a 409; here it is worth retrying (extend the default classifier).
constexpr mb::failure_class occ_classifier(const mb::attempt_outcome& o) noexcept
{
    if (o.kind == mb::outcome_kind::http_status && o.status == 409) return mb::failure_class::transient;
    return mb::http_classifier{}(o);
}

enum class step : std::uint8_t { server_read, client_read_reply, server_write, client_write_reply };

struct event {
    sim_clock::time_point at;
    std::uint64_t seq;  // FIFO among equal times: deterministic order
    step what;
    std::size_t client;
    std::uint64_t value;  // a version or a success flag

    bool operator>(const event& o) const noexcept { return at != o.at ? at > o.at : seq > o.seq; }
};

struct totals {
    double calls = 0;
    double time_ms = 0;
};

template <class Backoff>
totals simulate(const mb::retry_policy<Backoff>& policy, std::size_t clients, int runs)
{
    using retrier_t = mb::retrier<Backoff, mb::retry_effects<sim_clock>>;
    totals sum;
    for (int run = 0; run < runs; ++run) {
        std::mt19937_64 net_rng(static_cast<std::uint64_t>(run) * 7919U + clients);
        std::normal_distribution<double> net_ms(10.0, 2.0);
        auto net = [&] {
            return sim_clock::duration(static_cast<std::int64_t>(std::fabs(net_ms(net_rng)) * 1000.0));
        };

        sim_clock::time_point now{};
        const sim_clock clock{&now};
        std::vector<retrier_t> retriers;
        retriers.reserve(clients);
        std::priority_queue<event, std::vector<event>, std::greater<>> queue;
        std::uint64_t seq = 0;
        std::uint64_t version = 0;
        std::uint64_t calls = 0;
        for (std::size_t c = 0; c < clients; ++c) {
            retriers.emplace_back(policy, mb::retry_effects{.clock = clock,
                                                            .random = mb::splitmix64(
                                                                static_cast<std::uint64_t>(run) << 20U | c)});
            retriers.back().start();
            (void)retriers.back().begin_attempt();
            queue.push({now + net(), seq++, step::server_read, c, 0});
        }
        while (!queue.empty()) {
            const event e = queue.top();
            queue.pop();
            now = e.at;
            switch (e.what) {
                case step::server_read:
                    queue.push({now + net(), seq++, step::client_read_reply, e.client, version});
                    break;
                case step::client_read_reply:
                    queue.push({now + net(), seq++, step::server_write, e.client, e.value});
                    break;
                case step::server_write: {
                    ++calls;
                    const bool ok = e.value == version;
                    if (ok) ++version;
                    queue.push({now + net(), seq++, step::client_write_reply, e.client, ok ? 1U : 0U});
                    break;
                }
                case step::client_write_reply: {
                    retrier_t& r = retriers[e.client];
                    const auto d =
                        r.next(e.value != 0 ? mb::attempt_outcome::http(200) : mb::attempt_outcome::http(409),
                               occ_classifier);
                    if (d) {
                        (void)r.begin_attempt();  // scheduled now; the attempt starts after the delay
                        queue.push({now + net() + std::chrono::duration_cast<sim_clock::duration>(d.delay),
                                    seq++, step::server_read, e.client, 0});
                    } else if (d.reason != mb::stop_reason::succeeded) {
                        std::fprintf(stderr, "client %zu gave up: %s\n", e.client,
                                     mb::to_string(d.reason).data());
                    }
                    break;
                }
            }
        }
        sum.calls += static_cast<double>(calls);
        sum.time_ms += static_cast<double>(now.time_since_epoch().count()) / 1000.0;
    }
    sum.calls /= runs;
    sum.time_ms /= runs;
    return sum;
}

/// Experiment 2: a retry storm. Calls arrive every 10 ms for 20 s; the backend fails every attempt (503)
/// during the first 10 s, then recovers. Each call may make 5 attempts (full-jitter exponential from
/// 100 ms). Without a budget every call retries 4 times into the outage; a shared budget stops that.
struct storm_totals {
    std::uint64_t attempts = 0;
    std::uint64_t outage_attempts = 0;
    std::uint64_t outage_calls = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::uint64_t budget_denials = 0;
};

storm_totals storm(mb::retry_budget* budget)
{
    constexpr auto policy = mb::checked(mb::retry_policy<>{
        .backoff = {.initial = 100ms, .multiplier = 2.0, .maximum = 2s}, .stop = mb::stop_after_attempts(5)});
    using retrier_t = mb::retrier<mb::exponential_backoff, mb::retry_effects<sim_clock>>;
    constexpr auto outage_end = sim_clock::time_point(std::chrono::seconds(10));
    constexpr std::size_t calls = 2000;  // one every 10 ms
    sim_clock::time_point now{};
    const sim_clock clock{&now};
    std::vector<retrier_t> retriers;
    retriers.reserve(calls);
    std::priority_queue<event, std::vector<event>, std::greater<>> queue;
    std::uint64_t seq = 0;
    for (std::size_t c = 0; c < calls; ++c) {
        retriers.emplace_back(
            policy, mb::retry_effects{.clock = clock, .random = mb::splitmix64(c), .budget = budget});
        queue.push({sim_clock::time_point(std::chrono::milliseconds(10 * static_cast<std::int64_t>(c))),
                    seq++, step::server_write, c, 0});
    }
    storm_totals t;
    while (!queue.empty()) {
        const event e = queue.top();
        queue.pop();
        now = e.at;
        retrier_t& r = retriers[e.client];
        if (r.attempts() == 0) {
            r.start();
            if (now < outage_end) ++t.outage_calls;
        }
        (void)r.begin_attempt();
        ++t.attempts;
        const bool down = now < outage_end;
        if (down) ++t.outage_attempts;
        const auto d = r.next(down ? mb::attempt_outcome::http(503) : mb::attempt_outcome::http(200));
        if (d) {
            queue.push({now + std::chrono::duration_cast<sim_clock::duration>(d.delay), seq++,
                        step::server_write, e.client, 0});
        } else if (d.reason == mb::stop_reason::succeeded) {
            ++t.succeeded;
        } else {
            ++t.failed;
            if (d.reason == mb::stop_reason::budget_exhausted) ++t.budget_denials;
        }
    }
    return t;
}

constexpr mb::exponential_backoff aws_backoff{.initial = 5ms, .multiplier = 2.0, .maximum = 2000ms};
constexpr auto forever = mb::stop_after_attempts(1'000'000);

}  // namespace

int main(int argc, char** argv)
{
    int runs = 100;
    std::vector<std::size_t> client_counts{10, 50, 100, 190};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--runs") == 0) {
            runs = std::atoi(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--clients") == 0) {
            client_counts.clear();
            for (const char* p = argv[i + 1]; *p != '\0';) {
                char* end = nullptr;
                client_counts.push_back(static_cast<std::size_t>(std::strtoul(p, &end, 10)));
                p = (*end == ',') ? end + 1 : end;
            }
        }
    }
    if (runs <= 0) runs = 1;

    constexpr auto none = mb::checked(mb::retry_policy<mb::constant_backoff>{
        .backoff = {.interval = 0ms}, .jitter = mb::no_jitter, .stop = forever});
    constexpr auto expo =
        mb::checked(mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::no_jitter, .stop = forever});
    constexpr auto equal =
        mb::checked(mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::equal_jitter, .stop = forever});
    constexpr auto full =
        mb::checked(mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::full_jitter, .stop = forever});
    constexpr auto decorr = mb::checked(
        mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::decorrelated_jitter, .stop = forever});

    std::printf("Mean write calls / mean completion time (simulated ms), %d runs per cell\n\n", runs);
    std::printf(
        "| clients | no backoff | exponential, no jitter | equal jitter | full jitter | decorrelated |\n");
    std::printf("|---|---|---|---|---|---|\n");
    bool expected_shape = true;
    for (const std::size_t n : client_counts) {
        const totals t[] = {simulate(none, n, runs), simulate(expo, n, runs), simulate(equal, n, runs),
                            simulate(full, n, runs), simulate(decorr, n, runs)};
        std::printf("| %zu |", n);
        for (const totals& x : t) std::printf(" %.0f / %.0f |", x.calls, x.time_ms);
        std::printf("\n");
        // The blog's result: without jitter, exponential backoff does more work than any jittered variant
        // (from moderate contention on), and takes longer than full jitter.
        if (n >= 50) {
            expected_shape = expected_shape && t[1].calls > t[2].calls && t[1].calls > t[3].calls &&
                             t[1].calls > t[4].calls && t[1].time_ms > t[3].time_ms;
        }
    }

    std::printf("\nRetry storm: 2,000 calls (one per 10 ms), backend down for the first 10 s, 5 attempts per "
                "call\n\n");
    std::printf("| budget | attempts | attempts during outage | per call during outage | succeeded | failed "
                "| budget denials |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    mb::retry_budget budget(mb::meetingbaas_budget_config);
    const storm_totals without = storm(nullptr);
    const storm_totals with = storm(&budget);
    for (const auto& [name, t] : {std::pair{"none", without}, std::pair{"10 tokens, ratio 0.1", with}}) {
        std::printf("| %s | %llu | %llu | %.2f | %llu | %llu | %llu |\n", name,
                    static_cast<unsigned long long>(t.attempts),
                    static_cast<unsigned long long>(t.outage_attempts),
                    static_cast<double>(t.outage_attempts) / static_cast<double>(t.outage_calls),
                    static_cast<unsigned long long>(t.succeeded), static_cast<unsigned long long>(t.failed),
                    static_cast<unsigned long long>(t.budget_denials));
    }
    // The budget must cut the load on the failing backend to near 1x.
    const bool budget_works = with.outage_attempts * 10 < without.outage_attempts * 3;
    if (!budget_works) std::printf("\nunexpected: the budget did not reduce the retry storm\n");
    if (!expected_shape)
        std::printf("\nunexpected: unjittered exponential backoff did not do the most work\n");
    return expected_shape && budget_works ? 0 : 1;
}
