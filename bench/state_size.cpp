// SPDX-License-Identifier: MIT
// state_size: how big the SQLite state file of calendar_sync_server gets (issue 12 section 3), on the real
// adapters and the work of one calendar.sync_events webhook per unit (tests/support/state_workload.hpp:
// enqueue under its key, lease, claim + complete one action key, record the event's version, acknowledge).
//
//   state_size burst  [--webhooks N] [--old] [--dir DIR]
//       N webhooks as fast as one thread can, with a reader (next_due() every 1 ms and stats() every second,
//       as idle workers and a /metrics scraper do) and a maintenance thread stepping when the last report's
//       next_step_in says (1 s, shorter while the WAL grows fast). --old replaces the maintenance with the
//       server's previous housekeeping (a PASSIVE checkpoint per second). Prints the largest WAL, the
//       database size, bytes per table (dbstat) and bytes per webhook.
//   state_size steady [--rate R] [--days D] [--dir DIR]
//       D simulated days at R webhooks per simulated second with the default retentions, maintenance every
//       10 simulated minutes: prints rows and bytes per table every simulated 12 h, which level off once
//       each retention has passed (72 h, then 30 days).
//
// See docs/perf/state.md for the numbers and how they scale to other rates.

#include <meetingbaas/adapters/sqlite/maintenance.hpp>

#include "state_workload.hpp"
#include "sync_test_clock.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <thread>

#include <unistd.h>

namespace mb = meetingbaas;
using namespace std::chrono_literals;
using clock_type = sync_test::manual_clock;

namespace {

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "state_size: %s\n", what.c_str());
    std::exit(1);
}

template <class T>
T must(mb::result<T> r, const char* what)
{
    if (!r) die(std::string(what) + ": " + mb::to_string(r.error()));
    return std::move(*r);
}

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

struct table_usage {
    std::int64_t rows = 0;
    std::int64_t bytes = 0;  // pages of the table and its indexes
};

/// Bytes per table (with its indexes) from dbstat, and the row counts.
std::map<std::string, table_usage> usage(const std::string& path)
{
    auto db = must(mb::sqlite::open(path), "open");
    std::map<std::string, table_usage> out;
    auto st = must(db.prepare("SELECT s.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_schema s ON "
                              "s.name = d.name GROUP BY s.tbl_name"),
                   "dbstat");
    while (*st.step() == mb::sqlite::step_result::row)
        out[std::string(st.column_text(0))].bytes = st.column_int64(1);
    for (auto& [table, u] : out) {
        auto count = must(db.prepare("SELECT count(*) FROM \"" + table + "\""), "count");
        if (*count.step() == mb::sqlite::step_result::row) u.rows = count.column_int64(0);
    }
    return out;
}

std::int64_t pragma(const std::string& path, const char* name)
{
    auto db = must(mb::sqlite::open(path), "open");
    auto st = must(db.prepare(std::string("PRAGMA ") + name), name);
    return *st.step() == mb::sqlite::step_result::row ? st.column_int64(0) : 0;
}

void print_usage(const std::string& path, double webhooks)
{
    const auto page = pragma(path, "page_size");
    const auto free_pages = pragma(path, "freelist_count");
    std::int64_t used = 0;
    std::printf("  %-26s %12s %14s %12s\n", "table (with its indexes)", "rows", "bytes", "bytes/webhook");
    for (const auto& [table, u] : usage(path)) {
        used += u.bytes;
        std::printf("  %-26s %12lld %14lld %12.1f\n", table.c_str(), static_cast<long long>(u.rows),
                    static_cast<long long>(u.bytes),
                    webhooks > 0 ? static_cast<double>(u.bytes) / webhooks : 0.0);
    }
    std::printf("  %-26s %12s %14lld %12.1f\n", "all tables", "", static_cast<long long>(used),
                webhooks > 0 ? static_cast<double>(used) / webhooks : 0.0);
    std::printf("  database file %llu bytes (free pages %lld bytes), WAL %llu bytes\n",
                static_cast<unsigned long long>(size_of(path)), static_cast<long long>(free_pages * page),
                static_cast<unsigned long long>(size_of(path + "-wal")));
}

std::string fresh_path(const std::string& dir, const char* name)
{
    std::filesystem::create_directories(dir);
    const std::string path = (std::filesystem::path(dir) / name).string();
    for (const char* suffix : {"", "-wal", "-shm", "-reserve"}) std::filesystem::remove(path + suffix);
    return path;
}

