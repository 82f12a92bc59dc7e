// SPDX-License-Identifier: MIT
#pragma once

// postgres_event_state: the event_state_store (sync/event_state.hpp) on PostgreSQL (link
// meetingbaas::postgres): table <schema>.event_state (uuid bytea PRIMARY KEY, applied_us bigint,
// recorded_us bigint). record_applied is one upsert that keeps the maximum (and writes nothing when the
// stored version is already newer); applied_version one primary-key lookup. purge_older_than() forgets
// events not advanced since a time (in batches), for a retention such as 90 days.
//
// After a lost connection (pg::outcome_unknown(e)) record_applied may or may not have raised the
// version; the caller's retry is harmless (the upsert keeps the maximum).
//
// Thread safety: every member may be called concurrently; each call borrows a connection from the source.

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>
#include <meetingbaas/adapters/postgres/schema.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/event_state.hpp>

#include <algorithm>
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

struct postgres_event_state_options {
    std::string schema = "meetingbaas";
};

template <pg::connection_source Source = pg::pool>
class basic_postgres_event_state {
public:
    static constexpr int schema_version = 1;

    /// Creates the table when missing. Errors: errc::invalid_argument, errc::conflict, storage errors.
    [[nodiscard]] static result<basic_postgres_event_state> open(std::shared_ptr<Source> source,
                                                                 postgres_event_state_options options = {})
    {
        if (auto ok = pg::check_identifier(options.schema, "postgres_event_state_options.schema"); !ok) {
            return std::move(ok).error();
        }
        auto s = std::make_shared<shared>(std::move(source), std::move(options));
        auto h = s->source->acquire();
        if (!h) return std::move(h).error();
        const std::string t = pg::detail::quoted(s->options.schema) + ".event_state";
        const std::vector<std::string> steps{
            "CREATE TABLE IF NOT EXISTS " + t +
            " (uuid bytea PRIMARY KEY, applied_us bigint NOT NULL, recorded_us bigint NOT NULL);"
            " CREATE INDEX IF NOT EXISTS event_state_recorded ON " +
            t + " (recorded_us)"};
        if (auto ok = pg::ensure_component(**h, s->options.schema, "event_state", steps); !ok) {
            return std::move(ok).error();
        }
        return basic_postgres_event_state(std::move(s));
    }

    result<std::optional<utc_time>> applied_version(std::string_view uuid)
    {
        pg::params p;
        p.bytes(uuid);
        auto rs = run(s_->read, p);
        if (!rs) return std::move(rs).error();
        if (rs->rows() == 0) return std::optional<utc_time>();
        pg::row_reader row(*rs, 0, "event_state applied_version");
        const auto us = row.int64(0);
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        return std::optional<utc_time>(utc_time(std::chrono::microseconds(us)));
    }

    result<void> record_applied(std::string_view uuid, utc_time t)
    {
        pg::params p;
        p.bytes(uuid).int64(t.time_since_epoch().count());
        auto rs = run(s_->write, p);
        if (!rs) return std::move(rs).error();
        return {};
    }

    /// Deletes events whose version was last raised before `before` (server time of the write), `batch`
    /// rows per statement; returns how many.
    result<std::size_t> purge_older_than(utc_time before, std::size_t batch = 500)
    {
        batch = std::clamp<std::size_t>(batch, 1, 100'000);
        std::size_t total = 0;
        for (;;) {
            pg::params p;
            p.int64(before.time_since_epoch().count()).int64(static_cast<std::int64_t>(batch));
            auto rs = run(s_->purge, p);
            if (!rs) return std::move(rs).error();
            const auto n = static_cast<std::size_t>(rs->affected());
            total += n;
            if (n < batch) return total;
        }
    }

    /// Health probe: one round trip.
    result<void> health()
    {
        auto r = applied_version("");
        if (!r) return std::move(r).error();
        return {};
    }

    [[nodiscard]] const std::shared_ptr<Source>& source() const noexcept { return s_->source; }

private:
    struct shared {
        shared(std::shared_ptr<Source> src, postgres_event_state_options opts)
            : source(std::move(src)), options(std::move(opts))
        {
            using namespace pg;
            const std::string t = pg::detail::quoted(options.schema) + ".event_state";
            read = statement("event_state applied_version",
                             "SELECT applied_us FROM " + t + " WHERE uuid = $1", {oid::bytea});
            write =
                statement("event_state record_applied",
                          "INSERT INTO " + t +
                              " AS e (uuid, applied_us, recorded_us) VALUES ($1, $2, "
                              "floor(extract(epoch FROM statement_timestamp()) * 1000000)::int8) ON CONFLICT "
                              "(uuid) DO UPDATE SET applied_us = EXCLUDED.applied_us,"
                              " recorded_us = EXCLUDED.recorded_us WHERE e.applied_us < EXCLUDED.applied_us",
                          {oid::bytea, oid::int8});
            purge =
                statement("event_state purge",
                          "DELETE FROM " + t + " WHERE uuid IN (SELECT uuid FROM " + t +
                              " WHERE recorded_us < $1 ORDER BY recorded_us LIMIT $2 FOR UPDATE SKIP LOCKED)",
                          {oid::int8, oid::int8});
        }
        std::shared_ptr<Source> source;
        postgres_event_state_options options;
        pg::statement read, write, purge;
    };

    explicit basic_postgres_event_state(std::shared_ptr<shared> s) noexcept : s_(std::move(s)) {}

    result<pg::result_set> run(const pg::statement& st, const pg::params& p)
    {
        auto h = s_->source->acquire();
        if (!h) return std::move(h).error();
        return (**h).execute(st, p);
    }

    std::shared_ptr<shared> s_;
};

using postgres_event_state = basic_postgres_event_state<pg::pool>;

static_assert(event_state_store<postgres_event_state>);

}  // namespace meetingbaas::inline v0
