// SPDX-License-Identifier: MIT
// sqlite_state_maintenance (issue 12 section 3): the WAL stays bounded under load with concurrent readers,
// every table's retention rule purges in batches, the health probe follows the file's real state (full
// disk, a lock held too long, corruption), recovery after a full disk needs no restart, and startup refuses
// a corrupt file with SQLite's reason.

#include <meetingbaas/adapters/sqlite/maintenance.hpp>

#include "quota_vfs.hpp"
#include "state_workload.hpp"
#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace mb = meetingbaas;
using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using clock_type = sync_test::manual_clock;

namespace {

struct temp_dir {
    std::filesystem::path path;
    temp_dir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mb-sqlite-maint-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
};

std::uint64_t size_of(const std::string& path)
{
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<std::uint64_t>(n);
}

mb::utc_time to_utc(clock_type::time_point t)
{
    return std::chrono::time_point_cast<std::chrono::microseconds>(t);
}

template <class Guard>
void run_webhooks(state_workload::stores<clock_type>& s, Guard& guard, std::uint64_t first, std::uint64_t n,
                  mb::utc_time updated)
{
    for (std::uint64_t i = first; i < first + n; ++i) {
        auto id = state_workload::receive(s, i, updated);
        REQUIRE(id);
        auto worked = state_workload::work(s, guard, updated);
        REQUIRE(worked);
        REQUIRE(*worked);
    }
}

/// The unique key of webhook `n` (the receiver's enqueue key).
std::string key_of(std::uint64_t n, mb::utc_time updated)
{
    auto d = mb::parse_delivery(state_workload::sync_body(n, updated));
    REQUIRE(d);
    return std::string(mb::idempotency_key_for(std::get<mb::calendar_sync_events>(d->event)).view());
}

}  // namespace

TEST_CASE("sqlite_maintenance_options are validated", "[sqlite_maintenance]")
{
    CHECK(mb::validate(mb::sqlite_maintenance_options{}));
    mb::sqlite_maintenance_options o;
    o.dead_letter_retention = 1h;
    CHECK(mb::validate(o).error().where == "sqlite_maintenance_options.dead_letter_retention");
    o = {};
    o.event_state_retention = 24h;  // shorter than the dead letters' 30 days
    CHECK(mb::validate(o).error().where == "sqlite_maintenance_options.event_state_retention");
    o = {};
    o.idempotency_tables = {"x; DROP TABLE mb_jobs"};
    CHECK(mb::validate(o).error().code == mb::errc::invalid_argument);
    o = {};
    o.truncate_wait = 2s;
    CHECK_FALSE(mb::validate(o));
    temp_dir dir;
    CHECK(mb::sqlite_state_maintenance::open(dir.file("s.sqlite3"), o).error().code ==
          mb::errc::invalid_argument);
}

TEST_CASE("sqlite errors name the extended result code and the errno", "[sqlite_maintenance]")
{
    auto missing = mb::sqlite::open("/nonexistent-dir-for-mb-tests/state.sqlite3");
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, ContainsSubstring("SQLITE_CANTOPEN"));
    CHECK_THAT(missing.error().message, ContainsSubstring("errno 2: No such file or directory"));
    auto db = mb::sqlite::open(":memory:");
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE u(k TEXT PRIMARY KEY)"));
    REQUIRE(db->exec("INSERT INTO u VALUES('a')"));
    auto dup = db->exec("INSERT INTO u VALUES('a')");
    REQUIRE_FALSE(dup);
    CHECK_THAT(dup.error().message, ContainsSubstring("(SQLITE_CONSTRAINT_PRIMARYKEY, extended code 1555)"));
}

