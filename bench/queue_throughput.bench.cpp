// SPDX-License-Identifier: MIT
// Job queue throughput: enqueue + lease + acknowledge, jobs per second, for every backend, with 1 and 2
// workers (threads sharing one queue object: what one server instance does). Same run, same machine.
// Results: docs/perf/scale-out.md.
//
//   memory  in_memory_job_queue
//   sqlite  sqlite_job_queue on a file in the temporary folder (WAL, synchronous=NORMAL)
//   redis   redis_job_queue on MEETINGBAAS_BENCH_REDIS_URL or MEETINGBAAS_TEST_REDIS_URL (server clock)
//   postgres  postgres_job_queue on MEETINGBAAS_BENCH_POSTGRES_URL or MEETINGBAAS_TEST_POSTGRES_URL (server
//           clock, NOTIFY on enqueue: the defaults), a pool of 2 connections, in a schema of its own
// A backend is added with one setup function and one BENCHMARK line.
#include <meetingbaas/sync/job_queue.hpp>
#ifdef MEETINGBAAS_BENCH_SQLITE
#include <meetingbaas/adapters/sqlite/job_queue.hpp>
#endif
#ifdef MEETINGBAAS_BENCH_REDIS
#include <meetingbaas/adapters/redis/hiredis.hpp>
#include <meetingbaas/adapters/redis/job_queue.hpp>
#endif

#ifdef MEETINGBAAS_BENCH_POSTGRES
#include <meetingbaas/adapters/postgres/job_queue.hpp>
#endif

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

/// One iteration: enqueue a job, lease one, acknowledge it. Fails the benchmark on any error.
template <class Queue>
void cycle(benchmark::State& state, Queue& q, const std::string& payload)
{
    auto added = q.enqueue(mb::job_spec{"calendar.sync_events", payload, {}, std::nullopt});
    if (!added) {
        state.SkipWithError("enqueue failed");
        return;
    }
    auto job = q.lease(30s);
    if (!job) {
        state.SkipWithError("lease failed");
        return;
    }
    if (!job->has_value()) return;  // another worker took it: it acknowledges it
    if (!q.acknowledge((*job)->id, (*job)->lease_token)) state.SkipWithError("acknowledge failed");
}

// A realistic calendar.sync_events body size.
const std::string g_payload(900, 'x');

std::unique_ptr<mb::in_memory_job_queue<>> g_memory;

void BM_queue_memory(benchmark::State& state)
{
    if (state.thread_index() == 0) g_memory = std::make_unique<mb::in_memory_job_queue<>>();
    for (auto _ : state) cycle(state, *g_memory, g_payload);
    state.SetItemsProcessed(state.iterations());
}

#ifdef MEETINGBAAS_BENCH_SQLITE
std::optional<mb::sqlite_job_queue<>> g_sqlite;

void BM_queue_sqlite(benchmark::State& state)
{
    if (state.thread_index() == 0) {
        const auto path = std::filesystem::temp_directory_path() /
                          ("mb-bench-queue-" + std::to_string(::getpid()) + ".sqlite3");
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
        g_sqlite.reset();
        auto q = mb::sqlite_job_queue<>::open(path.string());
        if (!q) {
            state.SkipWithError("cannot open SQLite");
            return;
        }
        g_sqlite.emplace(std::move(*q));
    }
    for (auto _ : state) cycle(state, *g_sqlite, g_payload);
    state.SetItemsProcessed(state.iterations());
}
#endif

#ifdef MEETINGBAAS_BENCH_REDIS
std::optional<mb::redis_job_queue<mb::redis::hiredis_client>> g_redis;

