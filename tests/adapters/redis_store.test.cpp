// SPDX-License-Identifier: MIT
// The Redis idempotency store and event state against a real redis-server (MEETINGBAAS_TEST_REDIS_URL): the
// behaviour suites every backend passes, thread races, the server clock, and key layout.
#include <meetingbaas/adapters/redis/clock.hpp>
#include <meetingbaas/adapters/redis/event_state.hpp>
#include <meetingbaas/adapters/redis/hiredis.hpp>
#include <meetingbaas/adapters/redis/idempotency_store.hpp>
#include <meetingbaas/idempotency/guard.hpp>

#include "event_state_behavior.hpp"
#include "redis_support.hpp"
#include "store_behavior.hpp"

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
using store_type = mb::redis_idempotency_store<mb::redis::hiredis_client>;

TEST_CASE("redis_idempotency_store satisfies idempotency_store", "[redis_store]")
{
    STATIC_REQUIRE(mb::idempotency_store<store_type>);
    STATIC_REQUIRE(mb::idempotency_store<mb::redis_idempotency_store<mb::redis::hiredis_client&>>);
    STATIC_REQUIRE(mb::event_state_store<mb::redis_event_state<mb::redis::hiredis_client>>);
}

TEST_CASE("redis_idempotency_store passes the store behaviour suite", "[redis_store]")
{
    REDIS_TEST_CLIENT(client);
    std::vector<std::string> prefixes;
    store_behavior::run([&] {
        prefixes.push_back(redis_test::unique_prefix("idem"));
        return std::make_unique<store_type>(client, mb::redis_store_options{.prefix = prefixes.back()});
    });
    for (const auto& p : prefixes) redis_test::delete_prefix(client, p);
}

TEST_CASE("redis_event_state passes the event-state behaviour suite", "[redis_store]")
{
    REDIS_TEST_CLIENT(client);
    std::vector<std::string> prefixes;
    event_state_behavior::run([&] {
        prefixes.push_back(redis_test::unique_prefix("event"));
        return std::make_unique<mb::redis_event_state<mb::redis::hiredis_client>>(
            client, mb::redis_event_state_options{.prefix = prefixes.back()});
    });
    for (const auto& p : prefixes) redis_test::delete_prefix(client, p);
}
