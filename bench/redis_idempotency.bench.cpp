// SPDX-License-Identifier: MIT
// begin + complete through redis_idempotency_store (via the idempotency guard) against the baseline the issue
// names: a bare hiredis loop doing `SET key v NX PX <ms>` then `SET key done PX <ms>` (two round trips,
// like begin + complete). Same process, same server, 1 and 2 threads; the store with a pool of connections
// and with a single connection behind a mutex. Results: docs/perf/scale-out.md.
//
// Needs a Redis server: MEETINGBAAS_BENCH_REDIS_URL or MEETINGBAAS_TEST_REDIS_URL (e.g.
// redis://127.0.0.1:6379).
#include <meetingbaas/adapters/redis/clock.hpp>
#include <meetingbaas/adapters/redis/hiredis.hpp>
#include <meetingbaas/adapters/redis/idempotency_store.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>

#include <benchmark/benchmark.h>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace mb = meetingbaas;
namespace redis = meetingbaas::redis;
using namespace std::chrono_literals;

namespace {

std::optional<std::string> redis_url()
{
    for (const char* name : {"MEETINGBAAS_BENCH_REDIS_URL", "MEETINGBAAS_TEST_REDIS_URL"}) {
        if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return std::string(v);
    }
    return std::nullopt;
}

std::atomic<std::uint64_t> g_counter{0};

std::string next_key(const char* what)
{
    return std::string("mbbench:") + what + ":" + std::to_string(::getpid()) + ":" +
           std::to_string(g_counter.fetch_add(1, std::memory_order_relaxed));
}

// Short retention: the keys of a long run expire instead of filling the server.
constexpr auto retention = 5s;

void BM_bare_hiredis_set_nx_then_set(benchmark::State& state)
{
    const auto url = redis_url();
    if (!url) {
        state.SkipWithError("set MEETINGBAAS_TEST_REDIS_URL");
        return;
    }
    auto ep = redis::parse_url(*url);
    if (!ep) {
        state.SkipWithError("bad URL");
        return;
    }
    redisContext* c = redisConnect(ep->host.c_str(), ep->port);
    if (c == nullptr || c->err != 0) {
        state.SkipWithError("cannot connect");
        return;
    }
    const std::string px = std::to_string(std::chrono::milliseconds(retention).count());
    for (auto _ : state) {
        const std::string key = next_key("bare");
        const char* set_nx[] = {"SET", key.c_str(), "in_progress", "NX", "PX", px.c_str()};
        auto* a = static_cast<redisReply*>(redisCommandArgv(c, 6, set_nx, nullptr));
        const char* set_done[] = {"SET", key.c_str(), "done", "PX", px.c_str()};
        auto* b = static_cast<redisReply*>(redisCommandArgv(c, 5, set_done, nullptr));
        if (a == nullptr || b == nullptr || a->type != REDIS_REPLY_STATUS)
            state.SkipWithError("command failed");
        freeReplyObject(a);
        freeReplyObject(b);
    }
    redisFree(c);
    state.SetItemsProcessed(state.iterations());
}

template <class Clock>
void run_store(benchmark::State& state, std::size_t connections, bool server_clock)
{
    const auto url = redis_url();
    if (!url) {
        state.SkipWithError("set MEETINGBAAS_TEST_REDIS_URL");
        return;
    }
    static std::optional<redis::hiredis_client> client;
    if (state.thread_index() == 0) {
        auto c = redis::hiredis_client::connect(*url, {.max_connections = connections});
        if (!c) {
            state.SkipWithError("cannot connect");
            return;
        }
        client.emplace(std::move(*c));
    }
    // Every thread waits for thread 0 at the loop start, so `client` is ready inside the loop.
    std::optional<mb::redis_idempotency_store<redis::hiredis_client>> store;
    std::optional<mb::idempotency_guard<mb::redis_idempotency_store<redis::hiredis_client>, Clock>> guard;
    bool ready = false;
    for (auto _ : state) {
        if (!ready) {
            store.emplace(*client, mb::redis_store_options{.prefix = "mbbench:idem:", .expiry_grace = 1s});
            Clock clock = [&] {
                if constexpr (std::is_same_v<Clock, std::chrono::system_clock>) {
                    return Clock{};
                } else {
                    return Clock(*client);
                }
            }();
            auto g = mb::make_idempotency_guard(*store, {.lease = retention, .retention = retention}, clock);
            if (!g) {
                state.SkipWithError("guard");
                break;
            }
            guard.emplace(std::move(*g));
            ready = true;
        }
        auto begun = guard->begin(mb::make_key("bench", next_key("store")), "fp");
        if (!begun || !begun->acquired()) {
            state.SkipWithError("begin failed");
            break;
        }
        if (!guard->complete(begun->claim, mb::work_outcome::applied, "HTTP 201")) {
            state.SkipWithError("complete failed");
            break;
        }
    }
    (void)server_clock;
    state.SetItemsProcessed(state.iterations());
    if (state.thread_index() == 0) state.counters["connections"] = static_cast<double>(client->stats().open);
}

void BM_redis_store_begin_complete(benchmark::State& state)
{
    run_store<std::chrono::system_clock>(state, static_cast<std::size_t>(state.range(0)), false);
}

void BM_redis_store_begin_complete_server_clock(benchmark::State& state)
{
    run_store<redis::server_clock<redis::hiredis_client>>(state, static_cast<std::size_t>(state.range(0)),
                                                          true);
}

/// Both sides in one loop, alternating, each pair timed on its own: a loaded machine slows both sides of a
/// pair alike, so the ratio of their sums (and the median of per-batch ratios) is steadier than the ratio
/// of two benchmarks run one after the other.
void BM_paired_store_vs_bare(benchmark::State& state)
{
    const auto url = redis_url();
    if (!url) {
        state.SkipWithError("set MEETINGBAAS_TEST_REDIS_URL");
        return;
    }
    auto ep = redis::parse_url(*url);
    auto client = redis::hiredis_client::connect(*url, {.max_connections = 1});
    redisContext* bare = ep ? redisConnect(ep->host.c_str(), ep->port) : nullptr;
    if (!client || bare == nullptr || bare->err != 0) {
        state.SkipWithError("cannot connect");
        if (bare != nullptr) redisFree(bare);
        return;
    }
    mb::redis_idempotency_store<redis::hiredis_client> store(*client,
                                                             {.prefix = "mbbench:idem:", .expiry_grace = 1s});
    auto guard = mb::make_idempotency_guard(store, {.lease = retention, .retention = retention});
    if (!guard) {
        state.SkipWithError("guard");
        redisFree(bare);
        return;
    }
    const std::string px = std::to_string(std::chrono::milliseconds(retention).count());
    using clock = std::chrono::steady_clock;
    clock::duration bare_total{};
    clock::duration store_total{};
    clock::duration bare_batch{};
    clock::duration store_batch{};
    std::vector<double> batch_ratios;
    int in_batch = 0;
    std::uint64_t pairs = 0;
    for (auto _ : state) {
        const std::string key = next_key("pair");
        // Which side goes first alternates, so neither profits from running right after the other.
        const bool bare_first = (pairs++ % 2) == 0;
        redisReply* a = nullptr;
        redisReply* b = nullptr;
        const auto run_bare = [&] {
            const auto start = clock::now();
            const char* set_nx[] = {"SET", key.c_str(), "in_progress", "NX", "PX", px.c_str()};
            a = static_cast<redisReply*>(redisCommandArgv(bare, 6, set_nx, nullptr));
            const char* set_done[] = {"SET", key.c_str(), "done", "PX", px.c_str()};
            b = static_cast<redisReply*>(redisCommandArgv(bare, 5, set_done, nullptr));
            return clock::now() - start;
        };
        bool ok = false;
        const auto run_store = [&] {
            const auto start = clock::now();
            auto begun = guard->begin(mb::make_key("bench", key), "fp");
            ok = begun && begun->acquired() &&
                 guard->complete(begun->claim, mb::work_outcome::applied, "HTTP 201");
            return clock::now() - start;
        };
        clock::duration bare_time{};
        clock::duration store_time{};
        if (bare_first) {
            bare_time = run_bare();
            store_time = run_store();
        } else {
            store_time = run_store();
            bare_time = run_bare();
        }
        if (a == nullptr || b == nullptr || !ok) {
            state.SkipWithError("command failed");
            freeReplyObject(a);
            freeReplyObject(b);
            break;
        }
        freeReplyObject(a);
        freeReplyObject(b);
        bare_batch += bare_time;
        store_batch += store_time;
        if (++in_batch == 64) {
            batch_ratios.push_back(std::chrono::duration<double>(store_batch) /
                                   std::chrono::duration<double>(bare_batch));
            bare_total += bare_batch;
            store_total += store_batch;
            bare_batch = store_batch = {};
            in_batch = 0;
        }
    }
    redisFree(bare);
    if (batch_ratios.empty()) return;
    std::sort(batch_ratios.begin(), batch_ratios.end());
    const auto n = static_cast<double>(batch_ratios.size() * 64);
    state.counters["bare_us"] = std::chrono::duration<double, std::micro>(bare_total).count() / n;
    state.counters["store_us"] = std::chrono::duration<double, std::micro>(store_total).count() / n;
    state.counters["ratio"] =
        std::chrono::duration<double>(store_total) / std::chrono::duration<double>(bare_total);
    state.counters["median_batch_ratio"] = batch_ratios[batch_ratios.size() / 2];
    state.SetItemsProcessed(state.iterations());
}

/// The client's own cost per command: hiredis_client::command(PING) (pool, idle-connection check, SIGPIPE
/// guard, reply copy) against redisCommandArgv(PING) on a bare context, alternating, timed per side.
void BM_paired_client_vs_bare_ping(benchmark::State& state)
{
    const auto url = redis_url();
    if (!url) {
        state.SkipWithError("set MEETINGBAAS_TEST_REDIS_URL");
        return;
    }
    auto ep = redis::parse_url(*url);
    auto client = redis::hiredis_client::connect(*url);
    redisContext* bare = ep ? redisConnect(ep->host.c_str(), ep->port) : nullptr;
    if (!client || bare == nullptr || bare->err != 0) {
        state.SkipWithError("cannot connect");
        if (bare != nullptr) redisFree(bare);
        return;
    }
    if (state.range(0) == 1) std::signal(SIGPIPE, SIG_IGN);  // as servers do: no SIGPIPE guard needed
    using clock = std::chrono::steady_clock;
    clock::duration bare_total{};
    clock::duration client_total{};
    const std::array<std::string_view, 1> ping{"PING"};
    const char* bare_ping[] = {"PING"};
    std::uint64_t pairs = 0;
    for (auto _ : state) {
        const bool bare_first = (pairs++ % 2) == 0;
        redisReply* r = nullptr;
        mb::redis::command_result c = mb::redis::command_failure{};
        const auto run_bare = [&] {
            const auto start = clock::now();
            r = static_cast<redisReply*>(redisCommandArgv(bare, 1, bare_ping, nullptr));
            return clock::now() - start;
        };
        const auto run_client = [&] {
            const auto start = clock::now();
            c = client->command(ping);
            return clock::now() - start;
        };
        clock::duration bare_time{};
        clock::duration client_time{};
        if (bare_first) {
            bare_time = run_bare();
            client_time = run_client();
        } else {
            client_time = run_client();
            bare_time = run_bare();
        }
        if (r == nullptr || !c) {
            state.SkipWithError("PING failed");
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
        bare_total += bare_time;
        client_total += client_time;
    }
    std::signal(SIGPIPE, SIG_DFL);
    redisFree(bare);
    const auto n = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
    state.counters["bare_us"] = std::chrono::duration<double, std::micro>(bare_total).count() / n;
    state.counters["client_us"] = std::chrono::duration<double, std::micro>(client_total).count() / n;
    state.counters["overhead_us"] =
        std::chrono::duration<double, std::micro>(client_total - bare_total).count() / n;
}

}  // namespace

BENCHMARK(BM_paired_client_vs_bare_ping)->Arg(0)->Arg(1)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_paired_store_vs_bare)->UseRealTime()->MinTime(3.0);
BENCHMARK(BM_bare_hiredis_set_nx_then_set)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_bare_hiredis_set_nx_then_set)->UseRealTime()->MinTime(2.0)->Threads(2);
// Argument: the pool size (1 = one connection behind a mutex).
BENCHMARK(BM_redis_store_begin_complete)->Arg(8)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_redis_store_begin_complete)->Arg(8)->UseRealTime()->MinTime(2.0)->Threads(2);
BENCHMARK(BM_redis_store_begin_complete)->Arg(1)->UseRealTime()->MinTime(2.0)->Threads(2);
BENCHMARK(BM_redis_store_begin_complete_server_clock)->Arg(8)->UseRealTime()->MinTime(2.0);
