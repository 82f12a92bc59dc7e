// SPDX-License-Identifier: MIT
#pragma once

// Backoff and jitter policies: how long to wait before retry number n.
//
// Policies are aggregates whose maths is constexpr and saturating: no overflow at retry 10,000 or with
// a multiplier of 1.5, and a delay never exceeds the policy's cap. Randomness is injected (any
// std::uniform_random_bit_generator); splitmix64 is the default engine, seeded once per retrier.
// See docs/retries.md.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <type_traits>

namespace meetingbaas::inline v0 {

/// Why a policy's parameters are unusable: the offending field (a JSON-Pointer-like path such as
/// "/backoff/multiplier") and the broken rule. Empty `field` means "valid"; converts to true when invalid.
struct policy_violation {
    std::string_view field;
    std::string_view problem;

    constexpr explicit operator bool() const noexcept { return !field.empty(); }
};

namespace detail {

using ms = std::chrono::milliseconds;
inline constexpr ms ms_max = ms::max();

/// a + b, clamped to [ms::min(), ms::max()].
constexpr ms sat_add(ms a, ms b) noexcept
{
    const auto x = a.count();
    const auto y = b.count();
    using rep = ms::rep;
    if (y > 0 && x > std::numeric_limits<rep>::max() - y) return ms::max();
    if (y < 0 && x < std::numeric_limits<rep>::min() - y) return ms::min();
    return ms(x + y);
}

/// a - b, clamped.
constexpr ms sat_sub(ms a, ms b) noexcept
{
    if (b.count() == std::numeric_limits<ms::rep>::min()) return sat_add(sat_add(a, ms::max()), ms(1));
    return sat_add(a, ms(-b.count()));
}

/// d * f for d >= 0 and a finite f >= 0, clamped to [0, ms::max()]; truncates towards zero.
constexpr ms sat_mul(ms d, double f) noexcept
{
    if (d.count() <= 0 || !(f > 0.0)) return ms(0);
    const double x = static_cast<double>(d.count()) * f;
    // 2^63 is exactly representable; anything at or above it does not fit in the rep.
    if (!(x < 9223372036854775808.0)) return ms::max();
    return ms(static_cast<ms::rep>(x));
}

/// Converts any duration to milliseconds (rounding down), saturating instead of overflowing.
template <class Rep, class Period>
constexpr ms saturating_ms(std::chrono::duration<Rep, Period> d) noexcept
{
    using common = std::common_type_t<std::chrono::duration<Rep, Period>, ms>;
    if constexpr (std::is_floating_point_v<Rep>) {
        const double v = std::chrono::duration<double, std::milli>(d).count();
        if (!(v < 9223372036854775808.0)) return v != v ? ms(0) : ms::max();
        if (!(v > -9223372036854775808.0)) return ms::min();
        return ms(static_cast<ms::rep>(v));
    } else if constexpr (std::ratio_less_equal_v<Period, std::milli>) {
        return std::chrono::floor<ms>(d);  // finer unit: division only, cannot overflow
    } else {
        const auto limit = std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(ms::max());
        if (d >= limit) return ms::max();
        if (d <= -limit) return ms::min();
        return std::chrono::duration_cast<ms>(common(d));
    }
}

/// Converts milliseconds into a clock's duration, saturating (ms::max() into nanoseconds overflows).
template <class Duration>
constexpr Duration saturating_cast(ms d) noexcept
{
    using rep = typename Duration::rep;
    if constexpr (std::ratio_less_equal_v<std::milli, typename Duration::period>) {
        return std::chrono::floor<Duration>(d);
    } else {
        // Duration is finer: multiply, saturating.
        constexpr auto factor = std::ratio_divide<std::milli, typename Duration::period>::num /
                                std::ratio_divide<std::milli, typename Duration::period>::den;
        constexpr auto max_ms = std::numeric_limits<rep>::max() / factor;
        constexpr auto min_ms = std::numeric_limits<rep>::min() / factor;
        if (d.count() >= max_ms) return Duration::max();
        if (d.count() <= min_ms) return Duration::min();
        return Duration(static_cast<rep>(d.count()) * static_cast<rep>(factor));
    }
}

constexpr bool is_finite(double x) noexcept
{
    return x == x && x <= std::numeric_limits<double>::max() && x >= -std::numeric_limits<double>::max();
}

/// 64 uniform bits from an engine with a smaller range, via the standard distribution.
template <std::uniform_random_bit_generator G>
std::uint64_t random_u64_generic(G& gen)
{
    std::uniform_int_distribution<std::uint64_t> dist;
    return dist(gen);
}

/// 64 uniformly random bits from any uniform_random_bit_generator.
template <std::uniform_random_bit_generator G>
constexpr std::uint64_t random_u64(G& gen)
{
    if constexpr (G::min() == 0 && G::max() == std::numeric_limits<std::uint64_t>::max()) {
        return static_cast<std::uint64_t>(gen());
    } else {
        return random_u64_generic(gen);
    }
}

/// Uniform in [lo, hi] (inclusive), lo <= hi. Uses the top 53 bits of one 64-bit draw.
template <std::uniform_random_bit_generator G>
constexpr ms uniform_ms(G& gen, ms lo, ms hi)
{
    if (hi <= lo) return lo;
    const double unit = static_cast<double>(random_u64(gen) >> 11U) * 0x1.0p-53;  // [0, 1)
    const double span = static_cast<double>(hi.count() - lo.count()) + 1.0;
    const double offset = unit * span;
    const ms r = sat_add(lo, ms(static_cast<ms::rep>(offset < 9.2e18 ? offset : 9.2e18)));
    return r > hi ? hi : r;
}

}  // namespace detail

/// A small, fast, statistically solid 64-bit engine (Steele, Lea, Flood 2014). The default random
/// source of a retrier: each retrier owns one, seeded once, so there is no shared or global state.
class splitmix64 {
public:
    using result_type = std::uint64_t;

