// SPDX-License-Identifier: MIT
#include <meetingbaas/adapters/sqlite/event_state.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>

#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using meetingbaas::errc;
using manual_queue = meetingbaas::sqlite_job_queue<sync_test::manual_clock>;

namespace {

struct temp_dir {
    std::filesystem::path path;
    temp_dir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mb-sqlite-queue-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
};

}  // namespace

TEST_CASE("sqlite_job_queue satisfies the job_queue concept", "[sqlite_queue]")
{
    STATIC_REQUIRE(meetingbaas::job_queue<meetingbaas::sqlite_job_queue<>>);
    STATIC_REQUIRE(meetingbaas::job_queue<manual_queue>);
}

TEST_CASE("sqlite_job_queue leases, fences and acknowledges like the in-memory queue", "[sqlite_queue]")
{
    temp_dir dir;
    sync_test::manual_clock clock;
    auto q = manual_queue::open(dir.file("state.sqlite3"), clock);
    REQUIRE(q);
    auto added = q->enqueue({"calendar.sync_events", std::string("body\0with nul", 13), "k1", std::nullopt});
    REQUIRE(added);
    CHECK(added->inserted);
    auto dup = q->enqueue({"calendar.sync_events", "other", "k1", std::nullopt});
    REQUIRE(dup);
    CHECK_FALSE(dup->inserted);
    CHECK(dup->id == added->id);

    auto first = q->lease(5s);
    REQUIRE((first && first->has_value()));
    CHECK((*first)->payload == std::string("body\0with nul", 13));
    CHECK((*first)->unique_key == "k1");
    CHECK((*first)->attempt == 1);
    auto none = q->lease(5s);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());

    clock.advance(5s);
    auto second = q->lease(5s);
    REQUIRE((second && second->has_value()));
    CHECK((*second)->attempt == 2);
    auto stale = q->acknowledge((*first)->id, (*first)->lease_token);
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == errc::fence_mismatch);
    REQUIRE(q->acknowledge((*second)->id, (*second)->lease_token));
    auto gone = q->acknowledge((*second)->id, (*second)->lease_token);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == errc::not_found);

    auto after = q->enqueue({"calendar.sync_events", "again", "k1", std::nullopt});
    REQUIRE(after);
    CHECK_FALSE(after->inserted);  // the completed job still holds its key
    clock.advance(1s);
    auto purged = q->purge_completed(meetingbaas::queue_now(clock));
    REQUIRE(purged);
    CHECK(*purged == 1);
    auto fresh = q->enqueue({"calendar.sync_events", "again", "k1", std::nullopt});
    REQUIRE(fresh);
    CHECK(fresh->inserted);
}

TEST_CASE("sqlite_job_queue retry_later and dead letters survive reopening the file", "[sqlite_queue]")
{
    temp_dir dir;
    sync_test::manual_clock clock;
    const auto path = dir.file("state.sqlite3");
    std::string retried_id;
    std::string dead_id;
    {
        auto q = manual_queue::open(path, clock);
        REQUIRE(q);
        REQUIRE(q->enqueue({"a", "retry me", "", std::nullopt}));
        REQUIRE(q->enqueue({"b", "kill me", "", std::nullopt}));
        auto a = q->lease(30s);
        auto b = q->lease(30s);
        REQUIRE((a && a->has_value() && b && b->has_value()));
        retried_id = (*a)->id;
        dead_id = (*b)->id;
        REQUIRE(
            q->retry_later(retried_id, (*a)->lease_token, meetingbaas::queue_now(clock) + 10s, "HTTP 503"));
        REQUIRE(q->dead_letter(dead_id, (*b)->lease_token, "HTTP 403 on GET /calendar_events/x"));
        auto s = q->stats();
        REQUIRE(s);
        CHECK(s->scheduled == 1);
        CHECK(s->dead == 1);
    }
    auto q = manual_queue::open(path, clock);
    REQUIRE(q);
    auto none = q->lease(30s);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto due = q->next_due();
    REQUIRE((due && due->has_value()));
    CHECK(**due == meetingbaas::queue_now(clock) + 10s);

    auto dead = q->dead_letters(10);
    REQUIRE(dead);
    REQUIRE(dead->size() == 1);
    CHECK(dead->front().id == dead_id);
    CHECK(dead->front().kind == "b");
    CHECK(dead->front().payload == "kill me");
    CHECK(dead->front().reason == "HTTP 403 on GET /calendar_events/x");
    CHECK(dead->front().attempts == 1);

    auto bad = q->requeue_dead_letter(retried_id);  // not dead
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == errc::not_found);
    REQUIRE(q->requeue_dead_letter(dead_id));
    auto back = q->lease(30s);
    REQUIRE((back && back->has_value()));
    CHECK((*back)->id == dead_id);
    CHECK((*back)->payload == "kill me");
    CHECK((*back)->attempt == 1);
    auto empty = q->dead_letters(10);
    REQUIRE(empty);
    CHECK(empty->empty());

    clock.advance(10s);
    auto retried = q->lease(30s);
    REQUIRE((retried && retried->has_value()));
    CHECK((*retried)->id == retried_id);
    CHECK((*retried)->attempt == 2);
    CHECK((*retried)->last_error == "HTTP 503");
}

