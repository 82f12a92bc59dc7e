// SPDX-License-Identifier: MIT
#pragma once

// postgres_idempotency_store: the idempotency_store (idempotency/store.hpp) on PostgreSQL (link
// meetingbaas::postgres), shared by any number of processes and hosts.
//
//  * Table <schema>.<table> (default meetingbaas.idempotency): key bytea PRIMARY KEY, state, outcome, fence,
//    expires_us (microseconds since the epoch), fingerprint, outcome_data. Keys and data are bytes.
//  * One prepared statement, one round trip, per primitive: INSERT ... ON CONFLICT DO NOTHING,
//    SELECT, UPDATE ... WHERE fence = $2, DELETE ... WHERE fence = $2. Each is atomic and, under READ
//    COMMITTED, re-checks its condition on the newest row version after waiting for a concurrent writer:
//    linearizable per key.
//  * Expiry: every purge_every inserts, one extra statement deletes up to purge_batch expired records
//    (oldest first, skipping rows locked by others); purge_expired() does it on demand.
//  * Times are the caller's (the concept passes `now`); to make every instance expire leases by the same
//    clock, give the guard server_clock() (the database's clock, estimated locally).
//
// After a lost connection (pg::outcome_unknown(e)): insert_if_absent may have stored the record (the next
// begin() then sees it in progress until its lease ends, and takes it over), compare_and_set may have
// replaced it (the claim is then consumed or renewed without the caller knowing: treat the work as
// ambiguous), erase_if_fence may have removed it. A "not applied" error changed nothing.
//
// Thread safety: every member may be called concurrently; each call borrows a connection from the source.

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>
#include <meetingbaas/adapters/postgres/schema.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/idempotency/store.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

struct postgres_store_options {
    std::string schema = "meetingbaas";  ///< PostgreSQL schema (created when missing)
    std::string table = "idempotency";   ///< lets several stores share a schema
    std::size_t purge_every = 256;       ///< inserts between two incremental purges (0 = never implicitly)
    std::size_t purge_batch = 64;        ///< expired records deleted per incremental purge
};

template <pg::connection_source Source = pg::pool>
class basic_postgres_idempotency_store {
public:
    static constexpr int schema_version = 1;

    /// Uses `source` for connections; creates the schema and table when missing (see schema.hpp).
    /// Errors: errc::invalid_argument (names), errc::conflict (newer schema), storage errors.
    [[nodiscard]] static result<basic_postgres_idempotency_store> open(std::shared_ptr<Source> source,
                                                                       postgres_store_options options = {})
    {
        if (auto ok = pg::check_identifier(options.schema, "postgres_store_options.schema"); !ok) {
            return std::move(ok).error();
        }
        if (auto ok = pg::check_identifier(options.table, "postgres_store_options.table"); !ok) {
            return std::move(ok).error();
        }
        auto s = std::make_shared<shared>(std::move(source), std::move(options));
        auto h = s->source->acquire();
        if (!h) return std::move(h).error();
        const std::string t = s->qualified;
        const std::string index = pg::detail::quoted(s->options.table + "_expires");
        const std::vector<std::string> steps{
            "CREATE TABLE IF NOT EXISTS " + t +
            " (key bytea PRIMARY KEY, state smallint NOT NULL, outcome smallint NOT NULL, fence bigint NOT "
            "NULL,"
            " expires_us bigint NOT NULL, fingerprint bytea NOT NULL, outcome_data bytea NOT NULL);"
            " CREATE INDEX IF NOT EXISTS " +
            index + " ON " + t + " (expires_us)"};
        if (auto ok = pg::ensure_component(**h, s->options.schema, "idempotency:" + s->options.table, steps);
            !ok) {
            return std::move(ok).error();
        }
        if (auto c = s->clock.sync(**h); !c) return std::move(c).error();
        return basic_postgres_idempotency_store(std::move(s));
    }

