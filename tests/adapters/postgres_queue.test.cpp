// SPDX-License-Identifier: MIT
// postgres_job_queue and postgres_event_state against a real PostgreSQL: the shared behaviour suites, then
// what only a shared server shows (processes, kill -9, server time, LISTEN/NOTIFY, dropped connections).
#include <meetingbaas/adapters/postgres/event_state.hpp>
#include <meetingbaas/adapters/postgres/job_queue.hpp>

#include "event_state_behavior.hpp"
#include "postgres_test_env.hpp"
#include "queue_behavior.hpp"
#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
using manual_queue = mb::postgres_job_queue<sync_test::manual_clock>;
using server_queue = mb::postgres_job_queue<>;

namespace {

struct queue_fixture {
    explicit queue_fixture(const std::string& url) : schema(url)
    {
        auto r = manual_queue::open(pg_test::make_pool(url), clock, {.schema = schema.name()});
        REQUIRE(r);
        q.emplace(std::move(*r));
    }
    manual_queue& queue() { return *q; }
    void advance(std::chrono::milliseconds d) const { clock.advance(d); }
    [[nodiscard]] mb::queue_time now() const { return mb::queue_now(clock); }

    pg_test::scratch_schema schema;  // declared first: dropped after the queue closed its connections
    sync_test::manual_clock clock;
    std::optional<manual_queue> q;
};

struct state_holder {
    std::unique_ptr<pg_test::scratch_schema> schema;
    std::unique_ptr<mb::postgres_event_state> state;
    mb::postgres_event_state& operator*() const { return *state; }
    mb::postgres_event_state* get() const { return state.get(); }
};

server_queue open_server_queue(const std::string& url, const std::string& schema,
                               mb::postgres_queue_options o = {})
{
    o.schema = schema;
    auto q = server_queue::open(pg_test::make_pool(url), {}, std::move(o));
    REQUIRE(q);
    return std::move(*q);
}

/// Writes one line to a pipe (child side); the parent reads them all.
void write_line(int fd, const std::string& line)
{
    const std::string s = line + "\n";
    std::size_t off = 0;
    while (off < s.size()) {
        const auto n = ::write(fd, s.data() + off, s.size() - off);
        if (n <= 0) return;
        off += static_cast<std::size_t>(n);
    }
}

std::vector<std::string> read_lines(int fd)
{
    std::string all;
    char buf[4096];
    for (;;) {
        const auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        all.append(buf, static_cast<std::size_t>(n));
    }
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i] == '\n') {
            out.push_back(all.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

/// Consumes notifications that arrived while nobody waited (they wake the next wait at once, by design:
/// work enqueued between a worker's lease and its wait is not slept through).
void drain(server_queue& q)
{
    for (int i = 0; i < 100; ++i) {
        auto r = q.wait_for_work(50ms);
        REQUIRE(r);
        if (!*r) return;
    }
    FAIL("notifications kept coming");
}

int wait_child(pid_t pid)
{
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("postgres_job_queue satisfies the job_queue concept", "[postgres_queue]")
{
    STATIC_REQUIRE(mb::job_queue<server_queue>);
    STATIC_REQUIRE(mb::job_queue<manual_queue>);
    STATIC_REQUIRE(mb::event_state_store<mb::postgres_event_state>);
}

TEST_CASE("postgres_job_queue passes the queue behaviour suite", "[postgres_queue]")
{
    const auto url = pg_test::url();
    queue_behavior::run([&] { return std::make_unique<queue_fixture>(url); });
}

TEST_CASE("postgres_event_state passes the event-state behaviour suite", "[postgres_queue]")
{
    const auto url = pg_test::url();
    event_state_behavior::run([&] {
        state_holder h;
        h.schema = std::make_unique<pg_test::scratch_schema>(url);
        auto s = mb::postgres_event_state::open(pg_test::make_pool(url), {.schema = h.schema->name()});
        REQUIRE(s);
        h.state = std::make_unique<mb::postgres_event_state>(std::move(*s));
        return h;
    });
}

TEST_CASE("postgres_event_state forgets events not advanced since a time", "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto s = mb::postgres_event_state::open(pg_test::make_pool(url), {.schema = schema.name()});
    REQUIRE(s);
    const auto t = mb::utc_time(std::chrono::microseconds(1'789'000'000'000'000));
    for (int i = 0; i < 7; ++i) REQUIRE(s->record_applied("old-" + std::to_string(i), t));
    auto admin = pg_test::admin(url);
    // Age the rows by a day, as if written yesterday (recorded_us is the server's write time).
    REQUIRE(admin.exec("UPDATE \"" + schema.name() +
                       "\".event_state SET recorded_us = recorded_us - 86400000000"));
    REQUIRE(s->record_applied("fresh", t));
    const auto cutoff =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) -
        std::chrono::hours(1);
    auto purged = s->purge_older_than(cutoff, 3);  // three batches of at most 3
    REQUIRE(purged);
    CHECK(*purged == 7);
    auto fresh = s->applied_version("fresh");
    REQUIRE((fresh && fresh->has_value()));
    auto old = s->applied_version("old-0");
    REQUIRE(old);
    CHECK_FALSE(old->has_value());
}

TEST_CASE("postgres_job_queue on the server's clock: leases end by the server's time", "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto q = open_server_queue(url, schema.name());
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));
    const auto before = mb::queue_now(std::chrono::system_clock{});
    auto first = q.lease(400ms);
    REQUIRE((first && first->has_value()));
    // Same host: the server's clock is ours, within scheduling noise.
    CHECK((*first)->leased_until >= before + 400ms - 50ms);
    CHECK((*first)->leased_until <= before + 400ms + 1s);
    auto none = q.lease(400ms);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto s = q.stats();
    REQUIRE(s);
    CHECK(s->leased == 1);
    auto due = q.next_due();
    REQUIRE((due && due->has_value()));
    CHECK(**due == (*first)->leased_until);

    std::optional<mb::leased_job> second;
    REQUIRE(pg_test::eventually([&] {
        auto r = q.lease(5s);
        REQUIRE(r);
        if (r->has_value()) second = **r;
        return second.has_value();
    }));
    CHECK(second->id == (*first)->id);
    CHECK(second->attempt == 2);
    CHECK(second->lease_token > (*first)->lease_token);
    CHECK(mb::queue_now(std::chrono::system_clock{}) >= (*first)->leased_until - 50ms);
    auto stale = q.acknowledge((*first)->id, (*first)->lease_token);
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == mb::errc::fence_mismatch);
    REQUIRE(q.extend_lease(second->id, second->lease_token, 10s));
    REQUIRE(q.acknowledge(second->id, second->lease_token));
}

TEST_CASE("postgres_job_queue: N processes leasing from one queue get each job exactly once",
          "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    constexpr int jobs = 200;
    constexpr int processes = 4;
    {
        auto q = open_server_queue(url, schema.name());
        for (int i = 0; i < jobs; ++i)
            REQUIRE(q.enqueue({"k", std::to_string(i), "job-" + std::to_string(i), {}}));
    }
    int out[2];
    REQUIRE(::pipe(out) == 0);
    std::vector<pid_t> children;
    for (int c = 0; c < processes; ++c) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(out[0]);
            mb::pg::pool_options o;
            o.conninfo = url;
            auto p = mb::pg::pool::create(o);
            if (!p) ::_exit(3);
            auto q = server_queue::open(std::move(*p), {}, {.schema = schema.name(), .notify = false});
            if (!q) ::_exit(4);
            for (;;) {
                auto job = q->lease(1min);
                if (!job) ::_exit(5);
                if (!job->has_value()) break;
                write_line(out[1], (*job)->payload);
                if (!q->acknowledge((*job)->id, (*job)->lease_token)) ::_exit(6);
            }
            ::_exit(0);
        }
        children.push_back(pid);
    }
    ::close(out[1]);
    const auto lines = read_lines(out[0]);
    ::close(out[0]);
    for (const pid_t pid : children) CHECK(wait_child(pid) == 0);
    CHECK(lines.size() == static_cast<std::size_t>(jobs));
    CHECK(std::set<std::string>(lines.begin(), lines.end()).size() == static_cast<std::size_t>(jobs));
    auto q = open_server_queue(url, schema.name());
    auto s = q.stats();
    REQUIRE(s);
    CHECK(s->ready + s->leased + s->scheduled == 0);
    CHECK(s->completed == static_cast<std::size_t>(jobs));
}

