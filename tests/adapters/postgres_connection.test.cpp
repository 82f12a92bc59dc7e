// SPDX-License-Identifier: MIT
// The libpq layer (pg::connection, pg::pool, schema versioning) against a real PostgreSQL: connection
// strings, errors with SQLSTATE, timeouts, connections killed mid-call and while idle, pool limits, and
// schema creation racing from several processes.
#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/idempotency_store.hpp>
#include <meetingbaas/adapters/postgres/job_queue.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>
#include <meetingbaas/adapters/postgres/schema.hpp>

#include "postgres_test_env.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
namespace pg = meetingbaas::pg;

namespace {

/// "postgresql://postgres@127.0.0.1:PORT/postgres" -> "PORT".
std::string port_of(const std::string& url)
{
    const auto colon = url.rfind(':');
    const auto slash = url.find('/', colon);
    return url.substr(colon + 1, slash - colon - 1);
}

std::int64_t select_int(pg::connection& c, const std::string& sql)
{
    const pg::statement st("test", sql, {});
    pg::params none;
    auto r = c.execute(st, none);
    REQUIRE(r);
    pg::row_reader row(*r, 0, "test");
    const auto v = row.int64(0);
    REQUIRE(row.status());
    return v;
}

/// A connection_source of your own: one connection behind a mutex (what an application with its own pool
/// would adapt). Reconnects when the connection it gets back is broken.
class single_connection_source {
public:
    class handle {
    public:
        handle(std::unique_lock<std::mutex> lock, single_connection_source* owner)
            : lock_(std::move(lock)), owner_(owner)
        {}
        pg::connection& operator*() const { return owner_->conn_; }

    private:
        std::unique_lock<std::mutex> lock_;
        single_connection_source* owner_;
    };

    explicit single_connection_source(std::string url) : url_(std::move(url)) {}

    mb::result<handle> acquire()
    {
        std::unique_lock lock(mutex_);
        if (conn_.broken()) {
            auto c = pg::connection::open(url_);
            if (!c) return std::move(c).error();
            conn_ = std::move(*c);
        }
        return handle(std::move(lock), this);
    }

private:
    std::string url_;
    std::mutex mutex_;
    pg::connection conn_;
};

static_assert(pg::connection_source<single_connection_source>);

}  // namespace

TEST_CASE("pg::connection accepts libpq URIs and key=value strings", "[postgres_connection]")
{
    const auto url = pg_test::url();
    const auto port = port_of(url);
    for (const std::string& info :
         {url, "postgres://postgres@127.0.0.1:" + port + "/postgres",
          "postgresql://127.0.0.1:" + port + "/postgres?user=postgres&application_name=uri_test",
          "host=127.0.0.1 port=" + port + " user=postgres dbname=postgres"}) {
        INFO(info);
        auto c = pg::connection::open(info);
        REQUIRE(c);
        CHECK_FALSE(c->broken());
        CHECK(select_int(*c, "SELECT 40 + 2") == 42);
        CHECK(c->target().find(port) != std::string::npos);
    }
    // A setting in the string wins over the options.
    auto c = pg::connection::open(url + "?application_name=from_uri", {.application_name = "from_options"});
    REQUIRE(c);
    CHECK(pg_test::scalar(*c, "SHOW application_name") == "from_uri");
}

TEST_CASE("pg::connection: bad strings, unreachable servers and failed logins are clear errors",
          "[postgres_connection]")
{
    const auto url = pg_test::url();
    auto malformed = pg::connection::open("postgresql://[::1");
    REQUIRE_FALSE(malformed);
    CHECK(malformed.error().code == mb::errc::invalid_argument);
    auto bad_key = pg::connection::open("host=127.0.0.1 no_such_keyword=1");
    REQUIRE_FALSE(bad_key);
    CHECK(bad_key.error().code == mb::errc::invalid_argument);

    auto refused = pg::connection::open("postgresql://alice:s3cret@127.0.0.1:1/db");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == mb::errc::storage_error);
    CHECK(refused.error().where == "postgres connect");
    CHECK(refused.error().message.find("cannot connect to 127.0.0.1:1/db") == 0);
    CHECK(refused.error().message.find("s3cret") == std::string::npos);

    auto no_db = pg::connection::open(url.substr(0, url.rfind('/')) + "/no_such_database");
    REQUIRE_FALSE(no_db);
    CHECK(no_db.error().message.find("no_such_database") != std::string::npos);
}