int burst(std::uint64_t webhooks, bool old, const std::string& dir)
{
    const std::string path = fresh_path(dir, old ? "burst-old.sqlite3" : "burst.sqlite3");
    clock_type clock;
    auto maintenance = must(mb::sqlite_state_maintenance::open(path), "maintenance");
    auto passive = must(mb::sqlite::open(path), "open");
    auto s = must(state_workload::stores<clock_type>::open(path, clock), "stores");
    auto guard = must(mb::make_idempotency_guard(s.store, {}, clock), "guard");
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> max_wal{0};
    std::atomic<std::uint64_t> truncations{0};
    std::atomic<std::uint64_t> blocked{0};
    std::atomic<std::int64_t> slowest_step_us{0};
    std::thread housekeeping([&] {
        std::chrono::milliseconds next = 1s;
        while (!done) {
            std::this_thread::sleep_for(next);
            max_wal = std::max(max_wal.load(), size_of(path + "-wal"));
            if (old) {
                (void)passive.exec("PRAGMA wal_checkpoint(PASSIVE)");
                continue;
            }
            const auto r = maintenance.step_at(to_utc(clock.now()));  // the stores' clock
            next = r.next_step_in;
            max_wal = std::max(max_wal.load(), r.wal_bytes_before);
            if (r.truncated) ++truncations;
            if (r.wal_blocked) ++blocked;
            slowest_step_us = std::max<std::int64_t>(slowest_step_us.load(), r.took.count());
            for (const auto& e : r.errors)
                std::fprintf(stderr, "maintenance: %s\n", mb::to_string(e).c_str());
        }
    });
    std::thread reader([&] {  // an idle worker polling for due jobs, and a /metrics scrape every second
        auto r = must(state_workload::stores<clock_type>::open(path, clock), "reader");
        auto last_scrape = std::chrono::steady_clock::now();
        while (!done) {
            (void)r.queue.next_due();
            if (std::chrono::steady_clock::now() - last_scrape >= 1s) {
                (void)r.queue.stats();
                last_scrape = std::chrono::steady_clock::now();
            }
            std::this_thread::sleep_for(1ms);
        }
    });
    const auto updated = to_utc(clock.now());
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < webhooks; ++i) {
        must(state_workload::receive(s, i, updated), "receive");
        if (!must(state_workload::work(s, guard, updated), "work")) die("no job to work on");
        if ((i + 1) % 20000 == 0) {
            std::printf("  %llu webhooks, WAL %llu bytes, database %llu bytes\n",
                        static_cast<unsigned long long>(i + 1),
                        static_cast<unsigned long long>(size_of(path + "-wal")),
                        static_cast<unsigned long long>(size_of(path)));
            std::fflush(stdout);
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    done = true;
    housekeeping.join();
    reader.join();
    max_wal = std::max(max_wal.load(), size_of(path + "-wal"));
    std::printf("%s: %llu webhooks in %.1f s (%.0f/s); largest WAL %llu bytes (%.1f per webhook)",
                old ? "old housekeeping (PASSIVE checkpoints only)" : "sqlite_state_maintenance",
                static_cast<unsigned long long>(webhooks), seconds, static_cast<double>(webhooks) / seconds,
                static_cast<unsigned long long>(max_wal.load()),
                static_cast<double>(max_wal.load()) / static_cast<double>(webhooks));
    if (!old) {
        std::printf("; %llu truncations, %llu blocked, slowest step %lld us",
                    static_cast<unsigned long long>(truncations.load()),
                    static_cast<unsigned long long>(blocked.load()),
                    static_cast<long long>(slowest_step_us.load()));
    }
    std::printf("\n");
    print_usage(path, static_cast<double>(webhooks));
    return 0;
}

int steady(double rate, int days, const std::string& dir)
{
    const std::string path = fresh_path(dir, "steady.sqlite3");
    clock_type clock;
    auto maintenance = must(mb::sqlite_state_maintenance::open(path), "maintenance");
    auto s = must(state_workload::stores<clock_type>::open(path, clock), "stores");
    auto guard = must(mb::make_idempotency_guard(s.store, {}, clock), "guard");
    const auto step_ms = static_cast<std::int64_t>(1000.0 / rate);
    const auto total = static_cast<std::uint64_t>(rate * 86400.0 * days);
    std::int64_t since_step = 0;
    std::int64_t since_report = 0;
    std::uint64_t max_wal = 0;
    std::uint64_t pruned_dead = 0;
    std::printf("%.3g webhooks/s for %d simulated days (%llu webhooks), default retentions\n", rate, days,
                static_cast<unsigned long long>(total));
    for (std::uint64_t i = 0; i < total; ++i) {
        const auto now = to_utc(clock.now());
        must(state_workload::receive(s, i, now), "receive");
        if (!must(state_workload::work(s, guard, now), "work")) die("no job to work on");
        clock.advance(std::chrono::milliseconds(step_ms));
        since_step += step_ms;
        since_report += step_ms;
        if (since_step >= 600'000) {  // maintenance every 10 simulated minutes
            since_step = 0;
            const auto r = maintenance.step_at(to_utc(clock.now()));
            max_wal = std::max({max_wal, r.wal_bytes_before, r.wal_bytes});
            pruned_dead += r.dead_letters_pruned.size();
            for (const auto& e : r.errors)
                std::fprintf(stderr, "maintenance: %s\n", mb::to_string(e).c_str());
        }
        if (since_report >= 12 * 3'600'000) {
            since_report = 0;
            std::printf("after %.1f simulated days (%llu webhooks), largest WAL so far %llu bytes:\n",
                        static_cast<double>(i + 1) / rate / 86400.0, static_cast<unsigned long long>(i + 1),
                        static_cast<unsigned long long>(max_wal));
            print_usage(path, 0);
            std::fflush(stdout);
        }
    }
    (void)pruned_dead;
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string mode = argc > 1 ? argv[1] : "";
    std::uint64_t webhooks = 200'000;
    double rate = 0.1;
    int days = 35;
    bool old = false;
    std::string dir =
        (std::filesystem::temp_directory_path() / ("mb-state-size-" + std::to_string(::getpid()))).string();
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value for " + std::string(a));
            return argv[++i];
        };
        if (a == "--webhooks") {
            webhooks = std::strtoull(value().c_str(), nullptr, 10);
        } else if (a == "--rate") {
            rate = std::strtod(value().c_str(), nullptr);
        } else if (a == "--days") {
            days = std::atoi(value().c_str());
        } else if (a == "--dir") {
            dir = value();
        } else if (a == "--old") {
            old = true;
        } else {
            die("unknown option " + std::string(a));
        }
    }
    if (mode == "burst" && webhooks > 0) return burst(webhooks, old, dir);
    if (mode == "steady" && rate > 0 && rate <= 1000 && days > 0) return steady(rate, days, dir);
    std::fprintf(stderr, "usage: state_size burst [--webhooks N] [--old] [--dir DIR]\n"
                         "       state_size steady [--rate R] [--days D] [--dir DIR]\n");
    return 2;
}
