// SPDX-License-Identifier: MIT
#pragma once

// postgres_rate_limiter: the shared write-rate limiter (api/rate_limit.hpp, write_rate_limiter) with its
// bucket in PostgreSQL (link meetingbaas::postgres), so that every worker of every instance draws from one
// limit. The algorithm is the same GCRA as token_bucket_limiter's, run on the database server's clock:
//
//  * table <schema>.rate_limits, one row per bucket: tat_us (the "theoretical arrival time"), hold_until_us
//    (a pause imposed by a 429 or "0 remaining"), lowered_interval_us / lowered_until_us (a lower limit the
//    API reported), all in microseconds since the epoch;
//  * try_acquire(): one round trip, `SELECT * FROM <schema>.rate_acquire(...)`, a PL/pgSQL function that
//    locks the bucket row (SELECT ... FOR UPDATE), decides, and advances tat_us by one interval when it
//    grants. Concurrent callers serialize on the row lock, so grants are at least one interval apart in
//    server time however many processes ask;
//  * feedback(): one UPDATE (hold and lowered limit, as plan_adjustment() says); best effort: a failure is
//    counted (feedback_failures()), never reported to the caller.
//
// Every instance must use the same per_second and burst for one bucket (they are sent with each call).
// Name buckets after what the API limits: one per Meeting BaaS team (API key).
// Errors of try_acquire: the connection's (see connection.hpp); rate_limited_client then fails the write
// without sending it (fail closed) unless told otherwise.
//
// Thread safety: both members may be called concurrently; each call borrows a connection from the source.

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>
#include <meetingbaas/adapters/postgres/schema.hpp>
#include <meetingbaas/api/rate_limit.hpp>
#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

struct postgres_rate_limiter_options {
    std::string schema = "meetingbaas";
    /// The bucket's name: one per limit the API enforces (per team: e.g. "meetingbaas-writes:<team>").
    std::string bucket = "meetingbaas-api-writes";
    rate_limit_options limits{};
};

/// A write_rate_limiter in PostgreSQL. Clock: pg::server_time (default: the server's clock) or a wall_clock
/// (core/clock.hpp; tests: a manual clock), read in microseconds since the Unix epoch.
template <class Clock = pg::server_time, pg::connection_source Source = pg::pool>
    requires(wall_clock<Clock> || std::same_as<Clock, pg::server_time>)
class postgres_rate_limiter {
public:
    static constexpr int schema_version = 1;

    /// Creates the table and functions when missing, and the bucket row. Errors: errc::invalid_argument
    /// (validate(options.limits), names), errc::conflict (newer schema), storage errors.
    [[nodiscard]] static result<postgres_rate_limiter>
    open(std::shared_ptr<Source> source, postgres_rate_limiter_options options = {}, Clock clock = Clock{})
    {
        if (auto ok = validate(options.limits); !ok) return std::move(ok).error();
        if (auto ok = pg::check_identifier(options.schema, "postgres_rate_limiter_options.schema"); !ok) {
            return std::move(ok).error();
        }
        if (options.bucket.empty() || options.bucket.size() > 200) {
            return error{errc::invalid_argument, "postgres_rate_limiter_options.bucket", "1 to 200 bytes"};
        }
        auto s = std::make_shared<shared>(std::move(source), std::move(options), std::move(clock));
        auto h = s->source->acquire();
        if (!h) return std::move(h).error();
        const std::string q = pg::detail::quoted(s->options.schema);
        const std::string t = q + ".rate_limits";
        const std::vector<std::string> steps{
            "CREATE TABLE IF NOT EXISTS " + t +
            " (name text PRIMARY KEY, tat_us bigint NOT NULL DEFAULT 0, hold_until_us bigint NOT NULL "
            "DEFAULT 0,"
            " lowered_interval_us bigint NOT NULL DEFAULT 0, lowered_until_us bigint NOT NULL DEFAULT 0,"
            " updated_us bigint NOT NULL DEFAULT 0);"
            " CREATE OR REPLACE FUNCTION " +
            q +
            ".rate_acquire(p_name text, p_interval_us bigint, p_burst bigint, p_now_us bigint,"
            " OUT granted boolean, OUT wait_us bigint) LANGUAGE plpgsql AS $f$\n"
            "DECLARE\n"
            "  n bigint := COALESCE(p_now_us, floor(extract(epoch FROM statement_timestamp()) * "
            "1000000)::bigint);\n"
            "  b " +
            t +
            "%ROWTYPE;\n"
            "  iv bigint; tat bigint; tau bigint;\n"
            "BEGIN\n"
            "  SELECT * INTO b FROM " +
            t +
            " WHERE name = p_name FOR UPDATE;\n"
            "  IF NOT FOUND THEN\n"
            "    INSERT INTO " +
            t +
            " (name) VALUES (p_name) ON CONFLICT (name) DO NOTHING;\n"
            "    SELECT * INTO b FROM " +
            t +
            " WHERE name = p_name FOR UPDATE;\n"
            "  END IF;\n"
            "  IF b.hold_until_us > n THEN\n"
            "    granted := false; wait_us := b.hold_until_us - n; RETURN;\n"
            "  END IF;\n"
            "  iv := CASE WHEN b.lowered_until_us > n THEN GREATEST(p_interval_us, b.lowered_interval_us)"
            " ELSE p_interval_us END;\n"
            "  tat := GREATEST(b.tat_us, n);\n"
            "  tau := (p_burst - 1) * iv;\n"
            "  IF tat - n > tau THEN\n"
            "    granted := false; wait_us := tat - n - tau; RETURN;\n"
            "  END IF;\n"
            "  UPDATE " +
            t +
            " SET tat_us = tat + iv, updated_us = n WHERE name = p_name;\n"
            "  granted := true; wait_us := 0;\n"
            "END\n"
            "$f$"};
        if (auto ok = pg::ensure_component(**h, s->options.schema, "rate_limit", steps); !ok) {
            return std::move(ok).error();
        }
        pg::params p;
        p.bytes(s->options.bucket);
        if (auto r = (**h).execute(s->create_bucket, p); !r) return std::move(r).error();
        return postgres_rate_limiter(std::move(s));
    }