TEST_CASE("postgres_job_queue: N processes enqueueing one unique key insert it once", "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    (void)open_server_queue(url, schema.name());  // the schema exists before the race
    constexpr int processes = 6;
    constexpr int rounds = 10;
    int out[2];
    REQUIRE(::pipe(out) == 0);
    int go[2];
    REQUIRE(::pipe(go) == 0);
    std::vector<pid_t> children;
    for (int c = 0; c < processes; ++c) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(out[0]);
            ::close(go[1]);
            mb::pg::pool_options o;
            o.conninfo = url;
            auto p = mb::pg::pool::create(o);
            if (!p) ::_exit(3);
            auto q = server_queue::open(std::move(*p), {}, {.schema = schema.name()});
            if (!q) ::_exit(4);
            char byte = 0;
            if (::read(go[0], &byte, 1) != 0) ::_exit(7);  // EOF = everyone starts together
            for (int r = 0; r < rounds; ++r) {
                auto e = q->enqueue({"k", "from " + std::to_string(c), "delivery-" + std::to_string(r), {}});
                if (!e) ::_exit(5);
                write_line(out[1], std::to_string(r) + " " + e->id + " " + (e->inserted ? "1" : "0"));
            }
            ::_exit(0);
        }
        children.push_back(pid);
    }
    ::close(out[1]);
    ::close(go[0]);
    std::this_thread::sleep_for(200ms);  // let the children connect
    ::close(go[1]);
    const auto lines = read_lines(out[0]);
    ::close(out[0]);
    for (const pid_t pid : children) CHECK(wait_child(pid) == 0);
    REQUIRE(lines.size() == static_cast<std::size_t>(processes * rounds));
    std::vector<int> inserted(rounds, 0);
    std::vector<std::set<std::string>> ids(rounds);
    for (const auto& l : lines) {
        int r = 0;
        char id[32] = {};
        int ins = 0;
        REQUIRE(std::sscanf(l.c_str(), "%d %31s %d", &r, id, &ins) == 3);
        inserted[static_cast<std::size_t>(r)] += ins;
        ids[static_cast<std::size_t>(r)].insert(id);
    }
    for (int r = 0; r < rounds; ++r) {
        CHECK(inserted[static_cast<std::size_t>(r)] == 1);
        CHECK(ids[static_cast<std::size_t>(r)].size() == 1);
    }
}