TEST_CASE("the WAL stays under its bound while webhooks are processed with concurrent readers",
          "[sqlite_maintenance]")
{
    // Two receivers and two workers write; two readers poll the queue; the maintenance runs every 20 ms
    // (the server: every second, at a correspondingly lower rate per period). The same work with the old
    // housekeeping (PASSIVE checkpoints only) is the control: its WAL must outgrow the bound, or the test
    // shows nothing.
#if defined(__SANITIZE_THREAD__)
    constexpr std::uint64_t per_thread = 600;  // ThreadSanitizer runs this about 10 times slower
#else
    constexpr std::uint64_t per_thread = 1500;
#endif
    constexpr std::uint64_t threshold = 512 * 1024;
    struct wal_run {
        std::uint64_t max_wal, steps, truncations, blocked, over_after_step;
        std::int64_t slowest_step_us;
    };
    auto run = [&](bool truncating) {
        temp_dir dir;
        const std::string path = dir.file("state.sqlite3");
        clock_type clock;
        mb::sqlite_maintenance_options options;
        options.wal_truncate_threshold = threshold;
        auto maintenance = mb::sqlite_state_maintenance::open(path, options);
        REQUIRE(maintenance);
        auto passive = mb::sqlite::open(path);
        REQUIRE(passive);
        std::atomic<std::uint64_t> max_wal{0};
        std::atomic<std::uint64_t> truncations{0};
        std::atomic<std::uint64_t> blocked{0};
        std::atomic<std::uint64_t> steps{0};
        std::atomic<std::int64_t> slowest_step_us{0};
        std::atomic<std::uint64_t> over_after_step{0};
        std::vector<std::thread> threads;
        std::vector<mb::error> failures;
        std::mutex failures_mutex;
        auto fail = [&](const mb::error& e) {
            const std::lock_guard lock(failures_mutex);
            failures.push_back(e);
        };
        const auto updated = to_utc(clock.now());
        std::atomic<int> writers_left{2};
        for (int w = 0; w < 2; ++w) {
            threads.emplace_back([&, w] {
                auto s = state_workload::stores<clock_type>::open(path, clock);
                if (!s) return fail(s.error());
                auto guard = mb::make_idempotency_guard(s->store, {}, clock);
                if (!guard) return fail(guard.error());
                for (std::uint64_t i = 0; i < per_thread; ++i) {
                    const std::uint64_t n = static_cast<std::uint64_t>(w) * 1'000'000 + i;
                    if (auto id = state_workload::receive(*s, n, updated); !id) return fail(id.error());
                    if (auto r = state_workload::work(*s, *guard, updated); !r) return fail(r.error());
                }
                --writers_left;
            });
        }
        for (int r = 0; r < 2; ++r) {
            threads.emplace_back([&] {
                auto s = state_workload::stores<clock_type>::open(path, clock);
                if (!s) return fail(s.error());
                while (writers_left.load() > 0) {
                    if (auto st = s->queue.stats(); !st) return fail(st.error());
                    if (auto l = s->store.load("calendar_sync.schedule|x", to_utc(clock.now())); !l)
                        return fail(l.error());
                }
            });
        }
        threads.emplace_back([&] {
            while (writers_left.load() > 0) {
                if (truncating) {
                    const auto report = maintenance->step_at(to_utc(clock.now()));
                    max_wal = std::max({max_wal.load(), report.wal_bytes_before, report.wal_bytes});
                    if (report.truncated) ++truncations;
                    if (report.wal_blocked) ++blocked;
                    if (report.wal_bytes > threshold && !report.wal_blocked) ++over_after_step;
                    ++steps;
                    slowest_step_us = std::max<std::int64_t>(slowest_step_us.load(), report.took.count());
                    for (const auto& e : report.errors) fail(e);
                } else {
                    (void)passive->exec("PRAGMA wal_checkpoint(PASSIVE)");  // the old housekeeping
                    max_wal = std::max(max_wal.load(), size_of(path + "-wal"));
                }
                std::this_thread::sleep_for(20ms);
            }
        });
        for (auto& t : threads) t.join();
        for (const auto& e : failures) FAIL(mb::to_string(e));
        const auto wal_at_end = size_of(path + "-wal");
        return wal_run{std::max(max_wal.load(), wal_at_end),
                       steps.load(),
                       truncations.load(),
                       blocked.load(),
                       over_after_step.load(),
                       slowest_step_us.load()};
    };

    const auto control = run(false);
    const auto maintained = run(true);
    INFO("max WAL without truncation: "
         << control.max_wal << " bytes; with maintenance: " << maintained.max_wal << " bytes over "
         << maintained.steps << " steps, " << maintained.truncations << " truncations, " << maintained.blocked
         << " blocked, slowest step " << maintained.slowest_step_us << " us");
    CHECK(maintained.truncations > 0);
    // The documented bound: after every step the WAL is at most the threshold, unless the step reports the
    // TRUNCATE blocked (a minority of steps); between steps it grows by what one period writes.
    CHECK(maintained.over_after_step == 0);
    CHECK(maintained.blocked * 4 <= maintained.steps);  // 2-6 % here; 15 % under TSan on a loaded machine
    // The control reproduces the finding: with PASSIVE checkpoints alone the WAL only grows.
    CHECK(control.max_wal > 20 * threshold);
    CHECK(maintained.max_wal * 10 < control.max_wal);
}

