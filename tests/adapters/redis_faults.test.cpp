// SPDX-License-Identifier: MIT
// Faults, against private redis-server processes: unreachable at start, AUTH and SELECT, a connection dropped
// mid-call (CLIENT KILL, and the server killed), command timeouts whose command still runs later, reconnect
// after a restart, a restart with appendonly yes that loses no accepted job, a fail-over target that is a
// read-only replica, and a flushed script cache. A failure is never reported as success.
#include <meetingbaas/adapters/redis.hpp>
#include <meetingbaas/idempotency/guard.hpp>

#include "redis_support.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
namespace redis = meetingbaas::redis;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;
using client_type = redis::hiredis_client;
using queue_type = mb::redis_job_queue<client_type>;

namespace {

client_type connect(const std::string& url, redis::client_options o = {})
{
    auto c = client_type::connect(url, o);
    INFO(url);
    REQUIRE(c);
    return std::move(*c);
}

/// Waits until `c` answers again (after a restart), up to 10 s.
void wait_ready(client_type& c)
{
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!redis::ping(c) && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(20ms);
    REQUIRE(redis::ping(c));
}

}  // namespace

TEST_CASE("hiredis_client: an unreachable server is a clear error at start", "[redis_faults]")
{
    const auto port = redis_test::free_port();  // nothing listens there
    const auto url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
    auto c = client_type::connect(url, {.connect_timeout = 500ms});
    REQUIRE_FALSE(c);
    CHECK(c.error().code == mb::errc::storage_error);
    CHECK(c.error().where == "redis connect");
    CHECK_THAT(c.error().message, StartsWith("cannot connect to " + url + ": "));
    CHECK_THAT(c.error().message, ContainsSubstring("refused"));
    auto bad = client_type::connect("redis://127.0.0.1:0");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == mb::errc::invalid_url);
}

TEST_CASE("hiredis_client: AUTH with a password or an ACL user, and SELECT", "[redis_faults]")
{
    redis_test::private_server server({"--requirepass", "s3cret pass"});
    const auto base = "127.0.0.1:" + std::to_string(server.port());

    auto anonymous = client_type::connect("redis://" + base);
    REQUIRE_FALSE(anonymous);
    CHECK_THAT(anonymous.error().message, ContainsSubstring("NOAUTH"));
    auto wrong = client_type::connect("redis://:nope@" + base);
    REQUIRE_FALSE(wrong);
    CHECK_THAT(wrong.error().message, ContainsSubstring("authentication failed"));
    CHECK_THAT(mb::to_string(wrong.error()), !ContainsSubstring("nope"));

    auto admin = connect("redis://:s3cret%20pass@" + base + "/3");
    redis_test::must(admin, {"SET", "in-db-3", "x"});
    redis_test::must(admin, {"ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all"});
    auto alice = connect("redis://alice:pw@" + base + "/3");
    CHECK(redis_test::must(alice, {"GET", "in-db-3"}).str == "x");
    auto db0 = connect("redis://alice:pw@" + base);
    CHECK(redis_test::must(db0, {"GET", "in-db-3"}).is_nil());
}

