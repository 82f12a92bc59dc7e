// SPDX-License-Identifier: MIT
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>

#include "store_behavior.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <string>
#include <type_traits>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
using store_behavior::at;
using store_behavior::manual_clock;

TEST_CASE("memory_idempotency_store passes the store behaviour suite", "[idempotency][memory_store]")
{
    store_behavior::run([] { return std::make_unique<mb::memory_idempotency_store>(); });
}

TEST_CASE("memory_idempotency_store passes the store behaviour suite with one shard",
          "[idempotency][memory_store]")
{
    store_behavior::run(
        [] { return std::make_unique<mb::memory_idempotency_store>(mb::memory_store_options{.shards = 1}); });
}

TEST_CASE("idempotency_store concept accepts the bundled stores", "[idempotency]")
{
    STATIC_REQUIRE(mb::idempotency_store<mb::memory_idempotency_store>);
    STATIC_REQUIRE(mb::wall_clock<std::chrono::system_clock>);
    STATIC_REQUIRE(mb::wall_clock<manual_clock>);
    STATIC_REQUIRE_FALSE(mb::wall_clock<std::chrono::steady_clock>);
}

TEST_CASE("a guard deduces its clock, and only chosen options return a result", "[idempotency]")
{
    mb::memory_idempotency_store store;
    manual_clock clock;
    mb::idempotency_guard guard{store, clock};
    STATIC_REQUIRE(
        std::is_same_v<decltype(guard), mb::idempotency_guard<mb::memory_idempotency_store, manual_clock>>);
    STATIC_REQUIRE(std::is_same_v<decltype(mb::make_idempotency_guard(store, clock)), decltype(guard)>);
    auto chosen = mb::make_idempotency_guard(store, {.lease = 5s, .retention = 1h}, clock);
    STATIC_REQUIRE(std::is_same_v<decltype(chosen), mb::result<decltype(guard)>>);
    REQUIRE(chosen);
    CHECK(chosen->options().lease == 5s);
    auto bad = decltype(guard)::create(store, {.lease = 0s}, clock);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == mb::errc::invalid_argument);
}

TEST_CASE("validate refuses unusable idempotency options", "[idempotency]")
{
    CHECK(mb::validate(mb::idempotency_options{}).has_value());
    CHECK(mb::validate(mb::idempotency_options{.lease = 0ms}).error().code == mb::errc::invalid_argument);
    CHECK(mb::validate({.lease = 2h, .retention = 1h}).error().where == "idempotency_options.retention");
    CHECK(mb::validate({.lease = 1h, .retention = 1h}).has_value());
    CHECK(mb::validate({.max_attempts = 0}).error().code == mb::errc::invalid_argument);
}

TEST_CASE("default retention covers the v2 retry horizon many times over", "[idempotency]")
{
    STATIC_REQUIRE(mb::v2_retry_horizon() == 12'540s);
    STATIC_REQUIRE(mb::default_v2_retention >= 10 * mb::v2_retry_horizon());
    STATIC_REQUIRE(mb::default_lease < mb::default_v2_retention);
    STATIC_REQUIRE(mb::default_lease < 5min);  // taken over before Svix's +5 min retry
}

TEST_CASE("suggested_http_status follows the IETF idempotency-key draft", "[idempotency]")
{
    STATIC_REQUIRE(mb::suggested_http_status(mb::begin_status::completed) == 200);
    STATIC_REQUIRE(mb::suggested_http_status(mb::begin_status::in_progress) == 409);
    STATIC_REQUIRE(mb::suggested_http_status(mb::begin_status::mismatch) == 422);
    STATIC_REQUIRE(mb::suggested_http_status(mb::begin_status::acquired) == 202);
    CHECK(mb::to_string(mb::begin_status::mismatch) == "mismatch");
    CHECK(mb::to_string(mb::work_outcome::ambiguous) == "ambiguous");
    CHECK(mb::to_string(mb::record_state::completed) == "completed");
}

TEST_CASE("idempotency_guard reports a stale claim with the key and fence", "[idempotency]")
{
    mb::memory_idempotency_store store;
    manual_clock clock;
    auto guard = mb::make_idempotency_guard(store, {.lease = 1s, .retention = 1h}, clock);
    REQUIRE(guard);
    auto a = guard->begin(mb::make_key("t", 1));
    REQUIRE(a);
    clock.advance(2s);
    auto b = guard->begin(mb::make_key("t", 1));
    REQUIRE(b);
    REQUIRE(b->acquired());
    auto stale = guard->complete(a->claim);
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == mb::errc::fence_mismatch);
    CHECK_THAT(stale.error().where, Catch::Matchers::ContainsSubstring("t|1"));
    CHECK_THAT(stale.error().message, Catch::Matchers::ContainsSubstring(std::to_string(a->claim.fence)));
}

TEST_CASE("idempotency_guard works with the system clock", "[idempotency]")
{
    mb::memory_idempotency_store store;
    mb::idempotency_guard guard{store};  // default options cannot be wrong: no result to unwrap
    STATIC_REQUIRE(
        std::is_same_v<decltype(guard),
                       mb::idempotency_guard<mb::memory_idempotency_store, std::chrono::system_clock>>);
    STATIC_REQUIRE(std::is_same_v<decltype(mb::make_idempotency_guard(store)), decltype(guard)>);
    CHECK(guard.options().lease == mb::default_lease);
    auto a = guard.begin(mb::svix_delivery_key("msg_1"), mb::fingerprint_body("{}"));
    REQUIRE(a);
    REQUIRE(a->acquired());
    const auto now = std::chrono::system_clock::now();
    CHECK(a->claim.lease_until > now + 1min);
    CHECK(a->claim.lease_until <= now + 2min + 1s);
    REQUIRE(guard.complete(a->claim, mb::work_outcome::applied, "ok"));
    auto b = guard.begin(mb::svix_delivery_key("msg_1"), mb::fingerprint_body("{}"));
    REQUIRE(b);
    CHECK(b->status == mb::begin_status::completed);
}

