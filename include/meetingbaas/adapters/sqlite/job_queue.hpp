// SPDX-License-Identifier: MIT
#pragma once

// Durable job_queue on SQLite (link meetingbaas::sqlite), built on the RAII
// wrapper of adapters/sqlite/database.hpp. It can share one database file with sqlite_idempotency_store (the
// calendar_sync_server's --state file): every table is prefixed "mb_".
//
// Durability: WAL with synchronous=NORMAL (the wrapper's default) survives kill -9 of the process: a
// committed enqueue is never lost, and a job leased by a process that died becomes due again when its lease
// ends. Every state change is one IMMEDIATE transaction, so several processes may share the file.
//
// Thread safety: each object owns one connection guarded by a mutex; every member may be called from any
// thread. Open one object per process (or several: they serialize through SQLite's file lock).

#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/job_queue.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

namespace detail {

inline constexpr std::string_view sqlite_queue_schema = R"sql(
CREATE TABLE IF NOT EXISTS mb_jobs(
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT    NOT NULL,
  payload     BLOB    NOT NULL,
  unique_key  TEXT    UNIQUE,
  state       INTEGER NOT NULL,            -- 0 ready, 1 leased, 2 completed, 3 dead
  due         INTEGER NOT NULL,            -- ms since the epoch: run at / lease end / settled at
  attempt     INTEGER NOT NULL DEFAULT 0,
  token       INTEGER NOT NULL DEFAULT 0,
  enqueued_at INTEGER NOT NULL,
  last_error  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS mb_jobs_leasable ON mb_jobs(due, id) WHERE state IN (0, 1);
CREATE INDEX IF NOT EXISTS mb_jobs_settled ON mb_jobs(state, due) WHERE state >= 2;  -- retention purges
CREATE TABLE IF NOT EXISTS mb_dead_letters(
  job_id      INTEGER PRIMARY KEY,
  kind        TEXT    NOT NULL,
  payload     BLOB    NOT NULL,
  unique_key  TEXT,
  reason      TEXT    NOT NULL,
  attempts    INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  failed_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mb_queue_meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);
INSERT OR IGNORE INTO mb_queue_meta(k, v) VALUES('lease_token', 0);
)sql";

inline std::int64_t to_ms(queue_time t) noexcept
{
    return t.time_since_epoch().count();
}
inline queue_time from_ms(std::int64_t millis) noexcept  // not `ms`: that is detail::ms of retry/backoff.hpp
{
    return queue_time(std::chrono::milliseconds(millis));
}

inline std::optional<std::int64_t> parse_job_id(std::string_view id) noexcept
{
    if (id.empty() || id.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (const char c : id) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

/// A cached prepared statement in use: forwards what the queue needs, and resets the statement (ending
/// its read) when it goes out of scope.
class statement_use {
public:
    explicit statement_use(sqlite::statement& s) noexcept : s_(&s) {}
    statement_use(const statement_use&) = delete;
    statement_use& operator=(const statement_use&) = delete;
    statement_use(statement_use&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    statement_use& operator=(statement_use&&) = delete;
    ~statement_use()
    {
        if (s_ != nullptr) {
            s_->reset();
            s_->clear_bindings();
        }
    }

    result<void> bind_int64(int i, std::int64_t v) { return s_->bind_int64(i, v); }
    result<void> bind_text(int i, std::string_view v) { return s_->bind_text(i, v); }
    result<void> bind_blob(int i, std::string_view v) { return s_->bind_blob(i, v); }
    result<void> bind_null(int i) { return s_->bind_null(i); }
    result<sqlite::step_result> step() { return s_->step(); }
    void reset() noexcept { s_->reset(); }
    [[nodiscard]] bool is_null(int c) const noexcept { return s_->is_null(c); }
    [[nodiscard]] std::int64_t column_int64(int c) const noexcept { return s_->column_int64(c); }
    [[nodiscard]] std::string_view column_text(int c) const noexcept { return s_->column_text(c); }
    [[nodiscard]] std::string_view column_blob(int c) const noexcept { return s_->column_blob(c); }

private:
    sqlite::statement* s_;
};

}  // namespace detail

/// A durable job_queue in SQLite. Tables: mb_jobs (pending, leased, completed-with-key and dead jobs),
/// mb_dead_letters (the failure reason and the payload of each dead job), mb_queue_meta (the lease-token
/// counter). See job_queue.hpp for the semantics and docs/calendar-sync.md for operating it.
template <wall_clock Clock = std::chrono::system_clock>
class sqlite_job_queue {
public:
    /// Opens (creating when needed) the queue tables in the database at `path`.
    [[nodiscard]] static result<sqlite_job_queue> open(const std::string& path, Clock clock = Clock{},
                                                       const sqlite::open_options& options = {})
    {
        auto db = sqlite::open(path, options);
        if (!db) return db.error();
        return attach(std::move(*db), std::move(clock));
    }

    /// Uses an already open connection (the queue takes it over), creating the tables when needed: e.g.
    /// one opened with `PRAGMA wal_autocheckpoint=0` when checkpoints run elsewhere (see docs/perf/sync.md).
    [[nodiscard]] static result<sqlite_job_queue> attach(sqlite::database db, Clock clock = Clock{})
    {
        if (auto r = db.exec(detail::sqlite_queue_schema); !r) return r.error();
        return sqlite_job_queue(std::move(db), std::move(clock));
    }

    sqlite_job_queue(sqlite_job_queue&& other) noexcept
        : clock_(std::move(other.clock_)), db_(std::move(other.db_)),
          statements_(std::move(other.statements_))
    {}
    sqlite_job_queue(const sqlite_job_queue&) = delete;
    sqlite_job_queue& operator=(const sqlite_job_queue&) = delete;
    sqlite_job_queue& operator=(sqlite_job_queue&&) = delete;  // the mutex cannot be handed over
    ~sqlite_job_queue() = default;

    result<enqueue_outcome> enqueue(job_spec spec)
    {
        std::lock_guard lock(mutex_);
        const auto now = detail::to_ms(queue_now(clock_));
        if (!spec.unique_key.empty()) {
            // A duplicate is answered from a read, without taking the database's write lock.
            auto existing = find_by_key(spec.unique_key);
            if (!existing) return existing.error();
            if (*existing) return enqueue_outcome{std::to_string(**existing), false};
        }
        auto tx = db_.begin_transaction();
        if (!tx) return tx.error();
        if (!spec.unique_key.empty()) {  // again inside the transaction: another connection may have won
            auto existing = find_by_key(spec.unique_key);
            if (!existing) return existing.error();
            if (*existing) return enqueue_outcome{std::to_string(**existing), false};
        }
        auto st = cached("INSERT INTO mb_jobs(kind, payload, unique_key, state, due, enqueued_at) "
                         "VALUES(?1, ?2, ?3, 0, ?4, ?5)");
        if (!st) return st.error();
        if (auto r = st->bind_text(1, spec.kind); !r) return r.error();
        if (auto r = st->bind_blob(2, spec.payload); !r) return r.error();
        if (auto r = spec.unique_key.empty() ? st->bind_null(3) : st->bind_text(3, spec.unique_key); !r) {
            return r.error();
        }
        if (auto r = st->bind_int64(4, spec.not_before ? detail::to_ms(*spec.not_before) : now); !r) {
            return r.error();
        }
        if (auto r = st->bind_int64(5, now); !r) return r.error();
        if (auto r = st->step(); !r) return r.error();
        const auto id = db_.last_insert_rowid();
        if (auto r = tx->commit(); !r) return r.error();
        return enqueue_outcome{std::to_string(id), true};
    }

    result<std::optional<leased_job>> lease(std::chrono::milliseconds lease_duration)
    {
        if (lease_duration <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "lease", "lease duration must be positive"};
        }
        std::lock_guard lock(mutex_);
        const auto now = queue_now(clock_);
        auto tx = db_.begin_transaction();
        if (!tx) return tx.error();
        auto pick =
            cached("SELECT id FROM mb_jobs WHERE state IN (0, 1) AND due <= ?1 ORDER BY due, id LIMIT 1");
        if (!pick) return pick.error();
        if (auto r = pick->bind_int64(1, detail::to_ms(now)); !r) return r.error();
        auto row = pick->step();
        if (!row) return row.error();
        if (*row == sqlite::step_result::done) return std::optional<leased_job>{};
        const std::int64_t id = pick->column_int64(0);

        auto token = next_token();
        if (!token) return token.error();
        const auto until = now + lease_duration;
        auto st =
            cached("UPDATE mb_jobs SET state = 1, attempt = attempt + 1, token = ?1, due = ?2 WHERE id = ?3 "
                   "RETURNING kind, payload, COALESCE(unique_key, ''), attempt, enqueued_at, last_error");
        if (!st) return st.error();
        if (auto r = st->bind_int64(1, static_cast<std::int64_t>(*token)); !r) return r.error();
        if (auto r = st->bind_int64(2, detail::to_ms(until)); !r) return r.error();
        if (auto r = st->bind_int64(3, id); !r) return r.error();
        auto updated = st->step();
        if (!updated) return updated.error();
        if (*updated != sqlite::step_result::row) {
            return error{errc::storage_error, "lease", "job vanished inside the transaction"};
        }
        leased_job job;
        job.id = std::to_string(id);
        job.kind = std::string(st->column_text(0));
        job.payload = std::string(st->column_blob(1));
        job.unique_key = std::string(st->column_text(2));
        job.attempt = static_cast<std::uint32_t>(st->column_int64(3));
        job.lease_token = *token;
        job.leased_until = until;
        job.enqueued_at = detail::from_ms(st->column_int64(4));
        job.last_error = std::string(st->column_text(5));
        st->reset();
        if (auto r = tx->commit(); !r) return r.error();
        return std::optional<leased_job>{std::move(job)};
    }

    result<void> acknowledge(std::string_view id, std::uint64_t token)
    {
        std::lock_guard lock(mutex_);
        auto tx = db_.begin_transaction();
        if (!tx) return tx.error();
        auto job = check_lease(id, token, "acknowledge");
        if (!job) return job.error();
        // Jobs with a unique key stay as a completed marker (their key keeps deduplicating) until purged.
        auto st = cached("UPDATE mb_jobs SET state = 2, payload = x'', due = ?2 WHERE id = ?1 AND unique_key "
                         "IS NOT NULL");
        if (!st) return st.error();
        if (auto r = run(*st, *job, detail::to_ms(queue_now(clock_))); !r) return r.error();
        if (db_.changes() == 0) {
            auto del = cached("DELETE FROM mb_jobs WHERE id = ?1");
            if (!del) return del.error();
            if (auto r = run(*del, *job); !r) return r.error();
        }
        return tx->commit();
    }

    result<void> retry_later(std::string_view id, std::uint64_t token, queue_time at, std::string_view reason)
    {
        std::lock_guard lock(mutex_);
        auto tx = db_.begin_transaction();
        if (!tx) return tx.error();
        auto job = check_lease(id, token, "retry_later");
        if (!job) return job.error();
        auto st = cached("UPDATE mb_jobs SET state = 0, due = ?2, last_error = ?3 WHERE id = ?1");
        if (!st) return st.error();
        if (auto r = st->bind_text(3, reason); !r) return r.error();
        if (auto r = run(*st, *job, detail::to_ms(at)); !r) return r.error();
        return tx->commit();
    }

    result<void> dead_letter(std::string_view id, std::uint64_t token, std::string_view reason)
    {
        std::lock_guard lock(mutex_);
        auto tx = db_.begin_transaction();
        if (!tx) return tx.error();
        auto job = check_lease(id, token, "dead_letter");
        if (!job) return job.error();
        const auto now = detail::to_ms(queue_now(clock_));
        auto copy =
            cached("INSERT OR REPLACE INTO mb_dead_letters(job_id, kind, payload, unique_key, reason, "
                   "attempts, enqueued_at, failed_at) SELECT id, kind, payload, unique_key, ?3, attempt, "
                   "enqueued_at, ?2 FROM mb_jobs WHERE id = ?1");
        if (!copy) return copy.error();
        if (auto r = copy->bind_text(3, reason); !r) return r.error();
        if (auto r = run(*copy, *job, now); !r) return r.error();
        auto st =
            cached("UPDATE mb_jobs SET state = 3, payload = x'', due = ?2, last_error = ?3 WHERE id = ?1");
        if (!st) return st.error();
        if (auto r = st->bind_text(3, reason); !r) return r.error();
        if (auto r = run(*st, *job, now); !r) return r.error();
        return tx->commit();
    }

    result<void> extend_lease(std::string_view id, std::uint64_t token, std::chrono::milliseconds d)
    {
        if (d <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "extend_lease", "lease duration must be positive"};
        }
        std::lock_guard lock(mutex_);
        auto tx = db_.begin_transaction();
        if (!tx) return tx.error();
        auto job = check_lease(id, token, "extend_lease");
        if (!job) return job.error();
        auto st = cached("UPDATE mb_jobs SET due = ?2 WHERE id = ?1");
        if (!st) return st.error();
        if (auto r = run(*st, *job, detail::to_ms(queue_now(clock_) + d)); !r) return r.error();
        return tx->commit();
    }

    result<std::vector<dead_letter_entry>> dead_letters(std::size_t limit)
    {
        std::lock_guard lock(mutex_);
        auto st =
            cached("SELECT job_id, kind, payload, COALESCE(unique_key, ''), reason, attempts, enqueued_at, "
                   "failed_at FROM mb_dead_letters ORDER BY failed_at, job_id LIMIT ?1");
        if (!st) return st.error();
        const auto capped =
            limit > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(limit);
        if (auto r = st->bind_int64(1, capped); !r) return r.error();
        std::vector<dead_letter_entry> out;
        while (true) {
            auto row = st->step();
            if (!row) return row.error();
            if (*row == sqlite::step_result::done) break;
            out.push_back(dead_letter_entry{
                std::to_string(st->column_int64(0)), std::string(st->column_text(1)),
                std::string(st->column_blob(2)), std::string(st->column_text(3)),
                std::string(st->column_text(4)), static_cast<std::uint32_t>(st->column_int64(5)),
                detail::from_ms(st->column_int64(6)), detail::from_ms(st->column_int64(7))});
        }
        return out;
    }

    result<void> requeue_dead_letter(std::string_view id)
    {
        const auto job = detail::parse_job_id(id);
        if (!job)
            return error{errc::not_found, "requeue_dead_letter", "no dead letter with id " + std::string(id)};
        std::lock_guard lock(mutex_);
        auto tx = db_.begin_transaction();
        if (!tx) return tx.error();
        auto st = cached(
            "UPDATE mb_jobs SET state = 0, attempt = 0, due = ?2, enqueued_at = ?2, "
            "payload = (SELECT payload FROM mb_dead_letters WHERE job_id = ?1) "
            "WHERE id = ?1 AND state = 3 AND EXISTS (SELECT 1 FROM mb_dead_letters WHERE job_id = ?1)");
        if (!st) return st.error();
        if (auto r = run(*st, *job, detail::to_ms(queue_now(clock_))); !r) return r.error();
        if (db_.changes() == 0) {
            return error{errc::not_found, "requeue_dead_letter", "no dead letter with id " + std::string(id)};
        }
        auto del = cached("DELETE FROM mb_dead_letters WHERE job_id = ?1");
        if (!del) return del.error();
        if (auto r = run(*del, *job); !r) return r.error();
        return tx->commit();
    }

    /// Counts by state. Live jobs are counted through the leasable index, completed and dead ones through
    /// the settled index (index-only): about 15 times faster than a scan of mb_jobs, which at 10 webhooks/s
    /// holds 2.6 million completed markers (docs/perf/state.md).
    result<queue_stats> stats()
    {
        std::lock_guard lock(mutex_);
        queue_stats s;
        auto live =
            cached("SELECT state, due <= ?1, COUNT(*) FROM mb_jobs WHERE state IN (0, 1) GROUP BY 1, 2");
        if (!live) return live.error();
        if (auto r = live->bind_int64(1, detail::to_ms(queue_now(clock_))); !r) return r.error();
        while (true) {
            auto row = live->step();
            if (!row) return row.error();
            if (*row == sqlite::step_result::done) break;
            const auto state = live->column_int64(0);
            const bool due = live->column_int64(1) != 0;
            const auto n = static_cast<std::size_t>(live->column_int64(2));
            if (state == 0) (due ? s.ready : s.scheduled) += n;
            if (state == 1) (due ? s.ready : s.leased) += n;
        }
        auto settled = cached("SELECT state, COUNT(*) FROM mb_jobs WHERE state >= 2 GROUP BY state");
        if (!settled) return settled.error();
        while (true) {
            auto row = settled->step();
            if (!row) return row.error();
            if (*row == sqlite::step_result::done) break;
            const auto n = static_cast<std::size_t>(settled->column_int64(1));
            if (settled->column_int64(0) == 2) s.completed += n;
            if (settled->column_int64(0) == 3) s.dead += n;
        }
        return s;
    }

    result<std::optional<queue_time>> next_due()
    {
        std::lock_guard lock(mutex_);
        auto st = cached("SELECT MIN(due) FROM mb_jobs WHERE state IN (0, 1)");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row != sqlite::step_result::row || st->is_null(0)) return std::optional<queue_time>{};
        return std::optional<queue_time>{detail::from_ms(st->column_int64(0))};
    }

