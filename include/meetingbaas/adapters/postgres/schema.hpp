// SPDX-License-Identifier: MIT
#pragma once

// Schema management and clocks shared by the PostgreSQL stores (link meetingbaas::postgres).
//
// Schema: every store keeps its tables in one PostgreSQL schema (default "meetingbaas"), and records the
// version of its tables in <schema>.mb_schema (component, version). ensure_component() creates or upgrades
// a component idempotently, in one transaction that first takes a transaction-scoped advisory lock, so N
// instances starting together do not race on CREATE ... IF NOT EXISTS (which is not safe concurrently on
// its own). A component whose recorded version is newer than the code's is refused (errc::conflict): an
// old binary never writes to tables it does not understand. When the version is current, nothing but one
// SELECT runs, so after the first start the application role needs no CREATE privilege.
//
// Clocks: lease and rate arithmetic runs on the database server's clock by default (pg::server_time), so
// that instances whose own clocks disagree still agree on when a lease ends. pg::server_clock estimates the
// server's clock locally (for the idempotency guard and retry times), from one round trip at sync().

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0::pg {

/// Clock tag: compute times in SQL from the server's statement_timestamp() instead of passing the
/// caller's clock reading. The default of the queue and the rate limiter.
struct server_time {};

namespace detail {

/// [A-Za-z_][A-Za-z0-9_]*, at most 48 characters (room for suffixes within PostgreSQL's 63).
inline bool valid_identifier(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 48) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && (i == 0 || !digit)) return false;
    }
    return true;
}

inline std::string quoted(std::string_view id)
{
    // Built by appends: GCC 12 at -O3 reports a false -Wrestrict for `"\"" + std::string(id)`.
    std::string out;
    out.reserve(id.size() + 2);
    out += '"';
    out.append(id);
    out += '"';
    return out;
}

/// SQL for "now" in milliseconds (or microseconds) since the epoch: the bound parameter when the caller
/// passes a time, the server's statement_timestamp() when the parameter is NULL (pg::server_time).
inline std::string now_ms_sql(int param)
{
    return "COALESCE($" + std::to_string(param) +
           "::int8, floor(extract(epoch FROM statement_timestamp()) * 1000)::int8)";
}
inline std::string now_us_sql(int param)
{
    return "COALESCE($" + std::to_string(param) +
           "::int8, floor(extract(epoch FROM statement_timestamp()) * 1000000)::int8)";
}

/// Runs `sql` and rolls the open transaction back when it fails (the connection stays usable).
inline result<void> exec_or_rollback(connection& c, std::string_view sql, std::string_view what)
{
    auto r = c.exec(sql, what);
    if (r) return {};
    if (!c.broken()) (void)c.exec("ROLLBACK", "rollback");
    return std::move(r).error();
}

}  // namespace detail

/// Checks a schema or table name for use in SQL (errc::invalid_argument otherwise).
inline result<void> check_identifier(std::string_view name, std::string_view what)
{
    if (detail::valid_identifier(name)) return {};
    return error{errc::invalid_argument, std::string(what),
                 "must match [A-Za-z_][A-Za-z0-9_]* and be at most 48 characters: '" + std::string(name) +
                     "'"};
}

