// SPDX-License-Identifier: MIT
#pragma once
// The behaviour every idempotency_store must show, as one Catch2 suite: call
// `store_behavior::run(make_store)` inside a TEST_CASE, where make_store() returns a fresh, empty store
// (by value or as a std::unique_ptr). Each SECTION gets its own store.

#include <meetingbaas/idempotency/guard.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace store_behavior {

using namespace std::chrono_literals;
namespace mb = meetingbaas;

/// A manual wall clock: copies share one time, which moves only on advance().
class manual_clock {
public:
    explicit manual_clock(std::int64_t start_us = 1'789'000'000'000'000)  // 2026-09-09
        : now_(std::make_shared<std::atomic<std::int64_t>>(start_us))
    {}
    [[nodiscard]] std::chrono::system_clock::time_point now() const
    {
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::microseconds(now_->load())));
    }
    void advance(std::chrono::microseconds d) const { now_->fetch_add(d.count()); }

private:
    std::shared_ptr<std::atomic<std::int64_t>> now_;
};

inline mb::utc_time at(std::int64_t us)
{
    return mb::utc_time(std::chrono::microseconds(us));
}

template <class T>
auto& deref(T& s)
{
    if constexpr (requires {
                      *s;
                      s.get();
                  }) {
        return *s;
    } else {
        return s;
    }
}

