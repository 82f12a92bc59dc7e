// SPDX-License-Identifier: MIT
// The Redis write-rate limiter against a real redis-server (MEETINGBAAS_TEST_REDIS_URL): threads of two
// "instances" sharing one bucket never exceed the rate (measured on the server's grant times); feedback from
// one instance (a 429, a lower x-ratelimit-limit) slows every instance; an injected clock makes the
// arithmetic exact; a dead Redis fails the write closed.
#include <meetingbaas/adapters/redis.hpp>

#include "fake_http_client.hpp"
#include "redis_support.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
namespace redis = meetingbaas::redis;
using client_type = redis::hiredis_client;
using limiter_type = mb::redis_rate_limiter<client_type>;

namespace {

std::size_t max_in_window(std::vector<std::int64_t> times, std::int64_t window)
{
    std::sort(times.begin(), times.end());
    std::size_t best = 0;
    std::size_t lo = 0;
    for (std::size_t hi = 0; hi < times.size(); ++hi) {
        while (times[hi] - times[lo] >= window) ++lo;
        best = std::max(best, hi - lo + 1);
    }
    return best;
}

limiter_type make(client_type c, const std::string& key, mb::rate_limit_options rate)
{
    auto l = limiter_type::create(std::move(c), {.key = key, .rate = rate});
    REQUIRE(l);
    return std::move(*l);
}

/// Grant times (server microseconds) of `threads` threads per limiter, trying for `duration`.
std::vector<std::int64_t> hammer(std::vector<limiter_type*> limiters, int threads,
                                 std::chrono::milliseconds duration)
{
    std::mutex m;
    std::vector<std::int64_t> granted;
    std::atomic<int> failures{0};
    const auto end = std::chrono::steady_clock::now() + duration;
    {
        std::vector<std::jthread> pool;
        for (auto* l : limiters) {
            for (int t = 0; t < threads; ++t) {
                pool.emplace_back([&, l] {
                    while (std::chrono::steady_clock::now() < end) {
                        auto p = l->try_acquire_timed();
                        if (!p) {
                            ++failures;
                            return;
                        }
                        if (p->permit.granted) {
                            const std::lock_guard lock(m);
                            granted.push_back(p->at.time_since_epoch().count());
                        } else {
                            std::this_thread::sleep_for(std::min(p->permit.retry_in, 5ms));
                        }
                    }
                });
            }
        }
    }
    CHECK(failures.load() == 0);
    return granted;
}

/// A wall clock that moves only when told to (microseconds).
struct manual_wall_clock {
    std::shared_ptr<std::atomic<std::int64_t>> us =
        std::make_shared<std::atomic<std::int64_t>>(1'789'000'000'000'000);
    [[nodiscard]] std::chrono::system_clock::time_point now() const
    {
        return std::chrono::system_clock::time_point(std::chrono::microseconds(us->load()));
    }
    void advance(std::chrono::microseconds d) const { us->fetch_add(d.count()); }
};

}  // namespace

TEST_CASE("redis_rate_limiter is a write_rate_limiter", "[redis_rate_limit]")
{
    STATIC_REQUIRE(mb::write_rate_limiter<limiter_type>);
    STATIC_REQUIRE(mb::write_rate_limiter<mb::redis_rate_limiter<client_type, manual_wall_clock>>);
}

TEST_CASE("threads of two instances sharing one Redis bucket never exceed the rate", "[redis_rate_limit]")
{
    REDIS_TEST_CLIENT(client);
    auto other = client_type::connect(*client_url);  // a second instance: its own connections
    REQUIRE(other);
    const auto prefix = redis_test::unique_prefix("rate");
    const redis_test::prefix_guard cleanup(client, prefix);
    auto a = make(client, prefix + "{bucket}", {.per_second = 25});
    auto b = make(*other, prefix + "{bucket}", {.per_second = 25});
    const auto granted = hammer({&a, &b}, 3, 1500ms);
    CHECK(max_in_window(granted, 1'000'000) <= 25);
    CHECK(granted.size() >= 30);  // 1.5 s at 25/s is 38: the limit is used, not just respected
    CHECK(granted.size() <= 39);
}

TEST_CASE("a burst lets that many through at once, and no more", "[redis_rate_limit]")
{
    REDIS_TEST_CLIENT(client);
    const auto prefix = redis_test::unique_prefix("rate-burst");
    const redis_test::prefix_guard cleanup(client, prefix);
    auto l = make(client, prefix + "{bucket}", {.per_second = 2, .burst = 3});
    int granted = 0;
    for (int i = 0; i < 5; ++i) granted += l.try_acquire()->granted ? 1 : 0;
    CHECK(granted == 3);
    auto next = l.try_acquire();
    REQUIRE(next);
    CHECK_FALSE(next->granted);
    CHECK(next->retry_in > 400ms);
    CHECK(next->retry_in <= 500ms);
}

TEST_CASE("feedback from one instance slows every instance", "[redis_rate_limit]")
{
    REDIS_TEST_CLIENT(client);
    const auto prefix = redis_test::unique_prefix("rate-feedback");
    const redis_test::prefix_guard cleanup(client, prefix);
    auto a = make(client, prefix + "{bucket}", {.per_second = 20});
    auto b = make(client, prefix + "{bucket}", {.per_second = 20});

    SECTION("a 429 with Retry-After holds all writers")
    {
        REQUIRE(a.try_acquire()->granted);
        mb::rate_limit_feedback f;
        f.status = 429;
        f.retry_after = 1s;
        REQUIRE(a.apply(f));
        auto held = b.try_acquire();
        REQUIRE(held);
        CHECK_FALSE(held->granted);
        CHECK(held->retry_in > 900ms);
        CHECK(held->retry_in <= 1s);
        std::this_thread::sleep_for(held->retry_in);
        CHECK(b.try_acquire()->granted);
    }
    SECTION("a lower x-ratelimit-limit lowers the shared rate")
    {
        mb::rate_limit_feedback f;
        f.status = 201;
        f.limit = 5;
        f.remaining = 4;
        REQUIRE(a.apply(f));
        const auto granted = hammer({&a, &b}, 2, 1200ms);
        CHECK(max_in_window(granted, 1'000'000) <= 5);
        CHECK(granted.size() >= 5);
        CHECK(granted.size() <= 7);
        // The same header again costs no round trip (it is cached), and a higher limit changes nothing.
        REQUIRE(a.apply(f));
        f.limit = 100;
        REQUIRE(a.apply(f));
    }
}

TEST_CASE("redis_rate_limiter on an injected clock: exact arithmetic", "[redis_rate_limit]")
{
    REDIS_TEST_CLIENT(client);
    const auto prefix = redis_test::unique_prefix("rate-clock");
    const redis_test::prefix_guard cleanup(client, prefix);
    manual_wall_clock clock;
    auto made = mb::redis_rate_limiter<client_type, manual_wall_clock>::create(
        client, {.key = prefix + "{bucket}", .rate = {.per_second = 5}}, clock);
    REQUIRE(made);
    auto& l = *made;
    CHECK(l.try_acquire()->granted);
    auto denied = l.try_acquire();
    CHECK_FALSE(denied->granted);
    CHECK(denied->retry_in == 200ms);
    clock.advance(150ms);
    CHECK(l.try_acquire()->retry_in == 50ms);
    clock.advance(50ms);
    CHECK(l.try_acquire()->granted);
    mb::rate_limit_feedback f;
    f.status = 200;
    f.remaining = 0;
    f.reset_in = 700ms;
    l.feedback(f);
    CHECK(l.try_acquire()->retry_in == 700ms);
    CHECK(l.feedback_failures() == 0);
}

TEST_CASE("a write fails closed, unsent, when the Redis bucket is unreachable", "[redis_rate_limit]")
{
    redis_test::private_server server;
    auto c = client_type::connect(server.url(), {.connect_timeout = 300ms, .reconnect_backoff = 0ms});
    REQUIRE(c);
    auto l = make(*c, "mb:rl:{x}", {.per_second = 5});
    REQUIRE(l.try_acquire());
    server.stop_kill();
    meetingbaas_test::fake_http_client http;
    http.respond(201, "{}");
    mb::rate_limited_client<meetingbaas_test::fake_http_client&, limiter_type> writer(http, l);
    mb::http_request post;
    post.method = mb::http_method::post;
    post.url = "https://api.example/v2/bots";
    auto r = writer.send(post);
    REQUIRE_FALSE(r);
    CHECK_FALSE(r.error().may_have_been_sent);
    CHECK_THAT(r.error().message, Catch::Matchers::ContainsSubstring("limiter unavailable"));
    CHECK(http.requests().empty());
    mb::rate_limit_feedback f;
    f.status = 429;
    l.feedback(f);  // best effort: counted, not thrown
    CHECK(l.feedback_failures() == 1);
}