TEST_CASE("memory_idempotency_store rejects inserts into a full shard by default", "[memory_store]")
{
    mb::memory_idempotency_store store({.shards = 1, .capacity = 4});
    const mb::record_view r{mb::record_state::completed, mb::work_outcome::applied, 1, at(1'000), {}, {}};
    for (int i = 0; i < 4; ++i) {
        std::string key =
            "k";  // not "k" + std::to_string(i): a GCC 12 -O3 -Wstringop-overflow false positive
        key += std::to_string(i);
        REQUIRE(*store.insert_if_absent(key, r, at(0)));
    }
    auto full = store.insert_if_absent("k4", r, at(0));
    REQUIRE_FALSE(full);
    CHECK(full.error().code == mb::errc::storage_error);
    CHECK_THAT(full.error().message, Catch::Matchers::ContainsSubstring("capacity"));
    CHECK(store.stats().rejected_full == 1);
    // Once records expire, the full shard drops one and accepts the insert.
    auto later = store.insert_if_absent("k4", r, at(1'000));
    REQUIRE(later);
    CHECK(*later);
    CHECK(store.size() <= 4);
    CHECK(store.stats().expired_removed >= 1);
}

TEST_CASE("memory_idempotency_store evict_completed never evicts an in-progress record", "[memory_store]")
{
    mb::memory_idempotency_store store(
        {.shards = 1, .capacity = 3, .when_full = mb::capacity_policy::evict_completed});
    const mb::record_view busy{
        mb::record_state::in_progress, mb::work_outcome::none, 1, at(1'000'000), {}, {}};
    const mb::record_view done_late{
        mb::record_state::completed, mb::work_outcome::applied, 1, at(900'000), {}, {}};
    const mb::record_view done_soon{
        mb::record_state::completed, mb::work_outcome::applied, 1, at(500'000), {}, {}};
    REQUIRE(*store.insert_if_absent("busy", busy, at(0)));
    REQUIRE(*store.insert_if_absent("late", done_late, at(0)));
    REQUIRE(*store.insert_if_absent("soon", done_soon, at(0)));
    REQUIRE(*store.insert_if_absent("new1", busy, at(0)));  // evicts "soon", the earliest expiry
    CHECK_FALSE(store.load("soon", at(0))->has_value());
    REQUIRE(*store.insert_if_absent("new2", busy, at(0)));  // evicts "late"
    CHECK_FALSE(store.load("late", at(0))->has_value());
    auto full = store.insert_if_absent("new3", busy, at(0));  // only in-progress records left
    REQUIRE_FALSE(full);
    CHECK(full.error().code == mb::errc::storage_error);
    CHECK(store.load("busy", at(0))->has_value());
    CHECK(store.load("new1", at(0))->has_value());
    CHECK(store.load("new2", at(0))->has_value());
    CHECK(store.stats().evicted == 2);
}

TEST_CASE("memory_idempotency_store sweeps expired records incrementally", "[memory_store]")
{
    mb::memory_idempotency_store store({.shards = 4});
    const mb::record_view r{mb::record_state::completed, mb::work_outcome::applied, 1, at(100), {}, {}};
    for (int i = 0; i < 1'000; ++i) REQUIRE(*store.insert_if_absent("old" + std::to_string(i), r, at(0)));
    CHECK(store.size() == 1'000);
    const mb::record_view fresh{
        mb::record_state::completed, mb::work_outcome::applied, 1, at(1'000'000), {}, {}};
    for (int i = 0; i < 1'000; ++i)
        REQUIRE(*store.insert_if_absent("new" + std::to_string(i), fresh, at(200)));
    // Each insert checks a couple of slots: a good share of the expired records is gone already.
    const auto after_inserts = store.size();
    CHECK(after_inserts < 2'000);
    std::size_t removed = 0;
    for (int i = 0; i < 100 && store.size() > 1'000; ++i) removed += store.sweep(at(200), 64);
    CHECK(store.size() == 1'000);
    CHECK(removed == after_inserts - 1'000);
    for (int i = 0; i < 1'000; ++i) CHECK(store.load("new" + std::to_string(i), at(200))->has_value());
}

TEST_CASE("memory_idempotency_store keeps every record through growth and deletions", "[memory_store]")
{
    mb::memory_idempotency_store store({.shards = 2});
    const mb::record_view r{mb::record_state::in_progress, mb::work_outcome::none, 3, at(1'000), "f", {}};
    for (int i = 0; i < 5'000; ++i) REQUIRE(*store.insert_if_absent("key-" + std::to_string(i), r, at(0)));
    for (int i = 0; i < 5'000; i += 3) REQUIRE(*store.erase_if_fence("key-" + std::to_string(i), 3));
    for (int i = 0; i < 5'000; ++i) {
        const bool present = store.load("key-" + std::to_string(i), at(0))->has_value();
        CHECK(present == (i % 3 != 0));
    }
}
