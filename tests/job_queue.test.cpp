// SPDX-License-Identifier: MIT
#include <meetingbaas/sync/job_queue.hpp>

#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas::errc;
using queue = meetingbaas::in_memory_job_queue<sync_test::manual_clock>;

TEST_CASE("in_memory_job_queue satisfies the job_queue concept", "[job_queue]")
{
    STATIC_REQUIRE(meetingbaas::job_queue<meetingbaas::in_memory_job_queue<>>);
    STATIC_REQUIRE(meetingbaas::job_queue<queue>);
    STATIC_REQUIRE(meetingbaas::wall_clock<sync_test::manual_clock>);
}

TEST_CASE("in_memory_job_queue leases a job once and forgets it after acknowledge", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    auto added = q.enqueue({"calendar.sync_events", "payload", "", std::nullopt});
    REQUIRE(added);
    CHECK(added->inserted);

    auto leased = q.lease(30s);
    REQUIRE(leased);
    REQUIRE(leased->has_value());
    const auto job = **leased;
    CHECK(job.id == added->id);
    CHECK(job.kind == "calendar.sync_events");
    CHECK(job.payload == "payload");
    CHECK(job.attempt == 1);
    CHECK(job.leased_until == meetingbaas::queue_now(clock) + 30s);

    auto second = q.lease(30s);
    REQUIRE(second);
    CHECK_FALSE(second->has_value());  // nobody else gets it while the lease holds

    REQUIRE(q.acknowledge(job.id, job.lease_token));
    auto again = q.acknowledge(job.id, job.lease_token);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == errc::not_found);
    auto stats = q.stats();
    REQUIRE(stats);
    CHECK(stats->ready + stats->leased + stats->scheduled + stats->dead + stats->completed == 0);
}

TEST_CASE("in_memory_job_queue enqueues a unique key once", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    auto first = q.enqueue({"k", "a", "delivery-1", std::nullopt});
    auto dup = q.enqueue({"k", "b", "delivery-1", std::nullopt});
    REQUIRE(first);
    REQUIRE(dup);
    CHECK(first->inserted);
    CHECK_FALSE(dup->inserted);
    CHECK(dup->id == first->id);

    auto job = q.lease(10s);
    REQUIRE((job && job->has_value()));
    CHECK((*job)->payload == "a");
    REQUIRE(q.acknowledge((*job)->id, (*job)->lease_token));
    auto after = q.enqueue({"k", "c", "delivery-1", std::nullopt});  // completed jobs keep their key
    REQUIRE(after);
    CHECK_FALSE(after->inserted);

    clock.advance(1h);
    auto purged = q.purge_completed(meetingbaas::queue_now(clock));
    REQUIRE(purged);
    CHECK(*purged == 1);
    auto fresh = q.enqueue({"k", "d", "delivery-1", std::nullopt});
    REQUIRE(fresh);
    CHECK(fresh->inserted);
}

TEST_CASE("in_memory_job_queue hands an expired lease to another worker and fences the first", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));
    auto first = q.lease(5s);
    REQUIRE((first && first->has_value()));

    clock.advance(4999ms);
    auto early = q.lease(5s);
    REQUIRE(early);
    CHECK_FALSE(early->has_value());
    auto due = q.next_due();
    REQUIRE((due && due->has_value()));
    CHECK(**due == (*first)->leased_until);

    clock.advance(1ms);  // the first worker "died": its lease ends
    auto second = q.lease(5s);
    REQUIRE((second && second->has_value()));
    CHECK((*second)->id == (*first)->id);
    CHECK((*second)->attempt == 2);
    CHECK((*second)->lease_token > (*first)->lease_token);

    auto stale = q.acknowledge((*first)->id, (*first)->lease_token);
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == errc::fence_mismatch);
    auto stale_retry = q.retry_later((*first)->id, (*first)->lease_token, meetingbaas::queue_now(clock), "x");
    REQUIRE_FALSE(stale_retry);
    CHECK(stale_retry.error().code == errc::fence_mismatch);
    CHECK(q.acknowledge((*second)->id, (*second)->lease_token));
}

TEST_CASE("in_memory_job_queue extend_lease keeps a slow job away from other workers", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));
    auto job = q.lease(5s);
    REQUIRE((job && job->has_value()));
    clock.advance(4s);
    REQUIRE(q.extend_lease((*job)->id, (*job)->lease_token, 5s));
    clock.advance(4s);
    auto other = q.lease(5s);
    REQUIRE(other);
    CHECK_FALSE(other->has_value());
    CHECK(q.acknowledge((*job)->id, (*job)->lease_token));
}

TEST_CASE("in_memory_job_queue retry_later waits until the given time and keeps the reason", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));
    auto job = q.lease(30s);
    REQUIRE((job && job->has_value()));
    const auto at = meetingbaas::queue_now(clock) + 2s;
    REQUIRE(q.retry_later((*job)->id, (*job)->lease_token, at, "HTTP 503"));

    auto stats = q.stats();
    REQUIRE(stats);
    CHECK(stats->scheduled == 1);
    auto none = q.lease(30s);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto due = q.next_due();
    REQUIRE((due && due->has_value()));
    CHECK(**due == at);

    clock.advance(2s);
    auto again = q.lease(30s);
    REQUIRE((again && again->has_value()));
    CHECK((*again)->attempt == 2);
    CHECK((*again)->last_error == "HTTP 503");
}