    /// Seeds from std::random_device (once; no heap allocation), so that clients started together
    /// do not draw the same jitter.
    splitmix64() : state_(entropy_seed()) {}
    constexpr explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    constexpr result_type operator()() noexcept
    {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }

private:
    static std::uint64_t entropy_seed()
    {
        std::random_device rd;
        const auto hi = static_cast<std::uint64_t>(rd());
        const auto lo = static_cast<std::uint64_t>(rd());
        // Mix in the clock too: some random_device implementations are deterministic.
        const auto t =
            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        return (hi << 32U) ^ lo ^ (t * 0x9E3779B97F4A7C15ULL);
    }

    std::uint64_t state_;
};
static_assert(std::uniform_random_bit_generator<splitmix64>);

/// The same delay before every retry.
struct constant_backoff {
    std::chrono::milliseconds interval{1000};

    /// Delay before retry number `retry` (0 = the first retry).
    constexpr std::chrono::milliseconds delay(std::uint32_t /*retry*/) const noexcept { return interval; }
    constexpr std::chrono::milliseconds base() const noexcept { return interval; }
    constexpr std::chrono::milliseconds cap() const noexcept { return interval; }
    constexpr policy_violation check() const noexcept
    {
        if (interval.count() < 0) return {"/backoff/interval", "must not be negative"};
        return {};
    }
};

/// initial, initial + increment, initial + 2 * increment, ..., capped at maximum.
struct linear_backoff {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds increment{100};
    std::chrono::milliseconds maximum{std::chrono::seconds(30)};

    constexpr std::chrono::milliseconds delay(std::uint32_t retry) const noexcept
    {
        if (increment.count() == 0 || retry == 0) return initial < maximum ? initial : maximum;
        const auto room = detail::sat_sub(maximum, initial).count();
        if (room <= 0) return maximum;
        if (static_cast<std::uint64_t>(retry) > static_cast<std::uint64_t>(room / increment.count()))
            return maximum;
        return initial + increment * static_cast<std::int64_t>(retry);
    }
    constexpr std::chrono::milliseconds base() const noexcept { return initial; }
    constexpr std::chrono::milliseconds cap() const noexcept { return maximum; }
    constexpr policy_violation check() const noexcept
    {
        if (initial.count() < 0) return {"/backoff/initial", "must not be negative"};
        if (increment.count() < 0) return {"/backoff/increment", "must not be negative"};
        if (maximum < initial) return {"/backoff/maximum", "must be at least initial"};
        return {};
    }
};

/// initial * multiplier^n, capped at maximum. The multiplier may be fractional (1.5); it is applied in
/// floating point with saturation, so attempt 10,000 yields `maximum`, not an overflow.
struct exponential_backoff {
    std::chrono::milliseconds initial{100};
    double multiplier = 2.0;
    std::chrono::milliseconds maximum{std::chrono::seconds(30)};

    constexpr std::chrono::milliseconds delay(std::uint32_t retry) const noexcept
    {
        if (initial >= maximum) return maximum;
        if (initial.count() <= 0) return std::chrono::milliseconds(0);
        // initial * multiplier^retry by squaring, O(log retry), stopping as soon as the cap is reached.
        // Every product stays below cap * multiplier <= 2^63 * 1000, so nothing overflows to inf, and
        // no division is needed (this runs once per decision).
        const double base = static_cast<double>(initial.count());
        const double cap_d = static_cast<double>(maximum.count());
        double d = base;
        double b = multiplier;
        std::uint32_t e = retry;
        while (e != 0) {
            if ((e & 1U) != 0) {
                d *= b;
                if (d >= cap_d) return maximum;
            }
            e >>= 1U;
            if (e != 0) {
                if (base * b >= cap_d) return maximum;  // d * b^k >= base * b for the remaining bits
                b *= b;
            }
        }
        return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(d));
    }
    constexpr std::chrono::milliseconds base() const noexcept { return initial; }
    constexpr std::chrono::milliseconds cap() const noexcept { return maximum; }
    constexpr policy_violation check() const noexcept
    {
        if (initial.count() <= 0) return {"/backoff/initial", "must be positive"};
        if (!detail::is_finite(multiplier) || multiplier < 1.0)
            return {"/backoff/multiplier", "must be finite and >= 1"};
        if (multiplier > 1000.0) return {"/backoff/multiplier", "must be at most 1000"};
        if (maximum < initial) return {"/backoff/maximum", "must be at least initial"};
        return {};
    }
};