    result<bool> insert_if_absent(std::string_view key, const record_view& r, utc_time now)
    {
        pg::params p;
        p.bytes(key);
        bind_record(p, r);
        auto rs = run(s_->insert, p);
        if (!rs) return std::move(rs).error();
        const bool inserted = rs->affected() == 1;
        if (inserted && s_->options.purge_every != 0 &&
            s_->inserts.fetch_add(1, std::memory_order_relaxed) % s_->options.purge_every ==
                s_->options.purge_every - 1) {
            (void)purge_expired(now, s_->options.purge_batch);  // housekeeping: retried at the next round
        }
        return inserted;
    }

    result<std::optional<idempotency_record>> load(std::string_view key, utc_time /*now*/)
    {
        pg::params p;
        p.bytes(key);
        auto rs = run(s_->load, p);
        if (!rs) return std::move(rs).error();
        if (rs->rows() == 0) return std::optional<idempotency_record>();
        pg::row_reader row(*rs, 0, "idempotency load");
        const auto state_value = row.int64(0);
        const auto outcome = row.int64(1);
        idempotency_record rec;
        rec.fence = static_cast<std::uint64_t>(row.int64(2));
        rec.expires_at = utc_time(std::chrono::microseconds(row.int64(3)));
        rec.fingerprint = std::string(row.bytes(4));
        rec.outcome_data = std::string(row.bytes(5));
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        if (state_value < 1 || state_value > 2 || outcome < 0 || outcome > 3) {
            return error{errc::storage_error, "postgres idempotency load",
                         "corrupt record (state or outcome)"};
        }
        rec.state = static_cast<record_state>(state_value);
        rec.outcome = static_cast<work_outcome>(outcome);
        return std::optional<idempotency_record>(std::move(rec));
    }

    result<bool> compare_and_set(std::string_view key, std::uint64_t expected_fence, const record_view& r,
                                 utc_time /*now*/)
    {
        pg::params p;
        p.bytes(key).int64(static_cast<std::int64_t>(expected_fence));
        bind_record(p, r);
        auto rs = run(s_->cas, p);
        if (!rs) return std::move(rs).error();
        return rs->affected() == 1;
    }

    result<bool> erase_if_fence(std::string_view key, std::uint64_t fence)
    {
        pg::params p;
        p.bytes(key).int64(static_cast<std::int64_t>(fence));
        auto rs = run(s_->erase, p);
        if (!rs) return std::move(rs).error();
        return rs->affected() == 1;
    }

    /// Deletes up to `limit` records whose expires_at <= now, oldest first, in batches of at most 1000
    /// (short transactions); returns how many.
    result<std::size_t> purge_expired(utc_time now, std::size_t limit = 1000)
    {
        std::size_t total = 0;
        while (total < limit) {
            const std::size_t batch = std::min<std::size_t>(limit - total, 1000);
            pg::params p;
            p.int64(now.time_since_epoch().count()).int64(static_cast<std::int64_t>(batch));
            auto rs = run(s_->purge, p);
            if (!rs) return std::move(rs).error();
            const auto n = static_cast<std::size_t>(rs->affected());
            total += n;
            if (n < batch) break;
        }
        return total;
    }

    /// Records in the table (expired ones included until purged).
    result<std::size_t> size()
    {
        pg::params none;
        auto rs = run(s_->count, none);
        if (!rs) return std::move(rs).error();
        pg::row_reader row(*rs, 0, "idempotency size");
        const auto n = row.int64(0);
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        return static_cast<std::size_t>(n);
    }

    /// Health probe: one round trip on a pooled connection (a SELECT on the table).
    result<void> health()
    {
        auto n = size_limited();
        if (!n) return std::move(n).error();
        return {};
    }

    /// The database's clock, estimated locally (synced at open; resync with sync_clock()).
    [[nodiscard]] pg::server_clock server_clock() const { return s_->clock; }
    result<std::chrono::microseconds> sync_clock()
    {
        auto h = s_->source->acquire();
        if (!h) return std::move(h).error();
        return s_->clock.sync(**h);
    }

