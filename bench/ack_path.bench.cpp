// SPDX-License-Identifier: MIT
// The acknowledgement path of a webhook, in-process: receive, verify, parse,
// claim the idempotency key and enqueue the job, with the durable SQLite store
// and queue (WAL, synchronous=NORMAL) on a temp file, and with the in-memory
// ones for comparison. Each iteration is a new delivery (accepted) unless the
// name says "duplicate". p50/p99 are per-request latencies measured around
// receiver.handle().
//
// Each benchmark runs for both API generations with the same verifier (an API
// key and a whsec_ secret, as calendar_sync_server has them): v1 is a
// calendar.sync_events with the x-meeting-baas-api-key header, v2 a
// calendar.event_created signed with the secret (svix-id, svix-timestamp,
// svix-signature; signed outside the timed region, as the sender does). The v2
// path verifies an HMAC-SHA256 over the body where v1 compares a key.
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/signer.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace mb = meetingbaas;

namespace {

constexpr const char* api_key = "bench-api-key-0123456789";
constexpr const char* secret = "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f";

enum class generation { v1, v2 };

std::string body_for(std::uint64_t n, generation g = generation::v1)
{
    if (g == generation::v2) {
        return R"({"event":"calendar.event_created","data":{"calendar_id":"aff72226-7c8f-46fc-864d-f349ad89eb06",)"
               R"("event_type":"one_off","series_id":"3a9e51dd-a5a6-4745-97c0-1f2e3d4c5b6a",)"
               R"("series_bot_scheduled":false,"instances":[{"event_id":"6c093e09-7cca-490d-96d9-)" +
               std::to_string(100000000000 + n) +
               R"(","start":"2026-09-16T09:00:00Z","end":"2026-09-16T09:30:00Z","title":"Weekly sync",)"
               R"("status":"confirmed","is_all_day":false,"is_exception":false,"bot_scheduled":false,)"
               R"("meeting_url":"https://meet.google.com/xqv-mtrw-kpd","meeting_platform":"meet"}]}})";
    }
    return R"({"event":"calendar.sync_events","data":{"calendar_id":"62cf1c20-6d72-4a52-9217-c391ec23d7bf",)"
           R"("last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":["bf23a894-e787-4629-8947-)" +
           std::to_string(100000000000 + n) + R"(","f9dc9fa7-9eb9-4b53-b193-2b6834706c78"]}})";
}

/// The headers a sender puts on `body`: the API key (v1), or a Svix signature
/// made now (v2).
mb::http_headers headers_for(const std::string& body, std::uint64_t n, generation g)
{
    if (g == generation::v1) {
        return {{"Content-Type", "application/json"}, {"x-meeting-baas-api-key", api_key}};
    }
    static const auto signer = *mb::svix_signer::from_secret(secret);
    auto signed_headers = signer.sign_now("msg_bench_" + std::to_string(n), body);
    if (!signed_headers) std::abort();
    auto headers = signed_headers->to_headers();
    headers.add("Content-Type", "application/json");
    return headers;
}

/// The verifier of calendar_sync_server: v1 by API key, v2 by whsec_ secret.
mb::webhook_verifier make_verifier()
{
    mb::webhook_verifier verifier;
    verifier.accept_v1(*mb::api_key_keyring::from_keys({api_key}));
    auto svix = mb::svix_verifier();
    (void)svix.add_secret(secret);
    verifier.accept_v2(std::move(svix));
    return verifier;
}