/// What a backoff policy provides: a capped delay per retry number, a base and a cap (used by
/// decorrelated jitter), and a parameter check. Users may write their own.
template <class B>
concept backoff_policy = std::copyable<B> && requires(const B& b, std::uint32_t n) {
    { b.delay(n) } -> std::same_as<std::chrono::milliseconds>;
    { b.base() } -> std::same_as<std::chrono::milliseconds>;
    { b.cap() } -> std::same_as<std::chrono::milliseconds>;
    { b.check() } -> std::same_as<policy_violation>;
};

static_assert(backoff_policy<constant_backoff> && backoff_policy<linear_backoff> &&
              backoff_policy<exponential_backoff>);

/// Jitter families (AWS Architecture Blog, "Exponential Backoff And Jitter"; plus a +/- factor).
enum class jitter_kind : std::uint8_t {
    none,          ///< the computed delay d
    full,          ///< uniform in [0, d]
    equal,         ///< d/2 + uniform in [0, d/2]
    decorrelated,  ///< min(cap, uniform in [base, 3 * previous]); previous starts at base; ignores d
    proportional,  ///< d * uniform in [1 - factor, 1 + factor], clamped to the cap
};

constexpr std::string_view to_string(jitter_kind k) noexcept
{
    switch (k) {
        case jitter_kind::none: return "none";
        case jitter_kind::full: return "full";
        case jitter_kind::equal: return "equal";
        case jitter_kind::decorrelated: return "decorrelated";
        case jitter_kind::proportional: return "proportional";
    }
    return "unknown";
}

/// A jitter choice. `factor` is only used by jitter_kind::proportional and must be in (0, 1].
struct jitter_policy {
    jitter_kind kind = jitter_kind::full;
    double factor = 0.0;

    constexpr policy_violation check() const noexcept
    {
        if (kind == jitter_kind::proportional &&
            (!detail::is_finite(factor) || !(factor > 0.0) || factor > 1.0)) {
            return {"/jitter/factor", "must be in (0, 1] for proportional jitter"};
        }
        return {};
    }

    /// The jittered delay. `computed` is the backoff's capped delay for this retry, `previous` the
    /// previous jittered delay (zero before the first retry). The result never exceeds `cap` (when
    /// computed <= cap) and is never negative.
    template <std::uniform_random_bit_generator G>
    [[gnu::always_inline]] constexpr std::chrono::milliseconds
    apply(std::chrono::milliseconds computed, std::chrono::milliseconds base, std::chrono::milliseconds cap,
          std::chrono::milliseconds previous, G& gen) const
    {
        using std::chrono::milliseconds;
        if (computed.count() < 0) computed = milliseconds(0);
        switch (kind) {
            case jitter_kind::none: return computed;
            case jitter_kind::full: return detail::uniform_ms(gen, milliseconds(0), computed);
            case jitter_kind::equal: {
                const milliseconds half = computed / 2;
                return detail::sat_add(computed - half, detail::uniform_ms(gen, milliseconds(0), half));
            }
            case jitter_kind::decorrelated: {
                const milliseconds lo = base.count() < 0 ? milliseconds(0) : base;
                const milliseconds prev = previous < lo ? lo : previous;
                const milliseconds tripled = detail::sat_mul(prev, 3.0);
                const milliseconds d = detail::uniform_ms(gen, lo, tripled < lo ? lo : tripled);
                return d < cap ? d : cap;
            }
            case jitter_kind::proportional: {
                const double f = factor;
                const double unit = static_cast<double>(detail::random_u64(gen) >> 11U) * 0x1.0p-53;
                const milliseconds d = detail::sat_mul(computed, (1.0 - f) + 2.0 * f * unit);
                const milliseconds limit = computed > cap ? computed : cap;
                return d < limit ? d : limit;
            }
        }
        return computed;
    }
};

inline constexpr jitter_policy no_jitter{jitter_kind::none, 0.0};
inline constexpr jitter_policy full_jitter{jitter_kind::full, 0.0};
inline constexpr jitter_policy equal_jitter{jitter_kind::equal, 0.0};
inline constexpr jitter_policy decorrelated_jitter{jitter_kind::decorrelated, 0.0};
/// d * uniform in [1 - factor, 1 + factor]; e.g. plus_minus(0.25) is Polly's +/- 25 %.
constexpr jitter_policy plus_minus(double factor) noexcept
{
    return {jitter_kind::proportional, factor};
}

}  // namespace meetingbaas::inline v0
