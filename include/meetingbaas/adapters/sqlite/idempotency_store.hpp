// SPDX-License-Identifier: MIT
#pragma once

// sqlite_idempotency_store: the durable, embedded idempotency_store (link meetingbaas::sqlite).
//
//  * One table (default "meetingbaas_idempotency"); one SQL statement per primitive, each atomic on its
//    own (autocommit), so the store is safe across threads and processes sharing the file.
//  * WAL with synchronous=NORMAL by default: a record written before a crash of the process (even kill -9)
//    is there after it. (A power loss can lose the last commits; choose synchronous=FULL if that matters.)
//  * Expired records are deleted in small batches every `purge_every` inserts, through an index on
//    expires_at; purge_expired() does it on demand.
//
// Thread safety: all members may be called concurrently; one connection is shared behind a mutex. For more
// write throughput across threads, use one store (one connection) per thread on the same file.

#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/idempotency/store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

struct sqlite_store_options {
    /// Table name: [A-Za-z_][A-Za-z0-9_]*, at most 64 characters. Lets several stores (or other tables, such
    /// as a job queue) share one database file.
    std::string table = "meetingbaas_idempotency";
    std::size_t purge_every = 256;  ///< inserts between two incremental purges (0 = never purge implicitly)
    std::size_t purge_batch = 32;   ///< expired rows deleted per incremental purge
};

class sqlite_idempotency_store {
public:
    /// Opens (creating if needed) the database at `path` and the table. Errors: errc::storage_error from
    /// SQLite; errc::invalid_argument for a bad table name.
    [[nodiscard]] static result<sqlite_idempotency_store> open(const std::string& path,
                                                               const sqlite::open_options& db_options = {},
                                                               sqlite_store_options options = {})
    {
        auto db = sqlite::open(path, db_options);
        if (!db) return std::move(db).error();
        return attach(std::move(*db), std::move(options));
    }