/// Creates or upgrades `component` in `schema` to `steps.size()` (steps[i] is the DDL that takes it from
/// version i to i + 1; a step may hold several ';'-separated statements and must be idempotent).
/// Errors: errc::conflict when the database holds a newer version than steps.size(); storage errors.
inline result<void> ensure_component(connection& c, std::string_view schema, std::string_view component,
                                     std::span<const std::string> steps)
{
    if (auto ok = check_identifier(schema, "postgres schema"); !ok) return ok;
    const std::string s = detail::quoted(schema);
    const auto target = static_cast<std::int64_t>(steps.size());
    const statement read_version("schema version",
                                 "SELECT version FROM " + s + ".mb_schema WHERE component = $1", {oid::text});
    auto newer = [&](std::int64_t found) {
        return error{errc::conflict, "postgres schema " + std::string(schema) + "." + std::string(component),
                     "the database holds version " + std::to_string(found) + ", newer than this library's " +
                         std::to_string(target) + ": upgrade the library (or use another schema)"};
    };
    // Fast path: the component exists at the current version (one SELECT, no DDL, no lock).
    {
        params p;
        p.bytes(component);
        auto r = c.execute(read_version, p);
        if (r && r->rows() == 1) {
            row_reader row(*r, 0, "schema version");
            const auto v = row.int64(0);
            if (auto ok = row.status(); !ok) return ok;
            if (v == target) return {};
            if (v > target) return newer(v);
        } else if (!r && c.broken()) {
            return std::move(r).error();
        }
        // Otherwise: missing schema, table or row (42P01, 3F000), or an older version: take the slow path.
    }
    // Slow path, one transaction: lock, create the version table, re-read, run the missing steps, record.
    const std::string lock = "BEGIN; SET LOCAL client_min_messages = warning; "
                             "SELECT pg_advisory_xact_lock(1296193352, hashtext('meetingbaas:' || " +
                             std::string("'") + std::string(schema) + "')); CREATE SCHEMA IF NOT EXISTS " +
                             s + "; CREATE TABLE IF NOT EXISTS " + s +
                             ".mb_schema (component text PRIMARY KEY, version integer NOT NULL, "
                             "updated_at timestamptz NOT NULL DEFAULT now())";
    if (auto r = detail::exec_or_rollback(c, lock, "schema lock"); !r) return r;
    std::int64_t current = 0;
    {
        params p;
        p.bytes(component);
        auto r = c.execute(read_version, p);
        if (!r) {
            if (!c.broken()) (void)c.exec("ROLLBACK", "rollback");
            return std::move(r).error();
        }
        if (r->rows() == 1) {
            row_reader row(*r, 0, "schema version");
            current = row.int64(0);
            if (auto ok = row.status(); !ok) {
                (void)c.exec("ROLLBACK", "rollback");
                return ok;
            }
        }
    }
    if (current > target) {
        (void)c.exec("ROLLBACK", "rollback");
        return newer(current);
    }
    for (auto v = current; v < target; ++v) {
        if (auto r = detail::exec_or_rollback(c, steps[static_cast<std::size_t>(v)], "schema upgrade"); !r)
            return r;
    }
    const std::string record = "INSERT INTO " + s + ".mb_schema (component, version) VALUES ('" +
                               std::string(component) + "', " + std::to_string(target) +
                               ") ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, "
                               "updated_at = now(); COMMIT";
    return detail::exec_or_rollback(c, record, "schema record");
}

/// The database server's clock, estimated locally: now() = system_clock::now() + offset, where sync()
/// measures the offset with one round trip (error: half the round trip). Copies share the offset. Use it as
/// the idempotency guard's clock (and the workers' clock for retry times) when instances' clocks may
/// disagree; call sync() now and then (the example server does it once a minute). now() never does I/O.
class server_clock {
public:
    server_clock() : offset_us_(std::make_shared<std::atomic<std::int64_t>>(0)) {}

    [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept
    {
        return std::chrono::system_clock::now() +
               std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   std::chrono::microseconds(offset_us_->load(std::memory_order_relaxed)));
    }

    /// Measures the offset on `c`. Returns the new offset (server minus local).
    result<std::chrono::microseconds> sync(connection& c)
    {
        static const statement st("clock",
                                  "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000000)::int8", {});
        const auto before = std::chrono::system_clock::now();
        params none;
        auto r = c.execute(st, none);
        const auto after = std::chrono::system_clock::now();
        if (!r) return std::move(r).error();
        row_reader row(*r, 0, "clock");
        const auto server_us = row.int64(0);
        if (auto ok = row.status(); !ok) return std::move(ok).error();
        const auto mid = before + (after - before) / 2;
        const auto local_us =
            std::chrono::duration_cast<std::chrono::microseconds>(mid.time_since_epoch()).count();
        const auto offset = server_us - local_us;
        offset_us_->store(offset, std::memory_order_relaxed);
        return std::chrono::microseconds(offset);
    }

    [[nodiscard]] std::chrono::microseconds offset() const noexcept
    {
        return std::chrono::microseconds(offset_us_->load(std::memory_order_relaxed));
    }

private:
    std::shared_ptr<std::atomic<std::int64_t>> offset_us_;
};

}  // namespace meetingbaas::inline v0::pg