TEST_CASE("postgres_job_queue: the jobs of a process killed with SIGKILL are taken over after the lease",
          "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    constexpr int total = 10;
    constexpr int held = 4;
    {
        auto q = open_server_queue(url, schema.name());
        for (int i = 0; i < total; ++i)
            REQUIRE(q.enqueue({"k", std::to_string(i), "job-" + std::to_string(i), {}}));
    }
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(ready[0]);
        mb::pg::pool_options o;
        o.conninfo = url;
        auto p = mb::pg::pool::create(o);
        if (!p) ::_exit(3);
        auto q = server_queue::open(std::move(*p), {}, {.schema = schema.name()});
        if (!q) ::_exit(4);
        for (int i = 0; i < held; ++i) {
            auto job = q->lease(1500ms);
            if (!job || !job->has_value()) ::_exit(5);
            write_line(ready[1], std::to_string((*job)->lease_token));
        }
        write_line(ready[1], "ready");
        for (;;) ::pause();
    }
    ::close(ready[1]);
    // Read until "ready" (the child keeps the pipe open until it dies).
    std::vector<std::string> tokens;
    {
        std::string buf;
        char c = 0;
        while (::read(ready[0], &c, 1) == 1) {
            if (c != '\n') {
                buf += c;
                continue;
            }
            if (buf == "ready") break;
            tokens.push_back(buf);
            buf.clear();
        }
    }
    REQUIRE(tokens.size() == static_cast<std::size_t>(held));
    REQUIRE(::kill(child, SIGKILL) == 0);
    CHECK(wait_child(child) == 128 + SIGKILL);
    ::close(ready[0]);

    auto q = open_server_queue(url, schema.name());
    const auto killed_at = std::chrono::steady_clock::now();
    std::set<std::string> done;
    std::uint32_t retaken = 0;
    REQUIRE(pg_test::eventually(
        [&] {
            auto job = q.lease(30s);
            REQUIRE(job);
            if (job->has_value()) {
                if ((*job)->attempt == 2) ++retaken;
                REQUIRE(q.acknowledge((*job)->id, (*job)->lease_token));
                done.insert((*job)->payload);
            }
            return done.size() == static_cast<std::size_t>(total);
        },
        20s));
    CHECK(retaken == static_cast<std::uint32_t>(held));
    // The dead child's jobs came back only after their 1.5 s lease (measured from the kill, so at least
    // roughly the rest of it).
    CHECK(std::chrono::steady_clock::now() - killed_at >= 500ms);
}

