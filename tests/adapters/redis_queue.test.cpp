// SPDX-License-Identifier: MIT
// The Redis job queue against a real redis-server (MEETINGBAAS_TEST_REDIS_URL): the queue behaviour suite on
// an injected clock, then the default server-clock mode with real lease expiry and fenced takeover by a
// second queue object (another replica), key expiry of completed jobs and dead letters, and the key layout.
#include <meetingbaas/adapters/redis/hiredis.hpp>
#include <meetingbaas/adapters/redis/job_queue.hpp>

#include "queue_behavior.hpp"
#include "redis_support.hpp"
#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
using client_type = mb::redis::hiredis_client;
using manual_queue = mb::redis_job_queue<client_type, sync_test::manual_clock>;
using server_queue = mb::redis_job_queue<client_type>;

namespace {

class fixture {
public:
    explicit fixture(client_type c)
        : client_(c), prefix_(redis_test::unique_prefix("queue")),
          queue_(std::move(c), mb::redis_queue_options{.prefix = prefix_}, clock_)
    {}
    fixture(const fixture&) = delete;
    fixture& operator=(const fixture&) = delete;
    ~fixture() { redis_test::delete_prefix(client_, prefix_); }

    manual_queue& queue() { return queue_; }
    void advance(std::chrono::milliseconds d) { clock_.advance(d); }
    [[nodiscard]] mb::queue_time now() const { return mb::queue_now(clock_); }

private:
    client_type client_;
    std::string prefix_;
    sync_test::manual_clock clock_;
    manual_queue queue_;
};

}  // namespace

TEST_CASE("redis_job_queue satisfies job_queue", "[redis_queue]")
{
    STATIC_REQUIRE(mb::job_queue<server_queue>);
    STATIC_REQUIRE(mb::job_queue<manual_queue>);
    STATIC_REQUIRE(mb::job_queue<mb::redis_job_queue<client_type&>>);
}

TEST_CASE("redis_job_queue passes the queue behaviour suite", "[redis_queue]")
{
    REDIS_TEST_CLIENT(client);
    queue_behavior::run([&] { return std::make_unique<fixture>(client); });
}

TEST_CASE("redis_job_queue on the server's clock: an expired lease goes to another replica, fenced",
          "[redis_queue]")
{
    REDIS_TEST_CLIENT(client);
    const auto prefix = redis_test::unique_prefix("queue-server-time");
    const redis_test::prefix_guard cleanup(client, prefix);
    server_queue a(client, {.prefix = prefix});
    server_queue b(client, {.prefix = prefix});  // another instance sharing the queue

    auto added = a.enqueue({"k", "payload", "delivery-1", std::nullopt});
    REQUIRE(added);
    CHECK(added->inserted);
    auto dup = b.enqueue({"k", "other", "delivery-1", std::nullopt});
    REQUIRE(dup);
    CHECK_FALSE(dup->inserted);
    CHECK(dup->id == added->id);

    const auto before = std::chrono::system_clock::now();
    auto first = a.lease(300ms);
    REQUIRE(first);
    REQUIRE(first->has_value());
    const auto job = **first;
    // leased_until is on the server's clock: on one machine it agrees with ours to a few milliseconds.
    CHECK(job.leased_until >= std::chrono::time_point_cast<std::chrono::milliseconds>(before) + 250ms);
    CHECK(job.leased_until <= std::chrono::time_point_cast<std::chrono::milliseconds>(before) + 2s);
    auto none = b.lease(300ms);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto due = b.next_due();
    REQUIRE(due);
    REQUIRE(due->has_value());
    CHECK(**due == job.leased_until);

    std::this_thread::sleep_for(400ms);  // replica a "died"
    auto second = b.lease(30s);
    REQUIRE(second);
    REQUIRE(second->has_value());
    CHECK((*second)->id == job.id);
    CHECK((*second)->attempt == 2);
    CHECK((*second)->lease_token > job.lease_token);
    auto stale = a.acknowledge(job.id, job.lease_token);
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == mb::errc::fence_mismatch);
    REQUIRE(b.acknowledge((*second)->id, (*second)->lease_token));
    auto stats = a.stats();
    REQUIRE(stats);
    CHECK(stats->ready + stats->leased + stats->scheduled + stats->dead == 0);
    CHECK(stats->completed == 1);
}

