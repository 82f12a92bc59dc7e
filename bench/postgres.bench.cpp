// SPDX-License-Identifier: MIT
// PostgreSQL adapter benchmarks (issue 15), against the loopback server in MEETINGBAAS_TEST_POSTGRES_URL
// (source .ci/services.sh && start_postgres). Results: docs/perf/scale-out.md.
//
//  1. begin + complete through postgres_idempotency_store (via idempotency_guard) vs the bare-libpq
//     baseline: the same two statements (INSERT ... ON CONFLICT DO NOTHING, then UPDATE), prepared, on one
//     connection, binary parameters, blocking PQexecPrepared. Both make two round trips per key.
//  2. queue throughput: enqueue + lease + acknowledge per iteration, 1 and 2 threads, for the in-memory,
//     SQLite and PostgreSQL queues (PostgreSQL with and without NOTIFY on enqueue). items/s = jobs/s.
#include <meetingbaas/adapters/postgres/idempotency_store.hpp>
#include <meetingbaas/adapters/postgres/job_queue.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/sync/job_queue.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

namespace mb = meetingbaas;

namespace {

std::string server_url()
{
    const char* u = std::getenv("MEETINGBAAS_TEST_POSTGRES_URL");  // NOLINT(concurrency-mt-unsafe)
    return u != nullptr ? u : "";
}

std::string bench_schema(const char* what)
{
    return std::string("mbbench_") + what + "_" + std::to_string(::getpid());
}

void drop_schema(const std::string& url, const std::string& schema)
{
    auto c = mb::pg::connection::open(url);
    if (c) (void)c->exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
}

std::shared_ptr<mb::pg::pool> make_pool(const std::string& url, std::size_t n)
{
    mb::pg::pool_options o;
    o.conninfo = url;
    o.max_connections = n;
    auto p = mb::pg::pool::create(std::move(o));
    return p ? std::move(*p) : nullptr;
}

std::atomic<std::uint64_t> key_counter{0};

// ---- 1. begin + complete ----------------------------------------------------------------------------

void BM_pg_guard_begin_complete(benchmark::State& state)
{
    const auto url = server_url();
    if (url.empty()) {
        state.SkipWithError("MEETINGBAAS_TEST_POSTGRES_URL is not set");
        return;
    }
    const auto schema = bench_schema("guard");
    drop_schema(url, schema);
    auto store = mb::postgres_idempotency_store::open(make_pool(url, 1), {.schema = schema});
    if (!store) {
        state.SkipWithError(mb::to_string(store.error()).c_str());
        return;
    }
    auto guard = mb::make_idempotency_guard(*store, {});
    if (!guard) return;
    const std::string run = std::to_string(::getpid()) + "-" + std::to_string(key_counter.fetch_add(1));
    std::uint64_t i = 0;
    for (auto _ : state) {
        auto b = guard->begin(mb::make_key("bench", run, i++), "fingerprint-0123456789abcdef");
        if (!b || !b->acquired()) {
            state.SkipWithError("begin failed");
            break;
        }
        if (!guard->complete(b->claim, mb::work_outcome::applied, "HTTP 201")) {
            state.SkipWithError("complete failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    drop_schema(url, schema);
}
BENCHMARK(BM_pg_guard_begin_complete)->UseRealTime();

/// The baseline: raw libpq, the same table shape, the same two statements, binary parameters.
void BM_pg_bare_libpq_insert_update(benchmark::State& state)
{
    const auto url = server_url();
    if (url.empty()) {
        state.SkipWithError("MEETINGBAAS_TEST_POSTGRES_URL is not set");
        return;
    }
    const auto schema = bench_schema("bare");
    drop_schema(url, schema);
    PGconn* c = PQconnectdb(url.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        state.SkipWithError(PQerrorMessage(c));
        PQfinish(c);
        return;
    }
    const std::string t = "\"" + schema + "\".idem";
    PQclear(PQexec(
        c, ("SET client_min_messages = warning; CREATE SCHEMA \"" + schema + "\"; CREATE TABLE " + t +
            " (key bytea PRIMARY KEY, state smallint NOT NULL, outcome smallint NOT NULL, fence bigint NOT "
            "NULL, expires_us bigint NOT NULL, fingerprint bytea NOT NULL, outcome_data bytea NOT NULL);"
            " CREATE INDEX ON " +
            t + " (expires_us)")
               .c_str()));
    const Oid insert_types[] = {17, 20, 20, 20, 20, 17, 17};
    PQclear(PQprepare(
        c, "ins",
        ("INSERT INTO " + t +
         " (key, state, outcome, fence, expires_us, fingerprint, outcome_data) VALUES ($1, $2, $3, $4, "
         "$5, $6, $7) ON CONFLICT (key) DO NOTHING")
            .c_str(),
        7, insert_types));
    const Oid update_types[] = {17, 20, 20, 20, 20, 20, 17, 17};
    PQclear(PQprepare(
        c, "upd",
        ("UPDATE " + t +
         " SET state = $3, outcome = $4, fence = $5, expires_us = $6, fingerprint = $7, outcome_data = "
         "$8 WHERE key = $1 AND fence = $2")
            .c_str(),
        8, update_types));
    auto be64 = [](std::int64_t v, char* out) {
        for (int b = 7; b >= 0; --b) {
            out[b] = static_cast<char>(static_cast<std::uint64_t>(v) & 0xFFU);
            v = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) >> 8U);
        }
    };
    const std::string run = std::to_string(::getpid()) + "-" + std::to_string(key_counter.fetch_add(1));
    const std::string fp = "fingerprint-0123456789abcdef";
    const std::string data = "HTTP 201";
    std::uint64_t i = 0;
    for (auto _ : state) {
        // The same key text the guard builds, so both sides send the same bytes.
        const auto key = mb::make_key("bench", run, i++);
        const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        char n[6][8];
        be64(1, n[0]);
        be64(0, n[1]);
        be64(now, n[2]);
        be64(now + 120'000'000, n[3]);
        const char* iv[] = {key.view().data(), n[0], n[1], n[2], n[3], fp.data(), ""};
        const int il[] = {static_cast<int>(key.size()), 8, 8, 8, 8, static_cast<int>(fp.size()), 0};
        const int ifmt[] = {1, 1, 1, 1, 1, 1, 1};
        PGresult* r = PQexecPrepared(c, "ins", 7, iv, il, ifmt, 1);
        const bool inserted = PQresultStatus(r) == PGRES_COMMAND_OK && std::strcmp(PQcmdTuples(r), "1") == 0;
        PQclear(r);
        be64(2, n[4]);
        be64(now + 259'200'000'000, n[5]);
        char fence2[8];
        be64(now + 1, fence2);
        const char* uv[] = {key.view().data(), n[2], n[4], n[0], fence2, n[5], fp.data(), data.data()};
        const int ul[] = {static_cast<int>(key.size()), 8, 8, 8, 8, 8, static_cast<int>(fp.size()),
                          static_cast<int>(data.size())};
        const int ufmt[] = {1, 1, 1, 1, 1, 1, 1, 1};
        r = PQexecPrepared(c, "upd", 8, uv, ul, ufmt, 1);
        const bool updated = PQresultStatus(r) == PGRES_COMMAND_OK && std::strcmp(PQcmdTuples(r), "1") == 0;
        PQclear(r);
        if (!inserted || !updated) {
            state.SkipWithError(PQerrorMessage(c));
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    PQclear(PQexec(c, ("DROP SCHEMA \"" + schema + "\" CASCADE").c_str()));
    PQfinish(c);
}
BENCHMARK(BM_pg_bare_libpq_insert_update)->UseRealTime();

// ---- pool overhead -----------------------------------------------------------------------------------

/// pg::pool::acquire + give back, no statement: the pool's own cost per call (a mutex, the idle check's
/// poll(2) on the socket). 1 and 2 threads over a pool of 2 connections.
std::shared_ptr<mb::pg::pool> overhead_pool;
void BM_pg_pool_acquire_release(benchmark::State& state)
{
    if (state.thread_index() == 0) {
        const auto url = server_url();
        overhead_pool = url.empty() ? nullptr : make_pool(url, 2);
    }
    for (auto _ : state) {
        if (!overhead_pool) {
            state.SkipWithError("MEETINGBAAS_TEST_POSTGRES_URL is not set or unreachable");
            break;
        }
        auto h = overhead_pool->acquire();
        if (!h) {
            state.SkipWithError("acquire failed");
            break;
        }
        benchmark::DoNotOptimize((*h)->backend_pid());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pg_pool_acquire_release)->Threads(1)->Threads(2)->UseRealTime();

// ---- 2. queue throughput ----------------------------------------------------------------------------

/// One queue shared by the benchmark's threads (set up by thread 0, torn down by thread 0).
template <class Queue>
struct shared_queue {
    std::unique_ptr<Queue> queue;
    std::string error;
};

template <class Queue>
void queue_cycle(benchmark::State& state, shared_queue<Queue>& shared)
{
    const std::string payload(512, 'p');  // about the size of a calendar.sync_events body
    for (auto _ : state) {
        // Read the shared queue inside the loop: its start is the barrier after thread 0's setup.
        if (!shared.queue) {
            state.SkipWithError(shared.error.empty() ? "no queue" : shared.error.c_str());
            break;
        }
        Queue& q = *shared.queue;
        if (!q.enqueue({"calendar.sync_events", payload, "", std::nullopt})) {
            state.SkipWithError("enqueue failed");
            break;
        }
        auto job = q.lease(std::chrono::minutes(1));
        if (!job) {
            state.SkipWithError("lease failed");
            break;
        }
        if (!job->has_value()) continue;  // another thread took it; it will ack that one
        if (!q.acknowledge((*job)->id, (*job)->lease_token)) {
            state.SkipWithError("acknowledge failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

shared_queue<mb::in_memory_job_queue<>> memory_queue;
void BM_queue_memory(benchmark::State& state)
{
    if (state.thread_index() == 0) memory_queue.queue = std::make_unique<mb::in_memory_job_queue<>>();
    queue_cycle(state, memory_queue);
}
BENCHMARK(BM_queue_memory)->Threads(1)->Threads(2)->UseRealTime();

shared_queue<mb::sqlite_job_queue<>> sqlite_queue;
std::string sqlite_path;
void BM_queue_sqlite(benchmark::State& state)
{
    if (state.thread_index() == 0) {
        sqlite_path = (std::filesystem::temp_directory_path() /
                       ("mb-bench-queue-" + std::to_string(::getpid()) + ".db"))
                          .string();
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path + suffix);
        auto q = mb::sqlite_job_queue<>::open(sqlite_path);
        sqlite_queue.queue.reset();
        if (q) {
            sqlite_queue.queue = std::make_unique<mb::sqlite_job_queue<>>(std::move(*q));
        } else {
            sqlite_queue.error = mb::to_string(q.error());
        }
    }
    queue_cycle(state, sqlite_queue);
}
BENCHMARK(BM_queue_sqlite)->Threads(1)->Threads(2)->UseRealTime();

shared_queue<mb::postgres_job_queue<>> pg_queue;
std::string pg_schema;
void pg_queue_setup(bool notify)
{
    const auto url = server_url();
    if (url.empty()) {
        pg_queue.error = "MEETINGBAAS_TEST_POSTGRES_URL is not set";
        return;
    }
    pg_queue.queue.reset();
    if (!pg_schema.empty()) drop_schema(url, pg_schema);
    pg_schema = bench_schema(notify ? "queue_notify" : "queue");
    drop_schema(url, pg_schema);
    auto q = mb::postgres_job_queue<>::open(make_pool(url, 2), {}, {.schema = pg_schema, .notify = notify});
    if (q) {
        pg_queue.queue = std::make_unique<mb::postgres_job_queue<>>(std::move(*q));
    } else {
        pg_queue.error = mb::to_string(q.error());
    }
}

void BM_queue_postgres(benchmark::State& state)
{
    if (state.thread_index() == 0) pg_queue_setup(true);
    queue_cycle(state, pg_queue);
}
BENCHMARK(BM_queue_postgres)->Threads(1)->Threads(2)->UseRealTime();

void BM_queue_postgres_no_notify(benchmark::State& state)
{
    if (state.thread_index() == 0) pg_queue_setup(false);
    queue_cycle(state, pg_queue);
}
BENCHMARK(BM_queue_postgres_no_notify)->Threads(1)->Threads(2)->UseRealTime();

/// Drops the last queue's schema and file at exit (declared after the queues: destroyed before them).
struct cleanup_at_exit {
    cleanup_at_exit() = default;
    cleanup_at_exit(const cleanup_at_exit&) = delete;
    cleanup_at_exit& operator=(const cleanup_at_exit&) = delete;
    cleanup_at_exit(cleanup_at_exit&&) = delete;
    cleanup_at_exit& operator=(cleanup_at_exit&&) = delete;
    ~cleanup_at_exit()
    {
        pg_queue.queue.reset();
        overhead_pool.reset();
        if (!pg_schema.empty()) drop_schema(server_url(), pg_schema);
        sqlite_queue.queue.reset();
        if (!sqlite_path.empty()) {
            std::error_code ec;
            for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path + suffix, ec);
        }
    }
} cleanup;

}  // namespace
