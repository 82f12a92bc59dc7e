// SPDX-License-Identifier: MIT
#pragma once

// postgres_job_queue: the job_queue (sync/job_queue.hpp) on PostgreSQL (link meetingbaas::postgres), shared
// by any number of worker processes on any number of hosts.
//
// Table <schema>.jobs (default meetingbaas.jobs), one row per job: state 0 ready, 1 leased, 2 completed (kept
// while it has a unique key, until purge_completed), 3 dead (a dead letter: reason in last_error, failure
// time in due). `due` (ms since the epoch) is the run-at time of a ready job, the lease end of a leased
// one, and the settle time otherwise; indexes: jobs_leasable (due, id) WHERE state IN (0, 1), and
// jobs_settled (state, due) WHERE state IN (2, 3). Lease tokens come from the sequence <schema>.job_tokens.
//
// Every primitive is one prepared statement, one round trip:
//  * enqueue: INSERT ... ON CONFLICT (unique_key) DO NOTHING RETURNING id, else the existing job's id (a
//    second round trip only when a concurrent enqueue of the same key committed during ours);
//  * lease: UPDATE jobs SET state = 1, token = nextval(...), due = now + d WHERE id = (SELECT id ... WHERE
//    state IN (0, 1) AND due <= now ORDER BY due, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ...
//    A leased job whose lease ended (its worker died) is simply due again: no sweeper;
//  * acknowledge / retry_later / dead_letter / extend_lease: UPDATE (or DELETE) ... WHERE id = $1 AND
//    state = 1 AND token = $2, plus the job's state before the statement, to tell fence_mismatch from
//    not_found in the same round trip.
//
// Clock: by default (Clock = pg::server_time) every "now" is the server's statement_timestamp(), so that
// instances with skewed clocks agree on lease ends. With a wall_clock (core/clock.hpp; tests: a manual
// clock), its reading is sent instead. retry_later(at) and purge_completed(before) take the caller's times as
// they are; use pg::server_clock for them when clocks may disagree.
//
// Wake-ups: enqueue, retry_later and requeue_dead_letter NOTIFY the channel "<schema>.jobs" (in the same
// statement; delivered at commit) when options.notify is set. wait_for_work(timeout) blocks on LISTEN
// (its own connection) until a notification or the timeout: see pg::listener.
//
// After a lost connection (pg::outcome_unknown(e)) a statement may or may not have been applied:
// enqueue: the job may exist (enqueue again with the same unique_key to find out; without a key it may be
// enqueued twice); lease: a job may have been leased to nobody, and becomes due again when that lease
// ends; acknowledge / retry_later / dead_letter: the job may be settled: the caller's lease is consumed or
// not, and a later settle with the same token reports fence_mismatch or not_found when it was.
//
// Thread safety: every member may be called concurrently; each call borrows a connection from the source.

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/listener.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>
#include <meetingbaas/adapters/postgres/schema.hpp>
#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/sync/job_queue.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

namespace meetingbaas::inline v0 {

struct postgres_queue_options {
    std::string schema = "meetingbaas";
    /// NOTIFY "<schema>.jobs" when work becomes due (enqueue, retry_later, requeue_dead_letter).
    bool notify = true;
    /// Recorded on the jobs this queue object leases; requeue_leased() frees only those. Give each instance
    /// a stable name (e.g. the pod or host name plus a slot) to let a restarted instance free its own old
    /// leases at once; "" (default) picks a unique name per queue object, so requeue_leased() frees only
    /// leases taken through this object and never those of another live instance.
    std::string instance_id{};
    /// Connections for wait_for_work's LISTEN session. Default: the pool's own connect function.
    pg::connect_function listen_connect{};
};

/// The job_queue on PostgreSQL. Clock: pg::server_time (default) or a wall_clock.
template <class Clock = pg::server_time, pg::connection_source Source = pg::pool>
    requires(wall_clock<Clock> || std::same_as<Clock, pg::server_time>)
class postgres_job_queue {
public:
    static constexpr int schema_version = 1;

