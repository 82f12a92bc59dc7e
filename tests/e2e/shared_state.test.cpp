// SPDX-License-Identifier: MIT
// The example server's shared state bundles (examples/support/redis_state.hpp, postgres_state.hpp) against
// real servers: a private redis-server per test (redis-server from PATH or MEETINGBAAS_TEST_REDIS_SERVER),
// and a database of its own per test on the PostgreSQL server .ci/run starts (MEETINGBAAS_TEST_POSTGRES_URL;
// MEETINGBAAS_TEST_POSTGRES_CTL stops and starts it). Without them a test is skipped with a line saying so
// (a failure under CI=true). RUN_SERIAL: one test stops the shared PostgreSQL server.

#include "adapters/postgres_test_env.hpp"
#include "adapters/redis_support.hpp"
#include "e2e/scale_support.hpp"
#include "support/postgres_state.hpp"
#include "support/redis_state.hpp"

#include <meetingbaas/sync/job_kinds.hpp>

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

namespace mb = meetingbaas;
using namespace std::chrono_literals;

mb::job_spec job(const std::string& key)
{
    return {std::string(mb::v1_calendar_job_kind), "{\"n\":\"" + key + "\"}", key, std::nullopt};
}

template <class State>
void lease_requeue_and_take_over(const std::function<std::unique_ptr<State>(const std::string&)>& open)
{
    // Instance "a" leases two jobs and dies; instance "b" leases one and stays up.
    auto a = open("a");
    auto b = open("b");
    REQUIRE(a->requeued_at_start == 0);
    for (const char* k : {"k1", "k2", "k3"}) REQUIRE(a->intake.enqueue(job(k)));
    auto a1 = a->queue.lease(5min);
    auto a2 = a->queue.lease(5min);
    auto b1 = b->queue.lease(5min);
    REQUIRE((a1 && *a1 && a2 && *a2 && b1 && *b1));
    // Duplicate delivery through either instance: the same job.
    auto dup = b->intake.enqueue(job("k1"));
    REQUIRE(dup);
    CHECK_FALSE(dup->inserted);
    // One of a's jobs is settled before it dies: only the other is requeued.
    REQUIRE(a->queue.acknowledge((*a1)->id, (*a1)->lease_token));
    a.reset();  // killed: its second lease is still held
    auto nothing = b->queue.lease(5min);
    REQUIRE(nothing);
    CHECK_FALSE(nothing->has_value());  // leases hold for 5 minutes

    auto a_again = open("a");
    CHECK(a_again->requeued_at_start == 1);
    auto taken = b->queue.lease(5min);  // due at once, any instance may take it
    REQUIRE(taken);
    REQUIRE(taken->has_value());
    CHECK((*taken)->id == (*a2)->id);
    CHECK((*taken)->attempt == 2);
    // The dead instance's old token is fenced off.
    auto late = a_again->queue.acknowledge((*a2)->id, (*a2)->lease_token);
    REQUIRE_FALSE(late);
    CHECK(late.error().code == mb::errc::fence_mismatch);
    // b's lease was not touched by a's restart.
    REQUIRE(b->queue.acknowledge((*b1)->id, (*b1)->lease_token));
    REQUIRE(b->queue.acknowledge((*taken)->id, (*taken)->lease_token));
    // Restarting "a" again finds nothing of its own.
    CHECK(open("a")->requeued_at_start == 0);
    auto stats = b->intake.stats();
    REQUIRE(stats);
    CHECK(stats->ready == 0);
    CHECK(stats->leased == 0);
}

template <class State>
void shared_write_bucket(State& one, State& two)
{
    // 5/s, burst 1: one permit now for the two instances together, the next ~200 ms later.
    auto first = one.writes.try_acquire();
    REQUIRE(first);
    CHECK(first->granted);
    auto second = two.writes.try_acquire();
    REQUIRE(second);
    CHECK_FALSE(second->granted);
    CHECK(second->retry_in > 100ms);
    CHECK(second->retry_in <= 200ms);
}