TEST_CASE("step() suggests stepping sooner while the WAL grows fast", "[sqlite_maintenance]")
{
    temp_dir dir;
    const std::string path = dir.file("state.sqlite3");
    mb::sqlite_maintenance_options options;
    options.wal_truncate_threshold = 256 * 1024;
    auto maintenance = mb::sqlite_state_maintenance::open(path, options);
    REQUIRE(maintenance);
    clock_type clock;
    auto s = state_workload::stores<clock_type>::open(path, clock);
    REQUIRE(s);
    auto r = maintenance->step();
    CHECK(r.next_step_in == options.step_interval);  // nothing written: the normal period
    r = maintenance->step();
    CHECK(r.next_step_in == options.step_interval);
    const auto never = mb::queue_time(std::chrono::hours(24 * 365 * 1000));
    for (int i = 0; i < 200; ++i) {  // about 1 MiB of WAL at once: four times the threshold
        std::string key = "f";       // appended, not "f" + to_string(i): a GCC 12 -O3 false positive
        key += std::to_string(i);
        REQUIRE(s->queue.enqueue({"filler", std::string(4096, 'x'), key, never}));
    }
    r = maintenance->step();
    CHECK(r.wal_bytes_before > 2 * options.wal_truncate_threshold);
    CHECK(r.truncated);
    CHECK(r.next_step_in == options.min_step_interval);
}

