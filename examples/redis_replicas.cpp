// SPDX-License-Identifier: MIT
// Two server replicas sharing one Redis: each has its own connection pool, receiver, guard, queue and worker
// objects, and the state they share lives in Redis. A delivery accepted by replica A and retried at replica
// B is a duplicate there; B's worker leases the job A enqueued; both draw writes from one rate-limit bucket;
// /healthz is a PING.
//
//   redis_replicas [redis://host:port/db]     (default: $MEETINGBAAS_TEST_REDIS_URL)
// Without a URL it prints why and exits 77 (CTest counts that as skipped; under CI=true it fails).
#include <meetingbaas/adapters/redis.hpp>
#include <meetingbaas/api/rate_limit.hpp>
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace mb = meetingbaas;
namespace redis = meetingbaas::redis;
using namespace std::chrono_literals;

namespace {

constexpr const char* api_key = "mb-example-key-0123456789";

using client_type = redis::hiredis_client;
using store_type = mb::redis_idempotency_store<client_type>;
using guard_type = mb::idempotency_guard<store_type, redis::server_clock<client_type>>;

/// One replica: everything a server instance builds at start for `--state redis://...`. Not movable: the
/// guard points at the store.
struct replica {
    client_type client;
    store_type store;
    mb::redis_job_queue<client_type> queue;
    mb::redis_event_state<client_type> events;
    mb::redis_rate_limiter<client_type> writes;
    guard_type guard;

    replica(client_type c, mb::redis_rate_limiter<client_type> limiter, const std::string& prefix)
        : client(std::move(c)), store(client, {.prefix = prefix + "idem:"}),
          queue(client, {.prefix = prefix + "q:", .completed_retention = 1min}),
          events(client, {.prefix = prefix + "ev:"}), writes(std::move(limiter)),
          // The guard's lease arithmetic follows the Redis server's clock, so replicas agree on lease ends.
          guard(*mb::make_idempotency_guard(store, {.lease = 30s, .retention = 1min},
                                            redis::server_clock(client)))
    {}
    replica(const replica&) = delete;
    replica& operator=(const replica&) = delete;

    static std::unique_ptr<replica> start(const std::string& url, const std::string& prefix)
    {
        auto client = client_type::connect(url);  // unreachable: a clear error, at start
        if (!client) {
            std::fprintf(stderr, "state: %s\n", mb::to_string(client.error()).c_str());
            return nullptr;
        }
        auto writes = mb::redis_rate_limiter<client_type>::create(
            *client, {.key = prefix + "rl:{api-writes}", .rate = {.per_second = 5}});
        if (!writes) return nullptr;
        return std::make_unique<replica>(std::move(*client), std::move(*writes), prefix);
    }
};

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

int fail(const char* what)
{
    std::fprintf(stderr, "redis_replicas: %s\n", what);
    return 1;
}

}  // namespace

int main(int argc, char** argv)
{
    const char* env = std::getenv("MEETINGBAAS_TEST_REDIS_URL");
    const std::string url = argc > 1 ? argv[1] : env != nullptr ? env : "";
    if (url.empty()) {
        const char* ci = std::getenv("CI");
        std::printf("skipped: no Redis URL (pass redis://host:port or set MEETINGBAAS_TEST_REDIS_URL)\n");
        return ci != nullptr && std::string_view(ci) == "true" ? 1 : 77;
    }
    const std::string prefix = "mb-example:" + std::to_string(::getpid()) + ":";

    // Two replicas; in production these are two processes on two hosts.
    auto a = replica::start(url, prefix);
    auto b = replica::start(url, prefix);
    if (!a || !b) return fail("cannot start");

    mb::webhook_verifier verifier;
    verifier.accept_v1(*mb::api_key_keyring::from_keys({api_key}));
    mb::webhook_receiver receiver_a{
        mb::receiver_deps{.verifier = verifier, .guard = a->guard, .queue = a->queue}};
    mb::webhook_receiver receiver_b{
        mb::receiver_deps{.verifier = verifier, .guard = b->guard, .queue = b->queue}};
    const mb::http_headers headers{{"Content-Type", "application/json"}, {"X-Meeting-BaaS-API-Key", api_key}};
    const std::string body =
        read_file(std::string(MEETINGBAAS_EXAMPLE_DATA_DIR) + "/v1.calendar.sync_events.json");

    const auto first = receiver_a.handle("POST", headers, body);
    const auto retried = receiver_b.handle("POST", headers, body);  // the sender's retry reached replica B
    std::printf("replica A: %d %s (job %s)\n", first.status, mb::to_string(first.kind).data(),
                first.job_id.c_str());
    std::printf("replica B: %d %s (job %s)\n", retried.status, mb::to_string(retried.kind).data(),
                retried.job_id.c_str());
    if (first.kind != mb::receipt_kind::accepted || retried.kind != mb::receipt_kind::duplicate) {
        return fail("the delivery was not deduplicated across replicas");
    }

    // Replica B's worker leases the job replica A enqueued; nobody else can have it.
    auto job = b->queue.lease(30s);
    if (!job || !job->has_value()) return fail("no job to lease");
    auto none = a->queue.lease(30s);
    if (!none || none->has_value()) return fail("a job was leased twice");
    std::printf("replica B leased job %s (attempt %u, fence %llu)\n", (*job)->id.c_str(), (*job)->attempt,
                static_cast<unsigned long long>((*job)->lease_token));

    // Writes to the Meeting BaaS API draw from one bucket, whichever replica sends them.
    auto permit_a = a->writes.try_acquire();
    auto permit_b = b->writes.try_acquire();
    if (!permit_a || !permit_b || !permit_a->granted || permit_b->granted)
        return fail("the bucket is not shared");
    std::printf("write permits: A granted, B waits %lld ms (5 writes/s shared)\n",
                static_cast<long long>(permit_b->retry_in.count()));

    if (!b->events.record_applied("evt-1", mb::utc_time(std::chrono::seconds(1'789'000'000))))
        return fail("event");
    auto seen = a->events.applied_version("evt-1");
    if (!seen || !seen->has_value()) return fail("event state not shared");
    if (!b->queue.acknowledge((*job)->id, (*job)->lease_token)) return fail("acknowledge");

    auto health = redis::ping(a->client);  // what /healthz answers with
    std::printf("healthz: %s (%s)\n", health ? "ok" : mb::to_string(health.error()).c_str(),
                a->client.describe().c_str());

    // Tidy up the example's keys (records and the completed job expire by themselves within a minute).
    for (const char* k : {"seq", "token", "due", "leased", "dead", "done"}) {
        const std::string key = a->queue.key_prefix() + k;
        const std::array<std::string_view, 2> del{"DEL", key};
        (void)a->client.command(del);
    }
    const std::string ev = mb::detail::tagged_key(prefix + "ev:", "evt-1");
    const std::array<std::string_view, 2> del{"DEL", ev};
    (void)a->client.command(del);
    return health ? 0 : 1;
}