TEST_CASE("pg::connection: a server error carries its SQLSTATE; the connection stays usable",
          "[postgres_connection]")
{
    const auto url = pg_test::url();
    auto c = pg::connection::open(url);
    REQUIRE(c);
    const pg::statement divide("divide", "SELECT 1 / $1::int8", {pg::oid::int8});
    pg::params zero;
    zero.int64(0);
    auto r = c->execute(divide, zero);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == mb::errc::storage_error);
    CHECK(pg::sqlstate(r.error()) == "22012");
    CHECK(r.error().where == "postgres divide");
    CHECK_FALSE(pg::outcome_unknown(r.error()));
    CHECK_FALSE(c->broken());
    pg::params two;
    two.int64(2);
    auto ok = c->execute(divide, two);
    REQUIRE(ok);
    pg::row_reader row(*ok, 0, "divide");
    CHECK(row.int64(0) == 0);

    // A reply of an unexpected type is an error, never a misread.
    const pg::statement text("text", "SELECT 'abc'::text", {});
    pg::params none;
    auto t = c->execute(text, none);
    REQUIRE(t);
    pg::row_reader tr(*t, 0, "text");
    (void)tr.int64(0);
    CHECK_FALSE(tr.status());
}

TEST_CASE("pg::connection: a call past its timeout fails as outcome unknown and closes the connection",
          "[postgres_connection]")
{
    const auto url = pg_test::url();
    // No server-side timeout: the client gives up on its own.
    auto c = pg::connection::open(url, {.call_timeout = 300ms, .statement_timeout = 0ms});
    REQUIRE(c);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c->exec("SELECT pg_sleep(3) /* abandoned */", "sleep");
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(r);
    CHECK(pg::outcome_unknown(r.error()));
    CHECK(r.error().message.find("no reply within 300 ms") == 0);
    CHECK(c->broken());
    CHECK(took >= 290ms);
    CHECK(took < 2s);
}

TEST_CASE("pg::connection: the server-side statement timeout cancels cleanly first", "[postgres_connection]")
{
    const auto url = pg_test::url();
    auto c = pg::connection::open(url, {.call_timeout = 2s, .statement_timeout = 200ms});
    REQUIRE(c);
    CHECK(pg_test::scalar(*c, "SHOW statement_timeout") == "200ms");
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c->exec("SELECT pg_sleep(3)", "sleep");
    REQUIRE_FALSE(r);
    CHECK(pg::sqlstate(r.error()) == "57014");  // query_canceled: definitely not applied
    CHECK_FALSE(pg::outcome_unknown(r.error()));
    CHECK_FALSE(c->broken());
    CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
    CHECK(select_int(*c, "SELECT 5") == 5);
}

TEST_CASE("pg::pool: a connection killed mid-call is reported; the next call reconnects",
          "[postgres_connection]")
{
    const auto url = pg_test::url();
    auto pool = pg_test::make_pool(url, 2);
    auto admin = pg_test::admin(url);
    int first_pid = 0;
    // No Catch2 assertion on this thread (Catch2 3.7's are not thread-safe): a failed acquire is returned.
    auto call = std::async(std::launch::async, [&]() -> meetingbaas::result<pg::result_set> {
        auto h = pool->acquire();
        if (!h) return h.error();
        first_pid = (*h)->backend_pid();
        return (*h)->exec("SELECT pg_sleep(10) /* killed mid-call */", "sleep");
    });
    std::string pid;
    REQUIRE(pg_test::eventually([&] {
        pid = pg_test::scalar(admin,
                              "SELECT pid FROM pg_stat_activity WHERE query LIKE '%killed mid-call%' AND "
                              "state = 'active' AND pid <> pg_backend_pid()");
        return !pid.empty();
    }));
    REQUIRE(pg_test::scalar(admin, "SELECT pg_terminate_backend(" + pid + ")") == "t");
    auto r = call.get();
    REQUIRE_FALSE(r);
    CHECK(pg::outcome_unknown(r.error()));
    CHECK(r.error().message.find("connection lost after the statement was sent") == 0);
    CHECK(pool->stats().discarded >= 1);
    auto h = pool->acquire();
    REQUIRE(h);
    CHECK((*h)->backend_pid() != first_pid);
    CHECK(select_int(**h, "SELECT 1") == 1);
}