    [[nodiscard]] const postgres_store_options& options() const noexcept { return s_->options; }
    [[nodiscard]] const std::shared_ptr<Source>& source() const noexcept { return s_->source; }

private:
    struct shared {
        shared(std::shared_ptr<Source> src, postgres_store_options opts)
            : source(std::move(src)), options(std::move(opts)),
              qualified(pg::detail::quoted(options.schema) + "." + pg::detail::quoted(options.table))
        {
            using namespace pg;
            const std::string& t = qualified;
            const std::vector<Oid> record_types{oid::int8, oid::int8,  oid::int8,
                                                oid::int8, oid::bytea, oid::bytea};
            std::vector<Oid> insert_types{oid::bytea};
            insert_types.insert(insert_types.end(), record_types.begin(), record_types.end());
            std::vector<Oid> cas_types{oid::bytea, oid::int8};
            cas_types.insert(cas_types.end(), record_types.begin(), record_types.end());
            insert = statement("idempotency insert_if_absent",
                               "INSERT INTO " + t +
                                   " (key, state, outcome, fence, expires_us, fingerprint, outcome_data)"
                                   " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING",
                               insert_types);
            load = statement("idempotency load",
                             "SELECT state, outcome, fence, expires_us, fingerprint, outcome_data FROM " + t +
                                 " WHERE key = $1",
                             {oid::bytea});
            cas =
                statement("idempotency compare_and_set",
                          "UPDATE " + t +
                              " SET state = $3, outcome = $4, fence = $5, expires_us = $6, fingerprint = $7,"
                              " outcome_data = $8 WHERE key = $1 AND fence = $2",
                          cas_types);
            erase = statement("idempotency erase_if_fence",
                              "DELETE FROM " + t + " WHERE key = $1 AND fence = $2", {oid::bytea, oid::int8});
            purge =
                statement("idempotency purge_expired",
                          "DELETE FROM " + t + " WHERE key IN (SELECT key FROM " + t +
                              " WHERE expires_us <= $1 ORDER BY expires_us LIMIT $2 FOR UPDATE SKIP LOCKED)",
                          {oid::int8, oid::int8});
            count = statement("idempotency size", "SELECT count(*) FROM " + t, {});
            probe = statement("idempotency health",
                              "SELECT count(*) FROM (SELECT 1 FROM " + t + " LIMIT 1) x", {});
        }

        std::shared_ptr<Source> source;
        postgres_store_options options;
        std::string qualified;
        pg::statement insert, load, cas, erase, purge, count, probe;
        std::atomic<std::size_t> inserts{0};
        pg::server_clock clock;
    };

    explicit basic_postgres_idempotency_store(std::shared_ptr<shared> s) noexcept : s_(std::move(s)) {}

    static void bind_record(pg::params& p, const record_view& r) noexcept
    {
        p.int64(static_cast<std::int64_t>(r.state))
            .int64(static_cast<std::int64_t>(r.outcome))
            .int64(static_cast<std::int64_t>(r.fence))
            .int64(r.expires_at.time_since_epoch().count())
            .bytes(r.fingerprint)
            .bytes(r.outcome_data);
    }

    result<pg::result_set> run(const pg::statement& st, const pg::params& p)
    {
        auto h = s_->source->acquire();
        if (!h) return std::move(h).error();
        return (**h).execute(st, p);
    }

    result<std::size_t> size_limited()
    {
        pg::params none;
        auto rs = run(s_->probe, none);
        if (!rs) return std::move(rs).error();
        return static_cast<std::size_t>(rs->rows());
    }

    std::shared_ptr<shared> s_;
};

using postgres_idempotency_store = basic_postgres_idempotency_store<pg::pool>;

static_assert(idempotency_store<postgres_idempotency_store>);

/// Connects a pool to `conninfo` and opens the store on it (the pool can be shared with the queue and the
/// event state: store.source()).
[[nodiscard]] inline result<postgres_idempotency_store>
open_postgres_idempotency_store(const std::string& conninfo, postgres_store_options options = {},
                                pg::pool_options pool = {})
{
    pool.conninfo = conninfo;
    auto p = pg::pool::create(std::move(pool));
    if (!p) return std::move(p).error();
    return postgres_idempotency_store::open(std::move(*p), std::move(options));
}

}  // namespace meetingbaas::inline v0