TEST_CASE("every table's retention rule purges in batches, and pruned dead letters are reported",
          "[sqlite_maintenance]")
{
    temp_dir dir;
    const std::string path = dir.file("state.sqlite3");
    clock_type clock;
    mb::sqlite_maintenance_options options;
    options.purge_batch = 4;
    options.purge_budget = 0ms;  // one batch per table per step
    auto maintenance = mb::sqlite_state_maintenance::open(path, options);
    REQUIRE(maintenance);
    auto s = state_workload::stores<clock_type>::open(path, clock);
    REQUIRE(s);
    auto guard = mb::make_idempotency_guard(s->store, {}, clock);
    REQUIRE(guard);
    const auto t0 = to_utc(clock.now());

    // 6 webhooks fully processed (6 completed jobs, 6 action records, 6 event states), 3 dead letters, 2 jobs
    // still pending (one ready, one leased): these must survive every purge.
    run_webhooks(*s, *guard, 0, 6, t0);
    for (std::uint64_t i = 100; i < 103; ++i) {
        REQUIRE(state_workload::receive(*s, i, t0));
        auto job = s->queue.lease(60s);
        REQUIRE(job);
        REQUIRE(*job);
        REQUIRE(s->queue.dead_letter((*job)->id, (*job)->lease_token, "400 Bad Request: no such calendar"));
    }
    REQUIRE(state_workload::receive(*s, 200, t0));
    REQUIRE(state_workload::receive(*s, 201, t0));
    std::int64_t live = 2;
    auto leased = s->queue.lease(24h * 400);
    REQUIRE(leased);
    REQUIRE(*leased);
    auto count = [&](const char* sql) {
        auto db = mb::sqlite::open(path);
        REQUIRE(db);
        auto st = db->prepare(sql);
        REQUIRE(st);
        REQUIRE(*st->step() == mb::sqlite::step_result::row);
        return st->column_int64(0);
    };
    REQUIRE(count("SELECT count(*) FROM meetingbaas_idempotency") == 6);
    REQUIRE(count("SELECT count(*) FROM mb_event_state") == 6);

    SECTION("nothing is due before its retention ends")
    {
        const auto r = maintenance->step_at(t0 + 71h);
        CHECK(r.errors.empty());
        CHECK(r.completed_jobs_purged == 0);
        CHECK(r.idempotency_purged == 0);
        CHECK(r.dead_letters_pruned.empty());
        CHECK(r.event_states_purged == 0);
    }
    SECTION("completed jobs and idempotency records after 72 h, in batches")
    {
        auto r = maintenance->step_at(t0 + 73h);
        CHECK(r.errors.empty());
        CHECK(r.completed_jobs_purged == 4);  // one batch of 4
        CHECK(r.idempotency_purged == 4);
        r = maintenance->step_at(t0 + 73h);
        CHECK(r.completed_jobs_purged == 2);
        CHECK(r.idempotency_purged == 2);
        CHECK(count("SELECT count(*) FROM mb_jobs WHERE state = 2") == 0);
        CHECK(count("SELECT count(*) FROM meetingbaas_idempotency") == 0);
        CHECK(count("SELECT count(*) FROM mb_jobs WHERE state = 3") == 3);  // dead letters stay
        CHECK(count("SELECT count(*) FROM mb_event_state") == 6);
        // A purged key no longer deduplicates: the same webhook is a new job (webhook 200, pending, still
        // is).
        auto again = s->queue.enqueue({"calendar.sync_events", "x", key_of(0, t0), std::nullopt});
        REQUIRE(again);
        CHECK(again->inserted);
        ++live;
        auto pending = s->queue.enqueue({"calendar.sync_events", "x", key_of(200, t0), std::nullopt});
        REQUIRE(pending);
        CHECK_FALSE(pending->inserted);
    }
    SECTION("dead letters after 30 days, each one reported; event state after 30 days")
    {
        auto r = maintenance->step_at(t0 + 24h * 30 + 1h);
        CHECK(r.errors.empty());
        REQUIRE(r.dead_letters_pruned.size() == 3);
        CHECK(r.dead_letters_pruned[0].kind == "calendar.sync_events");
        CHECK(r.dead_letters_pruned[0].reason == "400 Bad Request: no such calendar");
        CHECK(r.dead_letters_pruned[0].attempts == 1);
        CHECK(r.event_states_purged == 4);
        r = maintenance->step_at(t0 + 24h * 30 + 1h);
        CHECK(r.event_states_purged == 2);
        CHECK(count("SELECT count(*) FROM mb_dead_letters") == 0);
        CHECK(count("SELECT count(*) FROM mb_jobs WHERE state = 3") == 0);
        CHECK(count("SELECT count(*) FROM mb_event_state") == 0);
        auto dead = s->queue.dead_letters(10);
        REQUIRE(dead);
        CHECK(dead->empty());
    }
    // Live work is never purged.
    (void)maintenance->step_at(t0 + 24h * 365);
    CHECK(count("SELECT count(*) FROM mb_jobs WHERE state IN (0, 1)") == live);
    CHECK(s->queue.acknowledge((*leased)->id, (*leased)->lease_token));
}

TEST_CASE("health follows whether a write can be stored right now", "[sqlite_maintenance]")
{
    temp_dir dir;
    const std::string path = dir.file("state.sqlite3");
    mb::sqlite_maintenance_options options;
    options.probe_busy_timeout = 200ms;
    options.probe_interval = 0ms;
    auto maintenance = mb::sqlite_state_maintenance::open(path, options);
    REQUIRE(maintenance);
    CHECK_FALSE(maintenance->last_health().ok);  // not probed yet
    auto h = maintenance->health();
    CHECK(h.ok);
    CHECK(h.reason == "ok");
    CHECK(h.free_bytes.has_value());
    CHECK(h.database_bytes > 0);

    // Another connection holds the write lock longer than the probe waits: an enqueue would wait too.
    auto other = mb::sqlite::open(path);
    REQUIRE(other);
    {
        auto tx = other->begin_transaction();
        REQUIRE(tx);
        h = maintenance->probe();
        CHECK_FALSE(h.ok);
        CHECK_THAT(h.reason, ContainsSubstring("SQLITE_BUSY"));
    }
    CHECK(maintenance->probe().ok);  // released: healthy again, no restart

    SECTION("health() is rate limited: at most one write per probe_interval")
    {
        options.probe_interval = 1h;
        auto limited = mb::sqlite_state_maintenance::open(path, options);
        REQUIRE(limited);
        const auto first = limited->health();
        for (int i = 0; i < 100; ++i) CHECK(limited->health().checked_at == first.checked_at);
    }
    SECTION("min_free_bytes: unhealthy below it")
    {
        options.min_free_bytes = std::numeric_limits<std::uint64_t>::max();
        auto strict = mb::sqlite_state_maintenance::open(path, options);
        REQUIRE(strict);
        h = strict->probe();
        CHECK_FALSE(h.ok);
        CHECK_THAT(h.reason, ContainsSubstring("low disk space"));
    }
}