TEST_CASE("in_memory_job_queue leases due jobs in due-time order", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    const auto now = meetingbaas::queue_now(clock);
    REQUIRE(q.enqueue({"k", "later", "", now + 3s}));
    REQUIRE(q.enqueue({"k", "first", "", std::nullopt}));
    REQUIRE(q.enqueue({"k", "second", "", std::nullopt}));
    std::vector<std::string> order;
    for (int i = 0; i < 2; ++i) {
        auto job = q.lease(1min);
        REQUIRE((job && job->has_value()));
        order.push_back((*job)->payload);
    }
    CHECK(order == std::vector<std::string>{"first", "second"});
    auto none = q.lease(1min);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    clock.advance(3s);
    auto later = q.lease(1min);
    REQUIRE((later && later->has_value()));
    CHECK((*later)->payload == "later");
}

TEST_CASE("in_memory_job_queue dead letters can be listed and re-queued", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    auto added = q.enqueue({"calendar.sync_events", "body", "key-1", std::nullopt});
    REQUIRE(added);
    auto job = q.lease(30s);
    REQUIRE((job && job->has_value()));
    REQUIRE(q.dead_letter((*job)->id, (*job)->lease_token, "GET /calendar_events/x: HTTP 403"));

    auto none = q.lease(30s);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto dead = q.dead_letters(10);
    REQUIRE(dead);
    REQUIRE(dead->size() == 1);
    CHECK(dead->front().id == added->id);
    CHECK(dead->front().reason == "GET /calendar_events/x: HTTP 403");
    CHECK(dead->front().payload == "body");
    CHECK(dead->front().attempts == 1);

    auto missing = q.requeue_dead_letter("999");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == errc::not_found);
    auto not_dead = q.requeue_dead_letter("abc");
    REQUIRE_FALSE(not_dead);

    REQUIRE(q.requeue_dead_letter(added->id));
    auto back = q.lease(30s);
    REQUIRE((back && back->has_value()));
    CHECK((*back)->attempt == 1);
    CHECK((*back)->payload == "body");
    auto after = q.dead_letters(10);
    REQUIRE(after);
    CHECK(after->empty());
}

TEST_CASE("in_memory_job_queue requeue_leased frees the leases of a dead owner at once", "[job_queue]")
{
    sync_test::manual_clock clock;
    queue q(clock);
    REQUIRE(q.enqueue({"k", "p", "", std::nullopt}));
    auto job = q.lease(1h);
    REQUIRE((job && job->has_value()));
    auto n = q.requeue_leased();
    REQUIRE(n);
    CHECK(*n == 1);
    auto again = q.lease(1h);
    REQUIRE((again && again->has_value()));
    CHECK((*again)->attempt == 2);
}

TEST_CASE("in_memory_job_queue rejects a non-positive lease", "[job_queue]")
{
    queue q;
    auto r = q.lease(0ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
}

TEST_CASE("in_memory_job_queue gives each job to exactly one of N racing workers", "[job_queue]")
{
    meetingbaas::in_memory_job_queue<> q;
    constexpr int jobs = 2000;
    constexpr int workers = 8;
    std::atomic<int> produced{0};
    std::vector<std::vector<std::string>> seen(workers);
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        threads.emplace_back([&] {
            for (int i = 0; i < jobs; ++i) {
                if (!q.enqueue({"k", std::to_string(i), "", std::nullopt})) failures++;
                produced++;
            }
        });
        for (int w = 0; w < workers; ++w) {
            threads.emplace_back([&, w] {
                while (true) {
                    auto job = q.lease(1min);
                    if (!job) {
                        failures++;
                        return;
                    }
                    if (!job->has_value()) {
                        if (produced.load() == jobs) {
                            auto s = q.stats();
                            if (s && s->ready == 0 && s->leased == 0) return;
                        }
                        std::this_thread::yield();
                        continue;
                    }
                    seen[static_cast<std::size_t>(w)].push_back((*job)->payload);
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

#include "event_state_behavior.hpp"
#include "queue_behavior.hpp"

namespace {

struct memory_queue_fixture {
    sync_test::manual_clock clock;
    ::queue q{clock};
    ::queue& queue() { return q; }
    void advance(std::chrono::milliseconds d) const { clock.advance(d); }
    [[nodiscard]] meetingbaas::queue_time now() const { return meetingbaas::queue_now(clock); }
};

}  // namespace

TEST_CASE("in_memory_job_queue passes the queue behaviour suite", "[job_queue]")
{
    queue_behavior::run([] { return std::make_unique<memory_queue_fixture>(); });
}

TEST_CASE("in_memory_event_state passes the event-state behaviour suite", "[job_queue]")
{
    event_state_behavior::run([] { return std::make_unique<meetingbaas::in_memory_event_state>(); });
}