TEST_CASE("postgres_job_queue: LISTEN/NOTIFY wakes a waiting worker within milliseconds", "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto worker = open_server_queue(url, schema.name());
    auto producer = open_server_queue(url, schema.name());  // another "instance": its own pool

    // Idle: the wait times out.
    const auto t0 = std::chrono::steady_clock::now();
    auto idle = worker.wait_for_work(150ms);
    REQUIRE(idle);
    // The first wait opens the LISTEN connection, which counts as a wake-up ("check again").
    if (*idle) {
        idle = worker.wait_for_work(150ms);
        REQUIRE(idle);
    }
    CHECK_FALSE(*idle);
    CHECK(std::chrono::steady_clock::now() - t0 >= 140ms);

    std::vector<double> latencies_ms;
    for (int round = 0; round < 5; ++round) {
        std::atomic<bool> waiting{false};
        std::chrono::steady_clock::time_point woke_at{};
        auto waiter = std::async(std::launch::async, [&] {
            waiting = true;
            auto r = worker.wait_for_work(10s);
            woke_at = std::chrono::steady_clock::now();
            return r;
        });
        while (!waiting) std::this_thread::yield();
        std::this_thread::sleep_for(50ms);  // the waiter is inside poll()
        const auto sent = std::chrono::steady_clock::now();
        REQUIRE(producer.enqueue({"k", "wake " + std::to_string(round), "", std::nullopt}));
        auto r = waiter.get();
        REQUIRE(r);
        CHECK(*r);
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(woke_at - sent).count());
        auto job = worker.lease(30s);
        REQUIRE((job && job->has_value()));
        REQUIRE(worker.acknowledge((*job)->id, (*job)->lease_token));
    }
    double worst = 0;
    for (const double l : latencies_ms) worst = std::max(worst, l);
    WARN("LISTEN/NOTIFY wake-up latency, worst of 5: " << worst << " ms");
    CHECK(worst < 250.0);  // typically ~1 ms on loopback; the bound only guards against polling

    // Several waiters wake together; retry_later notifies too.
    REQUIRE(producer.enqueue({"k", "x", "", std::nullopt}));
    auto job = worker.lease(30s);
    REQUIRE((job && job->has_value()));
    drain(worker);  // the enqueue's notification, received while nobody waited, would wake the next wait
    std::atomic<int> woken{0};
    {
        std::vector<std::jthread> waiters;
        for (int i = 0; i < 3; ++i) {
            waiters.emplace_back([&] {
                auto r = worker.wait_for_work(10s);
                if (r && *r) ++woken;
            });
        }
        std::this_thread::sleep_for(100ms);
        REQUIRE(producer.retry_later((*job)->id, (*job)->lease_token,
                                     mb::queue_now(std::chrono::system_clock{}), "503"));
    }
    CHECK(woken.load() == 3);

    // A producer with notify off wakes nobody: the waiter falls back to its timeout.
    drain(worker);
    auto quiet = open_server_queue(url, schema.name(), {.notify = false});
    auto waiter = std::async(std::launch::async, [&] { return worker.wait_for_work(300ms); });
    std::this_thread::sleep_for(50ms);
    REQUIRE(quiet.enqueue({"k", "silent", "", std::nullopt}));
    auto r = waiter.get();
    REQUIRE(r);
    CHECK_FALSE(*r);
    CHECK_FALSE(quiet.wait_for_work(10ms));  // no listener without notify: errc::unsupported

    // wake_waiters() interrupts a wait at once, also the one blocked reading the socket (shutdown).
    drain(worker);
    const auto t1 = std::chrono::steady_clock::now();
    auto stopping = std::async(std::launch::async, [&] { return worker.wait_for_work(10s); });
    std::this_thread::sleep_for(50ms);
    worker.wake_waiters();
    auto woken_by_stop = stopping.get();
    REQUIRE(woken_by_stop);
    CHECK(*woken_by_stop);
    CHECK(std::chrono::steady_clock::now() - t1 < 2s);
}