TEST_CASE(
    "a connection killed while its command waits is reported as outcome unknown; the next call reconnects",
    "[redis_faults]")
{
    redis_test::private_server server;
    auto control = connect(server.url());
    auto client = connect(server.url());
    queue_type q(client, {.prefix = "t:"});
    REQUIRE(q.enqueue({"k", "before", "", std::nullopt}));

    redis_test::must(control, {"CLIENT", "PAUSE", "5000", "WRITE"});
    auto pending =
        std::async(std::launch::async, [&] { return q.enqueue({"k", "during", "key-1", std::nullopt}); });
    std::this_thread::sleep_for(200ms);  // the EVALSHA is now parked by the pause
    redis_test::must(control, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    auto killed = pending.get();
    REQUIRE_FALSE(killed);  // never success
    CHECK(killed.error().code == mb::errc::storage_error);
    CHECK(redis::outcome_unknown(killed.error()));
    CHECK(killed.error().where == "redis_job_queue::enqueue");
    control = connect(server.url());
    redis_test::must(control, {"CLIENT", "UNPAUSE"});

    // Retrying with the same unique key yields exactly one job, whether or not the first call ran.
    auto retried = q.enqueue({"k", "during", "key-1", std::nullopt});
    REQUIRE(retried);
    auto stats = q.stats();
    REQUIRE(stats);
    CHECK(stats->ready == 2);
    CHECK(client.stats().dropped >= 1);
}

TEST_CASE("the server killed mid-call: outcome unknown, then not sent, then recovery after the restart",
          "[redis_faults]")
{
    redis_test::private_server server;
    auto control = connect(server.url());
    auto client = connect(server.url(), {.connect_timeout = 500ms, .reconnect_backoff = 50ms});
    queue_type q(client, {.prefix = "t:"});
    mb::redis_idempotency_store<client_type> store(client, {.prefix = "i:"});
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));

    redis_test::must(control, {"CLIENT", "PAUSE", "10000", "ALL"});
    auto pending = std::async(std::launch::async, [&] { return q.lease(30s); });
    std::this_thread::sleep_for(200ms);
    server.stop_kill();
    auto lost = pending.get();
    REQUIRE_FALSE(lost);
    CHECK(redis::outcome_unknown(lost.error()));

    // While it is down: refused at once, "not applied", never a success; /healthz-style probe fails.
    auto down = store.insert_if_absent("k",
                                       {mb::record_state::in_progress,
                                        mb::work_outcome::none,
                                        1,
                                        mb::utc_time(std::chrono::microseconds(10)),
                                        {},
                                        {}},
                                       mb::utc_time{});
    REQUIRE_FALSE(down);
    CHECK_FALSE(redis::outcome_unknown(down.error()));
    CHECK_THAT(down.error().message, StartsWith("not applied: "));
    CHECK_FALSE(store.ping());
    CHECK_FALSE(q.stats());

    REQUIRE(server.start());  // same port, no persistence: an empty server
    wait_ready(client);
    CHECK(q.enqueue({"k", "after", "", std::nullopt}));
    auto job = q.lease(30s);
    REQUIRE(job);
    REQUIRE(job->has_value());
    CHECK((*job)->payload == "after");
    CHECK(store.ping());
}