void BM_queue_redis(benchmark::State& state)
{
    if (state.thread_index() == 0) {
        std::optional<std::string> url;
        for (const char* name : {"MEETINGBAAS_BENCH_REDIS_URL", "MEETINGBAAS_TEST_REDIS_URL"}) {
            if (const char* v = std::getenv(name); v != nullptr && *v != '\0') url = v;
            if (url) break;
        }
        if (!url) {
            state.SkipWithError("set MEETINGBAAS_TEST_REDIS_URL");
            return;
        }
        auto c = mb::redis::hiredis_client::connect(*url);
        if (!c) {
            state.SkipWithError("cannot connect to Redis");
            return;
        }
        g_redis.emplace(std::move(*c),
                        mb::redis_queue_options{.prefix = "mbbench:q:" + std::to_string(::getpid()) + ":"});
    }
    for (auto _ : state) cycle(state, *g_redis, g_payload);
    state.SetItemsProcessed(state.iterations());
}
#endif

#ifdef MEETINGBAAS_BENCH_POSTGRES
/// The queue and its schema ("mbbench_q_<pid>", dropped again at exit).
struct postgres_bench_queue {
    std::string url;
    std::string schema = "mbbench_q_" + std::to_string(::getpid());
    std::optional<mb::postgres_job_queue<>> queue;

    postgres_bench_queue() = default;
    postgres_bench_queue(const postgres_bench_queue&) = delete;
    postgres_bench_queue& operator=(const postgres_bench_queue&) = delete;
    postgres_bench_queue(postgres_bench_queue&&) = delete;
    postgres_bench_queue& operator=(postgres_bench_queue&&) = delete;
    ~postgres_bench_queue()
    {
        queue.reset();
        drop_schema();
    }
    void drop_schema() const
    {
        if (url.empty()) return;
        if (auto c = mb::pg::connection::open(url))
            (void)c->exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }
};
postgres_bench_queue g_postgres;

/// Opens the queue (thread 0, before the threads start together), or says why it could not.
std::string open_postgres_queue()
{
    g_postgres.queue.reset();
    for (const char* name : {"MEETINGBAAS_BENCH_POSTGRES_URL", "MEETINGBAAS_TEST_POSTGRES_URL"}) {
        if (const char* v = std::getenv(name); v != nullptr && *v != '\0' && g_postgres.url.empty())
            g_postgres.url = v;
    }
    if (g_postgres.url.empty()) return "set MEETINGBAAS_TEST_POSTGRES_URL";
    g_postgres.drop_schema();
    mb::pg::pool_options o;
    o.conninfo = g_postgres.url;
    o.max_connections = 2;
    auto pool = mb::pg::pool::create(std::move(o));
    if (!pool) return "cannot connect to PostgreSQL: " + mb::to_string(pool.error());
    auto q = mb::postgres_job_queue<>::open(std::move(*pool), {}, {.schema = g_postgres.schema});
    if (!q) return "cannot open the PostgreSQL queue: " + mb::to_string(q.error());
    g_postgres.queue.emplace(std::move(*q));
    return {};
}
std::string g_postgres_error;

void BM_queue_postgres(benchmark::State& state)
{
    if (state.thread_index() == 0) g_postgres_error = open_postgres_queue();
    for (auto _ : state) {
        if (!g_postgres.queue) {  // every thread enters the loop (it starts together), then stops
            state.SkipWithError(g_postgres_error.c_str());
            break;
        }
        cycle(state, *g_postgres.queue, g_payload);
    }
    state.SetItemsProcessed(state.iterations());
}
#endif

}  // namespace

BENCHMARK(BM_queue_memory)->UseRealTime()->MinTime(1.0)->Threads(1)->Threads(2);
#ifdef MEETINGBAAS_BENCH_SQLITE
BENCHMARK(BM_queue_sqlite)->UseRealTime()->MinTime(2.0)->Threads(1)->Threads(2);
#endif
#ifdef MEETINGBAAS_BENCH_REDIS
BENCHMARK(BM_queue_redis)->UseRealTime()->MinTime(2.0)->Threads(1)->Threads(2);
#endif
#ifdef MEETINGBAAS_BENCH_POSTGRES
BENCHMARK(BM_queue_postgres)->UseRealTime()->MinTime(2.0)->Threads(1)->Threads(2);
#endif