    /// Uses an already open connection (the store takes it over), creating the table if needed.
    [[nodiscard]] static result<sqlite_idempotency_store> attach(sqlite::database db,
                                                                 sqlite_store_options options = {})
    {
        if (!valid_table_name(options.table)) {
            return error{errc::invalid_argument, "sqlite_store_options.table",
                         "the table name must match [A-Za-z_][A-Za-z0-9_]* (at most 64 characters)"};
        }
        const std::string& t = options.table;
        if (auto r =
                db.exec("CREATE TABLE IF NOT EXISTS " + t +
                        " (key TEXT PRIMARY KEY NOT NULL, state INTEGER NOT NULL, outcome INTEGER NOT NULL,"
                        " fence INTEGER NOT NULL, expires_at INTEGER NOT NULL, fingerprint BLOB NOT NULL,"
                        " outcome_data BLOB NOT NULL) WITHOUT ROWID;"
                        "CREATE INDEX IF NOT EXISTS " +
                        t + "_expires_at ON " + t + " (expires_at)");
            !r) {
            return std::move(r).error();
        }
        auto s = std::make_unique<state>();
        const char* columns = "state, outcome, fence, expires_at, fingerprint, outcome_data";
        auto insert = db.prepare("INSERT INTO " + t + " (key, " + columns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO NOTHING");
        if (!insert) return std::move(insert).error();
        auto load = db.prepare("SELECT " + std::string(columns) + " FROM " + t + " WHERE key = ?1");
        if (!load) return std::move(load).error();
        auto cas = db.prepare("UPDATE " + t +
                              " SET state = ?3, outcome = ?4, fence = ?5, expires_at = ?6, fingerprint = ?7,"
                              " outcome_data = ?8 WHERE key = ?1 AND fence = ?2");
        if (!cas) return std::move(cas).error();
        auto erase = db.prepare("DELETE FROM " + t + " WHERE key = ?1 AND fence = ?2");
        if (!erase) return std::move(erase).error();
        auto purge = db.prepare("DELETE FROM " + t + " WHERE key IN (SELECT key FROM " + t +
                                " WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)");
        if (!purge) return std::move(purge).error();
        s->insert = std::move(*insert);
        s->load = std::move(*load);
        s->cas = std::move(*cas);
        s->erase = std::move(*erase);
        s->purge = std::move(*purge);
        s->db = std::move(db);  // after the statements: they are finalized first on destruction
        s->options = std::move(options);
        return sqlite_idempotency_store(std::move(s));
    }

    result<bool> insert_if_absent(std::string_view key, const record_view& r, utc_time now)
    {
        const std::lock_guard lock(s_->mutex);
        const statement_scope scope(s_->insert);
        if (auto b = bind_key(s_->insert, 1, key); !b) return std::move(b).error();
        if (auto b = bind_record(s_->insert, 2, r); !b) return std::move(b).error();
        auto step = s_->insert.step();
        if (!step) return std::move(step).error();
        const bool inserted = s_->db.changes() == 1;
        if (inserted && s_->options.purge_every != 0 &&
            ++s_->inserts_since_purge >= s_->options.purge_every) {
            s_->inserts_since_purge = 0;
            (void)purge_locked(now, s_->options.purge_batch);  // housekeeping: a failure is retried next time
        }
        return inserted;
    }

    result<std::optional<idempotency_record>> load(std::string_view key, utc_time /*now*/)
    {
        const std::lock_guard lock(s_->mutex);
        statement& st = s_->load;
        const statement_scope scope(st);
        if (auto b = bind_key(st, 1, key); !b) return std::move(b).error();
        auto step = st.step();
        if (!step) return std::move(step).error();
        if (*step == sqlite::step_result::done) return std::optional<idempotency_record>();
        const auto state_value = st.column_int64(0);
        const auto outcome = st.column_int64(1);
        if (state_value < 1 || state_value > 2 || outcome < 0 || outcome > 3) {
            return error{errc::storage_error, "sqlite_idempotency_store::load",
                         "corrupt record (state or outcome)"};
        }
        idempotency_record rec{static_cast<record_state>(state_value),
                               static_cast<work_outcome>(outcome),
                               static_cast<std::uint64_t>(st.column_int64(2)),
                               utc_time(std::chrono::microseconds(st.column_int64(3))),
                               std::string(st.column_blob(4)),
                               std::string(st.column_blob(5))};
        return std::optional<idempotency_record>(std::move(rec));
    }

    result<bool> compare_and_set(std::string_view key, std::uint64_t expected_fence, const record_view& r,
                                 utc_time /*now*/)
    {
        const std::lock_guard lock(s_->mutex);
        statement& st = s_->cas;
        const statement_scope scope(st);
        if (auto b = bind_key(st, 1, key); !b) return std::move(b).error();
        if (auto b = st.bind_int64(2, static_cast<std::int64_t>(expected_fence)); !b)
            return std::move(b).error();
        if (auto b = bind_record(st, 3, r); !b) return std::move(b).error();
        auto step = st.step();
        if (!step) return std::move(step).error();
        return s_->db.changes() == 1;
    }

    result<bool> erase_if_fence(std::string_view key, std::uint64_t fence)
    {
        const std::lock_guard lock(s_->mutex);
        statement& st = s_->erase;
        const statement_scope scope(st);
        if (auto b = bind_key(st, 1, key); !b) return std::move(b).error();
        if (auto b = st.bind_int64(2, static_cast<std::int64_t>(fence)); !b) return std::move(b).error();
        auto step = st.step();
        if (!step) return std::move(step).error();
        return s_->db.changes() == 1;
    }

    /// Deletes up to `limit` records whose expires_at <= now (oldest first); returns how many.
    result<std::size_t> purge_expired(utc_time now, std::size_t limit = 1000)
    {
        const std::lock_guard lock(s_->mutex);
        return purge_locked(now, limit);
    }

    /// Number of records (expired ones included until purged).
    result<std::size_t> size()
    {
        const std::lock_guard lock(s_->mutex);
        auto st = s_->db.prepare("SELECT count(*) FROM " + s_->options.table);
        if (!st) return std::move(st).error();
        auto step = st->step();
        if (!step) return std::move(step).error();
        return static_cast<std::size_t>(st->column_int64(0));
    }

    [[nodiscard]] const sqlite_store_options& options() const noexcept { return s_->options; }

private:
    using statement = sqlite::statement;

    struct state {
        std::mutex mutex;
        sqlite::database db;
        statement insert, load, cas, erase, purge;
        sqlite_store_options options;
        std::size_t inserts_since_purge = 0;

        state() = default;
        state(const state&) = delete;
        state& operator=(const state&) = delete;
        state(state&&) = delete;
        state& operator=(state&&) = delete;
        ~state()
        {
            // Finalize statements before the connection closes.
            insert = {};
            load = {};
            cas = {};
            erase = {};
            purge = {};
        }
    };

    // Resets the statement when leaving scope, so that a SELECT never keeps its read transaction open
    // (which would hold back WAL checkpoints).
    struct statement_scope {
        statement& st;
        explicit statement_scope(statement& s) noexcept : st(s) {}
        statement_scope(const statement_scope&) = delete;
        statement_scope& operator=(const statement_scope&) = delete;
        statement_scope(statement_scope&&) = delete;
        statement_scope& operator=(statement_scope&&) = delete;
        ~statement_scope() { st.reset(); }
    };

    explicit sqlite_idempotency_store(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}

    static bool valid_table_name(std::string_view t) noexcept
    {
        if (t.empty() || t.size() > 64) return false;
        for (std::size_t i = 0; i < t.size(); ++i) {
            const char c = t[i];
            const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
            const bool digit = c >= '0' && c <= '9';
            if (!alpha && (i == 0 || !digit)) return false;
        }
        return true;
    }

    static result<void> bind_key(statement& st, int index, std::string_view key)
    {
        return st.bind_text(index, key);
    }

    // Binds state, outcome, fence, expires_at, fingerprint, outcome_data at first, first + 1, ...
    static result<void> bind_record(statement& st, int first, const record_view& r)
    {
        if (auto b = st.bind_int64(first, static_cast<std::int64_t>(r.state)); !b) return b;
        if (auto b = st.bind_int64(first + 1, static_cast<std::int64_t>(r.outcome)); !b) return b;
        if (auto b = st.bind_int64(first + 2, static_cast<std::int64_t>(r.fence)); !b) return b;
        if (auto b = st.bind_int64(first + 3, r.expires_at.time_since_epoch().count()); !b) return b;
        if (auto b = st.bind_blob(first + 4, r.fingerprint); !b) return b;
        return st.bind_blob(first + 5, r.outcome_data);
    }

    result<std::size_t> purge_locked(utc_time now, std::size_t limit)
    {
        statement& st = s_->purge;
        const statement_scope scope(st);
        if (auto b = st.bind_int64(1, now.time_since_epoch().count()); !b) return std::move(b).error();
        const auto bounded = static_cast<std::int64_t>(limit > 1'000'000'000 ? 1'000'000'000 : limit);
        if (auto b = st.bind_int64(2, bounded); !b) return std::move(b).error();
        auto step = st.step();
        if (!step) return std::move(step).error();
        return static_cast<std::size_t>(s_->db.changes());
    }

    std::unique_ptr<state> s_;
};

static_assert(idempotency_store<sqlite_idempotency_store>);

}  // namespace meetingbaas::inline v0
