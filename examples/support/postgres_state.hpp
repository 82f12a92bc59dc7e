// SPDX-License-Identifier: MIT
#pragma once

// The example server's state in PostgreSQL, shared by every instance given the same postgresql://... URL:
// one connection pool, the job queue (workers woken by LISTEN/NOTIFY), the idempotency store, the
// per-event sync state and the shared write-rate bucket (docs/scale-out.md). Link meetingbaas::postgres.
// Same shape as sqlite_state (see shared_state.hpp); no lock file.
//
// open() connects (an unreachable server, a refused login: a clear error), creates or checks every table
// with its version (a database written by a newer build is refused), and frees the leases this instance
// (options.instance_id) held when it died, so its jobs are due again at once.

#include "housekeeping.hpp"
#include "shared_state.hpp"

#include <meetingbaas/adapters/postgres.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <unistd.h>

namespace support {

class postgres_state {
public:
    using queue_type = meetingbaas::postgres_job_queue<>;
    using store_type = meetingbaas::postgres_idempotency_store;
    using events_type = meetingbaas::postgres_event_state;
    using limiter_type = meetingbaas::postgres_rate_limiter<>;
    using clock_type = meetingbaas::pg::server_clock;

    /// The version of the server's own table (server_probe), next to the library's components.
    static constexpr int probe_version = 1;

    [[nodiscard]] static meetingbaas::result<std::unique_ptr<postgres_state>, std::string>
    open(const std::string& url, shared_state_options options = {})
    {
        namespace mb = meetingbaas;
        const std::string where = describe(url);
        const auto fail = [&](const mb::error& e) {
            return "cannot open the state postgres " + where + ": " + mb::to_string(e);
        };
        mb::pg::pool_options pool_options;
        pool_options.conninfo = url;
        pool_options.max_connections = options.connections;
        pool_options.acquire_timeout =
            std::chrono::seconds(2);  // a webhook waits at most this for a connection
        pool_options.connection.connect_timeout = std::chrono::seconds(2);
        pool_options.connection.call_timeout = std::chrono::seconds(3);
        pool_options.connection.statement_timeout = std::chrono::milliseconds(2500);
        pool_options.connection.application_name = "calendar_sync_server";
        auto pool = mb::pg::pool::create(pool_options);
        if (!pool) return fail(pool.error());
        if (options.instance_id.empty()) options.instance_id = default_instance_id();
        auto store = store_type::open(*pool);
        if (!store) return fail(store.error());
        auto queue = queue_type::open(*pool, {}, {.instance_id = options.instance_id});
        if (!queue) return fail(queue.error());
        auto events = events_type::open(*pool);
        if (!events) return fail(events.error());
        auto writes = limiter_type::open(*pool, {.limits = {.per_second = options.write_rate}});
        if (!writes) return fail(writes.error());
        {
            auto h = (*pool)->acquire();
            if (!h) return fail(h.error());
            const std::array<std::string, probe_version> steps{
                "CREATE TABLE IF NOT EXISTS meetingbaas.server_probe (instance bytea PRIMARY KEY, "
                "at timestamptz NOT NULL)"};
            if (auto r = mb::pg::ensure_component(**h, "meetingbaas", "server_probe", steps); !r)
                return fail(r.error());
        }
        auto requeued = queue->requeue_leased();
        if (!requeued) return fail(requeued.error());
        return std::unique_ptr<postgres_state>(
            new postgres_state(std::move(*pool), std::move(*queue), std::move(*store), std::move(*events),
                               std::move(*writes), std::move(options.instance_id), where, *requeued));
    }

    queue_type intake;  ///< the receiver's (and /metrics') queue
    queue_type queue;   ///< the workers' and the admin endpoints' (wait_for_work: LISTEN/NOTIFY)
    store_type store;
    events_type events;
    limiter_type writes;  ///< one bucket for every instance on this database
    clock_type clock;     ///< the database's clock, for the idempotency guard's leases
    std::size_t requeued_at_start = 0;
    std::string instance_id;

    [[nodiscard]] static constexpr std::string_view backend() noexcept { return "postgres"; }
    /// "host:port/dbname" (never the user or password).
    [[nodiscard]] const std::string& where() const noexcept { return where_; }