TEST_CASE("postgres_job_queue: a LISTEN session killed by the server is reopened at once", "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto worker = open_server_queue(url, schema.name());
    auto producer = open_server_queue(url, schema.name());
    REQUIRE(worker.wait_for_work(50ms));  // opens the LISTEN session
    drain(worker);
    auto admin = pg_test::admin(url);
    const std::string pid = pg_test::scalar(
        admin, "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND query LIKE '%" +
                   schema.name() + "%'");
    REQUIRE_FALSE(pid.empty());
    auto waiter = std::async(std::launch::async, [&] { return worker.wait_for_work(10s); });
    std::this_thread::sleep_for(50ms);
    const auto killed = std::chrono::steady_clock::now();
    REQUIRE(pg_test::scalar(admin, "SELECT pg_terminate_backend(" + pid + ")") == "t");
    auto r = waiter.get();
    REQUIRE(r);
    CHECK(*r);  // woken by the reconnect: notifications may have been missed meanwhile
    CHECK(std::chrono::steady_clock::now() - killed < 2s);
    // The new session gets notifications.
    auto next = std::async(std::launch::async, [&] { return worker.wait_for_work(10s); });
    std::this_thread::sleep_for(50ms);
    REQUIRE(producer.enqueue({"k", "after reconnect", "", std::nullopt}));
    auto woke = next.get();
    REQUIRE(woke);
    CHECK(*woke);
}

TEST_CASE("postgres_job_queue: requeue_leased frees only this instance's leases", "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto a = open_server_queue(url, schema.name(), {.instance_id = "host-a"});
    auto b = open_server_queue(url, schema.name(), {.instance_id = "host-b"});
    REQUIRE(a.enqueue({"k", "1", "", std::nullopt}));
    REQUIRE(a.enqueue({"k", "2", "", std::nullopt}));
    auto ja = a.lease(1h);
    auto jb = b.lease(1h);
    REQUIRE((ja && ja->has_value() && jb && jb->has_value()));
    // "host-a" restarts: a new queue object with the same instance id frees the old incarnation's lease.
    auto a2 = open_server_queue(url, schema.name(), {.instance_id = "host-a"});
    auto n = a2.requeue_leased();
    REQUIRE(n);
    CHECK(*n == 1);
    auto again = a2.lease(1h);
    REQUIRE((again && again->has_value()));
    CHECK((*again)->id == (*ja)->id);
    CHECK((*again)->attempt == 2);
    auto none = a2.lease(1h);  // host-b's lease is untouched
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    CHECK(b.acknowledge((*jb)->id, (*jb)->lease_token));
}

