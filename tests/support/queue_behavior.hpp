// SPDX-License-Identifier: MIT
#pragma once
// The behaviour every job_queue must show, as one Catch2 suite. Call `queue_behavior::run(make_fixture)`
// inside a TEST_CASE, where make_fixture() returns a fresh fixture `f` with an empty queue:
//
//   f.queue()          -> the queue (a reference), satisfying meetingbaas::job_queue
//   f.advance(d)       -> moves the queue's clock forward by d (std::chrono::milliseconds)
//   f.now()            -> the queue's current time (meetingbaas::queue_time)
//
// Each SECTION gets its own fixture. Optional capabilities (purge_completed, requeue_leased) are tested
// when the queue has them. The same suite runs against every backend (memory, SQLite, Redis, PostgreSQL).

#include <meetingbaas/sync/job_queue.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace queue_behavior {

using namespace std::chrono_literals;
namespace mb = meetingbaas;

inline mb::job_spec spec(std::string kind, std::string payload, std::string key = {},
                         std::optional<mb::queue_time> not_before = std::nullopt)
{
    return mb::job_spec{std::move(kind), std::move(payload), std::move(key), not_before};
}

template <class Q>
mb::leased_job lease_one(Q& q, std::chrono::milliseconds d)
{
    auto job = q.lease(d);
    REQUIRE(job);
    REQUIRE(job->has_value());
    return **job;
}

template <class Q>
void require_empty_lease(Q& q, std::chrono::milliseconds d = 30s)
{
    auto none = q.lease(d);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
}

template <class T>
auto& deref(T& x)
{
    if constexpr (requires {
                      *x;
                      x.get();
                  }) {
        return *x;
    } else {
        return x;
    }
}