template <class Factory>
void run(Factory make_store)
{
    const mb::idempotency_options options{.lease = 30s, .retention = 1h};

    SECTION("insert_if_absent stores once")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        const mb::record_view r{
            mb::record_state::in_progress, mb::work_outcome::none, 7, at(1'000), "fp", {}};
        auto first = store.insert_if_absent("k", r, at(0));
        REQUIRE(first);
        CHECK(*first);
        auto second = store.insert_if_absent("k", r, at(0));
        REQUIRE(second);
        CHECK_FALSE(*second);
        auto loaded = store.load("k", at(0));
        REQUIRE(loaded);
        REQUIRE(loaded->has_value());
        CHECK((*loaded)->state == mb::record_state::in_progress);
        CHECK((*loaded)->fence == 7);
        CHECK((*loaded)->expires_at == at(1'000));
        CHECK((*loaded)->fingerprint == "fp");
        CHECK((*loaded)->outcome_data.empty());
        auto missing = store.load("other", at(0));
        REQUIRE(missing);
        CHECK_FALSE(missing->has_value());
    }

    SECTION("insert_if_absent refuses an expired record too (the state machine takes it over)")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        const mb::record_view r{mb::record_state::in_progress, mb::work_outcome::none, 1, at(10), {}, {}};
        REQUIRE(*store.insert_if_absent("k", r, at(0)));
        auto again = store.insert_if_absent("k", r, at(20));
        REQUIRE(again);
        CHECK_FALSE(*again);
        auto loaded = store.load("k", at(20));  // an expired in-progress record is still visible
        REQUIRE(loaded);
        REQUIRE(loaded->has_value());
        CHECK((*loaded)->fence == 1);
    }

    SECTION("compare_and_set and erase_if_fence act only on the current fence")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        REQUIRE(*store.insert_if_absent(
            "k", {mb::record_state::in_progress, mb::work_outcome::none, 5, at(100), "fp", {}}, at(0)));
        const std::string big(10'000, 'x');
        const std::string payload = std::string("a\0b|\\c", 6) + big;
        const mb::record_view done{
            mb::record_state::completed, mb::work_outcome::rejected, 5, at(5'000), "fp", payload};
        auto wrong = store.compare_and_set("k", 4, done, at(1));
        REQUIRE(wrong);
        CHECK_FALSE(*wrong);
        auto absent = store.compare_and_set("nope", 5, done, at(1));
        REQUIRE(absent);
        CHECK_FALSE(*absent);
        auto right = store.compare_and_set("k", 5, done, at(1));
        REQUIRE(right);
        CHECK(*right);
        auto loaded = store.load("k", at(1));
        REQUIRE(loaded);
        REQUIRE(loaded->has_value());
        CHECK((*loaded)->state == mb::record_state::completed);
        CHECK((*loaded)->outcome == mb::work_outcome::rejected);
        CHECK((*loaded)->outcome_data == payload);
        CHECK((*loaded)->expires_at == at(5'000));

        auto erase_wrong = store.erase_if_fence("k", 6);
        REQUIRE(erase_wrong);
        CHECK_FALSE(*erase_wrong);
        auto erase_right = store.erase_if_fence("k", 5);
        REQUIRE(erase_right);
        CHECK(*erase_right);
        auto gone = store.load("k", at(1));
        REQUIRE(gone);
        CHECK_FALSE(gone->has_value());
        auto erase_again = store.erase_if_fence("k", 5);
        REQUIRE(erase_again);
        CHECK_FALSE(*erase_again);
    }

    SECTION("begin acquires, a second begin sees in_progress, complete makes it completed")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("test", std::string_view("delivery"), 1);
        auto first = guard->begin(key, "fp1");
        REQUIRE(first);
        REQUIRE(first->status == mb::begin_status::acquired);
        CHECK(first->claim.fence > 0);
        CHECK_FALSE(first->claim.took_over);
        CHECK(first->claim.lease_until == guard->current_time() + 30s);

        clock.advance(1s);
        auto second = guard->begin(key, "fp1");
        REQUIRE(second);
        CHECK(second->status == mb::begin_status::in_progress);
        REQUIRE(second->record.has_value());
        CHECK(second->record->expires_at == first->claim.lease_until);

        REQUIRE(guard->complete(first->claim, mb::work_outcome::applied, "HTTP 201"));
        // Completion consumes the claim: it can no longer change the record.
        auto again = guard->complete(first->claim, mb::work_outcome::rejected, "other");
        REQUIRE_FALSE(again);
        CHECK(again.error().code == mb::errc::fence_mismatch);
        auto reopen = guard->renew(first->claim);
        REQUIRE_FALSE(reopen);
        CHECK(reopen.error().code == mb::errc::fence_mismatch);
        auto drop = guard->release(first->claim);
        REQUIRE_FALSE(drop);
        CHECK(drop.error().code == mb::errc::fence_mismatch);
        auto third = guard->begin(key, "fp1");
        REQUIRE(third);
        CHECK(third->status == mb::begin_status::completed);
        REQUIRE(third->record.has_value());
        CHECK(third->record->outcome == mb::work_outcome::applied);
        CHECK(third->record->outcome_data == "HTTP 201");
        CHECK(third->record->expires_at == guard->current_time() + 1h);
    }

    SECTION("a different fingerprint is a mismatch, an empty one skips the check")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("test", 2);
        auto first = guard->begin(key, mb::fingerprint_body("body A"));
        REQUIRE(first);
        REQUIRE(first->acquired());
        auto other = guard->begin(key, mb::fingerprint_body("body B"));
        REQUIRE(other);
        CHECK(other->status == mb::begin_status::mismatch);
        REQUIRE(other->record.has_value());
        CHECK(other->record->fingerprint == mb::fingerprint_body("body A"));
        auto unchecked = guard->begin(key, {});
        REQUIRE(unchecked);
        CHECK(unchecked->status == mb::begin_status::in_progress);
        REQUIRE(guard->complete(first->claim));
        auto after = guard->begin(key, mb::fingerprint_body("body B"));
        REQUIRE(after);
        CHECK(after->status == mb::begin_status::mismatch);
        auto same = guard->begin(key, mb::fingerprint_body("body A"));
        REQUIRE(same);
        CHECK(same->status == mb::begin_status::completed);
    }

    SECTION("an expired lease is taken over with a bumped fence, and the stale owner is fenced off")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("test", 3);
        auto stale = guard->begin(key, "fp");
        REQUIRE(stale);
        REQUIRE(stale->acquired());

        clock.advance(30s);  // the lease ends exactly now
        auto fresh = guard->begin(key, "fp");
        REQUIRE(fresh);
        REQUIRE(fresh->status == mb::begin_status::acquired);
        CHECK(fresh->claim.took_over);
        CHECK(fresh->claim.previous_fence == stale->claim.fence);
        CHECK(fresh->claim.fence > stale->claim.fence);

        auto late_complete = guard->complete(stale->claim);
        REQUIRE_FALSE(late_complete);
        CHECK(late_complete.error().code == mb::errc::fence_mismatch);
        auto late_release = guard->release(stale->claim);
        REQUIRE_FALSE(late_release);
        CHECK(late_release.error().code == mb::errc::fence_mismatch);
        auto late_renew = guard->renew(stale->claim);
        REQUIRE_FALSE(late_renew);
        CHECK(late_renew.error().code == mb::errc::fence_mismatch);

        auto busy = guard->begin(key, "fp");
        REQUIRE(busy);
        CHECK(busy->status == mb::begin_status::in_progress);
        REQUIRE(guard->complete(fresh->claim, mb::work_outcome::ambiguous, "timeout after send"));
        auto done = guard->begin(key, "fp");
        REQUIRE(done);
        CHECK(done->status == mb::begin_status::completed);
        CHECK(done->record->outcome == mb::work_outcome::ambiguous);
        CHECK(done->record->fence == fresh->claim.fence + 1);
    }

    SECTION("a lease just short of expiry is not taken over; an expired one can still complete untaken")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("test", 4);
        auto owner = guard->begin(key);
        REQUIRE(owner);
        REQUIRE(owner->acquired());
        clock.advance(30s - 1us);
        auto busy = guard->begin(key);
        REQUIRE(busy);
        CHECK(busy->status == mb::begin_status::in_progress);
        clock.advance(10s);  // expired, but nobody took over: the fence is still current
        REQUIRE(guard->complete(owner->claim));
        auto done = guard->begin(key);
        REQUIRE(done);
        CHECK(done->status == mb::begin_status::completed);
    }

    SECTION("release lets the next begin acquire again")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("test", 5);
        auto first = guard->begin(key, "fp");
        REQUIRE(first);
        REQUIRE(first->acquired());
        REQUIRE(guard->release(first->claim));
        auto again = guard->begin(key, "other fp is fine after a release");
        REQUIRE(again);
        CHECK(again->status == mb::begin_status::acquired);
        CHECK_FALSE(again->claim.took_over);
        auto twice = guard->release(first->claim);
        REQUIRE_FALSE(twice);
        CHECK(twice.error().code == mb::errc::fence_mismatch);
    }

    SECTION("renew extends the lease")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("test", 6);
        auto owner = guard->begin(key);
        REQUIRE(owner);
        REQUIRE(owner->acquired());
        clock.advance(20s);
        REQUIRE(guard->renew(owner->claim));
        CHECK(owner->claim.lease_until == guard->current_time() + 30s);
        clock.advance(20s);  // 40 s after begin: past the first lease, within the renewed one
        auto busy = guard->begin(key);
        REQUIRE(busy);
        CHECK(busy->status == mb::begin_status::in_progress);
        auto too_long = guard->renew(owner->claim, 2h);
        REQUIRE_FALSE(too_long);
        CHECK(too_long.error().code == mb::errc::invalid_argument);
    }

    SECTION("a completed record expires after its retention")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("test", 7);
        auto owner = guard->begin(key, "fp");
        REQUIRE(owner);
        REQUIRE(guard->complete_for(owner->claim, mb::work_outcome::applied, {}, 2min));
        clock.advance(2min - 1us);
        auto kept = guard->begin(key, "fp");
        REQUIRE(kept);
        CHECK(kept->status == mb::begin_status::completed);
        clock.advance(1us);
        auto fresh = guard->begin(key, "another payload after expiry");
        REQUIRE(fresh);
        CHECK(fresh->status == mb::begin_status::acquired);
        CHECK_FALSE(fresh->claim.took_over);
        CHECK(fresh->claim.fence != owner->claim.fence);
    }

    SECTION("retention shorter than the lease is refused")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        auto bad = mb::make_idempotency_guard(store, {.lease = 10min, .retention = 5min});
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == mb::errc::invalid_argument);
        auto guard = mb::make_idempotency_guard(store, options, manual_clock());
        REQUIRE(guard);
        auto owner = guard->begin(mb::make_key("test", 8));
        REQUIRE(owner);
        auto short_retention = guard->complete_for(owner->claim, mb::work_outcome::applied, {}, 10s);
        REQUIRE_FALSE(short_retention);
        CHECK(short_retention.error().code == mb::errc::invalid_argument);
        auto no_kind = guard->complete(owner->claim, mb::work_outcome::none);
        REQUIRE_FALSE(no_kind);
        CHECK(no_kind.error().code == mb::errc::invalid_argument);
        auto long_lease = guard->begin_for(mb::make_key("test", 9), {}, 2h);
        REQUIRE_FALSE(long_lease);
        CHECK(long_lease.error().code == mb::errc::invalid_argument);
    }

    SECTION("threads racing on one key: exactly one acquires, the rest see in_progress")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        constexpr int threads = 8;
        constexpr int rounds = 20;
        for (int round = 0; round < rounds; ++round) {
            const auto key = mb::make_key("race", round);
            std::atomic<int> acquired{0};
            std::atomic<int> in_progress{0};
            std::atomic<int> failed{0};
            std::atomic<bool> go{false};
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; ++t) {
                pool.emplace_back([&] {
                    while (!go.load()) std::this_thread::yield();
                    auto r = guard->begin(key, "same payload");
                    if (!r) {
                        ++failed;
                    } else if (r->status == mb::begin_status::acquired) {
                        ++acquired;
                    } else if (r->status == mb::begin_status::in_progress) {
                        ++in_progress;
                    }
                });
            }
            go = true;
            for (auto& th : pool) th.join();
            CHECK(acquired.load() == 1);
            CHECK(in_progress.load() == threads - 1);
            CHECK(failed.load() == 0);
        }
    }

    SECTION("threads racing to take over one expired lease: exactly one wins")
    {
        auto holder = make_store();
        auto& store = deref(holder);
        manual_clock clock;
        auto guard = mb::make_idempotency_guard(store, options, clock);
        REQUIRE(guard);
        const auto key = mb::make_key("takeover race");
        auto crashed = guard->begin(key);
        REQUIRE(crashed);
        REQUIRE(crashed->acquired());
        clock.advance(1min);
        constexpr int threads = 6;
        std::atomic<int> took_over{0};
        std::atomic<int> other{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&] {
                while (!go.load()) std::this_thread::yield();
                auto r = guard->begin(key);
                if (r && r->acquired() && r->claim.took_over) {
                    ++took_over;
                } else {
                    ++other;
                }
            });
        }
        go = true;
        for (auto& th : pool) th.join();
        CHECK(took_over.load() == 1);
        CHECK(other.load() == threads - 1);
    }
}

}  // namespace store_behavior