TEST_CASE("sqlite_job_queue re-leases the jobs of a process killed with SIGKILL", "[sqlite_queue]")
{
    temp_dir dir;
    const auto path = dir.file("state.sqlite3");
    constexpr int total = 20;
    constexpr int held_by_child = 5;
    {
        auto q = meetingbaas::sqlite_job_queue<>::open(path);
        REQUIRE(q);
        for (int i = 0; i < total; ++i)
            REQUIRE(q->enqueue({"k", std::to_string(i), "job-" + std::to_string(i), {}}));
    }
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child leases some jobs with a short lease, tells the parent, and waits to be killed.
        auto q = meetingbaas::sqlite_job_queue<>::open(path);
        if (!q) ::_exit(3);
        for (int i = 0; i < held_by_child; ++i) {
            auto job = q->lease(700ms);
            if (!job || !job->has_value()) ::_exit(4);
        }
        const char byte = 'x';
        if (::write(ready[1], &byte, 1) != 1) ::_exit(5);
        while (true) ::pause();
    }
    ::close(ready[1]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));

    auto q = meetingbaas::sqlite_job_queue<>::open(path);
    REQUIRE(q);
    std::set<std::string> done;
    for (int i = 0; i < total - held_by_child; ++i) {
        auto job = q->lease(30s);
        REQUIRE((job && job->has_value()));
        CHECK((*job)->attempt == 1);
        REQUIRE(q->acknowledge((*job)->id, (*job)->lease_token));
        done.insert((*job)->payload);
    }
    auto none = q->lease(30s);  // the dead child's leases still hold
    REQUIRE(none);
    CHECK_FALSE(none->has_value());

    std::this_thread::sleep_for(800ms);
    for (int i = 0; i < held_by_child; ++i) {
        auto job = q->lease(30s);
        REQUIRE((job && job->has_value()));
        CHECK((*job)->attempt == 2);
        REQUIRE(q->acknowledge((*job)->id, (*job)->lease_token));
        done.insert((*job)->payload);
    }
    CHECK(done.size() == total);
    auto s = q->stats();
    REQUIRE(s);
    CHECK(s->ready + s->leased + s->scheduled == 0);
    CHECK(s->completed == total);
}

TEST_CASE("sqlite_job_queue requeue_leased frees orphaned leases at once", "[sqlite_queue]")
{
    temp_dir dir;
    sync_test::manual_clock clock;
    auto q = manual_queue::open(dir.file("state.sqlite3"), clock);
    REQUIRE(q);
    REQUIRE(q->enqueue({"k", "p", "", std::nullopt}));
    auto job = q->lease(1h);
    REQUIRE((job && job->has_value()));
    auto n = q->requeue_leased();
    REQUIRE(n);
    CHECK(*n == 1);
    auto again = q->lease(1h);
    REQUIRE((again && again->has_value()));
    CHECK((*again)->attempt == 2);
}