TEST_CASE("a command that timed out may still run: a retry finds what it wrote", "[redis_faults]")
{
    redis_test::private_server server;
    auto control = connect(server.url());
    auto client = connect(server.url(), {.command_timeout = 300ms});
    queue_type q(client, {.prefix = "t:"});
    mb::redis_idempotency_store<client_type> store(client, {.prefix = "i:"});

    // Load the scripts first (a NOSCRIPT answer would mean "did not run", whatever happens next).
    REQUIRE(q.enqueue({"k", "warm-up", "", std::nullopt}));
    REQUIRE(store.insert_if_absent("warm-up", {}, mb::utc_time{}));

    // The server is busy for a second (one slow command blocks it): our commands are sent, then time out.
    auto busy = std::async(std::launch::async, [&] {
        return control.command(std::array<std::string_view, 3>{"DEBUG", "SLEEP", "1"});
    });
    std::this_thread::sleep_for(100ms);
    const auto start = std::chrono::steady_clock::now();
    auto timed_out = q.enqueue({"k", "p", "delivery-9", std::nullopt});
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(timed_out);
    CHECK(redis::outcome_unknown(timed_out.error()));
    CHECK_THAT(timed_out.error().message, ContainsSubstring("timed out after 300 ms"));
    CHECK(took < 900ms);
    const mb::record_view mine{mb::record_state::in_progress,
                               mb::work_outcome::none,
                               77,
                               mb::utc_time(std::chrono::seconds(2'000'000'000)),
                               "fp",
                               {}};
    auto insert = store.insert_if_absent("key", mine, mb::utc_time(std::chrono::seconds(1'999'999'990)));
    REQUIRE_FALSE(insert);
    CHECK(redis::outcome_unknown(insert.error()));

    REQUIRE(busy.get());  // the server is free again: it read and ran both commands before their EOF
    auto again = q.enqueue({"k", "p", "delivery-9", std::nullopt});
    REQUIRE(again);
    CHECK_FALSE(again->inserted);  // the timed-out call did enqueue it: the retry finds its own job
    auto stats = q.stats();
    REQUIRE(stats);
    CHECK(stats->ready == 2);
    auto retry = store.insert_if_absent("key", mine, mb::utc_time(std::chrono::seconds(1'999'999'991)));
    REQUIRE(retry);
    CHECK_FALSE(*retry);
    auto loaded = store.load("key", mb::utc_time{});
    REQUIRE(loaded);
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->fence == 77);  // its own record
}

TEST_CASE("a restart with appendonly yes loses no accepted job", "[redis_faults]")
{
    redis_test::private_server server({"--appendonly", "yes", "--appendfsync", "always"});
    std::set<std::string> expected;
    std::uint64_t last_token = 0;
    std::string keyed_id;
    {
        auto client = connect(server.url());
        queue_type q(client, {.prefix = "t:"});
        mb::redis_idempotency_store<client_type> store(client, {.prefix = "i:"});
        for (int i = 0; i < 200; ++i) {
            auto added = q.enqueue({"k", "job-" + std::to_string(i),
                                    i % 2 == 0 ? "key-" + std::to_string(i) : "", std::nullopt});
            REQUIRE(added);
            expected.insert("job-" + std::to_string(i));
            if (i == 4) keyed_id = added->id;
        }
        for (int i = 0; i < 10; ++i) {
            auto j = q.lease(300ms);
            REQUIRE((j && j->has_value()));
            last_token = (*j)->lease_token;
            if (i < 5) {  // job-0 .. job-4 done
                REQUIRE(q.acknowledge((*j)->id, (*j)->lease_token));
                expected.erase((*j)->payload);
            }
        }
        REQUIRE(*store.insert_if_absent("delivery",
                                        {mb::record_state::completed, mb::work_outcome::applied, 5,
                                         mb::utc_time(std::chrono::seconds(2'000'000'000)), "fp", "201"},
                                        mb::utc_time(std::chrono::seconds(1'999'999'000))));
        server.stop_kill();  // kill -9: no shutdown save
    }
    REQUIRE(server.start());
    auto client = connect(server.url());
    queue_type q(client, {.prefix = "t:"});
    std::this_thread::sleep_for(400ms);  // the five leases taken before the crash end
    std::set<std::string> found;
    for (;;) {
        auto j = q.lease(30s);
        REQUIRE(j);
        if (!j->has_value()) break;
        CHECK((*j)->lease_token > last_token);  // the fence counter survived too
        found.insert((*j)->payload);
    }
    CHECK(found == expected);
    CHECK(found.size() == 195);
    auto dup = q.enqueue({"k", "again", "key-4", std::nullopt});  // a completed job's key still dedups
    REQUIRE(dup);
    CHECK_FALSE(dup->inserted);
    CHECK(dup->id == keyed_id);
    mb::redis_idempotency_store<client_type> store(client, {.prefix = "i:"});
    auto rec = store.load("delivery", mb::utc_time{});
    REQUIRE(rec);
    REQUIRE(rec->has_value());
    CHECK((*rec)->outcome_data == "201");
}

TEST_CASE("a read-only replica (a fail-over target not yet promoted) refuses writes with a clear error",
          "[redis_faults]")
{
    redis_test::private_server primary;
    redis_test::private_server replica({"--replicaof", "127.0.0.1", std::to_string(primary.port())});
    auto client = connect(replica.url());
    queue_type q(client, {.prefix = "t:"});
    auto r = q.enqueue({"k", "p", "", std::nullopt});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == mb::errc::storage_error);
    CHECK_THAT(r.error().message, ContainsSubstring("READONLY"));
    CHECK_FALSE(redis::outcome_unknown(r.error()));
}

TEST_CASE("scripts are loaded again after SCRIPT FLUSH, with the SHA-1 Redis computes", "[redis_faults]")
{
    redis_test::private_server server;
    auto client = connect(server.url());
    queue_type q(client, {.prefix = "t:"});
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));
    const auto loaded = redis_test::must(client, {"SCRIPT", "LOAD", mb::detail::redis_queue_lease.source});
    CHECK(loaded.str == mb::detail::redis_queue_lease.sha1_view());
    redis_test::must(client, {"SCRIPT", "FLUSH"});
    auto j = q.lease(30s);
    REQUIRE(j);
    CHECK(j->has_value());
    const std::array<std::string_view, 3> exists{"SCRIPT", "EXISTS",
                                                 mb::detail::redis_queue_lease.sha1_view()};
    auto e = client.command(exists);
    REQUIRE(e);
    CHECK(e->elements.at(0).integer == 1);
}

TEST_CASE("hiredis_client: a small pool serves many threads", "[redis_faults]")
{
    redis_test::private_server server;
    auto client = connect(server.url(), {.max_connections = 2});
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                const std::string key = "counter";
                for (int i = 0; i < 200; ++i) {
                    const std::array<std::string_view, 2> incr{"INCR", key};
                    auto r = client.command(incr);
                    if (!r || !r->is_integer()) ++failures;
                }
                (void)t;
            });
        }
    }
    CHECK(failures.load() == 0);
    CHECK(redis_test::must(client, {"GET", "counter"}).str == "1600");
    const auto s = client.stats();
    CHECK(s.open <= 2);
    CHECK(s.connects <= 2);
}

TEST_CASE("a process that does not ignore SIGPIPE survives its server dying", "[redis_faults]")
{
    redis_test::private_server server;
    const auto url = server.url();
    std::array<int, 2> ready{};
    std::array<int, 2> go{};
    REQUIRE(::pipe(ready.data()) == 0);
    REQUIRE(::pipe(go.data()) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::signal(SIGPIPE, SIG_DFL);
        auto c = client_type::connect(url, {.connect_timeout = 300ms,
                                            .command_timeout = 300ms,
                                            .max_connections = 4,
                                            .reconnect_backoff = 0ms});
        if (!c) ::_exit(3);
        // Open several connections, so that some are idle when the server dies.
        std::vector<std::jthread> warm;
        for (int i = 0; i < 4; ++i) {
            warm.emplace_back([&] {
                const std::array<std::string_view, 3> argv{"DEBUG", "SLEEP", "0.05"};
                (void)c->command(argv);
            });
        }
        warm.clear();
        char byte = 1;
        if (::write(ready[1], &byte, 1) != 1) ::_exit(4);
        if (::read(go[0], &byte, 1) != 1) ::_exit(5);
        int errors = 0;
        const std::string big(100'000, 'x');
        for (int i = 0; i < 50; ++i) {
            const std::array<std::string_view, 3> argv{"SET", "k", big};
            if (!c->command(argv)) ++errors;
        }
        ::_exit(errors == 50 ? 0 : 6);
    }
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    server.stop_kill();
    REQUIRE(::write(go[1], &byte, 1) == 1);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK_FALSE(WIFSIGNALED(status));
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    for (const int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}

TEST_CASE("the ACL documented in docs/scale-out.md is enough for every store", "[redis_faults]")
{
    redis_test::private_server server;
    auto admin = connect(server.url());
    redis_test::must(admin, {"ACL", "SETUSER", "mb", "on", ">pw", "~mb:*", "+@read", "+@write", "+@scripting",
                             "+ping", "+time"});
    auto c = connect("redis://mb:pw@127.0.0.1:" + std::to_string(server.port()));
    queue_type q(c);
    REQUIRE(q.enqueue({"k", "p", "key", std::nullopt}));
    auto j = q.lease(30s);
    REQUIRE((j && j->has_value()));
    REQUIRE(q.extend_lease((*j)->id, (*j)->lease_token, 30s));
    REQUIRE(q.retry_later((*j)->id, (*j)->lease_token, mb::queue_time{}, "again"));
    j = q.lease(30s);
    REQUIRE((j && j->has_value()));
    REQUIRE(q.dead_letter((*j)->id, (*j)->lease_token, "dead"));
    REQUIRE(q.dead_letters(10));
    REQUIRE(q.requeue_dead_letter((*j)->id));
    j = q.lease(30s);
    REQUIRE((j && j->has_value()));
    REQUIRE(q.acknowledge((*j)->id, (*j)->lease_token));
    REQUIRE(q.stats());
    REQUIRE(q.next_due());
    REQUIRE(q.purge_completed(mb::queue_time(std::chrono::hours(24 * 365 * 100))));
    mb::redis_idempotency_store<client_type> store(c);
    auto guard = mb::make_idempotency_guard(store, {}, redis::server_clock(c));
    REQUIRE(guard);
    auto begun = guard->begin(mb::make_key("acl", 1));
    REQUIRE(begun);
    REQUIRE(guard->complete(begun->claim));
    mb::redis_event_state<client_type> events(c);
    REQUIRE(events.record_applied("e", mb::utc_time{}));
    REQUIRE(events.applied_version("e"));
    auto limiter = mb::redis_rate_limiter<client_type>::create(c);
    REQUIRE(limiter);
    REQUIRE(limiter->try_acquire());
    mb::rate_limit_feedback f;
    f.status = 429;
    REQUIRE(limiter->apply(f));
    REQUIRE(redis::ping(c));
    // And the user cannot touch anything else.
    const std::array<std::string_view, 3> other{"SET", "other:key", "x"};
    auto denied = c.command(other);
    REQUIRE(denied);
    CHECK(denied->is_error());
}