    /// Can a delivery be stored right now? One small upsert (fails like an enqueue would: server down,
    /// read-only after a fail-over, disk full). The error names the backend.
    [[nodiscard]] meetingbaas::result<void, std::string> probe()
    {
        namespace mb = meetingbaas;
        auto h = pool_->acquire();
        if (!h) return mb::unexpected(describe_failure(h.error()));
        mb::pg::params p;
        p.bytes(instance_id);
        auto r = (*h)->execute(probe_statement_, p);
        if (!r) return mb::unexpected(describe_failure(r.error()));
        return {};
    }

    /// Housekeeping (docs/scale-out.md, "Retention"): the clock offset every minute; expired idempotency
    /// records every minute; completed jobs past the 72 h deduplication window, dead letters after 30
    /// days and event versions after 90 days, hourly. Safe to run in every instance at once.
    [[nodiscard]] std::vector<maintenance_task> maintenance_tasks(json_log& /*log*/)
    {
        namespace mb = meetingbaas;
        using result = mb::result<maintenance_outcome, std::string>;
        using namespace std::chrono_literals;
        const auto count = [](auto r) -> result {
            if (!r) return mb::unexpected(mb::to_string(r.error()));
            return maintenance_outcome{static_cast<std::uint64_t>(*r), std::nullopt};
        };
        // One list, built at once (push_back after push_back trips a GCC 12 -O3 -Wstringop-overflow false
        // positive in the vector's reallocation).
        return {
            {"sync_clock", 1min,
             [this]() -> result {
                 // The offset is shared with every copy of the clock (the guard's too).
                 if (auto r = store.sync_clock(); !r) return mb::unexpected(mb::to_string(r.error()));
                 return maintenance_outcome{};
             },
             false},
            {"purge_expired_records", 1min, [this, count] { return count(store.purge_expired(now())); },
             false},
            {"purge_completed_jobs", 1h,
             [this, count] { return count(queue.purge_completed(mb::queue_now(clock) - 72h)); }, false},
            {"purge_dead_letters", 1h,
             [this, count] { return count(queue.purge_dead_letters(mb::queue_now(clock) - 720h)); }, false},
            {"purge_event_state", 1h, [this, count] { return count(events.purge_older_than(now() - 2160h)); },
             false},
        };
    }

    [[nodiscard]] const std::shared_ptr<meetingbaas::pg::pool>& pool() const noexcept { return pool_; }

private:
    postgres_state(std::shared_ptr<meetingbaas::pg::pool> pool, queue_type q, store_type s, events_type e,
                   limiter_type w, std::string id, std::string where, std::size_t requeued)
        : intake(q), queue(std::move(q)), store(std::move(s)), events(std::move(e)), writes(std::move(w)),
          clock(store.server_clock()), requeued_at_start(requeued), instance_id(std::move(id)),
          pool_(std::move(pool)), where_(std::move(where)),
          probe_statement_("server probe",
                           "INSERT INTO meetingbaas.server_probe (instance, at) VALUES ($1, now()) "
                           "ON CONFLICT (instance) DO UPDATE SET at = EXCLUDED.at",
                           {meetingbaas::pg::oid::bytea})
    {}

    /// The database's time, as the stores take it.
    [[nodiscard]] meetingbaas::utc_time now() const
    {
        return std::chrono::time_point_cast<std::chrono::microseconds>(clock.now());
    }

    std::string describe_failure(const meetingbaas::error& e) const
    {
        return "postgres " + where_ + ": " + e.message;
    }

    /// "host:port/dbname" of a libpq connection string, or "(invalid connection string)".
    static std::string describe(const std::string& url)
    {
        char* parse_error = nullptr;
        PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
        if (parsed == nullptr) {
            PQfreemem(parse_error);
            return "(invalid connection string)";
        }
        std::string target = meetingbaas::pg::detail::describe_target(parsed);
        PQconninfoFree(parsed);
        return target;
    }

    static std::string default_instance_id()
    {
        std::array<char, 256> host{};
        if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
        return std::string(host.data()) + "-" + std::to_string(::getpid()) + "-" +
               std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    }

    std::shared_ptr<meetingbaas::pg::pool> pool_;
    std::string where_;
    meetingbaas::pg::statement probe_statement_;
};

}  // namespace support
