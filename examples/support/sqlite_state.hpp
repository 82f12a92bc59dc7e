// SPDX-License-Identifier: MIT
#pragma once

// The example server's state in one SQLite file: the job queue (two connections: the request path's and
// the workers'), the idempotency store and the per-event sync state, each on its own connection (they are
// used from different threads), and the library's sqlite_state_maintenance, which keeps the file bounded
// and healthy (adapters/sqlite/maintenance.hpp). Link meetingbaas::sqlite.
//
// open() refuses a file that fails SQLite's integrity check (with SQLite's findings), truncates a WAL a
// previous run left behind, and makes the jobs a dead predecessor had leased due again (this process holds
// the state's lock, so nobody else owns them).

#include "housekeeping.hpp"
#include "json_log.hpp"

#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/adapters/sqlite/event_state.hpp>
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>
#include <meetingbaas/adapters/sqlite/maintenance.hpp>
#include <meetingbaas/core/timestamp.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace support {

class sqlite_state {
public:
    [[nodiscard]] static meetingbaas::result<std::unique_ptr<sqlite_state>, std::string>
    open(const std::string& path)
    {
        namespace mb = meetingbaas;
        const auto fail = [&](const mb::error& e) {
            return "cannot use the state " + path + ": " + mb::to_string(e);
        };
        // Defaults: the WAL truncated past 4 MiB; completed jobs kept 72 h (the deduplication window), dead
        // letters and per-event state 30 days; a write probe at most once a second for /healthz.
        auto maintenance = mb::sqlite_state_maintenance::open(path, mb::sqlite_maintenance_options{});
        if (!maintenance) return fail(maintenance.error());
        (void)maintenance->step();  // a WAL left by a previous run is checkpointed and truncated now
        // Automatic WAL checkpoints (an fsync every ~1000 pages) are off on the request path's connections;
        // the maintenance checkpoints instead (docs/perf/sync.md).
        auto quiet = [&](std::chrono::milliseconds busy_timeout) {
            mb::sqlite::open_options options;
            options.busy_timeout = busy_timeout;
            options.wal_autocheckpoint = 0;
            return mb::sqlite::open(path, options);
        };
        auto queue_db = quiet(std::chrono::seconds(5));
        if (!queue_db) return fail(queue_db.error());
        auto queue = mb::sqlite_job_queue<>::attach(std::move(*queue_db));
        if (!queue) return fail(queue.error());
        // The request path's own connection: it never waits behind a worker holding the other
        // connection's mutex, and it waits at most 2 s for the database's write lock (then 503: the
        // sender retries) instead of the default 5 s.
        auto intake_db = quiet(std::chrono::seconds(2));
        if (!intake_db) return fail(intake_db.error());
        auto intake = mb::sqlite_job_queue<>::attach(std::move(*intake_db));
        if (!intake) return fail(intake.error());
        auto store_db = quiet(std::chrono::seconds(5));
        if (!store_db) return fail(store_db.error());
        auto store = mb::sqlite_idempotency_store::attach(std::move(*store_db));
        if (!store) return fail(store.error());
        auto events_db = quiet(std::chrono::seconds(5));
        if (!events_db) return fail(events_db.error());
        auto events = mb::sqlite_event_state::attach(std::move(*events_db));
        if (!events) return fail(events.error());
        auto requeued = queue->requeue_leased();
        if (!requeued) return fail(requeued.error());
        return std::unique_ptr<sqlite_state>(new sqlite_state(std::move(*intake), std::move(*queue),
                                                              std::move(*store), std::move(*events),
                                                              std::move(*maintenance), *requeued));
    }

    meetingbaas::sqlite_job_queue<> intake;  ///< the receiver's (and /metrics') connection to the queue
    meetingbaas::sqlite_job_queue<> queue;   ///< the workers' and the admin endpoints'
    meetingbaas::sqlite_idempotency_store store;
    meetingbaas::sqlite_event_state events;
    std::size_t requeued_at_start = 0;  ///< leased jobs of a dead predecessor, made due again

    /// Can a delivery be stored right now? The maintenance's write probe (one small IMMEDIATE
    /// transaction, at most once a second; cheap for every /healthz), or the corruption SQLite reported.
    [[nodiscard]] meetingbaas::result<void, std::string> probe()
    {
        const auto h = maintenance_.health();
        if (!h.ok) return meetingbaas::unexpected(h.reason);
        return {};
    }

    /// WAL and database sizes at the last probe, for /metrics.
    [[nodiscard]] meetingbaas::sqlite_state_health last_health() const { return maintenance_.last_health(); }

    /// The state's housekeeping: the maintenance's step (checkpoints, a TRUNCATE checkpoint when the WAL
    /// passes 4 MiB, retention purges of every table, the probe) as often as it asks (every second, down
    /// to every 100 ms while the WAL grows fast), and once more at stop. The first step comes 100 ms after
    /// start (and a failed step is retried after 100 ms): a burst at start would otherwise write a whole
    /// second's worth of WAL (20 MB at 1,000 deliveries/s) before the first truncation. Dead letters
    /// dropped by retention are logged one by one.
    [[nodiscard]] std::vector<maintenance_task> maintenance_tasks(json_log& log)
    {
        namespace mb = meetingbaas;
        std::vector<maintenance_task> tasks;
        tasks.push_back(
            {"state_maintenance", std::chrono::milliseconds(100),
             [this, &log]() -> mb::result<maintenance_outcome, std::string> {
                 const auto r = maintenance_.step();
                 for (const auto& d : r.dead_letters_pruned) {
                     log.write("dead_letter_pruned",
                               {{"job", d.id},
                                {"kind", d.kind},
                                {"reason", d.reason},
                                {"attempts", d.attempts},
                                {"failed_at",
                                 mb::format_timestamp(
                                     std::chrono::time_point_cast<std::chrono::microseconds>(d.failed_at))}});
                 }
                 if (!r.errors.empty()) {
                     std::string text;
                     for (const auto& e : r.errors) text += (text.empty() ? "" : "; ") + mb::to_string(e);
                     return mb::unexpected(std::move(text));
                 }
                 return maintenance_outcome{r.idempotency_purged + r.completed_jobs_purged +
                                                r.event_states_purged + r.dead_letters_pruned.size(),
                                            r.next_step_in};
             },
             true});
        return tasks;
    }

private:
    sqlite_state(meetingbaas::sqlite_job_queue<> in, meetingbaas::sqlite_job_queue<> q,
                 meetingbaas::sqlite_idempotency_store s, meetingbaas::sqlite_event_state e,
                 meetingbaas::sqlite_state_maintenance maintenance, std::size_t requeued)
        : intake(std::move(in)), queue(std::move(q)), store(std::move(s)), events(std::move(e)),
          requeued_at_start(requeued), maintenance_(std::move(maintenance))
    {}

    meetingbaas::sqlite_state_maintenance maintenance_;
};

}  // namespace support