/// Every housekeeping task of the bundle runs without an error against the real server.
template <class State>
void maintenance_runs(State& state)
{
    auto log = support::json_log::open({.path = "/dev/null"});
    REQUIRE(log);
    const auto tasks = state.maintenance_tasks(**log);
    REQUIRE_FALSE(tasks.empty());
    for (const auto& t : tasks) {
        CAPTURE(t.name);
        const auto r = t.run();
        INFO((r ? std::string() : r.error()));
        CHECK(r);
    }
}

}  // namespace

TEST_CASE("redis_state: a clear error when Redis is unreachable or not ours", "[scale][redis]")
{
    const auto port = redis_test::free_port();
    auto none = support::redis_state::open("redis://127.0.0.1:" + std::to_string(port) + "/0");
    REQUIRE_FALSE(none);
    CHECK(
        none.error().starts_with("cannot open the state redis://127.0.0.1:" + std::to_string(port) + "/0: "));
    auto bad = support::redis_state::open("redis://127.0.0.1:notaport");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().find("not a usable Redis URL") != std::string::npos);

    redis_test::private_server server;
    auto c = mb::redis::hiredis_client::connect(server.url());
    REQUIRE(c);
    redis_test::must(*c, {"SET", "mb:schema", "99"});
    auto newer = support::redis_state::open(server.url());
    REQUIRE_FALSE(newer);
    CHECK(newer.error().find("newer build") != std::string::npos);
    redis_test::must(*c, {"SET", "mb:schema", "1"});
    auto ok = support::redis_state::open(server.url() + "/3", {.instance_id = "x"});
    REQUIRE(ok);
    CHECK((*ok)->where() == server.url() + "/3");
    CHECK((*ok)->probe());
}

TEST_CASE("redis_state: a restarted instance requeues its own leases, not the others'", "[scale][redis]")
{
    redis_test::private_server server;
    lease_requeue_and_take_over<support::redis_state>([&](const std::string& id) {
        auto s = support::redis_state::open(server.url(), {.instance_id = id});
        INFO((s ? "" : s.error()));
        REQUIRE(s);
        return std::move(*s);
    });
}

TEST_CASE("redis_state: the record of an instance's leases expires a day after its last lease",
          "[scale][redis]")
{
    redis_test::private_server server;
    auto s = support::redis_state::open(server.url(), {.instance_id = "c"});
    REQUIRE(s);
    REQUIRE((*s)->intake.enqueue(job("k")));
    auto leased = (*s)->queue.lease(5min);
    REQUIRE((leased && *leased));
    auto c = mb::redis::hiredis_client::connect(server.url());
    REQUIRE(c);
    CHECK(redis_test::must(*c, {"HGET", "mb:q:{jobs}:owner:c", (*leased)->id}).str ==
          std::to_string((*leased)->lease_token));
    const auto ttl = redis_test::must(*c, {"PTTL", "mb:q:{jobs}:owner:c"}).integer;
    CHECK(ttl > 86'000'000);
    CHECK(ttl <= 86'400'000);
    REQUIRE((*s)->queue.acknowledge((*leased)->id, (*leased)->lease_token));
    CHECK(redis_test::must(*c, {"HEXISTS", "mb:q:{jobs}:owner:c", (*leased)->id}).integer == 0);
}

TEST_CASE("redis_state: one write bucket for every instance", "[scale][redis]")
{
    redis_test::private_server server;
    auto one = support::redis_state::open(server.url(), {.instance_id = "one"});
    auto two = support::redis_state::open(server.url(), {.instance_id = "two"});
    REQUIRE((one && two));
    shared_write_bucket(**one, **two);
    maintenance_runs(**one);
}

