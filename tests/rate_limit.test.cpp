// SPDX-License-Identifier: MIT
// The write-rate limit in process: options, the GCRA bucket on a manual clock (no window ever holds more
// than the rate), feedback from the API's headers, and the http_client decorator (GETs pass, writes wait
// with an interruptible sleep, a stop request ends the wait at once, limiter failures fail closed).
#include <meetingbaas/api/rate_limit.hpp>

#include "fake_http_client.hpp"
#include "manual_clock.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
using meetingbaas::test::manual_clock;
using meetingbaas_test::fake_http_client;

namespace {

mb::token_bucket_limiter<manual_clock> bucket(manual_clock clock, mb::rate_limit_options o = {})
{
    auto b = mb::token_bucket_limiter<manual_clock>::create(o, std::move(clock));
    REQUIRE(b);
    return std::move(*b);
}

/// The largest number of times in any half-open window [t, t + window).
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

std::int64_t us(const manual_clock& c)
{
    return std::chrono::duration_cast<std::chrono::microseconds>(c.now().time_since_epoch()).count();
}

/// Advances the manual clock instead of sleeping; records each delay; stops when told to.
struct clock_sleeper {
    manual_clock clock;
    std::vector<std::chrono::milliseconds>* delays;
    bool operator()(std::chrono::milliseconds d, const std::stop_token& stop)
    {
        if (stop.stop_requested()) return false;
        delays->push_back(d);
        clock.advance(d);
        return true;
    }
};

/// A limiter whose backend is down.
struct broken_limiter {
    mb::result<mb::rate_permit> try_acquire()
    {
        return mb::error{mb::errc::storage_error, "redis_rate_limiter::try_acquire", "not applied: refused"};
    }
    void feedback(const mb::rate_limit_feedback&) {}
};
static_assert(mb::write_rate_limiter<broken_limiter>);

mb::http_request request(mb::http_method m)
{
    mb::http_request r;
    r.method = m;
    r.url = "https://api.example/v2/bots";
    return r;
}

/// Builds a feedback value field by field (GCC 12 warns about designated initializers that skip fields).
struct fb {
    mb::rate_limit_feedback f;
    explicit fb(int status) { f.status = status; }
    fb& with_limit(std::uint32_t v)
    {
        f.limit = v;
        return *this;
    }
    fb& with_remaining(std::uint32_t v)
    {
        f.remaining = v;
        return *this;
    }
    fb& with_reset_in(std::chrono::milliseconds v)
    {
        f.reset_in = v;
        return *this;
    }
    fb& with_retry_after(std::chrono::milliseconds v)
    {
        f.retry_after = v;
        return *this;
    }
    fb& with_daily_cap(bool v)
    {
        f.daily_cap = v;
        return *this;
    }
    operator const mb::rate_limit_feedback&() const { return f; }  // NOLINT: a test builder
};

}  // namespace

TEST_CASE("rate_limit_options are validated", "[rate_limit]")
{
    CHECK(mb::validate(mb::rate_limit_options{}));
    CHECK_FALSE(mb::validate(mb::rate_limit_options{.per_second = 0}));
    CHECK_FALSE(mb::validate(mb::rate_limit_options{.per_second = -1}));
    CHECK_FALSE(mb::validate(mb::rate_limit_options{.per_second = std::nan("")}));
    CHECK_FALSE(mb::validate(mb::rate_limit_options{.per_second = 5, .burst = 0}));
    CHECK_FALSE(mb::validate(mb::rate_limit_options{.per_second = 5, .burst = 1, .throttle_hold = -1ms}));
    auto bad = mb::token_bucket_limiter<>::create({.per_second = 0});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == mb::errc::invalid_argument);
}

TEST_CASE("token_bucket_limiter spaces permits 1/rate apart, and a burst allows that many at once",
          "[rate_limit]")
{
    manual_clock clock;
    auto b = bucket(clock, {.per_second = 5});
    auto first = b.try_acquire();
    REQUIRE(first);
    CHECK(first->granted);
    auto second = b.try_acquire();
    REQUIRE(second);
    CHECK_FALSE(second->granted);
    CHECK(second->retry_in == 200ms);
    clock.advance(199ms);
    CHECK_FALSE(b.try_acquire()->granted);
    CHECK(b.try_acquire()->retry_in == 1ms);
    clock.advance(1ms);
    CHECK(b.try_acquire()->granted);

    auto burst = bucket(clock, {.per_second = 10, .burst = 3});
    CHECK(burst.try_acquire()->granted);
    CHECK(burst.try_acquire()->granted);
    CHECK(burst.try_acquire()->granted);
    auto fourth = burst.try_acquire();
    CHECK_FALSE(fourth->granted);
    CHECK(fourth->retry_in == 100ms);
}