namespace {

/// Closes every connection of a "server" (as a process exit would).
template <class Stores, class Maintenance>
void close(Stores& s, Maintenance& m)
{
    [[maybe_unused]] auto stores = std::move(*s);
    [[maybe_unused]] auto maintenance = std::move(*m);
}

/// Fills the "disk" with jobs that never come due until an enqueue fails, with large then small payloads so
/// that hardly any room is left; returns the last failure.
mb::error fill_until_full(state_workload::stores<clock_type>& s, std::uint64_t first)
{
    const auto never = mb::queue_time(std::chrono::hours(24 * 365 * 1000));
    std::optional<mb::error> last;
    std::uint64_t i = first;
    for (const std::size_t size : {std::size_t{16384}, std::size_t{2048}, std::size_t{256}}) {
        const std::string payload(size, 'x');
        last.reset();
        for (int tries = 0; tries < 100'000 && !last; ++tries, ++i) {
            auto added = s.queue.enqueue({"filler", payload, "filler-" + std::to_string(i), never});
            if (!added) last = added.error();
        }
        if (!last) FAIL("the disk never filled up");
    }
    return *last;
}

}  // namespace

TEST_CASE("full disk: errors name SQLITE_FULL, health says so, and recovery after space returns is automatic",
          "[sqlite_maintenance]")
{
    // The quota VFS makes the database, WAL and journal files share a small "disk" (quota_vfs.hpp): a write
    // beyond it fails with SQLITE_FULL from the VFS, where the default VFS returns it for ENOSPC. The same
    // scenario on a real, full tmpfs is the next test (root only).
    quota_vfs::install();
    temp_dir dir;
    const std::string path = dir.file("state.sqlite3");
    mb::sqlite::open_options db_options;
    db_options.vfs = quota_vfs::name;
    mb::sqlite_maintenance_options options;
    options.wal_truncate_threshold = 256 * 1024;
    options.probe_interval = 0ms;
    auto maintenance = mb::sqlite_state_maintenance::open(path, options, db_options);
    REQUIRE(maintenance);
    clock_type clock;
    auto s = state_workload::stores<clock_type>::open(path, clock, db_options);
    REQUIRE(s);
    auto guard = mb::make_idempotency_guard(s->store, {}, clock);
    REQUIRE(guard);
    run_webhooks(*s, *guard, 0, 50, to_utc(clock.now()));
    (void)maintenance->step();

    quota_vfs::set_quota(quota_vfs::used() + 2 * 1024 * 1024);  // 2 MiB left on the "disk"
    const auto full = fill_until_full(*s, 0);
    CHECK(full.code == mb::errc::storage_error);
    CHECK_THAT(full.message, ContainsSubstring("(SQLITE_FULL, extended code 13)"));
    // The probe (the write path of an enqueue) fails too, and says why (once the room failed transactions
    // left in the WAL file is used up).
    auto h = maintenance->probe();
    for (int i = 0; i < 100 && h.ok; ++i) h = maintenance->probe();
    CHECK_FALSE(h.ok);
    CHECK_THAT(h.reason, ContainsSubstring("SQLITE_FULL"));
    // While the disk stays full, a step cannot help (the checkpoint may need room), and nothing crashes.
    auto r = maintenance->step();
    CHECK_FALSE(r.health.ok);

    // Space returns (the operator deletes something): no restart, the next step recovers.
    quota_vfs::set_quota(quota_vfs::used() + 64 * 1024 * 1024);
    r = maintenance->step();
    CHECK(r.truncated);  // after SQLITE_FULL the WAL is truncated whatever its size
    CHECK(r.wal_bytes == 0);
    CHECK(r.health.ok);
    run_webhooks(*s, *guard, 1000, 20, to_utc(clock.now()));

    // A restart after the full disk starts cleanly.
    quota_vfs::set_quota(quota_vfs::used() + 1024 * 1024);
    (void)fill_until_full(*s, 5000);
    quota_vfs::unlimited();
    close(s, maintenance);
    auto reopened = mb::sqlite_state_maintenance::open(path, options, db_options);
    REQUIRE(reopened);
    r = reopened->step();
    CHECK(r.errors.empty());
    CHECK(r.health.ok);
    auto s2 = state_workload::stores<clock_type>::open(path, clock, db_options);
    REQUIRE(s2);
    auto guard2 = mb::make_idempotency_guard(s2->store, {}, clock);
    REQUIRE(guard2);
    run_webhooks(*s2, *guard2, 9000, 5, to_utc(clock.now()));
}