    /// Makes every leased job due now. Call it only when this process is the file's single owner and just
    /// started: the leases then belong to a process that died (calendar_sync_server holds a lock file).
    result<std::size_t> requeue_leased()
    {
        std::lock_guard lock(mutex_);
        auto st = cached("UPDATE mb_jobs SET state = 0, due = ?1 WHERE state = 1");
        if (!st) return st.error();
        if (auto r = st->bind_int64(1, detail::to_ms(queue_now(clock_))); !r) return r.error();
        if (auto r = st->step(); !r) return r.error();
        return static_cast<std::size_t>(db_.changes());
    }

    /// Deletes up to `limit` completed jobs settled before `before`, oldest first (their unique keys can then
    /// be enqueued again); returns how many. sqlite_state_maintenance does this (and the other retention
    /// rules) in small batches from a timer; see docs/calendar-sync.md.
    result<std::size_t> purge_completed(queue_time before,
                                        std::size_t limit = std::numeric_limits<std::size_t>::max())
    {
        std::lock_guard lock(mutex_);
        auto st =
            cached("DELETE FROM mb_jobs WHERE id IN (SELECT id FROM mb_jobs WHERE state >= 2 AND state = 2 "
                   "AND due < ?1 ORDER BY due LIMIT ?2)");
        if (!st) return st.error();
        if (auto r = st->bind_int64(1, detail::to_ms(before)); !r) return r.error();
        const auto capped =
            limit > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(limit);
        if (auto r = st->bind_int64(2, capped); !r) return r.error();
        if (auto r = st->step(); !r) return r.error();
        return static_cast<std::size_t>(db_.changes());
    }

private:
    sqlite_job_queue(sqlite::database db, Clock clock) : clock_(std::move(clock)), db_(std::move(db)) {}

