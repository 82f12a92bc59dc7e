// SPDX-License-Identifier: MIT
#pragma once

// The example server's state in one SQLite file: the job queue (two connections: the request path's and
// the workers'), the idempotency store and the per-event sync state, each on its own connection (they are
// used from different threads), plus a maintenance connection for housekeeping and the health probe.
// Link meetingbaas::sqlite.
//
// open() refuses a file that fails SQLite's integrity check (with SQLite's own words), and makes the
// jobs a dead predecessor had leased due again (this process holds the state's lock, so nobody else
// owns them).

#include "housekeeping.hpp"
#include "process.hpp"

#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/adapters/sqlite/event_state.hpp>
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>

#include <chrono>
#include <memory>
#include <mutex>
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
            return "cannot open the state " + path + ": " + mb::to_string(e);
        };
        mb::sqlite::open_options maintenance_options;
        maintenance_options.busy_timeout = std::chrono::seconds(1);  // the health probe must answer quickly
        auto maintenance = mb::sqlite::open(path, maintenance_options);
        if (!maintenance) return fail(maintenance.error());
        if (auto problem = integrity_problem(*maintenance); !problem.empty()) {
            return "the state " + path + " is damaged (SQLite integrity check: " + problem +
                   "); restore it from a backup or move it away";
        }
        // Automatic WAL checkpoints (an fsync every ~1000 pages) are off on the request path's connections;
        // housekeeping checkpoints instead (docs/perf/sync.md).
        auto quiet = [&](const mb::sqlite::open_options& options) -> mb::result<mb::sqlite::database> {
            auto db = mb::sqlite::open(path, options);
            if (!db) return db.error();
            if (auto r = db->exec("PRAGMA wal_autocheckpoint=0"); !r) return r.error();
            return db;
        };
        auto queue_db = quiet(mb::sqlite::open_options{});
        if (!queue_db) return fail(queue_db.error());
        auto queue = mb::sqlite_job_queue<>::attach(std::move(*queue_db));
        if (!queue) return fail(queue.error());
        // The request path's own connection: it never waits behind a worker holding the other
        // connection's mutex, and it waits at most 2 s for the database's write lock (then 503: the
        // sender retries) instead of the default 5 s.
        mb::sqlite::open_options intake_options;
        intake_options.busy_timeout = std::chrono::seconds(2);
        auto intake_db = quiet(intake_options);
        if (!intake_db) return fail(intake_db.error());
        auto intake = mb::sqlite_job_queue<>::attach(std::move(*intake_db));
        if (!intake) return fail(intake.error());
        auto store_db = quiet(mb::sqlite::open_options{});
        if (!store_db) return fail(store_db.error());
        auto store = mb::sqlite_idempotency_store::attach(std::move(*store_db));
        if (!store) return fail(store.error());
        auto events = mb::sqlite_event_state::open(path);
        if (!events) return fail(events.error());
        if (auto r = maintenance->exec(
                "CREATE TABLE IF NOT EXISTS mb_server_probe(id INTEGER PRIMARY KEY, at INTEGER)");
            !r) {
            return fail(r.error());
        }
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

    /// Can a delivery be stored right now? One small write transaction (it needs the write lock, a page
    /// and WAL space, like an enqueue). The error is SQLite's reason.
    [[nodiscard]] meetingbaas::result<void, std::string> probe()
    {
        std::lock_guard lock(maintenance_mutex_);
        auto tx = maintenance_.begin_transaction();
        if (!tx) return meetingbaas::unexpected(meetingbaas::to_string(tx.error()));
        auto st = maintenance_.prepare("INSERT OR REPLACE INTO mb_server_probe(id, at) VALUES(1, ?1)");
        if (!st) return meetingbaas::unexpected(meetingbaas::to_string(st.error()));
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        if (auto r = st->bind_int64(1, now); !r)
            return meetingbaas::unexpected(meetingbaas::to_string(r.error()));
        if (auto r = st->step(); !r) return meetingbaas::unexpected(meetingbaas::to_string(r.error()));
        if (auto r = tx->commit(); !r) return meetingbaas::unexpected(meetingbaas::to_string(r.error()));
        return {};
    }

    /// The state's housekeeping: a PASSIVE WAL checkpoint every second (off the request path, whose
    /// connections do not checkpoint; never waits for readers or writers), and every hour the completed
    /// jobs older than the 72 h deduplication window are forgotten (their keys stop deduplicating, like
    /// the idempotency records' retention). The checkpoint also runs once at stop.
    [[nodiscard]] std::vector<maintenance_task> maintenance_tasks()
    {
        namespace mb = meetingbaas;
        using result = mb::result<maintenance_outcome, std::string>;
        std::vector<maintenance_task> tasks;
        tasks.push_back({"wal_checkpoint", std::chrono::seconds(1),
                         [this]() -> result {
                             std::lock_guard lock(maintenance_mutex_);
                             if (auto r = maintenance_.exec("PRAGMA wal_checkpoint(PASSIVE)"); !r) {
                                 return mb::unexpected(mb::to_string(r.error()));
                             }
                             return maintenance_outcome{};
                         },
                         true});
        tasks.push_back({"purge_completed_jobs", std::chrono::hours(1),
                         [this]() -> result {
                             const auto before =
                                 mb::queue_now(std::chrono::system_clock{}) - std::chrono::hours(72);
                             auto purged = queue.purge_completed(before);
                             if (!purged) return mb::unexpected(mb::to_string(purged.error()));
                             return maintenance_outcome{static_cast<std::uint64_t>(*purged), std::nullopt};
                         },
                         false});
        return tasks;
    }

private:
    sqlite_state(meetingbaas::sqlite_job_queue<> in, meetingbaas::sqlite_job_queue<> q,
                 meetingbaas::sqlite_idempotency_store s, meetingbaas::sqlite_event_state e,
                 meetingbaas::sqlite::database maintenance, std::size_t requeued)
        : intake(std::move(in)), queue(std::move(q)), store(std::move(s)), events(std::move(e)),
          requeued_at_start(requeued), maintenance_(std::move(maintenance))
    {}

    /// "" when PRAGMA quick_check says ok; otherwise its first finding, or the error that stopped it.
    static std::string integrity_problem(meetingbaas::sqlite::database& db)
    {
        auto st = db.prepare("PRAGMA quick_check(1)");
        if (!st) return meetingbaas::to_string(st.error());
        auto row = st->step();
        if (!row) return meetingbaas::to_string(row.error());
        if (*row != meetingbaas::sqlite::step_result::row) return "no answer";
        const std::string answer(st->column_text(0));
        return answer == "ok" ? std::string() : answer;
    }

    std::mutex maintenance_mutex_;
    meetingbaas::sqlite::database maintenance_;
};

}  // namespace support