std::string temp_state()
{
    const auto dir = std::filesystem::temp_directory_path() / ("mb-ack-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "state.sqlite3";
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
    return path.string();
}

void report(benchmark::State& state, std::vector<double>& us)
{
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

template <class Receiver>
void run(benchmark::State& state, Receiver& rx, bool duplicate, generation g)
{
    std::vector<double> us;
    us.reserve(1 << 16);
    std::uint64_t n = 0;
    const std::string same = body_for(0, g);
    if (duplicate) (void)rx.handle("POST", headers_for(same, 0, g), same);
    for (auto _ : state) {
        state.PauseTiming();
        const std::string body = duplicate ? same : body_for(++n, g);
        // A duplicate is a redelivery: the same body (and, for v2, the same
        // svix-id) signed again.
        const auto headers = headers_for(body, duplicate ? 0 : n, g);
        state.ResumeTiming();
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = rx.handle("POST", headers, body);
        const auto t1 = std::chrono::steady_clock::now();
        if (r.status != 200) state.SkipWithError("not 200");
        benchmark::DoNotOptimize(r);
        if (us.size() < us.capacity())
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    report(state, us);
}

void BM_ack_sqlite(benchmark::State& state, bool duplicate, generation g)
{
    const auto path = temp_state();
    auto queue = mb::sqlite_job_queue<>::open(path);
    auto store = mb::sqlite_idempotency_store::open(path);
    if (!queue || !store) {
        state.SkipWithError("cannot open the state file");
        return;
    }
    mb::idempotency_guard guard{*store};
    const auto verifier = make_verifier();
    mb::webhook_receiver rx{mb::receiver_deps{.verifier = verifier, .guard = guard, .queue = *queue}};
    run(state, rx, duplicate, g);
}

/// The same, with automatic WAL checkpoints off on the request path's
/// connections and a PASSIVE checkpoint every 100 ms from another thread (what
/// calendar_sync_server does once per second).
void BM_ack_sqlite_checkpoint_thread(benchmark::State& state, generation g)
{
    const auto path = temp_state();
    auto open_quiet = [&]() -> mb::result<mb::sqlite::database> {
        auto db = mb::sqlite::open(path);
        if (!db) return db.error();
        if (auto r = db->exec("PRAGMA wal_autocheckpoint=0"); !r) return r.error();
        return db;
    };
    auto qdb = open_quiet();
    auto sdb = open_quiet();
    if (!qdb || !sdb) {
        state.SkipWithError("cannot open the state file");
        return;
    }
    auto queue = mb::sqlite_job_queue<>::attach(std::move(*qdb));
    auto store = mb::sqlite_idempotency_store::attach(std::move(*sdb));
    auto checkpointer_db = mb::sqlite::open(path);
    if (!queue || !store || !checkpointer_db) {
        state.SkipWithError("cannot open the state file");
        return;
    }
    std::jthread checkpointer([&](std::stop_token stop) {
        while (!stop.stop_requested()) {
            (void)checkpointer_db->exec("PRAGMA wal_checkpoint(PASSIVE)");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    mb::idempotency_guard guard{*store};
    const auto verifier = make_verifier();
    mb::webhook_receiver rx{mb::receiver_deps{.verifier = verifier, .guard = guard, .queue = *queue}};
    run(state, rx, false, g);
}

void BM_ack_memory(benchmark::State& state, bool duplicate, generation g)
{
    mb::memory_idempotency_store store;
    mb::idempotency_guard guard{store};
    mb::in_memory_job_queue<> queue;
    const auto verifier = make_verifier();
    mb::webhook_receiver rx{mb::receiver_deps{.verifier = verifier, .guard = guard, .queue = queue}};
    run(state, rx, duplicate, g);
}

void BM_enqueue_sqlite(benchmark::State& state)
{
    auto queue = mb::sqlite_job_queue<>::open(temp_state());
    if (!queue) {
        state.SkipWithError("cannot open the state file");
        return;
    }
    std::uint64_t n = 0;
    const std::string payload = body_for(0);
    for (auto _ : state) {
        auto r =
            queue->enqueue({"calendar.sync_events", payload, "key-" + std::to_string(++n), std::nullopt});
        benchmark::DoNotOptimize(r);
    }
}

void BM_lease_ack_sqlite(benchmark::State& state)
{
    auto queue = mb::sqlite_job_queue<>::open(temp_state());
    if (!queue) {
        state.SkipWithError("cannot open the state file");
        return;
    }
    const std::string payload = body_for(0);
    for (auto _ : state) {
        state.PauseTiming();
        (void)queue->enqueue({"calendar.sync_events", payload, "", std::nullopt});
        state.ResumeTiming();
        auto job = queue->lease(std::chrono::seconds(60));
        if (!job || !job->has_value()) {
            state.SkipWithError("nothing leased");
            break;
        }
        (void)queue->acknowledge((*job)->id, (*job)->lease_token);
    }
}

}  // namespace

// v1 and v2 of each benchmark run next to each other (same process, same run).
BENCHMARK_CAPTURE(BM_ack_sqlite, new_delivery_v1, false, generation::v1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_sqlite, new_delivery_v2, false, generation::v2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_sqlite, duplicate_v1, true, generation::v1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_sqlite, duplicate_v2, true, generation::v2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_sqlite_checkpoint_thread, v1, generation::v1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_sqlite_checkpoint_thread, v2, generation::v2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_memory, new_delivery_v1, false, generation::v1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_memory, new_delivery_v2, false, generation::v2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_memory, duplicate_v1, true, generation::v1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ack_memory, duplicate_v2, true, generation::v2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_enqueue_sqlite)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lease_ack_sqlite)->Unit(benchmark::kMicrosecond);
