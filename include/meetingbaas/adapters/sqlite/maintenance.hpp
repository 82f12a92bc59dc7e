// SPDX-License-Identifier: MIT
#pragma once

// sqlite_state_maintenance: keeps a state file (sqlite_job_queue, sqlite_idempotency_store and
// sqlite_event_state sharing one SQLite file) bounded and healthy while the server runs (link
// meetingbaas::sqlite). See docs/calendar-sync.md ("Keeping the state file bounded and healthy").
//
//  * open() checks the file's integrity first (PRAGMA quick_check, bounded) and refuses a damaged file with
//    SQLite's findings.
//  * step() does one bounded round of housekeeping; call it from a timer (once per second), never on the
//    request path: a PASSIVE checkpoint; a TRUNCATE checkpoint when the WAL is over
//    `wal_truncate_threshold` (or after a write failed with SQLITE_FULL), waiting at most `truncate_wait`
//    for readers and writers; the retention purges, a few small batches per table; a write probe.
//  * health() says whether a delivery can be stored right now: the result of a write probe (one tiny
//    IMMEDIATE transaction, the path an enqueue takes) at most `probe_interval` old, or the corruption
//    SQLite reported on the file. Cheap enough for every /healthz request.
//
// Thread safety: step() from one thread at a time (it serializes itself); health() and last_health() from
// any thread, concurrently with step(). The object owns two connections of its own.

#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/job_queue.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

/// How sqlite_state_maintenance bounds the state file. Durations of zero mean "keep forever".
struct sqlite_maintenance_options {
    // ---- the WAL ----
    /// A TRUNCATE checkpoint runs when the WAL file is larger than this (bytes). With the default, the WAL
    /// stays under this size plus what the server writes during one maintenance period (see the docs).
    std::uint64_t wal_truncate_threshold = std::uint64_t{4} * 1024 * 1024;
    /// How long a TRUNCATE checkpoint may wait for the current writer and for readers of older snapshots.
    /// New writers wait behind it meanwhile, so this is also the longest extra delay it adds to an enqueue.
    std::chrono::milliseconds truncate_wait{100};
    /// After `escalate_after` TRUNCATE attempts in a row were blocked (or when the WAL is over four times
    /// the threshold), the next attempt may wait this long instead.
    std::chrono::milliseconds truncate_wait_max{1000};
    unsigned escalate_after = 5;
    /// The step period the report suggests (report.next_step_in): `step_interval` normally, shorter (down to
    /// `min_step_interval`) while writes would fill half the threshold before then.
    std::chrono::milliseconds step_interval{1000};
    std::chrono::milliseconds min_step_interval{100};

    // ---- retention ----
    /// Completed jobs (their unique key is what deduplicates redeliveries) are deleted this long after they
    /// completed. 72 h: the deduplication window of the idempotency records (idempotency/guard.hpp).
    std::chrono::milliseconds completed_job_retention = std::chrono::hours(72);
    /// Dead letters (mb_dead_letters and the dead job) are deleted this long after they failed; each one
    /// deleted is listed in the step's report so that the server can log it. At least 24 h (or 0: never).
    std::chrono::milliseconds dead_letter_retention = std::chrono::hours(24 * 30);
    /// Per-event sync state (mb_event_state) is deleted when the applied version (the event's
    /// last_updated_at) is older than this. At least the dead-letter retention (or 0: never): see the docs.
    std::chrono::milliseconds event_state_retention = std::chrono::hours(24 * 30);
    /// Idempotency tables whose expired records (expires_at <= now) are purged.
    std::vector<std::string> idempotency_tables{"meetingbaas_idempotency"};
    std::size_t purge_batch = 256;  ///< rows per DELETE (one short write transaction each)
    /// Further batches run while this budget lasts (every table gets one batch per step regardless).
    std::chrono::milliseconds purge_budget{25};

