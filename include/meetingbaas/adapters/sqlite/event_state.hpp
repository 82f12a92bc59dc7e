// SPDX-License-Identifier: MIT
#pragma once

// sqlite_event_state: the durable event_state_store (sync/event_state.hpp) on SQLite (link
// meetingbaas::sqlite). It can share one database file with sqlite_job_queue and sqlite_idempotency_store
// (every table is prefixed "mb_").

#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/event_state.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// A durable event_state_store (sync/event_state.hpp) in SQLite: table mb_event_state(uuid, applied_us), the
/// newest `last_updated_at` applied per event in microseconds since the epoch. Upserts keep the maximum.
class sqlite_event_state {
public:
    [[nodiscard]] static result<sqlite_event_state> open(const std::string& path,
                                                         const sqlite::open_options& options = {})
    {
        auto db = sqlite::open(path, options);
        if (!db) return db.error();
        return attach(std::move(*db));
    }

    /// Uses an already open connection (the state store takes it over), creating the table when needed: e.g.
    /// one opened with wal_autocheckpoint = 0 when sqlite_state_maintenance checkpoints instead.
    [[nodiscard]] static result<sqlite_event_state> attach(sqlite::database db)
    {
        // The index serves the retention purge (sqlite_state_maintenance: rows whose applied version is older
        // than event_state_retention).
        if (auto r =
                db.exec("CREATE TABLE IF NOT EXISTS mb_event_state(uuid TEXT PRIMARY KEY NOT NULL, "
                        "applied_us INTEGER NOT NULL) WITHOUT ROWID;"
                        "CREATE INDEX IF NOT EXISTS mb_event_state_applied ON mb_event_state(applied_us)");
            !r) {
            return r.error();
        }
        auto s = std::make_unique<state>();
        auto read = db.prepare("SELECT applied_us FROM mb_event_state WHERE uuid = ?1");
        if (!read) return read.error();
        auto write =
            db.prepare("INSERT INTO mb_event_state(uuid, applied_us) VALUES(?1, ?2) ON CONFLICT(uuid) "
                       "DO UPDATE SET applied_us = MAX(applied_us, excluded.applied_us)");
        if (!write) return write.error();
        s->read = std::move(*read);
        s->write = std::move(*write);
        s->db = std::move(db);
        return sqlite_event_state(std::move(s));
    }

    result<std::optional<utc_time>> applied_version(std::string_view uuid)
    {
        std::lock_guard lock(s_->mutex);
        auto& st = s_->read;
        st.reset();
        if (auto r = st.bind_text(1, uuid); !r) return r.error();
        auto row = st.step();
        if (!row) {
            st.reset();
            return row.error();
        }
        std::optional<utc_time> out;
        if (*row == sqlite::step_result::row) out = utc_time(std::chrono::microseconds(st.column_int64(0)));
        st.reset();
        return out;
    }

    result<void> record_applied(std::string_view uuid, utc_time t)
    {
        std::lock_guard lock(s_->mutex);
        auto& st = s_->write;
        st.reset();
        if (auto r = st.bind_text(1, uuid); !r) return r.error();
        if (auto r = st.bind_int64(2, t.time_since_epoch().count()); !r) return r.error();
        auto done = st.step();
        st.reset();
        if (!done) return done.error();
        return {};
    }

private:
    struct state {
        std::mutex mutex;
        sqlite::statement read;
        sqlite::statement write;
        sqlite::database db;  // declared last: destroyed after the statements
    };
    explicit sqlite_event_state(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}
    std::unique_ptr<state> s_;
};

static_assert(event_state_store<sqlite_event_state>);

}  // namespace meetingbaas::inline v0