    /// Creates the schema, tables, indexes and sequence when missing (see schema.hpp).
    /// Errors: errc::invalid_argument (schema name), errc::conflict (newer schema), storage errors.
    [[nodiscard]] static result<postgres_job_queue>
    open(std::shared_ptr<Source> source, Clock clock = Clock{}, postgres_queue_options options = {})
    {
        if (auto ok = pg::check_identifier(options.schema, "postgres_queue_options.schema"); !ok) {
            return std::move(ok).error();
        }
        if (options.instance_id.empty()) options.instance_id = random_instance_id();
        auto s = std::make_shared<shared>(std::move(source), std::move(clock), std::move(options));
        {
            auto h = s->source->acquire();
            if (!h) return std::move(h).error();
            const std::string q = pg::detail::quoted(s->options.schema);
            const std::vector<std::string> steps{
                "CREATE SEQUENCE IF NOT EXISTS " + q +
                ".job_tokens;"
                " CREATE TABLE IF NOT EXISTS " +
                q +
                ".jobs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind bytea NOT NULL,"
                " payload bytea NOT NULL, unique_key bytea UNIQUE, state smallint NOT NULL, due bigint NOT "
                "NULL,"
                " attempt integer NOT NULL DEFAULT 0, token bigint NOT NULL DEFAULT 0, enqueued_at bigint "
                "NOT NULL,"
                " last_error bytea NOT NULL DEFAULT '\\x'::bytea, leased_by text NOT NULL DEFAULT '');"
                " CREATE INDEX IF NOT EXISTS jobs_leasable ON " +
                q +
                ".jobs (due, id) WHERE state IN (0, 1);"
                " CREATE INDEX IF NOT EXISTS jobs_settled ON " +
                q + ".jobs (state, due) WHERE state IN (2, 3)"};
            if (auto ok = pg::ensure_component(**h, s->options.schema, "queue", steps); !ok) {
                return std::move(ok).error();
            }
        }
        if (s->options.notify) {
            pg::connect_function connect = s->options.listen_connect;
            if (!connect) {
                if constexpr (requires(Source& src) { src.connector(); }) connect = s->source->connector();
            }
            if (connect) s->listen = std::make_unique<pg::listener>(std::move(connect), s->channel);
        }
        return postgres_job_queue(std::move(s));
    }

    result<enqueue_outcome> enqueue(job_spec spec)
    {
        const auto now = now_param();
        for (int attempt = 0; attempt < 3; ++attempt) {
            pg::params p;
            p.bytes(spec.kind).bytes(spec.payload);
            if (spec.unique_key.empty()) {
                p.null();
            } else {
                p.bytes(spec.unique_key);
            }
            p.int64_or_null(spec.not_before
                                ? std::optional<std::int64_t>(spec.not_before->time_since_epoch().count())
                                : std::nullopt)
                .int64_or_null(now)
                .bytes(s_->channel)
                .boolean(s_->options.notify);
            auto rs = run(s_->enqueue, p);
            if (!rs) return std::move(rs).error();
            if (rs->rows() == 0) continue;  // the conflicting job committed after our snapshot: look again
            pg::row_reader row(*rs, 0, "enqueue");
            const auto id = row.int64(0);
            const bool inserted = row.boolean(1);
            if (auto ok = row.status(); !ok) return std::move(ok).error();
            return enqueue_outcome{std::to_string(id), inserted};
        }
        return error{errc::conflict, "postgres enqueue", "the unique key kept changing; retry"};
    }

    result<std::optional<leased_job>> lease(std::chrono::milliseconds lease_duration)
    {
        if (lease_duration <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "lease", "lease duration must be positive"};
        }
        pg::params p;
        p.int64(lease_duration.count()).int64_or_null(now_param()).bytes(s_->options.instance_id);
        auto rs = run(s_->lease, p);
        if (!rs) return std::move(rs).error();
        if (rs->rows() == 0) return std::optional<leased_job>();
        pg::row_reader row(*rs, 0, "lease");
        leased_job job;
        job.id = std::to_string(row.int64(0));
        job.kind = std::string(row.bytes(1));
        job.payload = std::string(row.bytes(2));
        job.unique_key = std::string(row.bytes(3));
        job.attempt = static_cast<std::uint32_t>(row.int64(4));
        job.lease_token = static_cast<std::uint64_t>(row.int64(5));
        job.leased_until = from_ms(row.int64(6));
        job.enqueued_at = from_ms(row.int64(7));
        job.last_error = std::string(row.bytes(8));
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        return std::optional<leased_job>(std::move(job));
    }