TEST_CASE("full disk on a real file system (a 6 MiB tmpfs; root only)", "[sqlite_maintenance][root]")
{
    // A private mount namespace, so that the mount disappears with this process whatever happens.
    if (::geteuid() != 0 || ::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        SKIP("needs root and mount namespaces (CAP_SYS_ADMIN); the quota-VFS test covers the logic");
    }
    temp_dir dir;
    if (::mount("tmpfs", dir.path.c_str(), "tmpfs", 0, "size=6m") != 0) SKIP("cannot mount a tmpfs here");
    struct unmount {
        std::string at;
        ~unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount_guard{dir.path.string()};

    const std::string path = dir.file("state.sqlite3");
    mb::sqlite_maintenance_options options;
    options.wal_truncate_threshold = 256 * 1024;
    options.probe_interval = 0ms;
    options.reserve_bytes = 512 * 1024;
    auto maintenance = mb::sqlite_state_maintenance::open(path, options);
    REQUIRE(maintenance);
    clock_type clock;
    auto s = state_workload::stores<clock_type>::open(path, clock);
    REQUIRE(s);
    auto guard = mb::make_idempotency_guard(s->store, {}, clock);
    REQUIRE(guard);
    run_webhooks(*s, *guard, 0, 50, to_utc(clock.now()));
    auto r = maintenance->step();
    CHECK(r.health.reserve_held);

    auto fill_with_filler = [&](const std::string& name) {
        std::ofstream out(dir.file(name.c_str()), std::ios::binary);
        const std::string chunk(4096, 'f');
        while (out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))) {
        }
    };

    // The reserve: the WAL holds new pages (the checkpoint must grow the database file by them) when
    // something else takes the last byte of the disk. The checkpoint fails with SQLITE_FULL, the step gives
    // it the reserve, the WAL is truncated, and the state file is healthy without anyone freeing space.
    const auto never = mb::queue_time(std::chrono::hours(24 * 365 * 1000));
    for (int i = 0; i < 40; ++i) {
        REQUIRE(s->queue.enqueue({"filler", std::string(2048, 'r'), "reserve-" + std::to_string(i), never}));
    }
    fill_with_filler("filler-reserve");
    r = maintenance->step();
    for (const auto& e : r.errors) UNSCOPED_INFO(mb::to_string(e));
    CHECK(r.reserve_released);
    CHECK(r.truncated);
    CHECK(r.health.ok);
    std::filesystem::remove(dir.file("filler-reserve"));
    r = maintenance->step();
    CHECK(r.health.reserve_held);  // space is back: the reserve is taken again

    // Something else fills the disk, then the server's writes hit ENOSPC.
    fill_with_filler("filler");
    const auto full = fill_until_full(*s, 0);
    CHECK_THAT(full.message, ContainsSubstring("SQLITE_FULL"));
    // A probe may still fit in the room the failed transactions left in the WAL file; once that is used
    // up too, it fails and says why.
    auto h = maintenance->probe();
    for (int i = 0; i < 100 && h.ok; ++i) h = maintenance->probe();
    CHECK_FALSE(h.ok);
    CHECK_THAT(h.reason, ContainsSubstring("SQLITE_FULL"));
    REQUIRE(h.free_bytes.has_value());
    CHECK(*h.free_bytes < 64 * 1024);

    // The operator frees space: the next step truncates the WAL and the probe is healthy, no restart.
    std::filesystem::remove(dir.file("filler"));
    r = maintenance->step();
    CHECK(r.truncated);
    CHECK(r.wal_bytes == 0);
    CHECK(r.health.ok);
    run_webhooks(*s, *guard, 1000, 20, to_utc(clock.now()));

    // Full again, and the server stops while the disk is full; space is freed; the restart starts cleanly.
    fill_with_filler("filler");
    (void)fill_until_full(*s, 5000);
    close(s, maintenance);
    std::filesystem::remove(dir.file("filler"));
    auto reopened = mb::sqlite_state_maintenance::open(path, options);
    REQUIRE(reopened);
    r = reopened->step();
    for (const auto& e : r.errors) UNSCOPED_INFO(mb::to_string(e));
    CHECK(r.errors.empty());
    CHECK(r.wal_bytes <= options.wal_truncate_threshold);
    CHECK(r.health.ok);
    auto s2 = state_workload::stores<clock_type>::open(path, clock);
    REQUIRE(s2);
    auto guard2 = mb::make_idempotency_guard(s2->store, {}, clock);
    REQUIRE(guard2);
    run_webhooks(*s2, *guard2, 9000, 5, to_utc(clock.now()));
}

