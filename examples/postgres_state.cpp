// SPDX-License-Identifier: MIT
// Shared state in PostgreSQL for several server instances (issue 15): one connection pool, the
// idempotency store (deduplicating deliveries), the job queue (acknowledge now, process later; workers
// woken by LISTEN/NOTIFY), the calendar event state, the shared write-rate limiter, and the health probe.
//
//   postgres_state [postgresql://user@host:5432/db]   (default: $MEETINGBAAS_TEST_POSTGRES_URL)
//
// Everything lives in a schema of its own ("example_<pid>"), dropped at the end. Without a server the
// example says so and exits 0 (1 under CI=true, where .ci/run provides one).
#include <meetingbaas/adapters/postgres.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <unistd.h>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

int fail(const char* what, const mb::error& e)
{
    std::fprintf(stderr, "%s: %s\n", what, mb::to_string(e).c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv)
{
    const char* env_url = std::getenv("MEETINGBAAS_TEST_POSTGRES_URL");  // NOLINT(concurrency-mt-unsafe)
    const std::string url = argc > 1 ? argv[1] : env_url != nullptr ? env_url : "";
    if (url.empty()) {
        const char* ci = std::getenv("CI");  // NOLINT(concurrency-mt-unsafe)
        std::puts("postgres_state: no PostgreSQL URL (argument or MEETINGBAAS_TEST_POSTGRES_URL): skipped");
        return ci != nullptr && std::string(ci) == "true" ? 1 : 0;
    }

    // One pool per process, shared by every store. An unreachable server is an error here, at start.
    mb::pg::pool_options pool_options;
    pool_options.conninfo = url;
    pool_options.max_connections = 4;  // receivers + workers that run statements at the same time
    auto pool = mb::pg::pool::create(pool_options);
    if (!pool) return fail("state unreachable at start", pool.error());

    const std::string schema = "example_" + std::to_string(::getpid());
    auto store = mb::postgres_idempotency_store::open(*pool, {.schema = schema});
    if (!store) return fail("idempotency store", store.error());
    auto queue = mb::postgres_job_queue<>::open(*pool, {}, {.schema = schema});
    if (!queue) return fail("job queue", queue.error());
    auto events = mb::postgres_event_state::open(*pool, {.schema = schema});
    if (!events) return fail("event state", events.error());
    auto limiter = mb::postgres_rate_limiter<>::open(
        *pool, {.schema = schema, .bucket = "team-42", .limits = {.per_second = 5}});
    if (!limiter) return fail("rate limiter", limiter.error());

    // Idempotency leases on the database's clock, so that instances with skewed clocks agree.
    // (Default options: this cannot fail, so it returns the guard itself.)
    auto guard = mb::make_idempotency_guard(*store, store->server_clock());

    // A worker: waits on LISTEN/NOTIFY (polling every second as the fallback), leases, processes, settles.
    std::atomic<bool> stop{false};
    std::atomic<int> processed{0};
    std::thread worker([&] {
        while (!stop.load()) {
            auto job = queue->lease(30s);
            if (!job) {
                std::fprintf(stderr, "lease: %s\n", mb::to_string(job.error()).c_str());
                std::this_thread::sleep_for(200ms);
                continue;
            }
            if (!job->has_value()) {
                // Sleep until the next due job (a retry later), at most 1 s; any instance's enqueue wakes us.
                auto wait = std::chrono::milliseconds(1s);
                if (auto due = queue->next_due(); due && due->has_value()) {
                    const auto until = **due - mb::queue_now(store->server_clock());
                    wait =
                        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until), 1ms, wait);
                }
                (void)queue->wait_for_work(wait);
                continue;
            }
            const auto& j = **job;
            // Process: remember the newest applied version, and take a write permit before calling the API.
            (void)events->record_applied(j.payload,
                                         mb::utc_time(std::chrono::microseconds(1'789'000'000'000'000)));
            auto permit = limiter->try_acquire();
            if (permit && permit->granted) {
                (void)queue->acknowledge(j.id, j.lease_token);
                processed.fetch_add(1);
            } else {
                const auto wait = permit ? permit->retry_in : std::chrono::milliseconds(1000);
                (void)queue->retry_later(j.id, j.lease_token, mb::queue_now(store->server_clock()) + wait,
                                         "waiting for a write permit");
            }
        }
    });

    // Three deliveries, one of them twice: the duplicate is answered from the store, never enqueued again.
    int accepted = 0;
    int duplicates = 0;
    for (const char* delivery : {"evt-1", "evt-2", "evt-2", "evt-3"}) {
        auto claim =
            guard.begin(mb::make_key("delivery", std::string_view(delivery)), mb::fingerprint_body(delivery));
        if (!claim) return fail("begin", claim.error());  // the webhook answers 503: nothing was stored
        if (!claim->acquired()) {
            ++duplicates;
            continue;
        }
        auto job = queue->enqueue({"calendar.sync_events", delivery, delivery, std::nullopt});
        if (!job) return fail("enqueue", job.error());
        if (auto done = guard.complete(claim->claim, mb::work_outcome::applied, "202"); !done) {
            return fail("complete", done.error());
        }
        ++accepted;
    }

    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (processed.load() < accepted && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    stop = true;
    queue->wake_waiters();
    worker.join();

    // /healthz: one cheap round trip per store (503 naming the backend when one fails).
    const bool healthy = store->health() && queue->health() && events->health() && limiter->health();
    auto stats = queue->stats();
    std::printf("accepted %d, duplicates %d, processed %d, completed jobs %zu, healthy %s\n", accepted,
                duplicates, processed.load(), stats ? stats->completed : 0, healthy ? "yes" : "no");

    {
        auto h = (*pool)->acquire();
        if (h) (void)(*h)->exec("DROP SCHEMA \"" + schema + "\" CASCADE");
    }
    return accepted == 3 && duplicates == 1 && processed.load() == 3 && healthy ? 0 : 1;
}
