// SPDX-License-Identifier: MIT
// Keeping a SQLite state file bounded and healthy (issue 12): the integrity check before serving, a
// housekeeping thread that steps the maintenance when it asks to be stepped, and a health answer for
// /healthz. The "server" here enqueues and settles a few thousand jobs; see docs/calendar-sync.md.
#include <meetingbaas/adapters/sqlite.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

int main()
{
    const auto path = (std::filesystem::temp_directory_path() / "meetingbaas_state_example.sqlite3").string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

    // 1. Before serving: refuse a damaged file (quick_check), and truncate a WAL a previous run left behind.
    mb::sqlite_maintenance_options options;  // WAL threshold 4 MiB; completed jobs 72 h, dead letters 30 days
    auto maintenance = mb::sqlite_state_maintenance::open(path, options);
    if (!maintenance) {
        std::printf("refusing the state file: %s\n", mb::to_string(maintenance.error()).c_str());
        return 1;
    }
    (void)maintenance->step();

    // 2. The stores, on connections that never checkpoint on their own (the maintenance does).
    mb::sqlite::open_options request_path;
    request_path.wal_autocheckpoint = 0;
    auto db = mb::sqlite::open(path, request_path);
    if (!db) return 1;
    auto queue = mb::sqlite_job_queue<>::attach(std::move(*db));
    if (!queue) return 1;

    // 3. A housekeeping thread: one bounded step whenever the last report says (1 s, less under load).
    std::atomic<bool> stop{false};
    std::mutex m;
    std::condition_variable cv;
    std::thread housekeeping([&] {
        auto next = std::chrono::milliseconds(0);
        std::unique_lock lock(m);
        while (!cv.wait_for(lock, next, [&] { return stop.load(); })) {
            const auto r = maintenance->step();
            for (const auto& d : r.dead_letters_pruned)
                std::printf("pruned dead letter %s (%s)\n", d.id.c_str(), d.reason.c_str());
            for (const auto& e : r.errors) std::printf("maintenance: %s\n", mb::to_string(e).c_str());
            next = r.next_step_in;
        }
    });

    // 4. Work: 3,000 jobs enqueued, leased and acknowledged.
    for (int i = 0; i < 3000; ++i) {
        auto added =
            queue->enqueue({"calendar.sync_events", std::string(300, 'x'), "key-" + std::to_string(i), {}});
        auto job = queue->lease(60s);
        if (!added || !job || !*job || !queue->acknowledge((*job)->id, (*job)->lease_token)) return 1;
    }

    // 5. What /healthz answers: 200 when a delivery can be stored right now, 503 with the reason otherwise.
    const auto health = maintenance->health();
    std::printf("healthz: %d %s (WAL %llu bytes, database %llu bytes)\n", health.ok ? 200 : 503,
                health.reason.c_str(), static_cast<unsigned long long>(health.wal_bytes),
                static_cast<unsigned long long>(health.database_bytes));

    {
        const std::lock_guard lock(m);
        stop = true;
    }
    cv.notify_one();
    housekeeping.join();
    return health.ok ? 0 : 1;
}
