// SPDX-License-Identifier: MIT
// claim_delivery / complete_delivery / release_delivery: the two keys of a webhook delivery (message id and
// payload key) claimed as one, with the rollback when the second claim does not succeed (#13 item 6).
#include <meetingbaas/idempotency/delivery.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>

#include "store_behavior.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mb = meetingbaas;
using namespace std::chrono_literals;
using store_behavior::manual_clock;

namespace {

/// A memory store whose writes fail for keys containing `poison` (a full disk, a lost connection).
struct flaky_store {
    mb::memory_idempotency_store inner;
    std::string poison;

    mb::result<bool> insert_if_absent(std::string_view key, const mb::record_view& r, mb::utc_time now)
    {
        if (!poison.empty() && key.find(poison) != std::string_view::npos) {
            return mb::error{mb::errc::storage_error, "flaky_store", "disk full"};
        }
        return inner.insert_if_absent(key, r, now);
    }
    mb::result<std::optional<mb::idempotency_record>> load(std::string_view key, mb::utc_time now)
    {
        return inner.load(key, now);
    }
    mb::result<bool> compare_and_set(std::string_view key, std::uint64_t fence, const mb::record_view& r,
                                     mb::utc_time now)
    {
        return inner.compare_and_set(key, fence, r, now);
    }
    mb::result<bool> erase_if_fence(std::string_view key, std::uint64_t fence)
    {
        return inner.erase_if_fence(key, fence);
    }
};
static_assert(mb::idempotency_store<flaky_store>);

mb::delivery_keys v2_keys(std::string_view message_id, std::string_view event = "bot.completed|b1")
{
    return {mb::svix_delivery_key(message_id), mb::make_key("mb2", event)};
}

template <class Store>
std::optional<mb::idempotency_record> record_of(Store& store, const mb::idempotency_key& key)
{
    auto r = store.load(key.view(), mb::utc_time(std::chrono::microseconds(1'789'000'000'000'000)));
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("claim_delivery holds both keys of a new v2 delivery and completes both", "[idempotency][delivery]")
{
    mb::memory_idempotency_store store;
    manual_clock clock;
    mb::idempotency_guard guard{store, clock};
    const auto fp = mb::fingerprint_body("body 1");

    auto first = mb::claim_delivery(guard, v2_keys("msg_1"), fp);
    REQUIRE(first);
    REQUIRE(first->acquired());
    REQUIRE(first->claim.message);
    CHECK(record_of(store, mb::svix_delivery_key("msg_1"))->state == mb::record_state::in_progress);
    CHECK(record_of(store, mb::make_key("mb2", std::string_view("bot.completed|b1")))->state ==
          mb::record_state::in_progress);

    // While the first copy runs, a Svix retry of the same message waits (in_progress on the message key).
    auto concurrent = mb::claim_delivery(guard, v2_keys("msg_1"), fp);
    REQUIRE(concurrent);
    CHECK(concurrent->status == mb::delivery_status::in_progress);
    CHECK(concurrent->decided_by == mb::delivery_key_kind::message);
    CHECK(mb::suggested_http_status(concurrent->status) == 409);

    REQUIRE(mb::complete_delivery(guard, first->claim, mb::work_outcome::applied, "handled"));
    auto retry = mb::claim_delivery(guard, v2_keys("msg_1"), fp);
    REQUIRE(retry);
    CHECK(retry->status == mb::delivery_status::duplicate);
    CHECK(retry->decided_by == mb::delivery_key_kind::message);
    REQUIRE(retry->record);
    CHECK(retry->record->outcome_data == "handled");
    CHECK(mb::suggested_http_status(retry->status) == 200);
}

TEST_CASE("claim_delivery answers a resend (new message id, different body) as a duplicate by default",
          "[idempotency][delivery]")
{
    mb::memory_idempotency_store store;
    manual_clock clock;
    mb::idempotency_guard guard{store, clock};
    auto first = mb::claim_delivery(guard, v2_keys("msg_1"), mb::fingerprint_body("sent_at 15:00"));
    REQUIRE((first && first->acquired()));
    REQUIRE(mb::complete_delivery(guard, first->claim, mb::work_outcome::applied, "scheduled"));

    auto resend = mb::claim_delivery(guard, v2_keys("msg_2"), mb::fingerprint_body("sent_at 18:40"));
    REQUIRE(resend);
    CHECK(resend->status == mb::delivery_status::duplicate);
    CHECK(resend->decided_by == mb::delivery_key_kind::payload);
    CHECK_FALSE(resend->claim.message);
    // The resend's message key was completed with the original outcome: its own retries stop there.
    const auto message = record_of(store, mb::svix_delivery_key("msg_2"));
    REQUIRE(message);
    CHECK(message->state == mb::record_state::completed);
    CHECK(message->outcome_data == "scheduled");
    auto resend_retry = mb::claim_delivery(guard, v2_keys("msg_2"), mb::fingerprint_body("sent_at 18:40"));
    REQUIRE(resend_retry);
    CHECK(resend_retry->status == mb::delivery_status::duplicate);
    CHECK(resend_retry->decided_by == mb::delivery_key_kind::message);

    // Asked to, the same mismatch is a conflict, and the message key is rolled back (released).
    auto strict = mb::claim_delivery(guard, v2_keys("msg_3"), mb::fingerprint_body("other"),
                                     {.on_payload_mismatch = mb::payload_mismatch::conflict});
    REQUIRE(strict);
    CHECK(strict->status == mb::delivery_status::conflict);
    CHECK(mb::suggested_http_status(strict->status) == 422);
    CHECK_FALSE(record_of(store, mb::svix_delivery_key("msg_3")));
}

TEST_CASE("claim_delivery reports one message id with two bodies as a conflict", "[idempotency][delivery]")
{
    mb::memory_idempotency_store store;
    manual_clock clock;
    mb::idempotency_guard guard{store, clock};
    auto first = mb::claim_delivery(guard, v2_keys("msg_1"), mb::fingerprint_body("a"));
    REQUIRE((first && first->acquired()));
    REQUIRE(mb::complete_delivery(guard, first->claim));
    auto reuse = mb::claim_delivery(guard, v2_keys("msg_1", "bot.completed|b9"), mb::fingerprint_body("b"));
    REQUIRE(reuse);
    CHECK(reuse->status == mb::delivery_status::conflict);
    CHECK(reuse->decided_by == mb::delivery_key_kind::message);
    CHECK_FALSE(
        record_of(store, mb::make_key("mb2", std::string_view("bot.completed|b9"))));  // never claimed
}

TEST_CASE("claim_delivery rolls the message key back when the payload key is busy or the store fails",
          "[idempotency][delivery]")
{
    flaky_store store;
    manual_clock clock;
    mb::idempotency_guard guard{store, clock};
    const auto fp = mb::fingerprint_body("x");

    SECTION("another message holds the payload key: in_progress, and this message can retry later")
    {
        auto holder = mb::claim_delivery(guard, v2_keys("msg_1"), fp);
        REQUIRE((holder && holder->acquired()));
        auto other = mb::claim_delivery(guard, v2_keys("msg_2"), fp);
        REQUIRE(other);
        CHECK(other->status == mb::delivery_status::in_progress);
        CHECK(other->decided_by == mb::delivery_key_kind::payload);
        CHECK_FALSE(record_of(store.inner, mb::svix_delivery_key("msg_2")));  // released, not left leased
        // The first copy fails without effects and releases both: the other message's retry runs the work.
        REQUIRE(mb::release_delivery(guard, holder->claim));
        CHECK_FALSE(record_of(store.inner, mb::svix_delivery_key("msg_1")));
        auto retried = mb::claim_delivery(guard, v2_keys("msg_2"), fp);
        REQUIRE(retried);
        CHECK(retried->acquired());
    }
    SECTION("the payload claim fails: the error is returned and the message key is released")
    {
        store.poison = "bot.completed";
        auto failed = mb::claim_delivery(guard, v2_keys("msg_1"), fp);
        REQUIRE_FALSE(failed);
        CHECK(failed.error().code == mb::errc::storage_error);
        CHECK_FALSE(record_of(store.inner, mb::svix_delivery_key("msg_1")));
        store.poison.clear();  // the sender retries once the disk has room
        auto retried = mb::claim_delivery(guard, v2_keys("msg_1"), fp);
        REQUIRE(retried);
        CHECK(retried->acquired());
    }
    SECTION("the message claim fails: nothing is held")
    {
        store.poison = "mb2.delivery";
        auto failed = mb::claim_delivery(guard, v2_keys("msg_1"), fp);
        REQUIRE_FALSE(failed);
        CHECK_FALSE(record_of(store.inner, mb::make_key("mb2", std::string_view("bot.completed|b1"))));
    }
}

TEST_CASE("claim_delivery with only a payload key (v1) behaves like one begin()", "[idempotency][delivery]")
{
    mb::memory_idempotency_store store;
    manual_clock clock;
    mb::idempotency_guard guard{store, clock};
    const mb::delivery_keys keys{std::nullopt, mb::make_key("mb1", std::string_view("complete"), "b1")};
    auto a = mb::claim_delivery(guard, keys, mb::fingerprint_body("v1"), {.lease = 5s});
    REQUIRE((a && a->acquired()));
    CHECK_FALSE(a->claim.message);
    CHECK(a->claim.payload.lease_until == guard.current_time() + 5s);
    auto b = mb::claim_delivery(guard, keys, mb::fingerprint_body("v1"));
    REQUIRE(b);
    CHECK(b->status == mb::delivery_status::in_progress);
    // The lease ends (the worker died): the next copy takes both keys over.
    clock.advance(6s);
    auto c = mb::claim_delivery(guard, keys, mb::fingerprint_body("v1"));
    REQUIRE((c && c->acquired()));
    CHECK(c->claim.payload.took_over);
    // The stale owner cannot complete any more.
    const auto stale = mb::complete_delivery(guard, a->claim);
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == mb::errc::fence_mismatch);
    REQUIRE(mb::complete_delivery(guard, c->claim));
}