    result<void> acknowledge(std::string_view id, std::uint64_t token)
    {
        const auto job = parse_job_id(id);
        if (!job) return error{errc::not_found, "acknowledge", "no job with id " + std::string(id)};
        pg::params p;
        p.int64(*job).int64(static_cast<std::int64_t>(token)).int64_or_null(now_param());
        return settle(s_->acknowledge, p, "acknowledge", id);
    }

    result<void> retry_later(std::string_view id, std::uint64_t token, queue_time at, std::string_view reason)
    {
        const auto job = parse_job_id(id);
        if (!job) return error{errc::not_found, "retry_later", "no job with id " + std::string(id)};
        pg::params p;
        p.int64(*job)
            .int64(static_cast<std::int64_t>(token))
            .int64(at.time_since_epoch().count())
            .bytes(reason)
            .bytes(s_->channel)
            .boolean(s_->options.notify);
        return settle(s_->retry_later, p, "retry_later", id);
    }

    result<void> dead_letter(std::string_view id, std::uint64_t token, std::string_view reason)
    {
        const auto job = parse_job_id(id);
        if (!job) return error{errc::not_found, "dead_letter", "no job with id " + std::string(id)};
        pg::params p;
        p.int64(*job).int64(static_cast<std::int64_t>(token)).bytes(reason).int64_or_null(now_param());
        return settle(s_->dead_letter, p, "dead_letter", id);
    }

    result<void> extend_lease(std::string_view id, std::uint64_t token, std::chrono::milliseconds d)
    {
        if (d <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "extend_lease", "lease duration must be positive"};
        }
        const auto job = parse_job_id(id);
        if (!job) return error{errc::not_found, "extend_lease", "no job with id " + std::string(id)};
        pg::params p;
        p.int64(*job).int64(static_cast<std::int64_t>(token)).int64(d.count()).int64_or_null(now_param());
        return settle(s_->extend_lease, p, "extend_lease", id);
    }

    result<std::vector<dead_letter_entry>> dead_letters(std::size_t limit)
    {
        pg::params p;
        p.int64(limit > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(limit));
        auto rs = run(s_->dead_letters, p);
        if (!rs) return std::move(rs).error();
        std::vector<dead_letter_entry> out;
        out.reserve(static_cast<std::size_t>(rs->rows()));
        for (int i = 0; i < rs->rows(); ++i) {
            pg::row_reader row(*rs, i, "dead_letters");
            dead_letter_entry e;
            e.id = std::to_string(row.int64(0));
            e.kind = std::string(row.bytes(1));
            e.payload = std::string(row.bytes(2));
            e.unique_key = std::string(row.bytes(3));
            e.reason = std::string(row.bytes(4));
            e.attempts = static_cast<std::uint32_t>(row.int64(5));
            e.enqueued_at = from_ms(row.int64(6));
            e.failed_at = from_ms(row.int64(7));
            if (auto ok = row.status(); !ok) return std::move(ok).error();
            out.push_back(std::move(e));
        }
        return out;
    }

    result<void> requeue_dead_letter(std::string_view id)
    {
        const auto job = parse_job_id(id);
        if (!job)
            return error{errc::not_found, "requeue_dead_letter", "no dead letter with id " + std::string(id)};
        pg::params p;
        p.int64(*job).int64_or_null(now_param()).bytes(s_->channel).boolean(s_->options.notify);
        auto rs = run(s_->requeue_dead, p);
        if (!rs) return std::move(rs).error();
        pg::row_reader row(*rs, 0, "requeue_dead_letter");
        const auto changed = row.int64(0);
        if (auto ok = row.status(); !ok) return ok;
        if (changed == 0) {
            return error{errc::not_found, "requeue_dead_letter", "no dead letter with id " + std::string(id)};
        }
        return {};
    }

    result<queue_stats> stats()
    {
        pg::params p;
        p.int64_or_null(now_param());
        auto rs = run(s_->stats, p);
        if (!rs) return std::move(rs).error();
        pg::row_reader row(*rs, 0, "stats");
        queue_stats s;
        s.ready = static_cast<std::size_t>(row.int64(0));
        s.scheduled = static_cast<std::size_t>(row.int64(1));
        s.leased = static_cast<std::size_t>(row.int64(2));
        s.dead = static_cast<std::size_t>(row.int64(3));
        s.completed = static_cast<std::size_t>(row.int64(4));
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        return s;
    }

    result<std::optional<queue_time>> next_due()
    {
        pg::params none;
        auto rs = run(s_->next_due, none);
        if (!rs) return std::move(rs).error();
        pg::row_reader row(*rs, 0, "next_due");
        const auto due = row.nullable_int64(0);
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        if (!due) return std::optional<queue_time>();
        return std::optional<queue_time>(from_ms(*due));
    }

    /// Makes the jobs leased through this queue's instance_id due now (see postgres_queue_options). Leases
    /// of other instances are left alone: they end by themselves.
    result<std::size_t> requeue_leased()
    {
        pg::params p;
        p.int64_or_null(now_param())
            .bytes(s_->options.instance_id)
            .bytes(s_->channel)
            .boolean(s_->options.notify);
        auto rs = run(s_->requeue_leased, p);
        if (!rs) return std::move(rs).error();
        pg::row_reader row(*rs, 0, "requeue_leased");
        const auto n = row.int64(0);
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        return static_cast<std::size_t>(n);
    }

    /// Deletes completed jobs settled before `before` (their unique keys can be enqueued again), in batches
    /// of `batch` rows (one short statement each).
    result<std::size_t> purge_completed(queue_time before, std::size_t batch = 500)
    {
        return purge(s_->purge_completed, before, batch);
    }

    /// Deletes dead letters that failed before `before` (their keys too). Keep dead letters long enough for
    /// an operator to look at them: docs/scale-out.md suggests 30 days.
    result<std::size_t> purge_dead_letters(queue_time before, std::size_t batch = 500)
    {
        return purge(s_->purge_dead, before, batch);
    }

    /// Blocks until work may be due (a NOTIFY from any instance, or the LISTEN connection was just
    /// reopened: true) or `timeout` passes (false). Errors: errc::unsupported when notify is off or no
    /// listen connection can be made for this source; the server's errors after waiting out the timeout.
    result<bool> wait_for_work(std::chrono::milliseconds timeout)
    {
        if (!s_->listen) {
            return error{errc::unsupported, "postgres wait_for_work",
                         "no LISTEN connection (options.notify is off, or set options.listen_connect)"};
        }
        return s_->listen->wait(timeout);
    }

    /// Wakes every thread blocked in wait_for_work (e.g. at shutdown).
    void wake_waiters()
    {
        if (s_->listen) s_->listen->wake();
    }

    /// Health probe: one round trip (next_due, an index lookup).
    result<void> health()
    {
        auto r = next_due();
        if (!r) return std::move(r).error();
        return {};
    }

    [[nodiscard]] const std::string& notify_channel() const noexcept { return s_->channel; }
    [[nodiscard]] const postgres_queue_options& options() const noexcept { return s_->options; }
    [[nodiscard]] const std::shared_ptr<Source>& source() const noexcept { return s_->source; }

