// SPDX-License-Identifier: MIT
#pragma once

// The state-file work of one calendar.sync_events webhook in calendar_sync_server, on the real SQLite
// adapters: parse the delivery, enqueue it under its canonical key (the receiver), then lease it, claim and
// complete the action key of one affected event, record the event's applied version, acknowledge (a
// worker). Shared by the maintenance tests and bench/state_size.cpp.

#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/adapters/sqlite/event_state.hpp>
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/event_keys.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace state_workload {

namespace mb = meetingbaas;

/// A deterministic UUID-shaped string for `n` and a salt.
inline std::string uuid(std::uint64_t n, std::uint32_t salt)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(salt),
                  static_cast<unsigned>((n >> 32) & 0xffff), static_cast<unsigned>((n >> 20) & 0xfff),
                  static_cast<unsigned>((n >> 8) & 0xfff),
                  static_cast<unsigned long long>(n & 0xffffffffffffULL));
    return buf;
}

/// The body of webhook `n`: one calendar per 50 webhooks, one affected event (a new one per webhook).
inline std::string sync_body(std::uint64_t n, mb::utc_time updated)
{
    return R"({"event":"calendar.sync_events","data":{"calendar_id":")" + uuid(n / 50, 0xca1e0000) +
           R"(","last_updated_ts":")" + mb::format_timestamp(updated) + R"(","affected_event_uuids":[")" +
           uuid(n, 0xe0e00000) + R"("]}})";
}

/// The stores of one server, each on its own connection to `path` (as calendar_sync_server opens them:
/// automatic checkpoints off on the request path).
template <class Clock>
struct stores {
    mb::sqlite_job_queue<Clock> queue;
    mb::sqlite_idempotency_store store;
    mb::sqlite_event_state state;

    static mb::result<stores> open(const std::string& path, Clock clock,
                                   mb::sqlite::open_options options = {})
    {
        options.wal_autocheckpoint = 0;
        auto qdb = mb::sqlite::open(path, options);
        if (!qdb) return qdb.error();
        auto q = mb::sqlite_job_queue<Clock>::attach(std::move(*qdb), clock);
        if (!q) return q.error();
        auto sdb = mb::sqlite::open(path, options);
        if (!sdb) return sdb.error();
        auto s = mb::sqlite_idempotency_store::attach(std::move(*sdb));
        if (!s) return s.error();
        auto edb = mb::sqlite::open(path, options);
        if (!edb) return edb.error();
        auto e = mb::sqlite_event_state::attach(std::move(*edb));
        if (!e) return e.error();
        return stores{std::move(*q), std::move(*s), std::move(*e)};
    }
};

/// The receiver's part: enqueue webhook `n`. Returns the job id.
template <class Clock>
mb::result<std::string> receive(stores<Clock>& s, std::uint64_t n, mb::utc_time updated)
{
    const std::string body = sync_body(n, updated);
    auto d = mb::parse_delivery(body);
    if (!d) return d.error();
    const auto* e = std::get_if<mb::calendar_sync_events>(&d->event);
    if (e == nullptr) return mb::error{mb::errc::invalid_value, "state_workload", "not a sync_events body"};
    auto added = s.queue.enqueue(
        {"calendar.sync_events", body, std::string(mb::idempotency_key_for(*e).view()), std::nullopt});
    if (!added) return added.error();
    return added->id;
}

/// A worker's part: lease one job, act once on its event (claim + complete the action key), record the
/// applied version, acknowledge. Returns false when no job was due.
template <class Clock, class Guard>
mb::result<bool> work(stores<Clock>& s, Guard& guard, mb::utc_time updated)
{
    auto job = s.queue.lease(std::chrono::seconds(60));
    if (!job) return job.error();
    if (!*job) return false;
    auto d = mb::parse_delivery((*job)->payload);
    if (!d) return d.error();
    const auto* e = std::get_if<mb::calendar_sync_events>(&d->event);
    if (e == nullptr || !e->affected_event_uuids || e->affected_event_uuids->empty())
        return mb::error{mb::errc::invalid_value, "state_workload", "unexpected job payload"};
    const std::string& event = e->affected_event_uuids->front();
    auto claim = guard.begin_for(mb::action_key(mb::sync_action::schedule, event, updated), mb::fingerprint{},
                                 std::chrono::seconds(15));
    if (!claim) return claim.error();
    if (claim->acquired()) {
        if (auto done = guard.complete(claim->claim, mb::work_outcome::applied, R"({"bot_id":"b"})"); !done)
            return done.error();
    }
    if (auto r = s.state.record_applied(event, updated); !r) return r.error();
    if (auto r = s.queue.acknowledge((*job)->id, (*job)->lease_token); !r) return r.error();
    return true;
}

}  // namespace state_workload
