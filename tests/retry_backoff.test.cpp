// SPDX-License-Identifier: MIT
#include <meetingbaas/retry/backoff.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>

using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST_CASE("exponential_backoff grows by the multiplier and caps at maximum", "[backoff]")
{
    constexpr meetingbaas::exponential_backoff b{.initial = 100ms, .multiplier = 2.0, .maximum = 1s};
    STATIC_REQUIRE(b.delay(0) == 100ms);
    STATIC_REQUIRE(b.delay(1) == 200ms);
    STATIC_REQUIRE(b.delay(3) == 800ms);
    STATIC_REQUIRE(b.delay(4) == 1s);
    STATIC_REQUIRE(b.delay(10'000) == 1s);
    STATIC_REQUIRE(b.delay(std::numeric_limits<std::uint32_t>::max()) == 1s);
}

TEST_CASE("exponential_backoff supports fractional multipliers without truncation", "[backoff]")
{
    constexpr meetingbaas::exponential_backoff b{.initial = 1000ms, .multiplier = 1.5, .maximum = 1h};
    STATIC_REQUIRE(b.delay(1) == 1500ms);
    STATIC_REQUIRE(b.delay(2) == 2250ms);
    STATIC_REQUIRE(b.delay(3) == 3375ms);
    // multiplier 1.0 is a constant backoff, still O(log n)
    constexpr meetingbaas::exponential_backoff flat{.initial = 7ms, .multiplier = 1.0, .maximum = 1s};
    STATIC_REQUIRE(flat.delay(10'000) == 7ms);
}

TEST_CASE("exponential_backoff saturates with huge caps instead of overflowing", "[backoff]")
{
    constexpr meetingbaas::exponential_backoff b{
        .initial = 1ms, .multiplier = 1000.0, .maximum = milliseconds::max()};
    STATIC_REQUIRE(b.delay(5) == milliseconds(1'000'000'000'000'000));
    STATIC_REQUIRE(b.delay(7) == milliseconds::max());
    STATIC_REQUIRE(b.delay(10'000) == milliseconds::max());
    constexpr meetingbaas::exponential_backoff b2{
        .initial = 3ms, .multiplier = 1.001, .maximum = milliseconds::max()};
    CHECK(b2.delay(10'000) > b2.delay(9'999));
    CHECK(b2.delay(4'000'000'000U) == milliseconds::max());
}

TEST_CASE("linear_backoff adds the increment and caps at maximum", "[backoff]")
{
    constexpr meetingbaas::linear_backoff b{.initial = 100ms, .increment = 50ms, .maximum = 300ms};
    STATIC_REQUIRE(b.delay(0) == 100ms);
    STATIC_REQUIRE(b.delay(1) == 150ms);
    STATIC_REQUIRE(b.delay(4) == 300ms);
    STATIC_REQUIRE(b.delay(10'000) == 300ms);
    constexpr meetingbaas::linear_backoff big{
        .initial = 1ms, .increment = milliseconds::max() / 2, .maximum = milliseconds::max()};
    STATIC_REQUIRE(big.delay(3) == milliseconds::max());
    STATIC_REQUIRE(big.delay(10'000) == milliseconds::max());
}

TEST_CASE("constant_backoff returns its interval for every retry", "[backoff]")
{
    constexpr meetingbaas::constant_backoff b{.interval = 250ms};
    STATIC_REQUIRE(b.delay(0) == 250ms);
    STATIC_REQUIRE(b.delay(10'000) == 250ms);
}

TEST_CASE("backoff policies report invalid parameters with the field", "[backoff]")
{
    STATIC_REQUIRE(!meetingbaas::exponential_backoff{}.check());
    STATIC_REQUIRE(meetingbaas::exponential_backoff{.initial = 0ms}.check().field == "/backoff/initial");
    STATIC_REQUIRE(meetingbaas::exponential_backoff{.multiplier = 0.5}.check().field ==
                   "/backoff/multiplier");
    STATIC_REQUIRE(meetingbaas::exponential_backoff{.initial = 2s, .maximum = 1s}.check().field ==
                   "/backoff/maximum");
    STATIC_REQUIRE(meetingbaas::linear_backoff{.increment = -1ms}.check().field == "/backoff/increment");
    STATIC_REQUIRE(meetingbaas::constant_backoff{.interval = -1ms}.check().field == "/backoff/interval");
    STATIC_REQUIRE(meetingbaas::plus_minus(1.5).check().field == "/jitter/factor");
    STATIC_REQUIRE(meetingbaas::plus_minus(0.0).check().field == "/jitter/factor");
    STATIC_REQUIRE(!meetingbaas::plus_minus(0.25).check());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(meetingbaas::exponential_backoff{.multiplier = nan}.check());
    CHECK(meetingbaas::exponential_backoff{.multiplier = std::numeric_limits<double>::infinity()}.check());
}

TEST_CASE("saturating arithmetic clamps at the limits", "[backoff]")
{
    using meetingbaas::detail::sat_add;
    using meetingbaas::detail::sat_mul;
    using meetingbaas::detail::sat_sub;
    STATIC_REQUIRE(sat_add(milliseconds::max(), 1ms) == milliseconds::max());
    STATIC_REQUIRE(sat_add(milliseconds::min(), -1ms) == milliseconds::min());
    STATIC_REQUIRE(sat_sub(0ms, milliseconds::min()) == milliseconds::max());
    STATIC_REQUIRE(sat_sub(milliseconds::min(), 1ms) == milliseconds::min());
    STATIC_REQUIRE(sat_mul(milliseconds::max(), 1.5) == milliseconds::max());
    STATIC_REQUIRE(sat_mul(10ms, 0.25) == 2ms);
    STATIC_REQUIRE(sat_mul(10ms, -1.0) == 0ms);
    STATIC_REQUIRE(meetingbaas::detail::saturating_cast<std::chrono::nanoseconds>(milliseconds::max()) ==
                   std::chrono::nanoseconds::max());
    STATIC_REQUIRE(meetingbaas::detail::saturating_ms(std::chrono::hours::max()) == milliseconds::max());
    STATIC_REQUIRE(meetingbaas::detail::saturating_ms(std::chrono::nanoseconds(1'999'999)) == 1ms);
}

TEST_CASE("splitmix64 is deterministic for a seed", "[backoff]")
{
    meetingbaas::splitmix64 a(42);
    meetingbaas::splitmix64 b(42);
    for (int i = 0; i < 100; ++i) CHECK(a() == b());
    // Reference values of splitmix64 seeded with 0 (Vigna's reference implementation).
    meetingbaas::splitmix64 z(0);
    CHECK(z() == 0xE220A8397B1DCDAFULL);
    CHECK(z() == 0x6E789E6AA1B965F4ULL);
}

TEST_CASE("jitter kinds stay within their documented ranges", "[backoff]")
{
    meetingbaas::splitmix64 gen(7);
    const auto kind = GENERATE(meetingbaas::jitter_kind::none, meetingbaas::jitter_kind::full,
                               meetingbaas::jitter_kind::equal, meetingbaas::jitter_kind::proportional);
    CAPTURE(meetingbaas::to_string(kind));
    const meetingbaas::jitter_policy j{kind, kind == meetingbaas::jitter_kind::proportional ? 0.25 : 0.0};
    for (int i = 0; i < 2000; ++i) {
        const milliseconds d = j.apply(1000ms, 100ms, 2000ms, 0ms, gen);
        switch (kind) {
            case meetingbaas::jitter_kind::none: REQUIRE(d == 1000ms); break;
            case meetingbaas::jitter_kind::full: REQUIRE((d >= 0ms && d <= 1000ms)); break;
            case meetingbaas::jitter_kind::equal: REQUIRE((d >= 500ms && d <= 1000ms)); break;
            case meetingbaas::jitter_kind::proportional: REQUIRE((d >= 750ms && d <= 1250ms)); break;
            default: FAIL("unexpected kind");
        }
    }
}

TEST_CASE("decorrelated jitter follows min(cap, uniform(base, 3 * previous))", "[backoff]")
{
    meetingbaas::splitmix64 gen(11);
    const auto j = meetingbaas::decorrelated_jitter;
    milliseconds prev = 0ms;
    bool reached_cap = false;
    for (int i = 0; i < 500; ++i) {
        const milliseconds d = j.apply(123ms /*ignored*/, 10ms, 5000ms, prev, gen);
        const milliseconds lo = 10ms;
        const milliseconds hi = std::max(lo, (prev < lo ? lo : prev) * 3);
        REQUIRE(d >= lo);
        REQUIRE(d <= std::min(hi, 5000ms));
        reached_cap = reached_cap || d == 5000ms;
        prev = d;
    }
    CHECK(reached_cap);
}

TEST_CASE("full jitter covers its range roughly uniformly", "[backoff]")
{
    meetingbaas::splitmix64 gen(1234);
    int buckets[10] = {};
    constexpr int n = 100'000;
    for (int i = 0; i < n; ++i) {
        const auto d = meetingbaas::full_jitter.apply(999ms, 1ms, 999ms, 0ms, gen);
        ++buckets[d.count() / 100];
    }
    for (const int b : buckets) {
        CHECK(b > n / 10 * 95 / 100);
        CHECK(b < n / 10 * 105 / 100);
    }
}

TEST_CASE("jitter accepts any standard random engine", "[backoff]")
{
    std::minstd_rand small(3);  // 31-bit range: goes through the generic path
    std::mt19937_64 wide(3);    // full 64-bit range
    for (int i = 0; i < 1000; ++i) {
        const auto a = meetingbaas::full_jitter.apply(100ms, 1ms, 100ms, 0ms, small);
        const auto b = meetingbaas::equal_jitter.apply(100ms, 1ms, 100ms, 0ms, wide);
        REQUIRE((a >= 0ms && a <= 100ms));
        REQUIRE((b >= 50ms && b <= 100ms));
    }
}