template <class MakeFixture>
void run(MakeFixture make_fixture)
{
    using fixture = std::remove_cvref_t<decltype(deref(std::declval<decltype(make_fixture())&>()))>;

    SECTION("a job is leased once and gone after acknowledge")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        auto added = q.enqueue(spec("calendar.sync_events", "payload"));
        REQUIRE(added);
        CHECK(added->inserted);
        CHECK_FALSE(added->id.empty());

        const auto job = lease_one(q, 30s);
        CHECK(job.id == added->id);
        CHECK(job.kind == "calendar.sync_events");
        CHECK(job.payload == "payload");
        CHECK(job.attempt == 1);
        CHECK(job.leased_until == f.now() + 30s);
        CHECK(job.enqueued_at <= f.now());
        require_empty_lease(q);  // nobody else gets it while the lease holds

        REQUIRE(q.acknowledge(job.id, job.lease_token));
        auto again = q.acknowledge(job.id, job.lease_token);
        REQUIRE_FALSE(again);
        CHECK((again.error().code == mb::errc::not_found || again.error().code == mb::errc::fence_mismatch));
        auto stats = q.stats();
        REQUIRE(stats);
        CHECK(stats->ready + stats->leased + stats->scheduled + stats->dead == 0);
        require_empty_lease(q);
    }

    SECTION("payloads are binary-safe and kept whole")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        const std::string payload = std::string("body\0with nul|\\\"'", 18) + std::string(200'000, 'x');
        REQUIRE(q.enqueue(spec("k", payload, "key with spaces/and|bars{tag}")));
        const auto job = lease_one(q, 30s);
        CHECK(job.payload == payload);
        CHECK(job.unique_key == "key with spaces/and|bars{tag}");
    }

    SECTION("a unique key is enqueued once, also after completion")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        auto first = q.enqueue(spec("k", "a", "delivery-1"));
        auto dup = q.enqueue(spec("k", "b", "delivery-1"));
        REQUIRE(first);
        REQUIRE(dup);
        CHECK(first->inserted);
        CHECK_FALSE(dup->inserted);
        CHECK(dup->id == first->id);
        auto other = q.enqueue(spec("k", "c", "delivery-2"));
        REQUIRE(other);
        CHECK(other->inserted);
        CHECK(other->id != first->id);

        const auto job = lease_one(q, 10s);
        CHECK(job.payload == "a");
        REQUIRE(q.acknowledge(job.id, job.lease_token));
        auto after = q.enqueue(spec("k", "d", "delivery-1"));  // completed jobs keep their key
        REQUIRE(after);
        CHECK_FALSE(after->inserted);

        if constexpr (requires { q.purge_completed(f.now()); }) {
            f.advance(1h);
            auto purged = q.purge_completed(f.now());
            REQUIRE(purged);
            CHECK(*purged == 1);
            auto fresh = q.enqueue(spec("k", "e", "delivery-1"));
            REQUIRE(fresh);
            CHECK(fresh->inserted);
        }
    }

    SECTION("jobs without a unique key are all inserted")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        auto a = q.enqueue(spec("k", "same"));
        auto b = q.enqueue(spec("k", "same"));
        REQUIRE(a);
        REQUIRE(b);
        CHECK(a->inserted);
        CHECK(b->inserted);
        CHECK(a->id != b->id);
    }

    SECTION("an expired lease goes to another worker, and the first worker is fenced off")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        REQUIRE(q.enqueue(spec("k", "p")));
        const auto first = lease_one(q, 5s);

        f.advance(4999ms);
        require_empty_lease(q, 5s);
        auto due = q.next_due();
        REQUIRE(due);
        REQUIRE(due->has_value());
        CHECK(**due == first.leased_until);

        f.advance(1ms);  // the first worker "died": its lease ends
        const auto second = lease_one(q, 5s);
        CHECK(second.id == first.id);
        CHECK(second.attempt == 2);
        CHECK(second.lease_token > first.lease_token);

        auto stale = q.acknowledge(first.id, first.lease_token);
        REQUIRE_FALSE(stale);
        CHECK(stale.error().code == mb::errc::fence_mismatch);
        auto stale_retry = q.retry_later(first.id, first.lease_token, f.now(), "x");
        REQUIRE_FALSE(stale_retry);
        CHECK(stale_retry.error().code == mb::errc::fence_mismatch);
        auto stale_dead = q.dead_letter(first.id, first.lease_token, "x");
        REQUIRE_FALSE(stale_dead);
        CHECK(stale_dead.error().code == mb::errc::fence_mismatch);
        auto stale_extend = q.extend_lease(first.id, first.lease_token, 5s);
        REQUIRE_FALSE(stale_extend);
        CHECK(stale_extend.error().code == mb::errc::fence_mismatch);
        CHECK(q.acknowledge(second.id, second.lease_token));
    }

    SECTION("lease tokens strictly increase across jobs")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        for (int i = 0; i < 3; ++i) REQUIRE(q.enqueue(spec("k", std::to_string(i))));
        std::uint64_t last = 0;
        for (int i = 0; i < 3; ++i) {
            const auto job = lease_one(q, 30s);
            CHECK(job.lease_token > last);
            last = job.lease_token;
        }
    }

    SECTION("settling an unknown job is not_found")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        auto ack = q.acknowledge("999999", 1);
        REQUIRE_FALSE(ack);
        CHECK(ack.error().code == mb::errc::not_found);
        auto bogus = q.acknowledge("not a job id", 1);
        REQUIRE_FALSE(bogus);
    }

    SECTION("extend_lease keeps a slow job away from other workers")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        REQUIRE(q.enqueue(spec("k", "p")));
        const auto job = lease_one(q, 5s);
        f.advance(4s);
        REQUIRE(q.extend_lease(job.id, job.lease_token, 5s));
        f.advance(4s);
        require_empty_lease(q, 5s);
        CHECK(q.acknowledge(job.id, job.lease_token));
    }

    SECTION("retry_later waits until the given time and keeps the reason")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        REQUIRE(q.enqueue(spec("k", "p")));
        const auto job = lease_one(q, 30s);
        const auto at = f.now() + 2s;
        REQUIRE(q.retry_later(job.id, job.lease_token, at, "HTTP 503"));

        auto stats = q.stats();
        REQUIRE(stats);
        CHECK(stats->scheduled == 1);
        CHECK(stats->leased == 0);
        require_empty_lease(q);
        auto due = q.next_due();
        REQUIRE(due);
        REQUIRE(due->has_value());
        CHECK(**due == at);

        f.advance(2s);
        const auto again = lease_one(q, 30s);
        CHECK(again.attempt == 2);
        CHECK(again.last_error == "HTTP 503");
        CHECK(again.lease_token > job.lease_token);
        auto stale = q.acknowledge(job.id, job.lease_token);  // the old token is dead after retry_later
        REQUIRE_FALSE(stale);
    }

    SECTION("due jobs are leased in due-time order, then insertion order")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        REQUIRE(q.enqueue(spec("k", "later", "", f.now() + 3s)));
        REQUIRE(q.enqueue(spec("k", "first")));
        REQUIRE(q.enqueue(spec("k", "second")));
        std::vector<std::string> order;
        for (int i = 0; i < 2; ++i) order.push_back(lease_one(q, 1min).payload);
        CHECK(order == std::vector<std::string>{"first", "second"});
        require_empty_lease(q, 1min);
        auto due = q.next_due();
        REQUIRE(due);
        REQUIRE(due->has_value());
        CHECK(**due == f.now() + 3s);
        f.advance(3s);
        CHECK(lease_one(q, 1min).payload == "later");
    }

    SECTION("an empty queue has nothing due")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        require_empty_lease(q);
        auto due = q.next_due();
        REQUIRE(due);
        CHECK_FALSE(due->has_value());
        auto stats = q.stats();
        REQUIRE(stats);
        CHECK(stats->ready + stats->leased + stats->scheduled + stats->dead + stats->completed == 0);
    }

    SECTION("stats count jobs by state")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        REQUIRE(q.enqueue(spec("k", "ready")));
        REQUIRE(q.enqueue(spec("k", "scheduled", "", f.now() + 1h)));
        REQUIRE(q.enqueue(spec("k", "leased")));
        REQUIRE(q.enqueue(spec("k", "dead")));
        const auto a = lease_one(q, 1min);  // "ready" (first in order)
        const auto b = lease_one(q, 1min);  // "leased"
        const auto c = lease_one(q, 1min);  // "dead"
        REQUIRE(q.acknowledge(a.id, a.lease_token));
        REQUIRE(q.dead_letter(c.id, c.lease_token, "HTTP 403"));
        REQUIRE(q.enqueue(spec("k", "ready2")));
        auto stats = q.stats();
        REQUIRE(stats);
        CHECK(stats->ready == 1);
        CHECK(stats->scheduled == 1);
        CHECK(stats->leased == 1);
        CHECK(stats->dead == 1);
        CHECK(stats->completed <= 1);  // a backend may forget completed jobs at once unless they keep a key
        (void)b;
    }

    SECTION("dead letters can be listed and re-queued")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        auto added = q.enqueue(spec("calendar.sync_events", "body", "key-1"));
        REQUIRE(added);
        const auto job = lease_one(q, 30s);
        REQUIRE(q.dead_letter(job.id, job.lease_token, "GET /calendar_events/x: HTTP 403"));

        require_empty_lease(q);
        auto dead = q.dead_letters(10);
        REQUIRE(dead);
        REQUIRE(dead->size() == 1);
        CHECK(dead->front().id == added->id);
        CHECK(dead->front().kind == "calendar.sync_events");
        CHECK(dead->front().reason == "GET /calendar_events/x: HTTP 403");
        CHECK(dead->front().payload == "body");
        CHECK(dead->front().unique_key == "key-1");
        CHECK(dead->front().attempts == 1);
        auto dup = q.enqueue(spec("calendar.sync_events", "again", "key-1"));  // a dead job keeps its key
        REQUIRE(dup);
        CHECK_FALSE(dup->inserted);

        auto missing = q.requeue_dead_letter("999999");
        REQUIRE_FALSE(missing);
        CHECK(missing.error().code == mb::errc::not_found);
        CHECK_FALSE(q.requeue_dead_letter("abc"));

        f.advance(std::chrono::hours(2));  // an operator re-queues it later
        REQUIRE(q.requeue_dead_letter(added->id));
        const auto back = lease_one(q, 30s);
        CHECK(back.attempt == 1);
        CHECK(back.payload == "body");
        // A whole new retry horizon: the worker counts it from enqueued_at, which is the re-queue time.
        CHECK(back.enqueued_at - job.enqueued_at >= std::chrono::hours(2));
        auto after = q.dead_letters(10);
        REQUIRE(after);
        CHECK(after->empty());
    }

    SECTION("dead letters are listed oldest failure first, up to the limit")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        for (int i = 0; i < 3; ++i) REQUIRE(q.enqueue(spec("k", std::to_string(i))));
        for (int i = 0; i < 3; ++i) {
            const auto job = lease_one(q, 30s);
            REQUIRE(q.dead_letter(job.id, job.lease_token, "reason " + job.payload));
            f.advance(1s);
        }
        auto two = q.dead_letters(2);
        REQUIRE(two);
        REQUIRE(two->size() == 2);
        CHECK((*two)[0].payload == "0");
        CHECK((*two)[1].payload == "1");
        CHECK((*two)[0].failed_at < (*two)[1].failed_at);
    }

    if constexpr (requires(fixture& f) { f.queue().requeue_leased(); }) {
        SECTION("requeue_leased frees the leases of a dead owner at once")
        {
            auto holder = make_fixture();
            auto& f = deref(holder);
            auto& q = f.queue();
            REQUIRE(q.enqueue(spec("k", "p")));
            (void)lease_one(q, 1h);
            auto n = q.requeue_leased();
            REQUIRE(n);
            CHECK(*n == 1);
            CHECK(lease_one(q, 1h).attempt == 2);
        }
    }

    SECTION("a non-positive lease is refused")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        REQUIRE(q.enqueue(spec("k", "p")));
        auto r = q.lease(0ms);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == mb::errc::invalid_argument);
    }

    SECTION("each job goes to exactly one of N racing workers")
    {
        auto holder = make_fixture();
        auto& f = deref(holder);
        auto& q = f.queue();
        constexpr int jobs = 300;
        constexpr int workers = 6;
        std::atomic<int> produced{0};
        std::atomic<int> failures{0};
        std::vector<std::vector<std::string>> seen(workers);
        {
            std::vector<std::jthread> threads;
            threads.emplace_back([&] {
                for (int i = 0; i < jobs; ++i) {
                    if (!q.enqueue(spec("k", std::to_string(i)))) failures++;
                    produced++;
                }
            });
            for (int w = 0; w < workers; ++w) {
                threads.emplace_back([&, w] {
                    for (int spins = 0; spins < 1'000'000; ++spins) {
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
        CHECK(all.size() == static_cast<std::size_t>(jobs));
        CHECK(std::set<std::string>(all.begin(), all.end()).size() == static_cast<std::size_t>(jobs));
    }
}

}  // namespace queue_behavior
