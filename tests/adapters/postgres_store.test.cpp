// SPDX-License-Identifier: MIT
#include <meetingbaas/adapters/postgres/idempotency_store.hpp>
#include <meetingbaas/idempotency/guard.hpp>

#include "postgres_test_env.hpp"
#include "store_behavior.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
using store_behavior::at;

namespace {

struct store_holder {
    std::unique_ptr<pg_test::scratch_schema> schema;
    std::unique_ptr<mb::postgres_idempotency_store> store;
    mb::postgres_idempotency_store& operator*() const { return *store; }
    mb::postgres_idempotency_store* get() const { return store.get(); }
};

store_holder make_store(const std::string& url)
{
    store_holder h;
    h.schema = std::make_unique<pg_test::scratch_schema>(url);
    auto s = mb::postgres_idempotency_store::open(pg_test::make_pool(url), {.schema = h.schema->name()});
    REQUIRE(s);
    h.store = std::make_unique<mb::postgres_idempotency_store>(std::move(*s));
    return h;
}

}  // namespace

TEST_CASE("postgres_idempotency_store passes the store behaviour suite", "[postgres_store]")
{
    const auto url = pg_test::url();
    store_behavior::run([&] { return make_store(url); });
}

TEST_CASE("postgres_idempotency_store: N processes racing on one key acquire it once", "[postgres_store]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    {
        auto s = mb::postgres_idempotency_store::open(pg_test::make_pool(url, 1), {.schema = schema.name()});
        REQUIRE(s);  // the table exists before the race
    }
    constexpr int processes = 6;
    constexpr int rounds = 15;
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
            auto store = mb::postgres_idempotency_store::open(std::move(*p), {.schema = schema.name()});
            if (!store) ::_exit(4);
            auto guard = mb::make_idempotency_guard(*store, {.lease = 30s, .retention = 1h});
            if (!guard) ::_exit(5);
            char byte = 0;
            if (::read(go[0], &byte, 1) != 0) ::_exit(7);  // EOF: everyone starts together
            std::string line;
            for (int r = 0; r < rounds; ++r) {
                auto b = guard->begin(mb::make_key("race", r), "same payload");
                if (!b) ::_exit(6);
                line += b->acquired() ? 'A' : b->status == mb::begin_status::in_progress ? 'P' : '?';
            }
            line += '\n';
            if (::write(out[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(8);
            ::_exit(0);
        }
        children.push_back(pid);
    }
    ::close(out[1]);
    ::close(go[0]);
    std::this_thread::sleep_for(200ms);
    ::close(go[1]);
    std::string all;
    char buf[512];
    for (ssize_t n = 0; (n = ::read(out[0], buf, sizeof buf)) > 0;)
        all.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    for (const pid_t pid : children) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    REQUIRE(all.size() == static_cast<std::size_t>(processes * (rounds + 1)));
    for (int r = 0; r < rounds; ++r) {
        int acquired = 0;
        int busy = 0;
        for (int c = 0; c < processes; ++c) {
            const char ch = all[static_cast<std::size_t>(c * (rounds + 1) + r)];
            acquired += ch == 'A' ? 1 : 0;
            busy += ch == 'P' ? 1 : 0;
        }
        CHECK(acquired == 1);
        CHECK(busy == processes - 1);
    }
}

TEST_CASE("postgres_idempotency_store: stores in one schema are independent; names are checked",
          "[postgres_store]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto pool = pg_test::make_pool(url);
    auto a = mb::postgres_idempotency_store::open(pool, {.schema = schema.name(), .table = "deliveries"});
    auto b = mb::postgres_idempotency_store::open(pool, {.schema = schema.name(), .table = "actions"});
    REQUIRE(a);
    REQUIRE(b);
    const mb::record_view r{mb::record_state::in_progress, mb::work_outcome::none, 1, at(100), {}, {}};
    REQUIRE(*a->insert_if_absent("k", r, at(0)));
    REQUIRE(*b->insert_if_absent("k", r, at(0)));
    CHECK_FALSE(*a->insert_if_absent("k", r, at(0)));
    auto bad_table =
        mb::postgres_idempotency_store::open(pool, {.schema = schema.name(), .table = "t; DROP"});
    REQUIRE_FALSE(bad_table);
    CHECK(bad_table.error().code == mb::errc::invalid_argument);
    auto bad_schema = mb::postgres_idempotency_store::open(pool, {.schema = "1abc"});
    REQUIRE_FALSE(bad_schema);
    CHECK(bad_schema.error().code == mb::errc::invalid_argument);
}

