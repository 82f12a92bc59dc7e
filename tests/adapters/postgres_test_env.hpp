// SPDX-License-Identifier: MIT
#pragma once
// The PostgreSQL server the tests run against: .ci/run starts a throw-away cluster (.ci/services.sh,
// start_postgres) and passes its URI in MEETINGBAAS_TEST_POSTGRES_URL. Without it a test is skipped with a
// line saying so, except under CI (CI=true), where a missing server is a failure.
// scratch_schema gives each fixture a fresh, empty PostgreSQL schema and drops it afterwards.

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include <unistd.h>

namespace pg_test {

namespace mb = meetingbaas;

inline std::string env(const char* name)
{
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads start
    return v != nullptr ? std::string(v) : std::string();
}

/// The server's URI; skips the test (or fails it under CI) when there is none.
inline std::string url()
{
    std::string u = env("MEETINGBAAS_TEST_POSTGRES_URL");
    if (u.empty()) {
        if (env("CI") == "true")
            FAIL("CI=true but MEETINGBAAS_TEST_POSTGRES_URL is not set (.ci/services.sh)");
        SKIP("PostgreSQL tests skipped: MEETINGBAAS_TEST_POSTGRES_URL is not set "
             "(source .ci/services.sh && start_postgres)");
    }
    return u;
}

/// .ci/services.sh's ctl.sh (stop|start|restart), or "" when the server cannot be controlled.
inline std::string ctl()
{
    return env("MEETINGBAAS_TEST_POSTGRES_CTL");
}

inline mb::pg::connection admin(const std::string& u)
{
    auto c = mb::pg::connection::open(u);
    REQUIRE(c);
    return std::move(*c);
}

inline std::shared_ptr<mb::pg::pool> make_pool(const std::string& u, std::size_t max = 8)
{
    mb::pg::pool_options o;
    o.conninfo = u;
    o.max_connections = max;
    auto p = mb::pg::pool::create(std::move(o));
    REQUIRE(p);
    return std::move(*p);
}

/// A unique schema name: "mbt_<pid>_<n>_<random>".
inline std::string unique_schema()
{
    static std::atomic<int> counter{0};
    static const auto salt = std::random_device{}() % 100000;
    return "mbt_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(salt);
}

/// Drops the schema (CASCADE) when destroyed.
class scratch_schema {
public:
    explicit scratch_schema(std::string u) : url_(std::move(u)), name_(unique_schema()) {}
    scratch_schema(const scratch_schema&) = delete;
    scratch_schema& operator=(const scratch_schema&) = delete;
    scratch_schema(scratch_schema&&) = delete;
    scratch_schema& operator=(scratch_schema&&) = delete;
    ~scratch_schema()
    {
        auto c = mb::pg::connection::open(url_);
        if (c) (void)c->exec("DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE");
    }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& url() const noexcept { return url_; }

private:
    std::string url_;
    std::string name_;
};

/// Runs `sql` (text protocol) and returns the first column of the first row as text ("" when none).
inline std::string scalar(mb::pg::connection& c, const std::string& sql)
{
    auto r = c.exec(sql);
    REQUIRE(r);
    if (r->rows() == 0 || PQgetisnull(r->native_handle(), 0, 0) != 0) return {};
    return PQgetvalue(r->native_handle(), 0, 0);
}

/// Waits (bounded) until `pred()` holds; false on timeout.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10))
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

}  // namespace pg_test
