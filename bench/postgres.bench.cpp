// SPDX-License-Identifier: MIT
// PostgreSQL adapter benchmarks (issue 15), against the loopback server in MEETINGBAAS_TEST_POSTGRES_URL
// (source .ci/services.sh && start_postgres). Results: docs/perf/scale-out.md, section PostgreSQL.
//
//  * begin + complete through postgres_idempotency_store (via idempotency_guard) vs the bare-libpq
//    baseline: the same two statements (INSERT ... ON CONFLICT DO NOTHING, then UPDATE), prepared, on the
//    same connection, binary parameters, blocking PQexecPrepared. Both make two round trips per key.
//    Unpaired (one benchmark each) and paired (both in one loop, alternating).
//  * the pool's own cost per acquire + give back.
// Queue throughput (memory, SQLite, Redis, PostgreSQL) is in queue_throughput.bench.cpp.
#include <meetingbaas/adapters/postgres/idempotency_store.hpp>
#include <meetingbaas/idempotency/guard.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

namespace mb = meetingbaas;

namespace {

std::string server_url()
{
    const char* u = std::getenv("MEETINGBAAS_TEST_POSTGRES_URL");  // NOLINT(concurrency-mt-unsafe)
    return u != nullptr ? u : "";
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

void be64(std::int64_t v, char* out)
{
    for (int b = 7; b >= 0; --b) {
        out[b] = static_cast<char>(static_cast<std::uint64_t>(v) & 0xFFU);
        v = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) >> 8U);
    }
}

/// Everything the benchmarks use, set up once (schemas, tables, connections, prepared statements) and
/// reused by every repetition, so that repetitions can be interleaved without DDL between them. The
/// schemas are dropped at exit.
struct environment {
    std::string url;
    std::string error;
    std::string pid = std::to_string(::getpid());
    std::vector<std::string> schemas;
    std::unique_ptr<mb::postgres_idempotency_store> store;
    std::shared_ptr<mb::pg::pool> store_pool;  // one connection: the store's, which the baseline borrows
    PGconn* bare = nullptr;
    std::shared_ptr<mb::pg::pool> overhead_pool;

    environment() = default;
    environment(const environment&) = delete;
    environment& operator=(const environment&) = delete;
    environment(environment&&) = delete;
    environment& operator=(environment&&) = delete;
    ~environment()
    {
        store.reset();
        overhead_pool.reset();
        bare = nullptr;  // owned by store_pool
        store_pool.reset();
        for (const auto& s : schemas) drop_schema(url, s);
    }

    std::string schema(const char* what)
    {
        schemas.push_back(std::string("mbbench_") + what + "_" + pid);
        drop_schema(url, schemas.back());
        return schemas.back();
    }

    void set_up()
    {
        url = server_url();
        if (url.empty()) {
            error = "MEETINGBAAS_TEST_POSTGRES_URL is not set";
            return;
        }
        store_pool = make_pool(url, 1);
        auto s = mb::postgres_idempotency_store::open(store_pool, {.schema = schema("guard")});
        if (!s) {
            error = mb::to_string(s.error());
            return;
        }
        store = std::make_unique<mb::postgres_idempotency_store>(std::move(*s));
        overhead_pool = make_pool(url, 2);
        set_up_bare();
    }

    // The baseline's own connection: default libpq settings, the same table shape, two prepared statements.
    // The baseline runs on the very connection (and so the same server backend) the store uses: on a loaded
    // machine two backends can differ by 2x for reasons of their own (measured). It borrows the raw PGconn;
    // bare_usable() checks that the pool still holds that one connection before each use.
    void set_up_bare()
    {
        {
            auto h = store_pool ? store_pool->acquire() : mb::result<mb::pg::pool::handle>(mb::error{});
            if (!h) {
                error = "no connection for the baseline";
                return;
            }
            bare = (*h)->native_handle();
        }
        const std::string t = "\"" + schema("bare") + "\".idem";
        PQclear(PQexec(
            bare, ("SET client_min_messages = warning; CREATE SCHEMA \"" + schemas.back() +
                   "\"; CREATE TABLE " + t +
                   " (key bytea PRIMARY KEY, state smallint NOT NULL, outcome smallint NOT NULL, fence "
                   "bigint NOT NULL, expires_us bigint NOT NULL, fingerprint bytea NOT NULL, outcome_data "
                   "bytea NOT NULL); CREATE INDEX ON " +
                   t + " (expires_us)")
                      .c_str()));
        const Oid insert_types[] = {17, 20, 20, 20, 20, 17, 17};
        PQclear(PQprepare(
            bare, "ins",
            ("INSERT INTO " + t +
             " (key, state, outcome, fence, expires_us, fingerprint, outcome_data) VALUES ($1, $2, $3, "
             "$4, $5, $6, $7) ON CONFLICT (key) DO NOTHING")
                .c_str(),
            7, insert_types));
        const Oid update_types[] = {17, 20, 20, 20, 20, 20, 17, 17};
        PQclear(PQprepare(bare, "upd",
                          ("UPDATE " + t +
                           " SET state = $3, outcome = $4, fence = $5, expires_us = $6, fingerprint = $7, "
                           "outcome_data = $8 WHERE key = $1 AND fence = $2")
                              .c_str(),
                          8, update_types));
    }
};

/// The borrowed connection is still the pool's only one (never discarded nor replaced).
bool bare_usable(const environment& e)
{
    if (e.bare == nullptr || !e.store_pool) return false;
    const auto st = e.store_pool->stats();
    return st.connects == 1 && st.discarded == 0 && PQstatus(e.bare) == CONNECTION_OK;
}