TEST_CASE("postgres_job_queue: dead letters are purged after their retention", "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    sync_test::manual_clock clock;
    auto q = manual_queue::open(pg_test::make_pool(url), clock, {.schema = schema.name()});
    REQUIRE(q);
    for (int i = 0; i < 5; ++i) REQUIRE(q->enqueue({"k", std::to_string(i), "key-" + std::to_string(i), {}}));
    for (int i = 0; i < 5; ++i) {
        auto job = q->lease(1min);
        REQUIRE((job && job->has_value()));
        REQUIRE(q->dead_letter((*job)->id, (*job)->lease_token, "HTTP 403"));
        clock.advance(1h);
    }
    auto purged = q->purge_dead_letters(mb::queue_now(clock) - 150min,
                                        1);  // the three that failed before the cutoff, one per batch
    REQUIRE(purged);
    CHECK(*purged == 3);
    auto left = q->dead_letters(10);
    REQUIRE(left);
    REQUIRE(left->size() == 2);
    CHECK(left->front().payload == "3");
    auto reused = q->enqueue({"k", "again", "key-0", {}});  // a purged dead letter's key is free again
    REQUIRE(reused);
    CHECK(reused->inserted);
}

TEST_CASE("postgres_job_queue: a connection dropped during acknowledge is reported, never as success",
          "[postgres_queue]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto q = open_server_queue(url, schema.name());
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));
    auto job = q.lease(1min);
    REQUIRE((job && job->has_value()));

    // Another session holds the job's row lock, so the acknowledge waits inside the server.
    auto blocker = pg_test::admin(url);
    REQUIRE(blocker.exec("BEGIN; SELECT 1 FROM \"" + schema.name() + "\".jobs WHERE id = " + (*job)->id +
                         " FOR UPDATE"));
    auto ack = std::async(std::launch::async, [&] { return q.acknowledge((*job)->id, (*job)->lease_token); });
    auto admin = pg_test::admin(url);
    std::string pid;
    REQUIRE(pg_test::eventually([&] {
        pid = pg_test::scalar(
            admin, "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                   "'%" +
                       schema.name() + "%' LIMIT 1");
        return !pid.empty();
    }));
    CHECK(pg_test::scalar(admin, "SELECT pg_terminate_backend(" + pid + ")") == "t");
    auto r = ack.get();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == mb::errc::storage_error);
    CHECK(mb::pg::outcome_unknown(r.error()));
    CHECK(r.error().where == "postgres acknowledge");
    INFO(mb::to_string(r.error()));
    REQUIRE(blocker.exec("ROLLBACK"));

    // The statement died with its backend: the lease still holds, and the next call reconnects.
    auto s = q.stats();
    REQUIRE(s);
    CHECK(s->leased == 1);
    REQUIRE(q.acknowledge((*job)->id, (*job)->lease_token));
}

TEST_CASE("postgres_job_queue: an unreachable server is a clear error at start", "[postgres_queue]")
{
    (void)pg_test::url();
    mb::pg::pool_options o;
    o.conninfo = "postgresql://postgres:hunter2@127.0.0.1:1/postgres";
    const auto t0 = std::chrono::steady_clock::now();
    auto p = mb::pg::pool::create(o);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == mb::errc::storage_error);
    CHECK(p.error().message.find("cannot connect to 127.0.0.1:1/postgres") != std::string::npos);
    CHECK(p.error().message.find("hunter2") == std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}
