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
// the backoff variants; full jitter does less work than no jitter).

#include <meetingbaas/retry.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <string>
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
    static constexpr bool is_steady = true;
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
    using retrier_t = mb::retrier<Backoff, sim_clock>;
    totals sum;
    for (int run = 0; run < runs; ++run) {
        std::mt19937_64 net_rng(static_cast<std::uint64_t>(run) * 7919U + clients);
        std::normal_distribution<double> net_ms(10.0, 2.0);
        auto net = [&] { return sim_clock::duration(static_cast<std::int64_t>(std::fabs(net_ms(net_rng)) * 1000.0)); };

        sim_clock::time_point now{};
        const sim_clock clock{&now};
        std::vector<retrier_t> retriers;
        retriers.reserve(clients);
        std::priority_queue<event, std::vector<event>, std::greater<>> queue;
        std::uint64_t seq = 0;
        std::uint64_t version = 0;
        std::uint64_t calls = 0;
        for (std::size_t c = 0; c < clients; ++c) {
            retriers.emplace_back(policy, clock, mb::splitmix64(static_cast<std::uint64_t>(run) << 20U | c));
            retriers.back().start();
            (void)retriers.back().begin_attempt();
            queue.push({now + net(), seq++, step::server_read, c, 0});
        }
        while (!queue.empty()) {
            const event e = queue.top();
            queue.pop();
            now = e.at;
            switch (e.what) {
                case step::server_read: queue.push({now + net(), seq++, step::client_read_reply, e.client, version}); break;
                case step::client_read_reply: queue.push({now + net(), seq++, step::server_write, e.client, e.value}); break;
                case step::server_write: {
                    ++calls;
                    const bool ok = e.value == version;
                    if (ok) ++version;
                    queue.push({now + net(), seq++, step::client_write_reply, e.client, ok ? 1U : 0U});
                    break;
                }
                case step::client_write_reply: {
                    retrier_t& r = retriers[e.client];
                    const auto d = r.next(e.value != 0 ? mb::attempt_outcome::http(200) : mb::attempt_outcome::http(409),
                                          occ_classifier);
                    if (d) {
                        (void)r.begin_attempt();  // scheduled now; the attempt starts after the delay
                        queue.push({now + net() + std::chrono::duration_cast<sim_clock::duration>(d.delay), seq++,
                                    step::server_read, e.client, 0});
                    } else if (d.reason != mb::stop_reason::succeeded) {
                        std::fprintf(stderr, "client %zu gave up: %s\n", e.client, mb::to_string(d.reason).data());
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
    constexpr auto expo = mb::checked(mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::no_jitter, .stop = forever});
    constexpr auto equal = mb::checked(mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::equal_jitter, .stop = forever});
    constexpr auto full = mb::checked(mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::full_jitter, .stop = forever});
    constexpr auto decorr =
        mb::checked(mb::retry_policy<>{.backoff = aws_backoff, .jitter = mb::decorrelated_jitter, .stop = forever});

    std::printf("Mean write calls / mean completion time (simulated ms), %d runs per cell\n\n", runs);
    std::printf("| clients | no backoff | exponential, no jitter | equal jitter | full jitter | decorrelated |\n");
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
    if (!expected_shape) {
        std::printf("\nunexpected: unjittered exponential backoff did not do the most work\n");
        return 1;
    }
    return 0;
}
