// SPDX-License-Identifier: MIT
// begin + complete on memory_idempotency_store vs the seed's approach (a std::mutex around a
// std::unordered_set<std::string>), 1 and 2 threads, in the same run; bytes per retained key; and
// begin + complete on the SQLite store (WAL, synchronous=NORMAL). Results: docs/perf/idempotency.md.
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#ifdef MEETINGBAAS_BENCH_SQLITE
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#endif

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace mb = meetingbaas;

namespace {

constexpr std::int64_t iterations = 400'000;  // per thread; every iteration uses a fresh key

// Realistic keys: what svix_delivery_key() produces for Svix message ids (~45 bytes).
std::vector<std::vector<mb::idempotency_key>> make_keys(int threads)
{
    std::vector<std::vector<mb::idempotency_key>> keys(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
        auto& v = keys[static_cast<std::size_t>(t)];
        v.reserve(static_cast<std::size_t>(iterations));
        for (std::int64_t i = 0; i < iterations; ++i) {
            v.push_back(mb::svix_delivery_key("msg_2mQw8ZrT4vKp9XcN1b" + std::to_string(t) + "_" +
                                              std::to_string(i)));
        }
    }
    return keys;
}

// The seed's approach.
struct seed_set {
    std::mutex mutex;
    std::unordered_set<std::string> seen;
    bool first_time(const std::string& key)
    {
        const std::lock_guard lock(mutex);
        return seen.insert(key).second;
    }
};

std::vector<std::vector<mb::idempotency_key>> g_keys;
std::unique_ptr<seed_set> g_seed;
std::unique_ptr<mb::memory_idempotency_store> g_store;

void setup_seed(const benchmark::State& state)
{
    g_keys = make_keys(static_cast<int>(state.threads()));
    g_seed = std::make_unique<seed_set>();
}
void setup_memory(const benchmark::State& state)
{
    g_keys = make_keys(static_cast<int>(state.threads()));
    g_store = std::make_unique<mb::memory_idempotency_store>();
}
void teardown(const benchmark::State&)
{
    g_seed.reset();
    g_store.reset();
    g_keys.clear();
}

void BM_seed_mutex_unordered_set(benchmark::State& state)
{
    const auto& keys = g_keys[static_cast<std::size_t>(state.thread_index())];
    std::size_t i = 0;
    for (auto _ : state) {
        const bool first = g_seed->first_time(keys[i++].str());
        benchmark::DoNotOptimize(first);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_memory_store_begin_complete(benchmark::State& state)
{
    mb::idempotency_guard guard{*g_store};
    const auto& keys = g_keys[static_cast<std::size_t>(state.thread_index())];
    std::size_t i = 0;
    for (auto _ : state) {
        auto begun = guard.begin(keys[i++]);
        if (!begun || !begun->acquired()) std::abort();
        auto done = guard.complete(begun->claim);
        if (!done) std::abort();
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_seed_mutex_unordered_set)
    ->Setup(setup_seed)
    ->Teardown(teardown)
    ->Iterations(iterations)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_memory_store_begin_complete)
    ->Setup(setup_memory)
    ->Teardown(teardown)
    ->Iterations(iterations)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// Heap bytes per retained key (glibc mallinfo2: bytes in use), for several key counts (both containers
// grow in steps, so the figure depends on where in a step the count falls), 1 thread.
std::size_t heap_in_use()
{
    return mallinfo2().uordblks;
}

void BM_bytes_per_key_seed(benchmark::State& state)
{
    auto keys = make_keys(1);
    keys[0].resize(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        const auto before = heap_in_use();
        auto set = std::make_unique<seed_set>();
        for (const auto& k : keys[0]) set->first_time(k.str());
        state.counters["bytes_per_key"] =
            static_cast<double>(heap_in_use() - before) / static_cast<double>(keys[0].size());
    }
}
void BM_bytes_per_key_memory_store(benchmark::State& state)
{
    auto keys = make_keys(1);
    keys[0].resize(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        const auto before = heap_in_use();
        auto store = std::make_unique<mb::memory_idempotency_store>();
        mb::idempotency_guard guard{*store};
        for (const auto& k : keys[0]) {
            auto begun = guard.begin(k);
            if (!begun || !guard.complete(begun->claim)) std::abort();
        }
        state.counters["bytes_per_key"] =
            static_cast<double>(heap_in_use() - before) / static_cast<double>(keys[0].size());
    }
}
BENCHMARK(BM_bytes_per_key_seed)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->Arg(100'000)
    ->Arg(250'000)
    ->Arg(400'000);
BENCHMARK(BM_bytes_per_key_memory_store)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->Arg(100'000)
    ->Arg(250'000)
    ->Arg(400'000);

#ifdef MEETINGBAAS_BENCH_SQLITE
void BM_sqlite_store_begin_complete(benchmark::State& state)
{
    const auto path = (std::filesystem::temp_directory_path() / "mb_idem_bench.db").string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto store = mb::sqlite_idempotency_store::open(
        path, {.wal = true, .synchronous = mb::sqlite::synchronous_mode::normal});
    if (!store) std::abort();
    mb::idempotency_guard guard{*store};
    std::int64_t i = 0;
    for (auto _ : state) {
        auto begun = guard.begin(mb::svix_delivery_key("msg_2mQw8ZrT4vKp9XcN1b_" + std::to_string(i++)));
        if (!begun || !begun->acquired()) std::abort();
        if (!guard.complete(begun->claim)) std::abort();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_sqlite_store_begin_complete)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
#endif

}  // namespace