TEST_CASE("postgres_idempotency_store purges expired records in batches", "[postgres_store]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto s = mb::postgres_idempotency_store::open(
        pg_test::make_pool(url), {.schema = schema.name(), .purge_every = 4, .purge_batch = 2});
    REQUIRE(s);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(*s->insert_if_absent(
            "old-" + std::to_string(i),
            {mb::record_state::completed, mb::work_outcome::applied, 1, at(10), {}, "x"}, at(0)));
    }
    auto n = s->size();
    REQUIRE((n && *n == 3));
    // The 4th insert, at a time after the old records expired, purges a batch of 2 on the way.
    REQUIRE(*s->insert_if_absent(
        "new", {mb::record_state::in_progress, mb::work_outcome::none, 1, at(1'000), {}, {}}, at(500)));
    n = s->size();
    REQUIRE((n && *n == 2));
    auto rest = s->purge_expired(at(500));
    REQUIRE(rest);
    CHECK(*rest == 1);
    auto kept = s->load("new", at(500));
    REQUIRE((kept && kept->has_value()));
    auto none = s->purge_expired(at(500));
    REQUIRE(none);
    CHECK(*none == 0);
}

TEST_CASE("postgres_idempotency_store: a connection dropped during compare_and_set is reported, not success",
          "[postgres_store]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto s = mb::postgres_idempotency_store::open(pg_test::make_pool(url), {.schema = schema.name()});
    REQUIRE(s);
    const mb::record_view claim{mb::record_state::in_progress, mb::work_outcome::none, 5, at(100), "fp", {}};
    REQUIRE(*s->insert_if_absent("k", claim, at(0)));

    auto blocker = pg_test::admin(url);
    REQUIRE(blocker.exec("BEGIN; SELECT 1 FROM \"" + schema.name() + "\".idempotency FOR UPDATE"));
    const mb::record_view done{
        mb::record_state::completed, mb::work_outcome::applied, 6, at(5'000), "fp", "201"};
    auto cas = std::async(std::launch::async, [&] { return s->compare_and_set("k", 5, done, at(1)); });
    auto admin = pg_test::admin(url);
    std::string pid;
    REQUIRE(pg_test::eventually([&] {
        pid = pg_test::scalar(
            admin, "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%" +
                       schema.name() + "%' LIMIT 1");
        return !pid.empty();
    }));
    CHECK(pg_test::scalar(admin, "SELECT pg_terminate_backend(" + pid + ")") == "t");
    auto r = cas.get();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == mb::errc::storage_error);
    CHECK(mb::pg::outcome_unknown(r.error()));
    CHECK(r.error().where == "postgres idempotency compare_and_set");
    REQUIRE(blocker.exec("ROLLBACK"));
    // Not applied (the backend died before it could write); the next call reconnects and succeeds.
    auto loaded = s->load("k", at(1));
    REQUIRE((loaded && loaded->has_value()));
    CHECK((*loaded)->fence == 5);
    CHECK((*loaded)->state == mb::record_state::in_progress);
    auto again = s->compare_and_set("k", 5, done, at(1));
    REQUIRE(again);
    CHECK(*again);
}

TEST_CASE("postgres_idempotency_store: server_clock tracks the database's clock", "[postgres_store]")
{
    const auto url = pg_test::url();
    pg_test::scratch_schema schema(url);
    auto s = mb::postgres_idempotency_store::open(pg_test::make_pool(url), {.schema = schema.name()});
    REQUIRE(s);
    auto offset = s->sync_clock();
    REQUIRE(offset);
    // Same host: the offset is the measurement error only.
    CHECK(std::chrono::abs(*offset) < 50ms);
    auto clock = s->server_clock();
    CHECK(std::chrono::abs(clock.now() - std::chrono::system_clock::now()) < 50ms);
    auto guard = mb::make_idempotency_guard(*s, {.lease = 30s, .retention = 1h}, clock);
    REQUIRE(guard);
    auto b = guard->begin(mb::make_key("clock", 1));
    REQUIRE(b);
    CHECK(b->acquired());
    CHECK(s->health());
}