    result<std::optional<std::int64_t>> find_by_key(std::string_view key)
    {
        auto st = cached("SELECT id FROM mb_jobs WHERE unique_key = ?1");
        if (!st) return st.error();
        if (auto r = st->bind_text(1, key); !r) return r.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row == sqlite::step_result::done) return std::optional<std::int64_t>{};
        return std::optional<std::int64_t>{st->column_int64(0)};
    }

    result<std::uint64_t> next_token()
    {
        auto st = cached("UPDATE mb_queue_meta SET v = v + 1 WHERE k = 'lease_token' RETURNING v");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row != sqlite::step_result::row)
            return error{errc::storage_error, "lease", "lease-token row missing"};
        const auto v = static_cast<std::uint64_t>(st->column_int64(0));
        st->reset();
        return v;
    }

    /// The job's row id when it is leased with `token`; fence_mismatch or not_found otherwise.
    result<std::int64_t> check_lease(std::string_view id, std::uint64_t token, const char* where)
    {
        const auto job = detail::parse_job_id(id);
        if (!job) return error{errc::not_found, where, "no job with id " + std::string(id)};
        auto st = cached("SELECT state, token FROM mb_jobs WHERE id = ?1");
        if (!st) return st.error();
        if (auto r = st->bind_int64(1, *job); !r) return r.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row == sqlite::step_result::done || st->column_int64(0) == 2) {
            return error{errc::not_found, where, "no job with id " + std::string(id)};
        }
        if (st->column_int64(0) != 1 || static_cast<std::uint64_t>(st->column_int64(1)) != token) {
            return error{errc::fence_mismatch, where, "the lease on job " + std::string(id) + " was lost"};
        }
        return *job;
    }

    /// The statement for `sql` (a string literal), prepared once per connection and reused.
    result<detail::statement_use> cached(std::string_view sql)
    {
        auto it = statements_.find(sql);
        if (it == statements_.end()) {
            auto st = db_.prepare(sql);
            if (!st) return st.error();
            it = statements_.emplace(sql, std::move(*st)).first;
        }
        return detail::statement_use(it->second);
    }

    /// Binds ?1 = id (and ?2 = extra when given) and runs the statement to completion.
    static result<void> run(detail::statement_use& st, std::int64_t id,
                            std::optional<std::int64_t> extra = {})
    {
        if (auto r = st.bind_int64(1, id); !r) return r.error();
        if (extra) {
            if (auto r = st.bind_int64(2, *extra); !r) return r.error();
        }
        auto r = st.step();
        if (!r) return r.error();
        return {};
    }

    [[no_unique_address]] Clock clock_{};
    std::mutex mutex_;
    sqlite::database db_;
    std::unordered_map<std::string_view, sqlite::statement> statements_;  // keys: string literals
};

static_assert(job_queue<sqlite_job_queue<>>);

}  // namespace meetingbaas::inline v0