private:
    static constexpr bool server_clock_mode = std::same_as<Clock, pg::server_time>;

    struct shared {
        shared(std::shared_ptr<Source> src, Clock c, postgres_queue_options opts)
            : source(std::move(src)), clock(std::move(c)), options(std::move(opts)),
              channel(options.schema + ".jobs")
        {
            using namespace pg;
            using pg::detail::now_ms_sql;
            const std::string t = pg::detail::quoted(options.schema) + ".jobs";
            const std::string tokens = pg::detail::quoted(options.schema) + ".job_tokens";
            enqueue = statement(
                "enqueue",
                "WITH ins AS (INSERT INTO " + t +
                    " (kind, payload, unique_key, state, due, enqueued_at) VALUES ($1, $2, $3, 0, "
                    "COALESCE($4, " +
                    now_ms_sql(5) + "), " + now_ms_sql(5) +
                    ") ON CONFLICT (unique_key) DO NOTHING RETURNING id),"
                    " woke AS (SELECT pg_notify($6, '') FROM ins WHERE $7)"
                    " SELECT id, true AS inserted, (SELECT count(*) FROM woke) AS notified FROM ins"
                    " UNION ALL SELECT id, false, 0 FROM " +
                    t + " WHERE unique_key = $3 AND NOT EXISTS (SELECT 1 FROM ins)",
                {oid::bytea, oid::bytea, oid::bytea, oid::int8, oid::int8, oid::text, oid::boolean});
            lease = statement(
                "lease",
                "UPDATE " + t + " AS j SET state = 1, attempt = j.attempt + 1, token = nextval('" + tokens +
                    "'), due = " + now_ms_sql(2) + " + $1, leased_by = $3 WHERE j.id = (SELECT id FROM " + t +
                    " WHERE state IN (0, 1) AND due <= " + now_ms_sql(2) +
                    " ORDER BY due, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                    " RETURNING j.id, j.kind, j.payload, j.unique_key, j.attempt, j.token, j.due,"
                    " j.enqueued_at, j.last_error",
                {oid::int8, oid::int8, oid::text});
            // Settle statements: (rows changed, the job's state before the statement).
            const std::string before = "SELECT state FROM " + t + " WHERE id = $1";
            acknowledge = statement(
                "acknowledge",
                "WITH cur AS (" + before + "), done AS (UPDATE " + t +
                    " SET state = 2, payload = '\\x'::bytea, due = " + now_ms_sql(3) +
                    ", leased_by = '' WHERE id = $1 AND state = 1 AND token = $2 AND unique_key IS NOT NULL"
                    " RETURNING 1), gone AS (DELETE FROM " +
                    t +
                    " WHERE id = $1 AND state = 1 AND token = $2 AND unique_key IS NULL RETURNING 1)"
                    " SELECT (SELECT count(*) FROM done) + (SELECT count(*) FROM gone), (SELECT state FROM "
                    "cur)",
                {oid::int8, oid::int8, oid::int8});
            retry_later = statement("retry_later",
                                    "WITH cur AS (" + before + "), upd AS (UPDATE " + t +
                                        " SET state = 0, due = $3, last_error = $4, leased_by = ''"
                                        " WHERE id = $1 AND state = 1 AND token = $2 RETURNING 1),"
                                        " woke AS (SELECT pg_notify($5, '') FROM upd WHERE $6)"
                                        " SELECT (SELECT count(*) FROM upd), (SELECT state FROM cur),"
                                        " (SELECT count(*) FROM woke)",
                                    {oid::int8, oid::int8, oid::int8, oid::bytea, oid::text, oid::boolean});
            dead_letter =
                statement("dead_letter",
                          "WITH cur AS (" + before + "), upd AS (UPDATE " + t +
                              " SET state = 3, due = " + now_ms_sql(4) +
                              ", last_error = $3, leased_by = '' WHERE id = $1 AND state = 1 AND token = $2"
                              " RETURNING 1) SELECT (SELECT count(*) FROM upd), (SELECT state FROM cur)",
                          {oid::int8, oid::int8, oid::bytea, oid::int8});
            extend_lease = statement("extend_lease",
                                     "WITH cur AS (" + before + "), upd AS (UPDATE " + t +
                                         " SET due = " + now_ms_sql(4) +
                                         " + $3 WHERE id = $1 AND state = 1 AND token = $2 RETURNING 1)"
                                         " SELECT (SELECT count(*) FROM upd), (SELECT state FROM cur)",
                                     {oid::int8, oid::int8, oid::int8, oid::int8});
            dead_letters = statement(
                "dead_letters",
                "SELECT id, kind, payload, unique_key, last_error, attempt, enqueued_at, due FROM " + t +
                    " WHERE state = 3 ORDER BY due, id LIMIT $1",
                {oid::int8});
            requeue_dead =
                statement("requeue_dead_letter",
                          "WITH upd AS (UPDATE " + t + " SET state = 0, attempt = 0, due = " + now_ms_sql(2) +
                              ", enqueued_at = " + now_ms_sql(2) +
                              " WHERE id = $1 AND state = 3 RETURNING 1),"
                              " woke AS (SELECT pg_notify($3, '') FROM upd WHERE $4)"
                              " SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM woke)",
                          {oid::int8, oid::int8, oid::text, oid::boolean});
            stats = statement("stats",
                              "SELECT count(*) FILTER (WHERE state IN (0, 1) AND due <= n),"
                              " count(*) FILTER (WHERE state = 0 AND due > n),"
                              " count(*) FILTER (WHERE state = 1 AND due > n),"
                              " count(*) FILTER (WHERE state = 3), count(*) FILTER (WHERE state = 2)"
                              " FROM " +
                                  t + ", (SELECT " + now_ms_sql(1) + " AS n) AS t",
                              {oid::int8});
            next_due = statement("next_due", "SELECT min(due) FROM " + t + " WHERE state IN (0, 1)", {});
            requeue_leased = statement("requeue_leased",
                                       "WITH upd AS (UPDATE " + t + " SET state = 0, due = " + now_ms_sql(1) +
                                           ", leased_by = '' WHERE state = 1 AND leased_by = $2 RETURNING 1),"
                                           " woke AS (SELECT pg_notify($3, '') FROM upd WHERE $4 LIMIT 1)"
                                           " SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM woke)",
                                       {oid::int8, oid::text, oid::text, oid::boolean});
            purge_completed = statement("purge_completed",
                                        "DELETE FROM " + t + " WHERE id IN (SELECT id FROM " + t +
                                            " WHERE state = 2 AND due < $1 ORDER BY state, due LIMIT $2"
                                            " FOR UPDATE SKIP LOCKED)",
                                        {oid::int8, oid::int8});
            purge_dead = statement("purge_dead_letters",
                                   "DELETE FROM " + t + " WHERE id IN (SELECT id FROM " + t +
                                       " WHERE state = 3 AND due < $1 ORDER BY state, due LIMIT $2"
                                       " FOR UPDATE SKIP LOCKED)",
                                   {oid::int8, oid::int8});
        }

        std::shared_ptr<Source> source;
        [[no_unique_address]] Clock clock;
        postgres_queue_options options;
        std::string channel;
        pg::statement enqueue, lease, acknowledge, retry_later, dead_letter, extend_lease, dead_letters,
            requeue_dead, stats, next_due, requeue_leased, purge_completed, purge_dead;
        std::unique_ptr<pg::listener> listen;
    };

    explicit postgres_job_queue(std::shared_ptr<shared> s) noexcept : s_(std::move(s)) {}

    static queue_time from_ms(std::int64_t ms) noexcept { return queue_time(std::chrono::milliseconds(ms)); }

    static std::optional<std::int64_t> parse_job_id(std::string_view id) noexcept
    {
        if (id.empty() || id.size() > 18) return std::nullopt;
        std::int64_t v = 0;
        for (const char c : id) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
        }
        return v;
    }

    static std::string random_instance_id()
    {
        std::random_device rd;
        const auto r = (static_cast<std::uint64_t>(rd()) << 32U) ^ rd();
        return "pid" + std::to_string(::getpid()) + "-" + std::to_string(r);
    }

    /// The caller's "now" in ms, or nullopt (NULL: the server's clock).
    std::optional<std::int64_t> now_param() const
    {
        if constexpr (server_clock_mode) {
            return std::nullopt;
        } else {
            return queue_now(s_->clock).time_since_epoch().count();
        }
    }

    result<pg::result_set> run(const pg::statement& st, const pg::params& p)
    {
        auto h = s_->source->acquire();
        if (!h) return std::move(h).error();
        return (**h).execute(st, p);
    }

    result<void> settle(const pg::statement& st, const pg::params& p, const char* where, std::string_view id)
    {
        auto rs = run(st, p);
        if (!rs) return std::move(rs).error();
        pg::row_reader row(*rs, 0, where);
        const auto changed = row.int64(0);
        const auto state = row.nullable_int64(1);
        if (auto ok = row.status(); !ok) return ok;
        if (changed > 0) return {};
        if (!state || *state == 2) return error{errc::not_found, where, "no job with id " + std::string(id)};
        return error{errc::fence_mismatch, where, "the lease on job " + std::string(id) + " was lost"};
    }

    result<std::size_t> purge(const pg::statement& st, queue_time before, std::size_t batch)
    {
        if (batch == 0) batch = 1;
        std::size_t total = 0;
        for (;;) {
            pg::params p;
            p.int64(before.time_since_epoch().count())
                .int64(static_cast<std::int64_t>(std::min<std::size_t>(batch, 100'000)));
            auto rs = run(st, p);
            if (!rs) return std::move(rs).error();
            const auto n = static_cast<std::size_t>(rs->affected());
            total += n;
            if (n < std::min<std::size_t>(batch, 100'000)) return total;
        }
    }

    std::shared_ptr<shared> s_;
};

static_assert(job_queue<postgres_job_queue<>>);

}  // namespace meetingbaas::inline v0