environment& env()
{
    static environment e;
    static std::once_flag once;
    std::call_once(once, [] { e.set_up(); });
    return e;
}

std::atomic<std::uint64_t> key_counter{0};

// ---- 1. begin + complete ----------------------------------------------------------------------------

void BM_pg_guard_begin_complete(benchmark::State& state)
{
    auto& e = env();
    if (!e.store) {
        state.SkipWithError(e.error.c_str());
        return;
    }
    auto guard = mb::make_idempotency_guard(*e.store, {});
    if (!guard) return;
    for (auto _ : state) {
        auto b = guard->begin(mb::make_key("bench", e.pid, key_counter.fetch_add(1)),
                              "fingerprint-0123456789abcdef");
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
}
BENCHMARK(BM_pg_guard_begin_complete)->UseRealTime();

/// The baseline's one key: raw libpq, blocking PQexecPrepared, the same table shape, the same two
/// statements with the same values, binary parameters. False when a statement failed.
bool bare_begin_complete(PGconn* c, const mb::idempotency_key& key)
{
    static const std::string fp = "fingerprint-0123456789abcdef";
    static const std::string data = "HTTP 201";
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
    return inserted && updated;
}

void BM_pg_bare_libpq_insert_update(benchmark::State& state)
{
    auto& e = env();
    if (e.bare == nullptr || !e.error.empty()) {
        state.SkipWithError(e.error.c_str());
        return;
    }
    for (auto _ : state) {
        // The same key text the guard builds, so both sides send the same bytes.
        if (!bare_usable(e) ||
            !bare_begin_complete(e.bare, mb::make_key("bench", e.pid, key_counter.fetch_add(1)))) {
            state.SkipWithError(PQerrorMessage(e.bare));
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pg_bare_libpq_insert_update)->UseRealTime();

/// Both sides in one loop, alternating which goes first, each timed on its own: a loaded machine slows
/// both sides of a pair alike, so the ratio of the two is the number to read (docs/perf/scale-out.md).
/// Counters: store_us and bare_us per key (totals), ratio (their quotient), batch_ratio (the median of
/// the ratios of batches of 32 pairs).
void BM_pg_paired_store_vs_bare(benchmark::State& state)
{
    auto& e = env();
    if (!e.store || e.bare == nullptr || !e.error.empty()) {
        state.SkipWithError(e.error.c_str());
        return;
    }
    auto guard = mb::make_idempotency_guard(*e.store, {});
    if (!guard) return;
    using clock = std::chrono::steady_clock;
    clock::duration store_total{};
    clock::duration bare_total{};
    clock::duration store_batch{};
    clock::duration bare_batch{};
    std::vector<double> batch_ratios;
    std::uint64_t i = 0;
    for (auto _ : state) {
        const auto store_key = mb::make_key("bench", e.pid, key_counter.fetch_add(1));
        const auto bare_key = mb::make_key("bench", e.pid, key_counter.fetch_add(1));
        auto run_store = [&] {
            const auto t0 = clock::now();
            auto b = guard->begin(store_key, "fingerprint-0123456789abcdef");
            const bool ok =
                b && b->acquired() && guard->complete(b->claim, mb::work_outcome::applied, "HTTP 201");
            const auto d = clock::now() - t0;
            store_total += d;
            store_batch += d;
            return ok;
        };
        auto run_bare = [&] {
            const auto t0 = clock::now();
            const bool ok = bare_usable(e) && bare_begin_complete(e.bare, bare_key);
            const auto d = clock::now() - t0;
            bare_total += d;
            bare_batch += d;
            return ok;
        };
        const bool ok = (i++ % 2 == 0) ? (run_store() && run_bare()) : (run_bare() && run_store());
        if (!ok) {
            state.SkipWithError("begin/complete failed");
            break;
        }
        if (i % 32 == 0) {
            batch_ratios.push_back(std::chrono::duration<double>(store_batch).count() /
                                   std::chrono::duration<double>(bare_batch).count());
            store_batch = bare_batch = {};
        }
    }
    const auto n = static_cast<double>(state.iterations() == 0 ? 1 : state.iterations());
    state.counters["store_us"] = std::chrono::duration<double, std::micro>(store_total).count() / n;
    state.counters["bare_us"] = std::chrono::duration<double, std::micro>(bare_total).count() / n;
    state.counters["ratio"] = std::chrono::duration<double>(store_total).count() /
                              std::chrono::duration<double>(bare_total).count();
    if (!batch_ratios.empty()) {
        std::sort(batch_ratios.begin(), batch_ratios.end());
        state.counters["batch_ratio"] = batch_ratios[batch_ratios.size() / 2];
    }
}
BENCHMARK(BM_pg_paired_store_vs_bare)->UseRealTime();

// ---- pool overhead -----------------------------------------------------------------------------------

/// pg::pool::acquire + give back, no statement: the pool's own cost per call (a mutex, the idle check's
/// poll(2) on the socket). 1 and 2 threads over a pool of 2 connections.
void BM_pg_pool_acquire_release(benchmark::State& state)
{
    auto& e = env();
    for (auto _ : state) {
        if (!e.overhead_pool) {
            state.SkipWithError(e.error.c_str());
            break;
        }
        auto h = e.overhead_pool->acquire();
        if (!h) {
            state.SkipWithError("acquire failed");
            break;
        }
        benchmark::DoNotOptimize((*h)->backend_pid());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pg_pool_acquire_release)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