TEST_CASE("pg::pool: an idle connection killed by the server is replaced before use", "[postgres_connection]")
{
    const auto url = pg_test::url();
    auto pool = pg_test::make_pool(url, 1);
    int pid = 0;
    {
        auto h = pool->acquire();
        REQUIRE(h);
        pid = (*h)->backend_pid();
    }
    auto admin = pg_test::admin(url);
    REQUIRE(pg_test::scalar(admin, "SELECT pg_terminate_backend(" + std::to_string(pid) + ")") == "t");
    // Wait until the backend process is gone (its socket closed), not only its pg_stat_activity row.
    REQUIRE(pg_test::eventually([&] { return ::kill(pid, 0) != 0; }));
    // The pool notices the closed socket when it hands the connection out: the call itself succeeds.
    auto r = pool->ping();
    INFO((r ? std::string("ok") : mb::to_string(r.error())));
    REQUIRE(r);
    CHECK(pool->stats().discarded == 1);
    CHECK(pool->stats().connects == 2);
}

TEST_CASE("pg::pool: acquire waits for a free connection, then gives up", "[postgres_connection]")
{
    const auto url = pg_test::url();
    pg::pool_options o;
    o.conninfo = url;
    o.max_connections = 1;
    o.acquire_timeout = 200ms;
    auto pool = pg::pool::create(o);
    REQUIRE(pool);
    auto held = (*pool)->acquire();
    REQUIRE(held);
    const auto t0 = std::chrono::steady_clock::now();
    auto second = (*pool)->acquire();
    REQUIRE_FALSE(second);
    CHECK(second.error().message.find("pool exhausted") == 0);
    CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);
    // Given back in time, it is handed over.
    auto waiter = std::async(std::launch::async, [&] { return (*pool)->acquire(); });
    std::this_thread::sleep_for(50ms);
    {
        auto gone = std::move(*held);
    }
    auto got = waiter.get();
    CHECK(got);
}

TEST_CASE("pg::pool: after a failed connect, callers fail fast for a while", "[postgres_connection]")
{
    (void)pg_test::url();
    pg::pool_options o;
    o.conninfo = "postgresql://postgres@127.0.0.1:1/postgres";
    o.connect_at_start = false;
    o.retry_connect_after = 300ms;
    auto pool = pg::pool::create(o);
    REQUIRE(pool);
    auto first = (*pool)->acquire();
    REQUIRE_FALSE(first);
    CHECK(first.error().message.find("cannot connect") == 0);
    auto second = (*pool)->acquire();
    REQUIRE_FALSE(second);
    CHECK(second.error().message.find("not retried for 300 ms") != std::string::npos);
    std::this_thread::sleep_for(320ms);
    auto third = (*pool)->acquire();
    REQUIRE_FALSE(third);
    CHECK(third.error().message.find("not retried") == std::string::npos);
    CHECK((*pool)->stats().connect_failures == 2);
}

TEST_CASE("pg::connection re-prepares a statement that was deallocated behind its back",
          "[postgres_connection]")
{
    const auto url = pg_test::url();
    auto c = pg::connection::open(url);
    REQUIRE(c);
    CHECK(select_int(*c, "SELECT 7") == 7);
    REQUIRE(c->exec("DEALLOCATE ALL"));  // as DISCARD ALL or a pooler would
    CHECK(select_int(*c, "SELECT 7") == 7);
}