namespace {

/// A state file with 300 processed webhooks whose last mb_jobs leaf page (where the next job goes) is
/// overwritten with garbage (all connections closed first, so the WAL is checkpointed into the file).
/// Returns the page number.
std::int64_t make_corrupt_state(const std::string& path)
{
    clock_type clock;
    std::int64_t page = 0;
    std::int64_t page_size = 0;
    {
        auto s = state_workload::stores<clock_type>::open(path, clock);
        REQUIRE(s);
        auto guard = mb::make_idempotency_guard(s->store, {}, clock);
        REQUIRE(guard);
        run_webhooks(*s, *guard, 0, 300, to_utc(clock.now()));
        auto db = mb::sqlite::open(path);
        REQUIRE(db);
        auto st = db->prepare("SELECT pageno FROM dbstat WHERE name = 'mb_jobs' AND pagetype = 'leaf' ORDER "
                              "BY path DESC LIMIT 1");
        REQUIRE(st);
        REQUIRE(*st->step() == mb::sqlite::step_result::row);
        page = st->column_int64(0);
        auto ps = db->prepare("PRAGMA page_size");
        REQUIRE(ps);
        REQUIRE(*ps->step() == mb::sqlite::step_result::row);
        page_size = ps->column_int64(0);
    }
    REQUIRE(size_of(path + "-wal") == 0);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekp((page - 1) * page_size);
    const std::string garbage(64, '\xA5');  // the B-tree page header and cell pointers
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    return page;
}

}  // namespace

TEST_CASE("a corrupt page: startup refuses the file with SQLite's reason", "[sqlite_maintenance]")
{
    temp_dir dir;
    const std::string path = dir.file("state.sqlite3");
    const auto page = make_corrupt_state(path);
    auto refused = mb::sqlite_state_maintenance::open(path);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == mb::errc::storage_error);
    CHECK_THAT(refused.error().where, ContainsSubstring("integrity check"));
    CHECK_THAT(refused.error().message, ContainsSubstring("database file is corrupt"));
    CHECK_THAT(refused.error().message, ContainsSubstring("Page " + std::to_string(page)));
    mb::sqlite_maintenance_options full;
    full.integrity.full = true;
    CHECK_FALSE(mb::sqlite_state_maintenance::open(path, full));
}

TEST_CASE("a corrupt page met at run time turns health unhealthy", "[sqlite_maintenance]")
{
    // Without the startup check, the damage shows when a statement reaches the page; from then on the
    // maintenance's health says so, as every delivery that needs that page fails.
    temp_dir dir;
    const std::string path = dir.file("state.sqlite3");
    (void)make_corrupt_state(path);
    mb::sqlite_maintenance_options unchecked;
    unchecked.check_integrity = false;
    auto maintenance = mb::sqlite_state_maintenance::open(path, unchecked);
    REQUIRE(maintenance);
    CHECK(maintenance->probe().ok);  // the probe's own table is fine
    clock_type clock;
    auto q = mb::sqlite_job_queue<clock_type>::open(path, clock);
    REQUIRE(q);
    auto added = q->enqueue({"calendar.sync_events", "{}", "a-new-key", std::nullopt});  // the damaged leaf
    REQUIRE_FALSE(added);
    CHECK_THAT(added.error().message, ContainsSubstring("SQLITE_CORRUPT"));
    const auto h = maintenance->probe();
    CHECK_FALSE(h.ok);
    CHECK_THAT(h.reason, ContainsSubstring("corrupt"));
    CHECK(maintenance->step().health.ok == false);
}