    /// Takes one permit when the bucket has one (granted), else says how long until it may (retry_in).
    /// Never blocks beyond the round trip.
    result<rate_permit> try_acquire()
    {
        pg::params p;
        p.bytes(s_->options.bucket)
            .int64(s_->interval_us)
            .int64(s_->options.limits.burst)
            .int64_or_null(now_us());
        auto rs = run(s_->acquire, p);
        if (!rs) return std::move(rs).error();
        if (rs->rows() != 1) {
            return error{errc::storage_error, "postgres rate_acquire", "unexpected reply: no row"};
        }
        pg::row_reader row(*rs, 0, "rate_acquire");
        const bool granted = row.boolean(0);
        const auto wait_us = row.int64(1);
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        if (granted) return rate_permit{true, std::chrono::milliseconds::zero()};
        return rate_permit{false,
                           std::chrono::milliseconds(std::max<std::int64_t>((wait_us + 999) / 1000, 1))};
    }

    /// Applies what the API said (plan_adjustment): a hold for every writer, and/or a lower rate for
    /// limits.limit_memory. Best effort: failures are counted, not reported.
    void feedback(const rate_limit_feedback& f)
    {
        const auto a = plan_adjustment(f, s_->options.limits);
        if (!a.hold && !a.limit_per_second) return;
        std::optional<std::int64_t> lowered;
        if (a.limit_per_second) {
            const auto per_second = static_cast<std::int64_t>(*a.limit_per_second);
            lowered = (1'000'000 + per_second - 1) / per_second;
        }
        pg::params p;
        p.bytes(s_->options.bucket)
            .int64_or_null(a.hold ? std::optional<std::int64_t>(a.hold->count() * 1000) : std::nullopt)
            .int64_or_null(lowered)
            .int64(s_->options.limits.limit_memory.count() * 1000)
            .int64_or_null(now_us());
        auto rs = run(s_->feedback, p);
        if (!rs) s_->feedback_failures.fetch_add(1, std::memory_order_relaxed);
    }

    /// Health probe: one round trip (reads the bucket row).
    result<void> health()
    {
        pg::params p;
        p.bytes(s_->options.bucket);
        auto rs = run(s_->probe, p);
        if (!rs) return std::move(rs).error();
        return {};
    }

    [[nodiscard]] std::uint64_t feedback_failures() const noexcept
    {
        return s_->feedback_failures.load(std::memory_order_relaxed);
    }
    [[nodiscard]] const postgres_rate_limiter_options& options() const noexcept { return s_->options; }

private:
    struct shared {
        shared(std::shared_ptr<Source> src, postgres_rate_limiter_options opts, Clock c)
            : source(std::move(src)), options(std::move(opts)), clock(std::move(c)),
              interval_us(detail::interval_us(options.limits.per_second))
        {
            using namespace pg;
            const std::string q = pg::detail::quoted(options.schema);
            const std::string t = q + ".rate_limits";
            acquire = statement("rate_acquire",
                                "SELECT granted, wait_us FROM " + q + ".rate_acquire($1, $2, $3, $4)",
                                {oid::text, oid::int8, oid::int8, oid::int8});
            feedback = statement(
                "rate_feedback",
                "UPDATE " + t + " SET hold_until_us = GREATEST(hold_until_us, " + pg::detail::now_us_sql(5) +
                    " + COALESCE($2, 0)), lowered_interval_us = COALESCE($3, lowered_interval_us),"
                    " lowered_until_us = CASE WHEN $3 IS NULL THEN lowered_until_us ELSE " +
                    pg::detail::now_us_sql(5) + " + $4 END WHERE name = $1",
                {oid::text, oid::int8, oid::int8, oid::int8, oid::int8});
            create_bucket =
                statement("rate_bucket", "INSERT INTO " + t + " (name) VALUES ($1) ON CONFLICT DO NOTHING",
                          {oid::text});
            probe = statement("rate_health", "SELECT tat_us FROM " + t + " WHERE name = $1", {oid::text});
        }
        std::shared_ptr<Source> source;
        postgres_rate_limiter_options options;
        [[no_unique_address]] Clock clock;
        std::int64_t interval_us;
        pg::statement acquire, feedback, create_bucket, probe;
        std::atomic<std::uint64_t> feedback_failures{0};
    };

    explicit postgres_rate_limiter(std::shared_ptr<shared> s) noexcept : s_(std::move(s)) {}

    std::optional<std::int64_t> now_us() const
    {
        if constexpr (std::same_as<Clock, pg::server_time>) {
            return std::nullopt;
        } else {
            return static_cast<std::int64_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(wall_now(s_->clock).time_since_epoch())
                    .count());
        }
    }

    result<pg::result_set> run(const pg::statement& st, const pg::params& p)
    {
        auto h = s_->source->acquire();
        if (!h) return std::move(h).error();
        return (**h).execute(st, p);
    }

    std::shared_ptr<shared> s_;
};

static_assert(write_rate_limiter<postgres_rate_limiter<>>);

}  // namespace meetingbaas::inline v0