TEST_CASE("schema: N processes creating it at once all succeed, once", "[postgres_connection]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    constexpr int processes = 6;
    int go[2];
    REQUIRE(::pipe(go) == 0);
    std::vector<pid_t> children;
    for (int c = 0; c < processes; ++c) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(go[1]);
            mb::pg::pool_options o;
            o.conninfo = url;
            auto p = mb::pg::pool::create(o);
            if (!p) ::_exit(3);
            char byte = 0;
            if (::read(go[0], &byte, 1) != 0) ::_exit(7);
            // Every store creates its part of the schema; all at once, from every process.
            auto store = mb::postgres_idempotency_store::open(*p, {.schema = schema.name()});
            if (!store) ::_exit(4);
            auto queue = mb::postgres_job_queue<>::open(*p, {}, {.schema = schema.name()});
            if (!queue) ::_exit(5);
            if (!queue->enqueue({"k", "p", "from-" + std::to_string(c), {}})) ::_exit(6);
            ::_exit(0);
        }
        children.push_back(pid);
    }
    ::close(go[0]);
    std::this_thread::sleep_for(200ms);
    ::close(go[1]);
    for (const pid_t pid : children) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    auto admin = pg_test::admin(url);
    const std::string s = "\"" + schema.name() + "\"";
    CHECK(pg_test::scalar(admin,
                          "SELECT string_agg(component || '=' || version, ',' ORDER BY component) FROM " + s +
                              ".mb_schema") == "idempotency:idempotency=1,queue=1");
    CHECK(pg_test::scalar(admin, "SELECT count(*) FROM " + s + ".jobs") == std::to_string(processes));
}

TEST_CASE("schema: a newer version than the library knows is refused", "[postgres_connection]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto pool = pg_test::make_pool(url);
    REQUIRE(mb::postgres_job_queue<>::open(pool, {}, {.schema = schema.name()}));
    auto admin = pg_test::admin(url);
    REQUIRE(
        admin.exec("UPDATE \"" + schema.name() + "\".mb_schema SET version = 2 WHERE component = 'queue'"));
    auto q = mb::postgres_job_queue<>::open(pool, {}, {.schema = schema.name()});
    REQUIRE_FALSE(q);
    CHECK(q.error().code == mb::errc::conflict);
    CHECK(q.error().message.find("version 2, newer than this library's 1") != std::string::npos);
    // The other components are unaffected.
    CHECK(mb::postgres_idempotency_store::open(pool, {.schema = schema.name()}));
}

TEST_CASE("a connection_source of your own works with the stores", "[postgres_connection]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto source = std::make_shared<single_connection_source>(url);
    auto store = mb::basic_postgres_idempotency_store<single_connection_source>::open(
        source, {.schema = schema.name()});
    REQUIRE(store);
    STATIC_REQUIRE(mb::idempotency_store<mb::basic_postgres_idempotency_store<single_connection_source>>);
    const mb::record_view r{mb::record_state::in_progress,
                            mb::work_outcome::none,
                            3,
                            mb::utc_time(std::chrono::microseconds(100)),
                            "fp",
                            {}};
    CHECK(*store->insert_if_absent("k", r, mb::utc_time{}));
    CHECK_FALSE(*store->insert_if_absent("k", r, mb::utc_time{}));
    auto queue = mb::postgres_job_queue<pg::server_time, single_connection_source>::open(
        source, {}, {.schema = schema.name(), .notify = false});
    REQUIRE(queue);
    REQUIRE(queue->enqueue({"k", "p", "", std::nullopt}));
    auto job = queue->lease(1min);
    REQUIRE((job && job->has_value()));
    CHECK(queue->acknowledge((*job)->id, (*job)->lease_token));
    auto w = queue->wait_for_work(1ms);
    REQUIRE_FALSE(w);
    CHECK(w.error().code == mb::errc::unsupported);
}
