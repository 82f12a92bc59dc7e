// SPDX-License-Identifier: MIT
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/idempotency/guard.hpp>

#include "store_behavior.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
using store_behavior::at;
using store_behavior::manual_clock;

namespace {

std::string fresh_db_path(const std::string& name)
{
    static std::atomic<int> counter{0};
    const auto path =
        std::filesystem::temp_directory_path() /
        ("mb_idem_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    return path.string();
}

std::unique_ptr<mb::sqlite_idempotency_store> open_store(const std::string& path)
{
    auto s = mb::sqlite_idempotency_store::open(path);
    REQUIRE(s);
    return std::make_unique<mb::sqlite_idempotency_store>(std::move(*s));
}

}  // namespace

TEST_CASE("sqlite_idempotency_store passes the store behaviour suite", "[sqlite_store]")
{
    store_behavior::run([] { return open_store(fresh_db_path("behavior")); });
}

TEST_CASE("sqlite_idempotency_store passes the store behaviour suite in memory", "[sqlite_store]")
{
    store_behavior::run([] { return open_store(":memory:"); });
}

TEST_CASE("sqlite_idempotency_store refuses a table name that is not an identifier", "[sqlite_store]")
{
    auto s = mb::sqlite_idempotency_store::open(":memory:", {}, {.table = "t; DROP TABLE x"});
    REQUIRE_FALSE(s);
    CHECK(s.error().code == mb::errc::invalid_argument);
    CHECK_FALSE(mb::sqlite_idempotency_store::open(":memory:", {}, {.table = "1abc"}));
    CHECK(mb::sqlite_idempotency_store::open(":memory:", {}, {.table = "_jobs_2"}));
}

TEST_CASE("sqlite_idempotency_store shares a file with other tables and stores", "[sqlite_store]")
{
    const auto path = fresh_db_path("shared");
    auto a = mb::sqlite_idempotency_store::open(path, {}, {.table = "deliveries"});
    auto b = mb::sqlite_idempotency_store::open(path, {}, {.table = "actions"});
    REQUIRE(a);
    REQUIRE(b);
    const mb::record_view r{mb::record_state::in_progress, mb::work_outcome::none, 1, at(100), {}, {}};
    REQUIRE(*a->insert_if_absent("k", r, at(0)));
    REQUIRE(*b->insert_if_absent("k", r, at(0)));  // another table: independent
    auto a2 = mb::sqlite_idempotency_store::open(path, {}, {.table = "deliveries"});
    REQUIRE(a2);
    CHECK_FALSE(*a2->insert_if_absent("k", r, at(0)));  // another connection sees the record
}

TEST_CASE("sqlite_idempotency_store purges expired records in batches", "[sqlite_store]")
{
    auto s = mb::sqlite_idempotency_store::open(":memory:", {}, {.purge_every = 10, .purge_batch = 5});
    REQUIRE(s);
    const mb::record_view old_rec{mb::record_state::completed, mb::work_outcome::applied, 1, at(100), {}, {}};
    for (int i = 0; i < 20; ++i) REQUIRE(*s->insert_if_absent("old" + std::to_string(i), old_rec, at(0)));
    CHECK(*s->size() == 20);  // nothing expired yet at the implicit purges
    const mb::record_view new_rec{
        mb::record_state::completed, mb::work_outcome::applied, 1, at(10'000), {}, {}};
    for (int i = 0; i < 10; ++i) REQUIRE(*s->insert_if_absent("new" + std::to_string(i), new_rec, at(200)));
    CHECK(*s->size() == 25);  // the 10th insert purged a batch of 5
    auto purged = s->purge_expired(at(200), 100);
    REQUIRE(purged);
    CHECK(*purged == 15);
    CHECK(*s->size() == 10);
}

TEST_CASE("sqlite_idempotency_store: concurrent stores on one file acquire a key exactly once",
          "[sqlite_store]")
{
    const auto path = fresh_db_path("processes");
    {
        auto init = open_store(path);
    }
    constexpr int threads = 4;
    constexpr int keys = 25;
    std::atomic<int> acquired{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            auto store = mb::sqlite_idempotency_store::open(path);  // one connection per thread
            if (!store) {
                ++errors;
                return;
            }
            auto guard = mb::make_idempotency_guard(*store, {.lease = 30s, .retention = 1h}, manual_clock());
            for (int k = 0; k < keys; ++k) {
                auto r = guard->begin(mb::make_key("multi", k));
                if (!r) {
                    ++errors;
                } else if (r->acquired()) {
                    ++acquired;
                }
            }
        });
    }
    for (auto& th : pool) th.join();
    CHECK(errors.load() == 0);
    CHECK(acquired.load() == keys);
}

TEST_CASE(
    "sqlite_idempotency_store survives kill -9 of a worker, whose keys are taken over with a bumped fence",
    "[sqlite_store]")
{
    const auto path = fresh_db_path("kill9");
    constexpr int keys = 3;
    constexpr std::int64_t start_us = 1'789'000'000'000'000;
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The worker: claims keys, reports the fences, then hangs until killed (never completes).
        ::close(pipe_fds[0]);
        auto store = mb::sqlite_idempotency_store::open(path);
        if (!store) ::_exit(2);
        auto guard =
            mb::make_idempotency_guard(*store, {.lease = 30s, .retention = 1h}, manual_clock(start_us));
        if (!guard) ::_exit(3);
        for (int k = 0; k < keys; ++k) {
            auto r = guard->begin(mb::make_key("job", k), mb::fingerprint_body("payload"));
            if (!r || !r->acquired()) ::_exit(4);
            const std::uint64_t fence = r->claim.fence;
            if (::write(pipe_fds[1], &fence, sizeof fence) != static_cast<ssize_t>(sizeof fence)) ::_exit(5);
        }
        for (;;) ::pause();
    }
    ::close(pipe_fds[1]);
    std::vector<std::uint64_t> child_fences(keys);
    for (auto& fence : child_fences) {
        std::size_t got = 0;
        auto* p = reinterpret_cast<char*>(&fence);
        while (got < sizeof fence) {
            const auto n = ::read(pipe_fds[0], p + got, sizeof fence - got);
            REQUIRE(n > 0);
            got += static_cast<std::size_t>(n);
        }
    }
    ::close(pipe_fds[0]);
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);

    auto store = mb::sqlite_idempotency_store::open(path);
    REQUIRE(store);
    manual_clock clock(start_us);
    auto guard = mb::make_idempotency_guard(*store, {.lease = 30s, .retention = 1h}, clock);
    REQUIRE(guard);
    clock.advance(10s);  // the dead worker's leases still run: its claims survived the kill
    for (int k = 0; k < keys; ++k) {
        auto r = guard->begin(mb::make_key("job", k), mb::fingerprint_body("payload"));
        REQUIRE(r);
        CHECK(r->status == mb::begin_status::in_progress);
        REQUIRE(r->record.has_value());
        CHECK(r->record->fence == child_fences[static_cast<std::size_t>(k)]);
    }
    clock.advance(21s);  // past the lease: take over
    for (int k = 0; k < keys; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        auto r = guard->begin(mb::make_key("job", k), mb::fingerprint_body("payload"));
        REQUIRE(r);
        REQUIRE(r->status == mb::begin_status::acquired);
        CHECK(r->claim.took_over);
        CHECK(r->claim.previous_fence == child_fences[uk]);
        CHECK(r->claim.fence > child_fences[uk]);
        // Had the worker only stalled, its late completion would now be refused.
        const mb::idempotency_claim stale{
            mb::make_key("job", k), mb::fingerprint_body("payload"), child_fences[uk], {}, false, 0};
        auto late = guard->complete(stale);
        REQUIRE_FALSE(late);
        CHECK(late.error().code == mb::errc::fence_mismatch);
        REQUIRE(guard->complete(r->claim));
    }
    auto reopened = mb::sqlite_idempotency_store::open(path);
    REQUIRE(reopened);
    auto guard2 = mb::make_idempotency_guard(*reopened, {.lease = 30s, .retention = 1h}, clock);
    auto done = guard2->begin(mb::make_key("job", 0), mb::fingerprint_body("payload"));
    REQUIRE(done);
    CHECK(done->status == mb::begin_status::completed);
}