TEST_CASE("sqlite_job_queue gives each job to exactly one worker across connections", "[sqlite_queue]")
{
    temp_dir dir;
    const auto path = dir.file("state.sqlite3");
    constexpr int jobs = 300;
    {
        auto q = meetingbaas::sqlite_job_queue<>::open(path);
        REQUIRE(q);
        for (int i = 0; i < jobs; ++i) REQUIRE(q->enqueue({"k", std::to_string(i), "", std::nullopt}));
    }
    auto shared = meetingbaas::sqlite_job_queue<>::open(path);
    auto other = meetingbaas::sqlite_job_queue<>::open(path);
    REQUIRE(shared);
    REQUIRE(other);
    std::vector<std::vector<std::string>> seen(6);
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        for (std::size_t w = 0; w < seen.size(); ++w) {
            threads.emplace_back([&, w] {
                auto& q = w % 2 == 0 ? *shared : *other;  // two connections, three threads each
                while (true) {
                    auto job = q.lease(1min);
                    if (!job) {
                        failures++;
                        return;
                    }
                    if (!job->has_value()) return;
                    seen[w].push_back((*job)->payload);
                    if (!q.acknowledge((*job)->id, (*job)->lease_token)) failures++;
                }
            });
        }
    }
    CHECK(failures.load() == 0);
    std::multiset<std::string> all;
    for (const auto& v : seen) all.insert(v.begin(), v.end());
    CHECK(all.size() == jobs);
    CHECK(std::set<std::string>(all.begin(), all.end()).size() == jobs);
}

TEST_CASE("sqlite_job_queue reports a storage error for an unusable path", "[sqlite_queue]")
{
    auto q = meetingbaas::sqlite_job_queue<>::open("/nonexistent-dir/x/state.sqlite3");
    REQUIRE_FALSE(q);
    CHECK(q.error().code == errc::storage_error);
}

TEST_CASE("sqlite_event_state keeps the newest applied version per event across reopening", "[sqlite_queue]")
{
    temp_dir dir;
    const auto path = dir.file("state.sqlite3");
    const auto t1 = meetingbaas::utc_time(std::chrono::microseconds(1'789'000'000'123'456));
    const auto t2 = t1 + std::chrono::microseconds(1);
    {
        auto s = meetingbaas::sqlite_event_state::open(path);
        REQUIRE(s);
        auto none = s->applied_version("e1");
        REQUIRE(none);
        CHECK_FALSE(none->has_value());
        REQUIRE(s->record_applied("e1", t2));
        REQUIRE(s->record_applied("e1", t1));  // older: ignored
        auto v = s->applied_version("e1");
        REQUIRE((v && v->has_value()));
        CHECK(**v == t2);
    }
    auto again = meetingbaas::sqlite_event_state::open(path);
    REQUIRE(again);
    auto v = again->applied_version("e1");
    REQUIRE((v && v->has_value()));
    CHECK(**v == t2);
    auto other = again->applied_version("e2");
    REQUIRE(other);
    CHECK_FALSE(other->has_value());
}

#include "event_state_behavior.hpp"
#include "queue_behavior.hpp"

namespace {

struct sqlite_queue_fixture {
    temp_dir dir;
    sync_test::manual_clock clock;
    std::optional<manual_queue> q;
    sqlite_queue_fixture()
    {
        auto opened = manual_queue::open(dir.file("state.sqlite3"), clock);
        REQUIRE(opened);
        q.emplace(std::move(*opened));
    }
    manual_queue& queue() { return *q; }
    void advance(std::chrono::milliseconds d) const { clock.advance(d); }
    [[nodiscard]] meetingbaas::queue_time now() const { return meetingbaas::queue_now(clock); }
};

}  // namespace

TEST_CASE("sqlite_job_queue passes the queue behaviour suite", "[sqlite_queue]")
{
    queue_behavior::run([] { return std::make_unique<sqlite_queue_fixture>(); });
}

TEST_CASE("sqlite_event_state passes the event-state behaviour suite", "[sqlite_queue]")
{
    temp_dir dir;
    int n = 0;
    event_state_behavior::run([&] {
        auto s = meetingbaas::sqlite_event_state::open(dir.file(("state" + std::to_string(n++)).c_str()));
        REQUIRE(s);
        return std::make_unique<meetingbaas::sqlite_event_state>(std::move(*s));
    });
}