TEST_CASE("redis_job_queue keeps a completed job's key for the retention, then forgets it", "[redis_queue]")
{
    REDIS_TEST_CLIENT(client);
    const auto prefix = redis_test::unique_prefix("queue-retention");
    const redis_test::prefix_guard cleanup(client, prefix);
    server_queue q(client, {.prefix = prefix, .completed_retention = 300ms, .dead_letter_retention = 300ms});
    REQUIRE(q.enqueue({"k", "a", "key-a", std::nullopt}));
    REQUIRE(q.enqueue({"k", "b", "key-b", std::nullopt}));
    REQUIRE(q.enqueue({"k", "c", "", std::nullopt}));
    auto a = q.lease(30s);
    auto b = q.lease(30s);
    auto c = q.lease(30s);
    REQUIRE((a && a->has_value() && b && b->has_value() && c && c->has_value()));
    REQUIRE(q.acknowledge((*a)->id, (*a)->lease_token));
    REQUIRE(q.dead_letter((*b)->id, (*b)->lease_token, "HTTP 403"));
    REQUIRE(q.acknowledge((*c)->id, (*c)->lease_token));

    // A job without a unique key leaves nothing behind; the others are kept, with an expiry.
    const auto job_key = [&](const std::string& id) { return q.key_prefix() + "j:" + id; };
    CHECK(redis_test::must(client, {"EXISTS", job_key((*c)->id)}).integer == 0);
    const auto ttl_a = redis_test::must(client, {"PTTL", job_key((*a)->id)}).integer;
    const auto ttl_b = redis_test::must(client, {"PTTL", job_key((*b)->id)}).integer;
    CHECK((ttl_a > 0 && ttl_a <= 300));
    CHECK((ttl_b > 0 && ttl_b <= 300));
    CHECK(redis_test::must(client, {"PTTL", q.key_prefix() + "u:key-a"}).integer > 0);
    auto dup = q.enqueue({"k", "again", "key-a", std::nullopt});
    REQUIRE(dup);
    CHECK_FALSE(dup->inserted);

    std::this_thread::sleep_for(500ms);
    auto fresh = q.enqueue({"k", "again", "key-a", std::nullopt});
    REQUIRE(fresh);
    CHECK(fresh->inserted);
    auto dead = q.dead_letters(10);
    REQUIRE(dead);
    CHECK(dead->empty());
    auto stats = q.stats();
    REQUIRE(stats);
    CHECK(stats->dead == 0);
    CHECK(stats->completed == 0);
    CHECK(stats->ready == 1);
}

TEST_CASE("redis_job_queue: a requeued dead letter is kept again, and its key dedups", "[redis_queue]")
{
    REDIS_TEST_CLIENT(client);
    const auto prefix = redis_test::unique_prefix("queue-requeue");
    const redis_test::prefix_guard cleanup(client, prefix);
    server_queue q(client, {.prefix = prefix});
    auto added = q.enqueue({"k", "body", "key-1", std::nullopt});
    REQUIRE(added);
    auto job = q.lease(30s);
    REQUIRE((job && job->has_value()));
    REQUIRE(q.dead_letter((*job)->id, (*job)->lease_token, "reason"));
    REQUIRE(redis_test::must(client, {"PTTL", q.key_prefix() + "j:" + added->id}).integer > 0);
    REQUIRE(q.requeue_dead_letter(added->id));
    CHECK(redis_test::must(client, {"PTTL", q.key_prefix() + "j:" + added->id}).integer == -1);
    CHECK(redis_test::must(client, {"PTTL", q.key_prefix() + "u:key-1"}).integer == -1);
    auto dup = q.enqueue({"k", "body", "key-1", std::nullopt});
    REQUIRE(dup);
    CHECK_FALSE(dup->inserted);
    auto again = q.lease(30s);
    REQUIRE((again && again->has_value()));
    CHECK((*again)->attempt == 1);
    CHECK((*again)->last_error == "reason");
    auto twice = q.requeue_dead_letter(added->id);
    REQUIRE_FALSE(twice);
    CHECK(twice.error().code == mb::errc::not_found);
}

TEST_CASE("redis_job_queue: every key of a queue carries the queue's hash tag", "[redis_queue]")
{
    REDIS_TEST_CLIENT(client);
    const auto prefix = redis_test::unique_prefix("queue-layout");
    const redis_test::prefix_guard cleanup(client, prefix);
    server_queue q(client, {.prefix = prefix, .name = "tenant-7"});
    REQUIRE(q.enqueue({"k", "a", "key with {braces}", std::nullopt}));
    REQUIRE(q.enqueue({"k", "b", "", std::nullopt}));
    auto j = q.lease(30s);
    REQUIRE((j && j->has_value()));
    REQUIRE(q.dead_letter((*j)->id, (*j)->lease_token, "x"));
    CHECK(q.key_prefix() == prefix + "{tenant-7}:");
    std::string cursor = "0";
    std::size_t keys = 0;
    do {
        const std::string pattern = prefix + "*";
        auto r = redis_test::must(client, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
        cursor = r.elements[0].str;
        for (const auto& k : r.elements[1].elements) {
            ++keys;
            CAPTURE(k.str);
            CHECK(k.str.starts_with(prefix + "{tenant-7}:"));
            // Redis hashes the text between the first '{' and the next '}': the queue name.
            const auto open = k.str.find('{');
            CHECK(k.str.substr(open + 1, k.str.find('}', open) - open - 1) == "tenant-7");
        }
    } while (cursor != "0");
    CHECK(keys >= 6);  // seq, token, due, leased, dead, two jobs, one unique key
    auto slot_a = redis_test::must(client, {"CLUSTER", "KEYSLOT", q.key_prefix() + "due"});
    auto slot_b = redis_test::must(client, {"CLUSTER", "KEYSLOT", q.key_prefix() + "j:1"});
    if (slot_a.is_integer()) CHECK(slot_a.integer == slot_b.integer);
}

TEST_CASE("redis_job_queue refuses bad arguments without a round trip", "[redis_queue]")
{
    REDIS_TEST_CLIENT(client);
    server_queue q(client, {.prefix = redis_test::unique_prefix("queue-args")});
    auto lease = q.lease(0ms);
    REQUIRE_FALSE(lease);
    CHECK(lease.error().code == mb::errc::invalid_argument);
    for (const char* id : {"", "0", "007", "-1", "1e3", "12345678901234567890", "abc"}) {
        CAPTURE(id);
        auto ack = q.acknowledge(id, 1);
        REQUIRE_FALSE(ack);
        CHECK(ack.error().code == mb::errc::not_found);
    }
    auto extend = q.extend_lease("1", 1, 0ms);
    REQUIRE_FALSE(extend);
    CHECK(extend.error().code == mb::errc::invalid_argument);
}
