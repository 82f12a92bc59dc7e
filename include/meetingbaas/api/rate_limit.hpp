// SPDX-License-Identifier: MIT
#pragma once

// One write-rate limit shared by every worker of every instance. Meeting BaaS v2 limits POST, PATCH and
// DELETE per team and per second (5/s on the lowest plan, spec section 4.3); GET is not limited. N replicas
// that each retry on 429 make storms, so all of them draw from one bucket before a write:
//  * write_rate_limiter: the concept (try_acquire a permit; feed back what the API's headers said);
//  * token_bucket_limiter: in process (memory or SQLite deployments: one instance);
//  * redis_rate_limiter (adapters/redis/rate_limiter.hpp): one bucket on the Redis server, for replicas;
//  * rate_limited_client: an http_client decorator that waits for a permit before every write, with a
//    stop-aware sleep, and feeds the response headers back.
// The limiters run the generic cell rate algorithm (GCRA): one "theoretical arrival time" per bucket; a
// permit is granted when it is at most (burst - 1) intervals ahead of now. See docs/scale-out.md.

#include <meetingbaas/api/http.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/retry/retry_after.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// The answer of a limiter: a permit now, or how long to wait before asking again.
struct rate_permit {
    bool granted = false;
    std::chrono::milliseconds retry_in{0};  ///< when not granted: the earliest time a permit may be granted
};

/// What the API said about its limit in one response (read_rate_limit_feedback() builds it).
struct rate_limit_feedback {
    int status = 0;                                          ///< HTTP status of the response
    std::optional<std::uint32_t> limit{};                    ///< x-ratelimit-limit: writes per second
    std::optional<std::uint32_t> remaining{};                ///< x-ratelimit-remaining
    std::optional<std::chrono::milliseconds> reset_in{};     ///< x-ratelimit-reset, as a delay from now
    std::optional<std::chrono::milliseconds> retry_after{};  ///< Retry-After
    bool daily_cap = false;  ///< a 429 FST_ERR_DAILY_BOT_CAP_REACHED: a quota, not a rate signal
};

/// Requirement of write_rate_limiter: `l.try_acquire()` -> result<rate_permit> (errors: the backend's).
template <class L>
concept can_acquire_permit = requires(L& l) {
    { l.try_acquire() } -> std::same_as<result<rate_permit>>;
};

/// Requirement of write_rate_limiter: `l.feedback(f)` -> void (best effort: it never fails the caller).
template <class L>
concept can_take_feedback = requires(L& l, const rate_limit_feedback& f) {
    { l.feedback(f) } -> std::same_as<void>;
};

/// A limiter shared by all writers. Requirements:
///   1. try_acquire() -> result<rate_permit>: takes one permit when one is free, never blocks;
///   2. feedback(const rate_limit_feedback&) -> void: slows down when the server says so (a 429, no
///      writes remaining, a lower limit than configured);
///   3. thread safety: both may be called concurrently.
template <class L>
concept write_rate_limiter = can_acquire_permit<L> && can_take_feedback<L>;