TEST_CASE("token_bucket_limiter never lets a one-second window hold more than the rate", "[rate_limit]")
{
    const double rate = GENERATE(1.0, 5.0, 7.0, 20.0);
    CAPTURE(rate);
    manual_clock clock;
    auto b = bucket(clock, {.per_second = rate});
    std::mt19937_64 random(42);
    std::uniform_int_distribution<int> step_us(0, 120'000);
    std::vector<std::int64_t> granted;
    const auto interval = static_cast<std::int64_t>(std::ceil(1e6 / rate));
    int needless_denials = 0;
    for (int i = 0; i < 20'000; ++i) {
        const auto now = us(clock);
        auto p = b.try_acquire();
        REQUIRE(p);
        if (p->granted) {
            granted.push_back(now);
        } else if (granted.empty() || now - granted.back() >= interval) {
            ++needless_denials;  // a permit was free, and it said no
        }
        clock.advance(std::chrono::microseconds(step_us(random)));
    }
    CHECK(max_in_window(granted, 1'000'000) <= static_cast<std::size_t>(rate));
    CHECK(needless_denials == 0);
}

TEST_CASE("token_bucket_limiter slows down when the server says so", "[rate_limit]")
{
    manual_clock clock;
    auto b = bucket(clock, {.per_second = 10, .limit_memory = 1min});
    REQUIRE(b.try_acquire()->granted);

    SECTION("a 429 with Retry-After holds every writer")
    {
        b.feedback(fb(429).with_retry_after(2s));
        clock.advance(1s);
        auto held = b.try_acquire();
        CHECK_FALSE(held->granted);
        CHECK(held->retry_in == 1s);
        clock.advance(1s);
        CHECK(b.try_acquire()->granted);
    }
    SECTION("a 429 without a delay holds for throttle_hold; a daily cap does not hold")
    {
        b.feedback(fb(429).with_daily_cap(true));
        clock.advance(100ms);
        CHECK(b.try_acquire()->granted);
        b.feedback(fb(429));
        clock.advance(100ms);
        CHECK(b.try_acquire()->retry_in == 900ms);
    }
    SECTION("no writes remaining holds until the reset; a huge delay is capped")
    {
        b.feedback(fb(201).with_remaining(0).with_reset_in(700ms));
        CHECK(b.try_acquire()->retry_in == 700ms);
        b.feedback(fb(429).with_retry_after(24h));
        CHECK(b.try_acquire()->retry_in == 60s);
    }
    SECTION("a lower x-ratelimit-limit lowers the rate for limit_memory")
    {
        b.feedback(fb(201).with_limit(4).with_remaining(3));
        clock.advance(100ms);  // the permit already spaced at 10/s is due now; the next one is 250 ms later
        CHECK(b.try_acquire()->granted);
        clock.advance(100ms);
        auto slow = b.try_acquire();
        CHECK_FALSE(slow->granted);
        CHECK(slow->retry_in == 150ms);
        b.feedback(fb(201).with_limit(50));  // a higher limit never raises the configured rate
        clock.advance(150ms);
        CHECK(b.try_acquire()->granted);
        clock.advance(2min);  // forgotten: back to 10/s
        CHECK(b.try_acquire()->granted);
        clock.advance(100ms);
        CHECK(b.try_acquire()->granted);
    }
}

TEST_CASE("read_rate_limit_feedback reads the x-ratelimit headers and Retry-After", "[rate_limit]")
{
    const auto now = std::chrono::sys_seconds(std::chrono::seconds(1'789'000'000));
    mb::http_response r;
    r.status = 429;
    r.headers.add("X-RateLimit-Limit", "5");
    r.headers.add("x-ratelimit-remaining", "0");
    r.headers.add("x-ratelimit-reset", "0.25");
    r.headers.add("retry-after", "2");
    r.body = R"({"success":false,"code":"FST_ERR_TOO_MANY_REQUESTS","retryAfter":2})";
    auto f = mb::read_rate_limit_feedback(r, now);
    CHECK(f.status == 429);
    CHECK(f.limit == 5U);
    CHECK(f.remaining == 0U);
    CHECK(f.reset_in == 250ms);
    CHECK(f.retry_after == 2s);
    CHECK_FALSE(f.daily_cap);

    mb::http_response epoch;
    epoch.status = 201;
    epoch.headers.add("x-ratelimit-limit", "20;w=1");
    epoch.headers.add("x-ratelimit-reset", "1789000003");
    auto g = mb::read_rate_limit_feedback(epoch, now);
    CHECK(g.limit == 20U);
    CHECK(g.reset_in == 3s);
    CHECK_FALSE(g.retry_after);

    mb::http_response junk;
    junk.status = 429;
    junk.headers.add("x-ratelimit-limit", "many");
    junk.headers.add("x-ratelimit-remaining", "");
    junk.headers.add("x-ratelimit-reset", "-1");
    junk.headers.add("retry-after", "soon");
    junk.body = R"({"code":"FST_ERR_DAILY_BOT_CAP_REACHED"})";
    auto h = mb::read_rate_limit_feedback(junk, now);
    CHECK_FALSE(h.limit);
    CHECK_FALSE(h.remaining);
    CHECK_FALSE(h.reset_in);
    CHECK_FALSE(h.retry_after);
    CHECK(h.daily_cap);
}

TEST_CASE("rate_limited_client limits writes only, waits, and feeds the headers back", "[rate_limit]")
{
    manual_clock clock;
    auto b = bucket(clock, {.per_second = 5});
    fake_http_client http;
    mb::http_headers throttled;
    throttled.add("Retry-After", "1");
    http.respond(200, "[]")
        .respond(201, "{}")
        .respond(429, "{}", throttled)
        .respond(201, "{}")
        .respond(204, "");
    std::vector<std::chrono::milliseconds> delays;
    mb::rate_limited_client<fake_http_client, decltype(b), clock_sleeper> client(
        http, b, {}, {}, clock_sleeper{clock, &delays});
    static_assert(mb::http_client<decltype(client)>);

    CHECK(client.send(request(mb::http_method::get)));  // GET: no permit taken
    CHECK(delays.empty());
    CHECK(client.send(request(mb::http_method::post)));  // the first write goes at once
    CHECK(delays.empty());
    auto limited = client.send(request(mb::http_method::post));  // 200 ms later; answered 429, Retry-After 1
    REQUIRE(limited);
    CHECK(limited->status == 429);
    CHECK(delays == std::vector<std::chrono::milliseconds>{200ms});
    CHECK(client.send(request(mb::http_method::patch)));  // held for the second the server asked
    CHECK(delays.back() == 1s);
    CHECK(client.send(request(mb::http_method::delete_)));
    CHECK(delays.back() == 200ms);
    CHECK(client.waited() == 1400ms);
    CHECK(http.requests().size() == 5);
}

TEST_CASE("rate_limited_client fails closed when the limiter fails, or open when told to", "[rate_limit]")
{
    broken_limiter broken;
    fake_http_client http;
    http.respond(201, "{}");
    mb::rate_limited_client<fake_http_client&, broken_limiter> closed(http, broken);
    auto refused = closed.send(request(mb::http_method::post));
    REQUIRE_FALSE(refused);
    CHECK_FALSE(refused.error().may_have_been_sent);
    CHECK_THAT(refused.error().message, Catch::Matchers::ContainsSubstring("limiter unavailable"));
    CHECK(http.requests().empty());
    CHECK(closed.send(request(mb::http_method::get)));  // reads still work

    http.respond(201, "{}");
    mb::rate_limited_client<fake_http_client&, broken_limiter> open(http, broken, {}, {.fail_open = true});
    CHECK(open.send(request(mb::http_method::post)));
}

TEST_CASE("rate_limited_client gives up after max_wait without sending", "[rate_limit]")
{
    manual_clock clock;
    auto b = bucket(clock, {.per_second = 1});
    b.feedback(fb(429).with_retry_after(30s));
    fake_http_client http;
    std::vector<std::chrono::milliseconds> delays;
    mb::rate_limited_client<fake_http_client&, decltype(b), clock_sleeper> client(
        http, b, {}, {.max_wait = 10s}, clock_sleeper{clock, &delays});
    auto r = client.send(request(mb::http_method::post));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == mb::transport_errc::timed_out);
    CHECK_FALSE(r.error().may_have_been_sent);
    CHECK(http.requests().empty());
    CHECK(delays.empty());  // it did not sleep 30 s first
}

TEST_CASE("rate_limited_client: a stop request ends a wait at once, without spinning", "[rate_limit]")
{
    auto b = mb::token_bucket_limiter<>::create({.per_second = 5});
    REQUIRE(b);
    b->feedback(fb(429).with_retry_after(30s));
    fake_http_client http;
    std::stop_source stop;
    mb::rate_limited_client<fake_http_client&, mb::token_bucket_limiter<>> client(http, *b, stop.get_token());
    std::jthread stopper([&] {
        std::this_thread::sleep_for(100ms);
        stop.request_stop();
    });
    const auto start = std::chrono::steady_clock::now();
    const auto cpu_start = std::clock();
    auto r = client.send(request(mb::http_method::post));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Matchers::ContainsSubstring("cancelled"));
    CHECK(elapsed >= 90ms);
    CHECK(elapsed < 5s);
    CHECK(cpu < 0.05);  // it slept on a condition variable, it did not poll
    CHECK(http.requests().empty());
}

TEST_CASE("token_bucket_limiter shared by threads: the total stays within the rate", "[rate_limit]")
{
    auto b = mb::token_bucket_limiter<>::create({.per_second = 50});
    REQUIRE(b);
    std::atomic<int> granted{0};
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + 1s;
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                while (std::chrono::steady_clock::now() < end) {
                    auto p = b->try_acquire();
                    if (p && p->granted) {
                        ++granted;
                    } else if (p) {
                        std::this_thread::sleep_for(std::min(p->retry_in, 5ms));
                    }
                }
            });
        }
    }
    // 1 s at 50/s, burst 1: at most 50 permits plus the one at time zero.
    CHECK(granted.load() <= 51);
    CHECK(granted.load() >= 35);
}
