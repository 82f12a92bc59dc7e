// SPDX-License-Identifier: MIT
#pragma once
// The behaviour every event_state_store must show, as one Catch2 suite: call
// `event_state_behavior::run(make_state)` inside a TEST_CASE, where make_state() returns a fresh, empty
// store (by value or as a std::unique_ptr). Each SECTION gets its own store. The same suite runs against
// every backend (memory, SQLite, Redis, PostgreSQL).

#include <meetingbaas/sync/event_state.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace event_state_behavior {

namespace mb = meetingbaas;

inline mb::utc_time at_us(std::int64_t us)
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
void run(Factory make_state)
{
    SECTION("an event never applied has no version")
    {
        auto holder = make_state();
        auto& s = deref(holder);
        auto v = s.applied_version("evt-1");
        REQUIRE(v);
        CHECK_FALSE(v->has_value());
    }

    SECTION("the newest version is kept: an older one never replaces it")
    {
        auto holder = make_state();
        auto& s = deref(holder);
        const auto t1 = at_us(1'789'000'000'000'001);  // microsecond precision survives
        const auto t2 = at_us(1'789'000'000'500'000);
        REQUIRE(s.record_applied("evt-1", t2));
        REQUIRE(s.record_applied("evt-1", t1));
        auto v = s.applied_version("evt-1");
        REQUIRE(v);
        REQUIRE(v->has_value());
        CHECK(**v == t2);
        REQUIRE(s.record_applied("evt-1", t2 + std::chrono::microseconds(1)));
        v = s.applied_version("evt-1");
        REQUIRE((v && v->has_value()));
        CHECK(**v == t2 + std::chrono::microseconds(1));
        auto other = s.applied_version("evt-2");
        REQUIRE(other);
        CHECK_FALSE(other->has_value());
    }

    SECTION("keys are opaque bytes: separators, braces and long ids do not collide")
    {
        auto holder = make_state();
        auto& s = deref(holder);
        const std::string a = "cal|{x}:evt";
        const std::string b = "cal|{x}:ev";
        const std::string c(2'000, 'k');
        REQUIRE(s.record_applied(a, at_us(10)));
        REQUIRE(s.record_applied(c, at_us(30)));
        auto va = s.applied_version(a);
        auto vb = s.applied_version(b);
        auto vc = s.applied_version(c);
        REQUIRE((va && vb && vc));
        CHECK(*va == std::optional<mb::utc_time>(at_us(10)));
        CHECK_FALSE(vb->has_value());
        CHECK(*vc == std::optional<mb::utc_time>(at_us(30)));
    }

    SECTION("concurrent writers: the maximum wins")
    {
        auto holder = make_state();
        auto& s = deref(holder);
        std::atomic<int> failures{0};
        {
            std::vector<std::jthread> threads;
            for (int t = 0; t < 4; ++t) {
                threads.emplace_back([&, t] {
                    for (int i = 0; i < 50; ++i) {
                        if (!s.record_applied("evt", at_us(1'000 + i * 4 + t))) failures++;
                    }
                });
            }
        }
        CHECK(failures.load() == 0);
        auto v = s.applied_version("evt");
        REQUIRE((v && v->has_value()));
        CHECK(**v == at_us(1'000 + 49 * 4 + 3));
    }
}

}  // namespace event_state_behavior