    // ---- health ----
    std::chrono::milliseconds probe_interval{1000};      ///< health() writes at most this often
    std::chrono::milliseconds probe_busy_timeout{2000};  ///< a probe waiting longer for the lock fails
    /// The probe writes a value of this size (in overflow pages): about the pages an enqueue writes, so that
    /// a probe succeeds only where a delivery would fit too.
    std::size_t probe_bytes = 8192;
    /// Report unhealthy when the file system of the state file has less free space than this (0: off).
    std::uint64_t min_free_bytes = 0;
    /// Keep a file of this size next to the state file ("<state>-reserve", 0: none) and delete it when a
    /// checkpoint fails with SQLITE_FULL, so that the checkpoint can finish and truncate the WAL even on a
    /// full disk; it is recreated when twice its size is free again.
    std::uint64_t reserve_bytes = 0;

    // ---- open() ----
    /// Integrity check before anything else: quick_check by default (integrity_options::full for the
    /// slower integrity_check); disable with check_integrity = false.
    bool check_integrity = true;
    sqlite::integrity_options integrity{};
};

/// Checks the options: positive threshold, batch and budget; truncate_wait <= truncate_wait_max; retention
/// rules as documented. errc::invalid_argument with the field's name otherwise.
[[nodiscard]] inline result<void> validate(const sqlite_maintenance_options& o)
{
    auto bad = [](const char* field, const char* why) {
        return error{errc::invalid_argument, std::string("sqlite_maintenance_options.") + field, why};
    };
    using std::chrono::hours;
    using std::chrono::milliseconds;
    if (o.wal_truncate_threshold == 0) return bad("wal_truncate_threshold", "must be positive");
    if (o.truncate_wait < milliseconds::zero() || o.truncate_wait > o.truncate_wait_max)
        return bad("truncate_wait", "must be between 0 and truncate_wait_max");
    if (o.completed_job_retention < milliseconds::zero())
        return bad("completed_job_retention", "must not be negative");
    if (o.dead_letter_retention != milliseconds::zero() && o.dead_letter_retention < hours(24))
        return bad("dead_letter_retention",
                   "must be at least 24 h (or 0: keep forever), so operators see them");
    if (o.event_state_retention != milliseconds::zero() &&
        (o.dead_letter_retention == milliseconds::zero() ||
         o.event_state_retention < o.dead_letter_retention ||
         o.event_state_retention < o.completed_job_retention)) {
        return bad("event_state_retention",
                   "must be at least the dead-letter and completed-job retentions (or 0: keep forever)");
    }
    if (o.min_step_interval <= milliseconds::zero() || o.min_step_interval > o.step_interval)
        return bad("min_step_interval", "must be positive and at most step_interval");
    if (o.purge_batch == 0 || o.purge_batch > 100'000) return bad("purge_batch", "must be 1..100000");
    if (o.purge_budget < milliseconds::zero()) return bad("purge_budget", "must not be negative");
    if (o.probe_interval < milliseconds::zero()) return bad("probe_interval", "must not be negative");
    for (const auto& t : o.idempotency_tables) {
        bool ok = !t.empty() && t.size() <= 64;
        for (std::size_t i = 0; ok && i < t.size(); ++i) {
            const char c = t[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        }
        if (!ok)
            return bad("idempotency_tables", "a table name must match [A-Za-z_][A-Za-z0-9_]* (<= 64 chars)");
    }
    return {};
}

/// Whether the state file can take a delivery right now, and why not.
struct sqlite_state_health {
    bool ok = false;
    /// "ok", or the reason: the failed probe's error (SQLite's message, code and errno), the corruption
    /// SQLite reported, or low free space.
    std::string reason;
    std::uint64_t wal_bytes = 0;              ///< size of the WAL file
    std::uint64_t database_bytes = 0;         ///< size of the main database file
    std::optional<std::uint64_t> free_bytes;  ///< available on the state file's file system
    bool reserve_held = false;                ///< the reserve file exists (only with reserve_bytes > 0)
    utc_time checked_at{};                    ///< when the probe ran
};

/// A dead letter deleted by the retention rule (so that the server can log what it drops).
struct sqlite_pruned_dead_letter {
    std::string id;
    std::string kind;
    std::string reason;  ///< the failure reason recorded with the dead letter
    std::uint32_t attempts = 0;
    queue_time failed_at{};
};

/// What one step() did.
struct sqlite_maintenance_report {
    std::uint64_t wal_bytes_before = 0;  ///< WAL size when the step began
    std::uint64_t wal_bytes = 0;         ///< WAL size after the checkpoints
    bool truncated = false;              ///< a TRUNCATE checkpoint emptied the WAL
    bool wal_blocked = false;            ///< a TRUNCATE checkpoint was attempted but readers/writers kept it
    unsigned blocked_in_a_row = 0;       ///< consecutive blocked TRUNCATE attempts so far
    bool reserve_released = false;       ///< the reserve file was deleted to let a checkpoint finish
    std::size_t idempotency_purged = 0;
    std::size_t completed_jobs_purged = 0;
    std::size_t event_states_purged = 0;
    std::vector<sqlite_pruned_dead_letter> dead_letters_pruned;
    std::vector<error> errors;  ///< what failed (each also reflected in `health` when it matters)
    sqlite_state_health health;
    std::chrono::microseconds took{};
    /// When to call step() again: options.step_interval, or less while the WAL grows fast (it would reach
    /// half the threshold sooner), down to options.min_step_interval.
    std::chrono::milliseconds next_step_in{};
};

class sqlite_state_maintenance {
public:
    /// Opens two connections of its own to `path` (with wal_autocheckpoint = 0), checks the file's integrity
    /// (unless options.check_integrity is false) and creates the mb_health table. Errors:
    /// errc::invalid_argument (validate), errc::storage_error (SQLite: open failure, or "database file is
    /// corrupt: ..." with SQLite's findings).
    [[nodiscard]] static result<sqlite_state_maintenance> open(const std::string& path,
                                                               sqlite_maintenance_options options = {},
                                                               sqlite::open_options db_options = {})
    {
        if (auto ok = validate(options); !ok) return std::move(ok).error();
        db_options.wal_autocheckpoint = 0;
        db_options.read_only = false;
        db_options.busy_poll = poll_interval;
        auto db = sqlite::open(path, db_options);
        if (!db) return std::move(db).error();
        if (options.check_integrity) {
            auto checked = sqlite::check_integrity(*db, options.integrity);
            if (!checked) return std::move(checked).error();
        }
        if (auto r = db->exec(
                "CREATE TABLE IF NOT EXISTS mb_health(k INTEGER PRIMARY KEY, probes INTEGER NOT NULL, "
                "at_us INTEGER NOT NULL, pad BLOB)");
            !r) {
            return std::move(r).error();
        }
        sqlite::open_options probe_options = db_options;
        probe_options.busy_timeout = options.probe_busy_timeout;
        auto probe_db = sqlite::open(path, probe_options);
        if (!probe_db) return std::move(probe_db).error();
        auto s = std::make_unique<state>();
        s->options = std::move(options);
        s->busy_timeout = db_options.busy_timeout;
        s->filename = db->filename();
        s->wal_filename = db->wal_filename();
        s->reserve_filename = s->filename.empty() ? std::string() : s->filename + "-reserve";
        s->db = std::move(*db);
        s->probe_db = std::move(*probe_db);
        sqlite_state_maintenance m(std::move(s));
        if (m.s_->options.reserve_bytes > 0) m.ensure_reserve();
        return m;
    }

    /// One bounded round of housekeeping at the system clock's time. Never fails as a whole: what failed is
    /// in report.errors and report.health.
    sqlite_maintenance_report step()
    {
        return step_at(
            std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
    }

    /// step() with an explicit "now" (retention cutoffs and the probe's time).
    sqlite_maintenance_report step_at(utc_time now)
    {
        const std::lock_guard lock(s_->step_mutex);
        const auto started = std::chrono::steady_clock::now();
        sqlite_maintenance_report report;
        checkpoint(report);
        purge(report, now, started);
        report.health = probe_at(now, true);  // a probe that hits a full disk sets full_pending
        if (s_->options.reserve_bytes > 0 && !s_->reserve_held && report.health.ok) {
            ensure_reserve();
            const std::lock_guard health_lock(s_->health_mutex);
            s_->health.reserve_held = s_->reserve_held;
        }
        report.health.reserve_held = s_->reserve_held;
        const auto finished = std::chrono::steady_clock::now();
        report.took = std::chrono::duration_cast<std::chrono::microseconds>(finished - started);
        report.next_step_in = next_step_in(report, started, finished);
        return report;
    }

    /// Whether a delivery can be stored right now: the last probe's result when it is younger than
    /// probe_interval, otherwise a new probe (one tiny write transaction). When another thread is probing,
    /// returns the last result instead of waiting. Thread-safe; cheap enough for every /healthz request.
    sqlite_state_health health()
    {
        {
            const std::lock_guard lock(s_->health_mutex);
            if (s_->probed && std::chrono::steady_clock::now() - s_->probed_at < s_->options.probe_interval)
                return s_->health;
        }
        return probe_at(
            std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()), false);
    }

    /// Probes now, whatever the age of the last result (waits for a concurrent probe to finish).
    sqlite_state_health probe()
    {
        return probe_at(
            std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()), true);
    }

    /// The last probe's result, without any I/O ("not probed yet" before the first).
    [[nodiscard]] sqlite_state_health last_health() const
    {
        const std::lock_guard lock(s_->health_mutex);
        return s_->health;
    }

    [[nodiscard]] const sqlite_maintenance_options& options() const noexcept { return s_->options; }

private:
    struct state {
        sqlite_maintenance_options options;
        std::chrono::milliseconds busy_timeout{};
        std::string filename, wal_filename, reserve_filename;

        std::mutex step_mutex;  // step(); guards db and statements
        std::map<std::string, sqlite::statement, std::less<>> statements;
        std::map<std::string, bool, std::less<>> tables;  // table name -> exists (true is cached)
        unsigned blocked_in_a_row = 0;
        std::optional<std::chrono::steady_clock::time_point> last_step_end;
        std::uint64_t last_wal_after = 0;
        std::atomic<bool> full_pending{false};  // a write failed with SQLITE_FULL: truncate at the next step
        std::atomic<bool> reserve_held{false};

        std::mutex probe_mutex;  // probe_db and its statement
        sqlite::statement probe_statement;

        mutable std::mutex health_mutex;
        sqlite_state_health health{false, "not probed yet", 0, 0, std::nullopt, false, utc_time{}};
        bool probed = false;
        std::chrono::steady_clock::time_point probed_at{};

        sqlite::database db;  // the statements above are finalized first (~state)
        sqlite::database probe_db;

        state() = default;
        state(const state&) = delete;
        state& operator=(const state&) = delete;
        state(state&&) = delete;
        state& operator=(state&&) = delete;
        ~state()
        {
            statements.clear();
            probe_statement = {};
        }
    };

    /// The maintenance connections' busy handlers poll this often (database::set_busy_wait).
    static constexpr std::chrono::microseconds poll_interval{100};

    explicit sqlite_state_maintenance(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}

    static std::uint64_t file_size_or_zero(const std::string& path)
    {
        if (path.empty()) return 0;
        std::error_code ec;
        const auto n = std::filesystem::file_size(path, ec);
        return ec ? 0 : static_cast<std::uint64_t>(n);
    }

    /// Did SQLite report a full disk? (describe_result spells the code's name first: "(SQLITE_FULL, ...")
    static bool is_full(const error& e) noexcept
    {
        return e.code == errc::storage_error && e.message.find("(SQLITE_FULL,") != std::string::npos;
    }

    /// The statement for `sql` on the maintenance connection, prepared once.
    result<sqlite::statement*> cached(const std::string& sql)
    {
        auto it = s_->statements.find(sql);
        if (it == s_->statements.end()) {
            auto st = s_->db.prepare(sql);
            if (!st) return std::move(st).error();
            it = s_->statements.emplace(sql, std::move(*st)).first;
        }
        it->second.reset();
        it->second.clear_bindings();
        return &it->second;
    }

    /// Does `table` exist? (Cached once it does: tables are created by the stores, maybe after open().)
    result<bool> table_exists(const std::string& table)
    {
        if (const auto it = s_->tables.find(table); it != s_->tables.end() && it->second) return true;
        auto st = cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
        if (!st) return std::move(st).error();
        if (auto b = (*st)->bind_text(1, table); !b) return std::move(b).error();
        auto row = (*st)->step();
        (*st)->reset();
        if (!row) return std::move(row).error();
        const bool exists = *row == sqlite::step_result::row;
        s_->tables[table] = exists;
        return exists;
    }

    int wal_checkpoint(int mode)
    {
        int log = 0;
        int done = 0;
        return sqlite3_wal_checkpoint_v2(s_->db.native_handle(), nullptr, mode, &log, &done);
    }

    /// The suggested delay before the next step, from how fast the WAL grew since the last one.
    std::chrono::milliseconds next_step_in(const sqlite_maintenance_report& report,
                                           std::chrono::steady_clock::time_point started,
                                           std::chrono::steady_clock::time_point finished)
    {
        const auto& o = s_->options;
        auto next = o.step_interval;
        const auto& last_end = s_->last_step_end;
        if (!last_end.has_value()) {
            // No history yet; a WAL already over the threshold means fast writes.
            if (report.wal_bytes_before > o.wal_truncate_threshold) next = o.min_step_interval;
        } else if (report.wal_bytes_before > s_->last_wal_after) {
            const double seconds = std::chrono::duration<double>(started - last_end.value()).count();
            const double growth = static_cast<double>(report.wal_bytes_before - s_->last_wal_after);
            if (seconds > 0 && growth > 0) {
                const double half = static_cast<double>(o.wal_truncate_threshold) / 2.0;
                const auto until_half = std::chrono::milliseconds(static_cast<std::int64_t>(std::min(
                    half / (growth / seconds) * 1000.0, static_cast<double>(o.step_interval.count()))));
                next = std::clamp(until_half, o.min_step_interval, o.step_interval);
            }
        }
        s_->last_step_end = finished;
        s_->last_wal_after = file_size_or_zero(s_->wal_filename);
        return next;
    }

    void checkpoint(sqlite_maintenance_report& report)
    {
        const auto& o = s_->options;
        report.wal_bytes_before = file_size_or_zero(s_->wal_filename);
        sqlite3* db = s_->db.native_handle();
        // PASSIVE: copies what it can without waiting for anyone.
        if (const int rc = wal_checkpoint(SQLITE_CHECKPOINT_PASSIVE); rc != SQLITE_OK && rc != SQLITE_BUSY) {
            report.errors.push_back(
                sqlite::detail::make_error(db, rc, "sqlite checkpoint(PASSIVE) " + s_->filename));
            if ((rc & 0xff) == SQLITE_FULL) s_->full_pending = true;
        }
        const std::uint64_t wal = file_size_or_zero(s_->wal_filename);
        if (wal <= o.wal_truncate_threshold && !s_->full_pending) {
            report.wal_bytes = wal;
            return;
        }
        // TRUNCATE: waits (busy handler) for the writer and for readers of older snapshots, then empties the
        // WAL. New writers queue behind it meanwhile, hence the short, bounded wait.
        const bool escalate = s_->blocked_in_a_row >= o.escalate_after || wal > 4 * o.wal_truncate_threshold;
        // The wait polls every 100 us instead of SQLite's default back-off (1, 2, 5, ... 100 ms): writers in
        // a busy server take the lock again within microseconds, so a slow poll would rarely find it free.
        for (int attempt = 0; attempt < 2; ++attempt) {
            s_->db.set_busy_wait(escalate ? o.truncate_wait_max : o.truncate_wait, poll_interval);
            const int rc = wal_checkpoint(SQLITE_CHECKPOINT_TRUNCATE);
            s_->db.set_busy_wait(s_->busy_timeout, poll_interval);
            if (rc == SQLITE_OK) {
                report.truncated = true;
                s_->blocked_in_a_row = 0;
                s_->full_pending = false;
                break;
            }
            if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
                report.wal_blocked = true;
                ++s_->blocked_in_a_row;
                break;
            }
            report.errors.push_back(
                sqlite::detail::make_error(db, rc, "sqlite checkpoint(TRUNCATE) " + s_->filename));
            // A full disk: the checkpoint may need room to grow the database file. Give it the reserve.
            if ((rc & 0xff) == SQLITE_FULL && attempt == 0 && release_reserve()) {
                report.reserve_released = true;
                continue;
            }
            break;
        }
        report.blocked_in_a_row = s_->blocked_in_a_row;
        report.wal_bytes = file_size_or_zero(s_->wal_filename);
    }

    /// Runs `sql` (a DELETE with ?1 = cutoff, ?2 = limit) once when `probe` (a SELECT with ?1 = cutoff)
    /// finds a row: a DELETE takes the write lock even when it deletes nothing. Returns the rows deleted.
    result<std::size_t> purge_batch(const std::string& probe, const std::string& sql, std::int64_t cutoff)
    {
        auto found = any_row(probe, cutoff);
        if (!found) return std::move(found).error();
        if (!*found) return std::size_t{0};
        auto st = cached(sql);
        if (!st) return std::move(st).error();
        if (auto b = (*st)->bind_int64(1, cutoff); !b) return std::move(b).error();
        if (auto b = (*st)->bind_int64(2, static_cast<std::int64_t>(s_->options.purge_batch)); !b)
            return std::move(b).error();
        auto done = (*st)->step();
        (*st)->reset();
        if (!done) return std::move(done).error();
        return static_cast<std::size_t>(s_->db.changes());
    }

    /// Does the SELECT `sql` (?1 = cutoff) return a row? A read: it never waits for writers.
    result<bool> any_row(const std::string& sql, std::int64_t cutoff)
    {
        auto st = cached(sql);
        if (!st) return std::move(st).error();
        if (auto b = (*st)->bind_int64(1, cutoff); !b) return std::move(b).error();
        auto row = (*st)->step();
        (*st)->reset();
        if (!row) return std::move(row).error();
        return *row == sqlite::step_result::row;
    }

    /// One batch of dead letters older than the cutoff: lists them (for the report), then deletes the dead
    /// letter and its job row in one transaction.
    result<std::size_t> purge_dead_letters(std::int64_t cutoff_ms,
                                           std::vector<sqlite_pruned_dead_letter>& out)
    {
        auto found =
            any_row("SELECT 1 FROM mb_jobs WHERE state >= 2 AND state = 3 AND due < ?1 LIMIT 1", cutoff_ms);
        if (!found) return std::move(found).error();
        if (!*found) return std::size_t{0};
        auto tx = s_->db.begin_transaction();
        if (!tx) return std::move(tx).error();
        auto pick =
            cached("SELECT j.id, j.kind, COALESCE(d.reason, j.last_error), COALESCE(d.attempts, j.attempt), "
                   "j.due FROM mb_jobs j LEFT JOIN mb_dead_letters d ON d.job_id = j.id WHERE j.state >= 2 "
                   "AND j.state = 3 AND j.due < ?1 ORDER BY j.due LIMIT ?2");
        if (!pick) return std::move(pick).error();
        if (auto b = (*pick)->bind_int64(1, cutoff_ms); !b) return std::move(b).error();
        if (auto b = (*pick)->bind_int64(2, static_cast<std::int64_t>(s_->options.purge_batch)); !b)
            return std::move(b).error();
        std::vector<sqlite_pruned_dead_letter> batch;
        for (;;) {
            auto row = (*pick)->step();
            if (!row) {
                (*pick)->reset();
                return std::move(row).error();
            }
            if (*row == sqlite::step_result::done) break;
            batch.push_back(sqlite_pruned_dead_letter{
                std::to_string((*pick)->column_int64(0)), std::string((*pick)->column_text(1)),
                std::string((*pick)->column_text(2)), static_cast<std::uint32_t>((*pick)->column_int64(3)),
                queue_time(std::chrono::milliseconds((*pick)->column_int64(4)))});
        }
        (*pick)->reset();
        for (const auto& d : batch) {
            for (const char* sql : {"DELETE FROM mb_dead_letters WHERE job_id = ?1",
                                    "DELETE FROM mb_jobs WHERE id = ?1 AND state = 3"}) {
                auto del = cached(sql);
                if (!del) return std::move(del).error();
                if (auto b = (*del)->bind_text(1, d.id); !b) return std::move(b).error();
                auto done = (*del)->step();
                (*del)->reset();
                if (!done) return std::move(done).error();
            }
        }
        if (auto c = tx->commit(); !c) return std::move(c).error();
        const std::size_t n = batch.size();
        for (auto& d : batch) out.push_back(std::move(d));
        return n;
    }

    void purge(sqlite_maintenance_report& report, utc_time now, std::chrono::steady_clock::time_point started)
    {
        const auto& o = s_->options;
        const auto budget_end = started + o.purge_budget;
        const auto now_us = now.time_since_epoch().count();
        const auto now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        // Runs `batch` until it deletes less than a full batch or the budget is spent (at least once).
        auto drain = [&](auto&& batch, std::size_t& total) {
            for (;;) {
                auto n = batch();
                if (!n) {
                    report.errors.push_back(std::move(n).error());
                    if (is_full(report.errors.back())) s_->full_pending = true;
                    return;
                }
                total += *n;
                if (*n < o.purge_batch || std::chrono::steady_clock::now() >= budget_end) return;
            }
        };
        auto exists = [&](const std::string& table) {
            auto e = table_exists(table);
            if (!e) {
                report.errors.push_back(std::move(e).error());
                return false;
            }
            return *e;
        };
        for (const auto& table : o.idempotency_tables) {
            if (!exists(table)) continue;
            std::string probe = "SELECT 1 FROM ";
            probe += table;
            probe += " WHERE expires_at <= ?1 LIMIT 1";
            std::string sql = "DELETE FROM ";
            sql += table;
            sql += " WHERE key IN (SELECT key FROM ";
            sql += table;
            sql += " WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)";
            drain([&] { return purge_batch(probe, sql, now_us); }, report.idempotency_purged);
        }
        if (exists("mb_jobs")) {
            if (o.completed_job_retention > std::chrono::milliseconds::zero()) {
                const std::int64_t cutoff = now_ms - o.completed_job_retention.count();
                drain(
                    [&] {
                        return purge_batch(
                            "SELECT 1 FROM mb_jobs WHERE state >= 2 AND state = 2 AND due < ?1 LIMIT 1",
                            "DELETE FROM mb_jobs WHERE id IN (SELECT id FROM mb_jobs WHERE state >= 2 "
                            "AND state = 2 AND due < ?1 ORDER BY due LIMIT ?2)",
                            cutoff);
                    },
                    report.completed_jobs_purged);
            }
            if (o.dead_letter_retention > std::chrono::milliseconds::zero()) {
                const std::int64_t cutoff = now_ms - o.dead_letter_retention.count();
                std::size_t pruned = 0;
                drain([&] { return purge_dead_letters(cutoff, report.dead_letters_pruned); }, pruned);
            }
        }
        if (o.event_state_retention > std::chrono::milliseconds::zero() && exists("mb_event_state")) {
            const std::int64_t cutoff =
                now_us -
                std::chrono::duration_cast<std::chrono::microseconds>(o.event_state_retention).count();
            drain(
                [&] {
                    return purge_batch(
                        "SELECT 1 FROM mb_event_state WHERE applied_us < ?1 LIMIT 1",
                        "DELETE FROM mb_event_state WHERE uuid IN (SELECT uuid FROM mb_event_state "
                        "WHERE applied_us < ?1 ORDER BY applied_us LIMIT ?2)",
                        cutoff);
                },
                report.event_states_purged);
        }
    }

    /// The probe: one IMMEDIATE transaction updating mb_health, on a connection of its own (the lock, the
    /// WAL append and the commit an enqueue needs). `wait`: wait for a concurrent probe (else return the
    /// last result).
    sqlite_state_health probe_at(utc_time now, bool wait)
    {
        std::unique_lock lock(s_->probe_mutex, std::defer_lock);
        if (wait) {
            lock.lock();
        } else if (!lock.try_lock()) {
            return last_health();
        }
        sqlite_state_health h;
        h.checked_at = now;
        h.ok = true;
        h.reason = "ok";
        if (auto corrupt = sqlite::corruption_reported(s_->filename)) {
            h.ok = false;
            h.reason = "the state file is corrupt: " + *corrupt;
        } else if (auto written = write_probe(now); !written) {
            h.ok = false;
            h.reason = to_string(written.error());
            if (is_full(written.error())) s_->full_pending = true;
        }
        h.wal_bytes = file_size_or_zero(s_->wal_filename);
        h.database_bytes = file_size_or_zero(s_->filename);
        if (!s_->filename.empty()) {
            std::error_code ec;
            const auto dir = std::filesystem::path(s_->filename).parent_path();
            const auto space = std::filesystem::space(dir.empty() ? std::filesystem::path(".") : dir, ec);
            if (!ec) h.free_bytes = static_cast<std::uint64_t>(space.available);
        }
        if (h.ok && s_->options.min_free_bytes > 0 && h.free_bytes &&
            *h.free_bytes < s_->options.min_free_bytes) {
            h.ok = false;
            h.reason = "low disk space: " + std::to_string(*h.free_bytes) +
                       " bytes free, below min_free_bytes " + std::to_string(s_->options.min_free_bytes);
        }
        {
            const std::lock_guard health_lock(s_->health_mutex);
            h.reserve_held = s_->reserve_held;
            s_->health = h;
            s_->probed = true;
            s_->probed_at = std::chrono::steady_clock::now();
        }
        return h;
    }

    result<void> write_probe(utc_time now)
    {
        auto& db = s_->probe_db;
        if (!s_->probe_statement.valid()) {
            auto st = db.prepare(
                "INSERT INTO mb_health(k, probes, at_us, pad) VALUES(1, 1, ?1, zeroblob(?2)) ON CONFLICT(k) "
                "DO UPDATE SET probes = probes + 1, at_us = excluded.at_us, pad = excluded.pad");
            if (!st) return std::move(st).error();
            s_->probe_statement = std::move(*st);
        }
        auto tx = db.begin_transaction(sqlite::transaction_kind::immediate);
        if (!tx) return std::move(tx).error();
        auto& st = s_->probe_statement;
        st.reset();
        if (auto b = st.bind_int64(1, now.time_since_epoch().count()); !b) return b;
        const auto pad = std::min<std::size_t>(s_->options.probe_bytes, std::size_t{1} << 20);
        if (auto b = st.bind_int64(2, static_cast<std::int64_t>(pad)); !b) return b;
        auto done = st.step();
        st.reset();
        if (!done) return std::move(done).error();
        return tx->commit();
    }

    /// Creates the reserve file when it is missing and twice its size is free.
    void ensure_reserve()
    {
        const auto& name = s_->reserve_filename;
        const std::uint64_t want = s_->options.reserve_bytes;
        if (name.empty()) return;
        if (file_size_or_zero(name) == want) {
            s_->reserve_held = true;
            return;
        }
        std::error_code ec;
        const auto space = std::filesystem::space(std::filesystem::path(name).parent_path(), ec);
        if (ec || space.available < 2 * want) return;
        std::FILE* f = std::fopen(name.c_str(), "wb");
        if (f == nullptr) return;
        static constexpr std::size_t chunk = std::size_t{64} * 1024;
        static const std::vector<char> zeros(chunk, 0);
        std::uint64_t left = want;
        bool ok = true;
        while (ok && left > 0) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk));
            ok = std::fwrite(zeros.data(), 1, n, f) == n;
            left -= n;
        }
        ok = std::fflush(f) == 0 && ok;
        ok = std::fclose(f) == 0 && ok;
        if (!ok) {
            std::filesystem::remove(name, ec);
            return;
        }
        s_->reserve_held = true;
    }

    /// Deletes the reserve file; true when there was one.
    bool release_reserve()
    {
        if (!s_->reserve_held) return false;
        std::error_code ec;
        std::filesystem::remove(s_->reserve_filename, ec);
        s_->reserve_held = false;
        return !ec;
    }

    std::unique_ptr<state> s_;
};

}  // namespace meetingbaas::inline v0