/// The rate and how to react to feedback. Defaults: 5 writes per second, evenly spaced.
struct rate_limit_options {
    double per_second = 5.0;  ///< permits per second, > 0 (MEETINGBAAS_API_WRITE_RATE)
    /// Permits that may be taken at once after a quiet period. 1 spaces writes evenly (1 / per_second
    /// apart), so no one-second window ever holds more than per_second of them.
    std::uint32_t burst = 1;
    std::chrono::milliseconds throttle_hold{1'000};  ///< pause after a 429 that did not say how long
    std::chrono::milliseconds max_hold{60'000};      ///< longest pause a response can impose
    /// How long a limit reported by x-ratelimit-limit (lower than per_second) keeps applying after the last
    /// response that reported it.
    std::chrono::milliseconds limit_memory{std::chrono::minutes(10)};
};

/// Checks the options. Errors: errc::invalid_argument (per_second not in (0, 1e6], burst 0 or over 1e6,
/// negative durations).
[[nodiscard]] inline result<void> validate(const rate_limit_options& o)
{
    if (!(o.per_second > 0.0) || !(o.per_second <= 1e6)) {
        return error{errc::invalid_argument, "rate_limit_options.per_second", "must be in (0, 1000000]"};
    }
    if (o.burst == 0 || o.burst > 1'000'000) {
        return error{errc::invalid_argument, "rate_limit_options.burst", "must be in [1, 1000000]"};
    }
    if (o.throttle_hold.count() < 0 || o.max_hold.count() < 0 || o.limit_memory.count() < 0) {
        return error{errc::invalid_argument, "rate_limit_options", "durations must not be negative"};
    }
    return {};
}

/// What a limiter does with one feedback: pause every writer for `hold`, and/or lower the rate to
/// `limit_per_second` (when below the configured rate) for limit_memory.
struct rate_limit_adjustment {
    std::optional<std::chrono::milliseconds> hold{};
    std::optional<std::uint32_t> limit_per_second{};
};

/// The adjustment for `f`: a 429 holds for Retry-After (else x-ratelimit-reset, else throttle_hold);
/// "0 remaining" holds until the reset; a reported limit caps the rate. Every hold is capped at max_hold.
/// A daily-cap 429 changes nothing (it is a quota on bot creation, not a rate).
[[nodiscard]] inline rate_limit_adjustment plan_adjustment(const rate_limit_feedback& f,
                                                           const rate_limit_options& o) noexcept
{
    rate_limit_adjustment a;
    if (f.daily_cap) return a;
    if (f.status == 429) {
        a.hold = f.retry_after ? *f.retry_after : f.reset_in ? *f.reset_in : o.throttle_hold;
    } else if (f.remaining && *f.remaining == 0 && f.reset_in) {
        a.hold = *f.reset_in;
    }
    if (a.hold) a.hold = std::clamp(*a.hold, std::chrono::milliseconds::zero(), o.max_hold);
    if (f.limit && *f.limit > 0) a.limit_per_second = f.limit;
    return a;
}

namespace detail {

/// Leading unsigned integer of a header value ("5", " 5;w=1", "5, 10"), saturating at 2^32 - 1.
inline std::optional<std::uint32_t> leading_count(std::string_view v) noexcept
{
    std::size_t i = 0;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    const std::size_t start = i;
    std::uint64_t n = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
        n = std::min<std::uint64_t>(n * 10 + static_cast<std::uint64_t>(v[i] - '0'), 0xFFFF'FFFFULL);
        ++i;
    }
    if (i == start) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

/// x-ratelimit-reset: delta seconds ("1", "0.25") or, when at least 10^9, a Unix time in seconds.
inline std::optional<std::chrono::milliseconds> reset_delay(std::string_view v,
                                                            std::chrono::sys_seconds now) noexcept
{
    std::size_t i = 0;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    const std::size_t start = i;
    std::uint64_t whole = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
        whole = std::min<std::uint64_t>(whole * 10 + static_cast<std::uint64_t>(v[i] - '0'), 1ULL << 40);
        ++i;
    }
    if (i == start) return std::nullopt;
    std::uint64_t frac_ms = 0;
    if (i < v.size() && v[i] == '.') {
        ++i;
        std::uint64_t scale = 100;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
            frac_ms += static_cast<std::uint64_t>(v[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
    }
    if (whole >= 1'000'000'000ULL) {
        const auto at = static_cast<std::int64_t>(whole);
        const auto delta = at - now.time_since_epoch().count();
        return std::chrono::milliseconds(std::max<std::int64_t>(delta, 0) * 1000);
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(whole * 1000 + frac_ms));
}

}  // namespace detail

/// Reads the rate-limit headers of a response: x-ratelimit-limit, x-ratelimit-remaining,
/// x-ratelimit-reset (delta seconds, or a Unix time when >= 10^9) and Retry-After (seconds or an
/// HTTP-date, relative to `now`). Malformed values are ignored (left empty). Never throws.
[[nodiscard]] inline rate_limit_feedback read_rate_limit_feedback(const http_response& r,
                                                                  std::chrono::sys_seconds now)
{
    rate_limit_feedback f;
    f.status = r.status;
    if (const auto v = r.headers.find("x-ratelimit-limit")) f.limit = detail::leading_count(*v);
    if (const auto v = r.headers.find("x-ratelimit-remaining")) f.remaining = detail::leading_count(*v);
    if (const auto v = r.headers.find("x-ratelimit-reset")) f.reset_in = detail::reset_delay(*v, now);
    if (const auto v = r.headers.find("Retry-After")) {
        if (auto d = parse_retry_after(*v, now)) f.retry_after = *d;
    }
    f.daily_cap = r.status == 429 && r.body.find("FST_ERR_DAILY_BOT_CAP_REACHED") != std::string::npos;
    return f;
}

/// The same, with `now` from std::chrono::system_clock.
[[nodiscard]] inline rate_limit_feedback read_rate_limit_feedback(const http_response& r)
{
    return read_rate_limit_feedback(
        r, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

namespace detail {

/// The emission interval of `per_second` in whole microseconds, rounded up: n intervals never fit in less
/// than n / per_second seconds, so no one-second window holds more than per_second permits.
inline std::int64_t interval_us(double per_second) noexcept
{
    return std::max<std::int64_t>(static_cast<std::int64_t>(std::ceil(1e6 / per_second)), 1);
}

/// The GCRA state of one bucket, in microseconds of some clock. Not synchronized.
class gcra_state {
public:
    explicit gcra_state(const rate_limit_options& o) noexcept
        : interval_us_(interval_us(o.per_second)), burst_(o.burst),
          limit_memory_us_(o.limit_memory.count() * 1000)
    {}

    /// One decision at `now_us`.
    rate_permit acquire(std::int64_t now_us) noexcept
    {
        if (hold_until_ > now_us) return deny(hold_until_ - now_us);
        const std::int64_t interval = effective_interval(now_us);
        const std::int64_t tat = std::max(tat_, now_us);
        const std::int64_t tau = static_cast<std::int64_t>(burst_ - 1) * interval;
        if (tat - now_us > tau) return deny(tat - now_us - tau);
        tat_ = tat + interval;
        return rate_permit{true, std::chrono::milliseconds::zero()};
    }

    void adjust(const rate_limit_adjustment& a, std::int64_t now_us) noexcept
    {
        if (a.hold) hold_until_ = std::max(hold_until_, now_us + a.hold->count() * 1000);
        if (a.limit_per_second) {
            const auto per_second = static_cast<std::int64_t>(*a.limit_per_second);
            lowered_interval_us_ = (1'000'000 + per_second - 1) / per_second;
            lowered_until_ = now_us + limit_memory_us_;
        }
    }

    [[nodiscard]] std::int64_t effective_interval(std::int64_t now_us) const noexcept
    {
        return lowered_until_ > now_us ? std::max(interval_us_, lowered_interval_us_) : interval_us_;
    }

private:
    static rate_permit deny(std::int64_t us) noexcept
    {
        return rate_permit{false, std::chrono::milliseconds(std::max<std::int64_t>((us + 999) / 1000, 1))};
    }

    std::int64_t interval_us_;
    std::uint32_t burst_;
    std::int64_t limit_memory_us_;
    std::int64_t tat_ = 0;
    std::int64_t hold_until_ = 0;
    std::int64_t lowered_interval_us_ = 0;
    std::int64_t lowered_until_ = 0;
};

}  // namespace detail

/// An in-process write_rate_limiter: one bucket behind a mutex, on a steady clock (injectable for tests:
/// anything with now() returning a time_point). Share one per process (by reference) among all writers.
template <class Clock = std::chrono::steady_clock>
class token_bucket_limiter {
public:
    /// Errors: errc::invalid_argument when validate(options) fails.
    [[nodiscard]] static result<token_bucket_limiter> create(rate_limit_options options = {},
                                                             Clock clock = Clock{})
    {
        if (auto ok = validate(options); !ok) return std::move(ok).error();
        return token_bucket_limiter(options, std::move(clock));
    }

    result<rate_permit> try_acquire()
    {
        const auto now = now_us();
        const std::lock_guard lock(s_->mutex);
        return s_->bucket.acquire(now);
    }

    void feedback(const rate_limit_feedback& f)
    {
        const auto a = plan_adjustment(f, s_->options);
        if (!a.hold && !a.limit_per_second) return;
        const auto now = now_us();
        const std::lock_guard lock(s_->mutex);
        s_->bucket.adjust(a, now);
    }

    [[nodiscard]] const rate_limit_options& options() const noexcept { return s_->options; }

private:
    struct state {
        explicit state(const rate_limit_options& o) : options(o), bucket(o) {}
        rate_limit_options options;
        std::mutex mutex;
        detail::gcra_state bucket;
    };

    token_bucket_limiter(const rate_limit_options& options, Clock clock)
        : s_(std::make_unique<state>(options)), clock_(std::move(clock))
    {}

    [[nodiscard]] std::int64_t now_us() const
    {
        return static_cast<std::int64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock_.now().time_since_epoch()).count());
    }

    std::unique_ptr<state> s_;
    [[no_unique_address]] Clock clock_;
};

static_assert(write_rate_limiter<token_bucket_limiter<>>);

// ---------------------------------------------------------------------------------------------------------
// The http_client decorator

/// A sleeper that a stop request interrupts: `s(d, stop)` waits `d` or until stop is requested, and
/// returns false when stopped.
template <class S>
concept interruptible_sleeper = requires(S& s, std::chrono::milliseconds d, const std::stop_token& stop) {
    { s(d, stop) } -> std::same_as<bool>;
};

/// The default interruptible_sleeper: a condition variable that the stop token wakes (no busy wait).
struct stop_token_sleeper {
    bool operator()(std::chrono::milliseconds d, const std::stop_token& stop) const
    {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, d, [] { return false; });
        return !stop.stop_requested();
    }
};

/// True for the methods the write limit applies to: POST, PUT, PATCH and DELETE (GET and HEAD are free).
constexpr bool is_rate_limited_method(http_method m) noexcept
{
    return m == http_method::post || m == http_method::put || m == http_method::patch ||
           m == http_method::delete_;
}

/// Options of rate_limited_client.
struct rate_limited_options {
    /// Longest wait for one request's permit; past it the request fails without being sent
    /// (transport_errc::timed_out, may_have_been_sent = false), and the api_client's retry policy decides.
    std::chrono::milliseconds max_wait{std::chrono::minutes(2)};
    /// When the limiter itself fails (e.g. Redis unreachable): false (default) fails the write without
    /// sending it, so the shared limit is never exceeded; true sends it anyway.
    bool fail_open = false;
};

/// An http_client that takes a permit from a shared write_rate_limiter before every write, waiting with
/// an interruptible sleep, and feeds each write's response headers back to the limiter. GET and HEAD pass
/// straight through. Holds the inner client by value (or by reference: rate_limited_client<my_client&, ...>)
/// and the limiter by reference: the limiter must outlive it. Like the clients it wraps, one object per
/// thread; the limiter is what all threads and instances share.
template <http_client Client, write_rate_limiter Limiter, interruptible_sleeper Sleeper = stop_token_sleeper>
class rate_limited_client {
public:
    rate_limited_client(Client client, Limiter& limiter, std::stop_token stop = {},
                        rate_limited_options options = {}, Sleeper sleeper = Sleeper{})
        : client_(std::forward<Client>(client)), limiter_(&limiter), stop_(std::move(stop)),
          options_(options), sleep_(std::move(sleeper))
    {}

    http_result send(const http_request& request)
    {
        const bool limited = is_rate_limited_method(request.method);
        if (limited) {
            std::chrono::milliseconds waited{0};
            for (;;) {
                auto permit = limiter_->try_acquire();
                if (!permit) {
                    if (options_.fail_open) break;
                    return transport_error{transport_errc::other, false,
                                           "write-rate limiter unavailable: " + to_string(permit.error())};
                }
                if (permit->granted) break;
                const auto d = std::max(permit->retry_in, std::chrono::milliseconds(1));
                if (waited + d > options_.max_wait) {
                    return transport_error{transport_errc::timed_out, false,
                                           "no write permit within " +
                                               std::to_string(options_.max_wait.count()) +
                                               " ms (shared write-rate limit)"};
                }
                if (!sleep_(d, stop_)) {
                    return transport_error{transport_errc::other, false,
                                           "cancelled while waiting for a write permit"};
                }
                waited += d;
                waited_total_ += d;
            }
        }
        auto response = client_.send(request);
        if (limited && response) limiter_->feedback(read_rate_limit_feedback(*response));
        return response;
    }

    [[nodiscard]] std::remove_reference_t<Client>& inner() noexcept { return client_; }
    [[nodiscard]] Limiter& limiter() noexcept { return *limiter_; }
    /// Total time this client waited for permits.
    [[nodiscard]] std::chrono::milliseconds waited() const noexcept { return waited_total_; }

private:
    Client client_;
    Limiter* limiter_;
    std::stop_token stop_;
    rate_limited_options options_;
    [[no_unique_address]] Sleeper sleep_;
    std::chrono::milliseconds waited_total_{0};
};

}  // namespace meetingbaas::inline v0