TEST_CASE("redis_state: the probe fails naming redis while the server is down, and recovers",
          "[scale][redis]")
{
    redis_test::private_server server;
    auto s = support::redis_state::open(server.url(), {.instance_id = "p"});
    REQUIRE(s);
    REQUIRE((*s)->probe());
    server.stop_kill();
    auto down = (*s)->probe();
    REQUIRE_FALSE(down);
    CHECK(down.error().starts_with("redis " + server.url() + "/0: "));
    auto enqueue = (*s)->intake.enqueue(job("while-down"));
    REQUIRE_FALSE(enqueue);
    CHECK(enqueue.error().code == mb::errc::storage_error);
    REQUIRE(server.start());
    bool back = false;
    for (int i = 0; i < 50 && !back; ++i) {
        back = static_cast<bool>((*s)->probe());
        if (!back) std::this_thread::sleep_for(100ms);
    }
    CHECK(back);
    CHECK((*s)->intake.enqueue(job("after")));
}

TEST_CASE("postgres_state: a clear error when PostgreSQL is unreachable", "[scale][postgres]")
{
    const auto port = redis_test::free_port();
    auto none =
        support::postgres_state::open("postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/x");
    REQUIRE_FALSE(none);
    CHECK(none.error().starts_with("cannot open the state postgres 127.0.0.1:" + std::to_string(port) +
                                   "/x: "));
    auto bad = support::postgres_state::open("postgresql://[::1");
    REQUIRE_FALSE(bad);
}

TEST_CASE("postgres_state: a restarted instance requeues its own leases, not the others'",
          "[scale][postgres]")
{
    scale_test::scratch_database db(pg_test::url());
    lease_requeue_and_take_over<support::postgres_state>([&](const std::string& id) {
        auto s = support::postgres_state::open(db.url(), {.instance_id = id, .connections = 4});
        INFO((s ? "" : s.error()));
        REQUIRE(s);
        return std::move(*s);
    });
}

TEST_CASE("postgres_state: one write bucket, a newer schema refused", "[scale][postgres]")
{
    scale_test::scratch_database db(pg_test::url());
    auto one = support::postgres_state::open(db.url(), {.instance_id = "one", .connections = 4});
    auto two = support::postgres_state::open(db.url(), {.instance_id = "two", .connections = 4});
    REQUIRE((one && two));
    CHECK((*one)->probe());
    shared_write_bucket(**one, **two);
    maintenance_runs(**one);
    auto admin = pg_test::admin(db.url());
    REQUIRE(admin.exec("UPDATE meetingbaas.mb_schema SET version = 99 WHERE component = 'server_probe'"));
    auto newer = support::postgres_state::open(db.url(), {.connections = 2});
    REQUIRE_FALSE(newer);
    CHECK(newer.error().find("newer") != std::string::npos);
}

TEST_CASE("postgres_state: the probe fails naming postgres while the server is down, and recovers",
          "[scale][postgres]")
{
    scale_test::scratch_database db(pg_test::url());
    const auto ctl = pg_test::ctl();
    if (ctl.empty()) SKIP("MEETINGBAAS_TEST_POSTGRES_CTL is not set: the server cannot be stopped");
    auto s = support::postgres_state::open(db.url(), {.instance_id = "p", .connections = 4});
    REQUIRE(s);
    REQUIRE((*s)->probe());
    scale_test::postgres_stopped stopped(ctl);
    auto down = (*s)->probe();
    REQUIRE_FALSE(down);
    CHECK(down.error().starts_with("postgres 127.0.0.1:"));
    auto enqueue = (*s)->intake.enqueue(job("while-down"));
    REQUIRE_FALSE(enqueue);
    CHECK(enqueue.error().code == mb::errc::storage_error);
    stopped.restart();
    bool back = false;
    for (int i = 0; i < 100 && !back; ++i) {
        back = static_cast<bool>((*s)->probe());
        if (!back) std::this_thread::sleep_for(100ms);
    }
    CHECK(back);
    CHECK((*s)->intake.enqueue(job("after")));
}
