// SPDX-License-Identifier: MIT
#pragma once

// Retry with backoff: classification, idempotency gating, stop conditions, server pushback, retry
// budgets and deadlines, driven either by a blocking loop (retry) or step by step (retrier) from an
// event loop, a coroutine or a job queue.
//
// Three concerns stay apart (google-cloud-cpp's split, as values): *whether* a failure may be retried
// (a classifier plus idempotency), *how long* to wait (backoff + jitter + Retry-After), and *when to
// stop* (attempts, elapsed time, deadline, budget). Clock, sleeper, random source and observability
// hooks are template parameters with defaults; nothing here allocates, throws or uses global state.
// See docs/retries.md.

#include <meetingbaas/core/assert.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/retry/backoff.hpp>
#include <meetingbaas/retry/budget.hpp>
#include <meetingbaas/retry/retry_after.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace meetingbaas::inline v0 {

// ---------------------------------------------------------------------------------------------------
// What happened: the input of a decision, independent of any HTTP library.

/// How an attempt ended, as far as retrying is concerned.
enum class outcome_kind : std::uint8_t {
    success,               ///< the operation succeeded (non-HTTP operations)
    transport_not_sent,    ///< failed before any byte of the request left (DNS, connect refused, TLS setup)
    transport_maybe_sent,  ///< failed after the request may have reached the server (timeout, reset)
    http_status,           ///< the server answered; `status` says how
};

constexpr std::string_view to_string(outcome_kind k) noexcept
{
    switch (k) {
        case outcome_kind::success: return "success";
        case outcome_kind::transport_not_sent: return "transport_not_sent";
        case outcome_kind::transport_maybe_sent: return "transport_maybe_sent";
        case outcome_kind::http_status: return "http_status";
    }
    return "unknown";
}

/// The outcome of one attempt. An HTTP client adapter fills it from its response: status, the server's
/// pushback (Retry-After header and v2 body `retryAfter`, already combined; see retry_after.hpp) and the
/// v2 error body's `code`. `api_code` is a view: it must stay valid until the decision is made.
struct attempt_outcome {
    outcome_kind kind = outcome_kind::success;
    int status = 0;
    std::optional<std::chrono::milliseconds> retry_after{};
    std::string_view api_code{};

    static constexpr attempt_outcome succeeded() noexcept { return {}; }
    static constexpr attempt_outcome not_sent() noexcept
    {
        return {outcome_kind::transport_not_sent, 0, {}, {}};
    }
    static constexpr attempt_outcome maybe_sent() noexcept
    {
        return {outcome_kind::transport_maybe_sent, 0, {}, {}};
    }
    static constexpr attempt_outcome http(int status_code,
                                          std::optional<std::chrono::milliseconds> pushback = {},
                                          std::string_view code = {}) noexcept
    {
        return {outcome_kind::http_status, status_code, pushback, code};
    }
};

/// What a classifier concludes about an outcome.
enum class failure_class : std::uint8_t {
    success,    ///< done; do not retry
    transient,  ///< may succeed if repeated (timeouts, 5xx)
    throttled,  ///< the server asked us to slow down (429, 503); honour its pushback
    permanent,  ///< repeating cannot help (other 4xx, 501, 505, a daily quota)
};

constexpr std::string_view to_string(failure_class c) noexcept
{
    switch (c) {
        case failure_class::success: return "success";
        case failure_class::transient: return "transient";
        case failure_class::throttled: return "throttled";
        case failure_class::permanent: return "permanent";
    }
    return "unknown";
}

constexpr bool is_retryable(failure_class c) noexcept
{
    return c == failure_class::transient || c == failure_class::throttled;
}

/// The default status classification (spec section 4.3): 1xx-3xx succeed; 408, 425, 500, 502, 504 are
/// transient; 429 and 503 are throttling; everything else (other 4xx, 501, 505, unknown 5xx, nonsense
/// below 100 or above 599) is permanent.
constexpr failure_class classify_http_status(int status) noexcept
{
    if (status >= 100 && status < 400) return failure_class::success;
    switch (status) {
        case 408:
        case 425:
        case 500:
        case 502:
        case 504: return failure_class::transient;
        case 429:
        case 503: return failure_class::throttled;
        default: return failure_class::permanent;
    }
}

/// API error codes that are final even on a retryable status. FST_ERR_DAILY_BOT_CAP_REACHED is a 429
/// for a rolling 24 h quota: retrying within seconds cannot succeed (spec section 4.3).
inline constexpr std::array<std::string_view, 1> meetingbaas_final_codes{"FST_ERR_DAILY_BOT_CAP_REACHED"};

/// The default classifier: transport errors are transient, statuses follow classify_http_status, and an
/// outcome whose `api_code` is in `final_codes` is permanent. Replace it with any callable
/// `failure_class(const attempt_outcome&)`, or extend it by wrapping it (see docs/retries.md).
struct http_classifier {
    std::span<const std::string_view> final_codes = meetingbaas_final_codes;

    constexpr failure_class operator()(const attempt_outcome& o) const noexcept
    {
        switch (o.kind) {
            case outcome_kind::success: return failure_class::success;
            case outcome_kind::transport_not_sent:
            case outcome_kind::transport_maybe_sent: return failure_class::transient;
            case outcome_kind::http_status: break;
        }
        const failure_class c = classify_http_status(o.status);
        if (c != failure_class::success && !o.api_code.empty()) {
            for (const std::string_view code : final_codes) {
                if (code == o.api_code) return failure_class::permanent;
            }
        }
        return c;
    }
};

/// A classifier: maps an attempt_outcome to a failure_class.
template <class C>
concept retry_classifier = std::invocable<C&, const attempt_outcome&> &&
                           std::same_as<std::invoke_result_t<C&, const attempt_outcome&>, failure_class>;
static_assert(retry_classifier<http_classifier>);

/// Whether repeating the request is harmless. GET, PUT, DELETE and requests carrying an idempotency key
/// are idempotent; declare a POST idempotent when the server deduplicates it (e.g. v1 schedule, which
/// overwrites; a deduplication_key).
enum class idempotency : std::uint8_t { idempotent, non_idempotent };

/// A retry is safe for idempotent requests, and for any request whose failure proves it was not sent.
constexpr bool retry_is_safe(const attempt_outcome& o, idempotency i) noexcept
{
    return i == idempotency::idempotent || o.kind == outcome_kind::transport_not_sent;
}

// ---------------------------------------------------------------------------------------------------
// When to stop.

inline constexpr std::uint32_t unlimited_attempts = std::numeric_limits<std::uint32_t>::max();

/// Per-call limits: total attempts (the first one included) and time since the first attempt started.
/// Both apply ("any of"): combine with `|`, which keeps the stricter value of each. Unset fields mean
/// "no limit", and a policy must have at least one: a policy that could retry forever is rejected.
/// (A per-call deadline is given when the call starts: see call_options.)
struct stop_policy {
    std::uint32_t max_attempts = unlimited_attempts;
    std::chrono::milliseconds max_elapsed = std::chrono::milliseconds::max();

    constexpr policy_violation check() const noexcept
    {
        if (max_attempts == 0) return {"/stop/max_attempts", "must be at least 1"};
        if (max_elapsed.count() <= 0) return {"/stop/max_elapsed", "must be positive"};
        if (max_attempts == unlimited_attempts && max_elapsed == std::chrono::milliseconds::max()) {
            return {"/stop", "needs max_attempts or max_elapsed: this policy would retry forever"};
        }
        return {};
    }

    /// "Stop when any of these stops": the stricter of each limit.
    friend constexpr stop_policy operator|(stop_policy a, stop_policy b) noexcept
    {
        return {a.max_attempts < b.max_attempts ? a.max_attempts : b.max_attempts,
                a.max_elapsed < b.max_elapsed ? a.max_elapsed : b.max_elapsed};
    }
    friend constexpr bool operator==(const stop_policy&, const stop_policy&) = default;
};

/// At most n attempts in total (n - 1 retries), with no time limit of its own.
constexpr stop_policy stop_after_attempts(std::uint32_t n) noexcept
{
    return {n, std::chrono::milliseconds::max()};
}
/// No retry starts later than d after the first attempt started, with no attempt cap of its own.
constexpr stop_policy stop_after_elapsed(std::chrono::milliseconds d) noexcept
{
    return {unlimited_attempts, d};
}

// ---------------------------------------------------------------------------------------------------
// The policy.

/// A complete retry policy: a plain aggregate, usable as a constexpr constant. Validate it with
/// checked() (compile time) or validated() (run time).
template <backoff_policy Backoff = exponential_backoff>
struct retry_policy {
    using backoff_type = Backoff;

    Backoff backoff{};
    jitter_policy jitter = full_jitter;
    stop_policy stop = stop_after_attempts(5);
    /// Server pushback (Retry-After) is a floor on the delay, but never more than this: a server that
    /// says "come back in a day" gets this long at most (and the deadline check still applies).
    std::chrono::milliseconds max_retry_after{std::chrono::minutes(1)};
    /// Time one attempt needs. A retry is only scheduled if its delay plus this fits before the
    /// deadline and the elapsed limit; an attempt only starts if this fits.
    std::chrono::milliseconds attempt_reserve{0};

    constexpr policy_violation check() const noexcept
    {
        if (const auto v = backoff.check()) return v;
        if (const auto v = jitter.check()) return v;
        if (const auto v = stop.check()) return v;
        if (jitter.kind == jitter_kind::decorrelated && backoff.base().count() <= 0) {
            return {"/jitter/kind", "decorrelated jitter needs a positive backoff base"};
        }
        if (max_retry_after.count() < 0) return {"/max_retry_after", "must not be negative"};
        if (attempt_reserve.count() < 0) return {"/attempt_reserve", "must not be negative"};
        return {};
    }
};

namespace detail {
// Deliberately not constexpr: reaching it during constant evaluation makes checked() ill-formed, and
// the compiler's message names this function.
inline void invalid_retry_policy_parameter(std::string_view /*field*/, std::string_view /*problem*/) noexcept
{}
}  // namespace detail

/// Returns `p` when its parameters are valid; otherwise the program does not compile (the diagnostic
/// names detail::invalid_retry_policy_parameter). Works for any type with `check()`.
template <class P>
consteval P checked(P p)
{
    if (const auto v = p.check()) detail::invalid_retry_policy_parameter(v.field, v.problem);
    return p;
}

/// Returns `p`, or errc::invalid_argument with where = the offending field and the broken rule.
template <class P>
result<P> validated(P p)
{
    if (const auto v = p.check())
        return error{errc::invalid_argument, std::string(v.field), std::string(v.problem)};
    return p;
}

// ---------------------------------------------------------------------------------------------------
// Decisions and observability.

/// Where a delay came from.
enum class delay_source : std::uint8_t {
    none,         ///< no delay (stop without a computed delay)
    backoff,      ///< the backoff policy with jitter
    retry_after,  ///< the server's pushback, which was longer than the backoff
    budget,       ///< (on a stop) the retry budget refused the retry
    deadline,     ///< (on a stop) the delay would cross the deadline or the elapsed limit
};

constexpr std::string_view to_string(delay_source s) noexcept
{
    switch (s) {
        case delay_source::none: return "none";
        case delay_source::backoff: return "backoff";
        case delay_source::retry_after: return "retry_after";
        case delay_source::budget: return "budget";
        case delay_source::deadline: return "deadline";
    }
    return "unknown";
}

/// Why the retrier stopped.
enum class stop_reason : std::uint8_t {
    none,                ///< not stopped (the decision is "retry")
    succeeded,           ///< the attempt succeeded
    permanent_failure,   ///< the classifier said retrying cannot help
    not_idempotent,      ///< retryable, but the request is not idempotent and may have been sent
    attempts_exhausted,  ///< stop_policy::max_attempts reached
    elapsed_exhausted,   ///< the next attempt could not start (or finish its reserve) within max_elapsed
    deadline_exceeded,   ///< the next attempt could not start (or finish its reserve) before the deadline
    budget_exhausted,    ///< the shared retry budget denied the retry
};

constexpr std::string_view to_string(stop_reason r) noexcept
{
    switch (r) {
        case stop_reason::none: return "none";
        case stop_reason::succeeded: return "succeeded";
        case stop_reason::permanent_failure: return "permanent_failure";
        case stop_reason::not_idempotent: return "not_idempotent";
        case stop_reason::attempts_exhausted: return "attempts_exhausted";
        case stop_reason::elapsed_exhausted: return "elapsed_exhausted";
        case stop_reason::deadline_exceeded: return "deadline_exceeded";
        case stop_reason::budget_exhausted: return "budget_exhausted";
    }
    return "unknown";
}

/// The library error code for giving up: deadline_exceeded, budget_exhausted, or retries_exhausted for
/// attempts/elapsed/not_idempotent. For succeeded, permanent_failure and none there is no retry error
/// (report the attempt's own error): errc{} (0).
constexpr errc to_errc(stop_reason r) noexcept
{
    switch (r) {
        case stop_reason::deadline_exceeded: return errc::deadline_exceeded;
        case stop_reason::budget_exhausted: return errc::budget_exhausted;
        case stop_reason::attempts_exhausted:
        case stop_reason::elapsed_exhausted:
        case stop_reason::not_idempotent: return errc::retries_exhausted;
        case stop_reason::none:
        case stop_reason::succeeded:
        case stop_reason::permanent_failure: return errc{};
    }
    return errc{};
}

/// The answer to "what now?" after an attempt.
struct retry_decision {
    bool retry = false;                        ///< true: wait `delay`, then attempt again
    std::uint32_t attempt = 0;                 ///< 1-based number of the attempt just judged
    std::chrono::milliseconds delay{0};        ///< retry: the wait; stop: the refused wait, if any
    delay_source source = delay_source::none;  ///< where `delay` came from / what refused it
    failure_class classification = failure_class::success;
    stop_reason reason = stop_reason::none;  ///< none when retrying

    constexpr explicit operator bool() const noexcept { return retry; }
};

/// Whether an attempt may start now, and how long it may take (for its own timeout).
struct attempt_permit {
    bool allowed = false;
    std::uint32_t attempt = 0;  ///< 1-based number of this attempt
    std::optional<std::chrono::milliseconds>
        time_left;                           ///< until the deadline or elapsed limit; nullopt: none
    stop_reason reason = stop_reason::none;  ///< why not, when !allowed

    constexpr explicit operator bool() const noexcept { return allowed; }
};

enum class retry_event_kind : std::uint8_t { attempt, retry, give_up, success };

/// What observability hooks receive. `outcome` is null for `attempt` events.
struct retry_event {
    retry_event_kind kind = retry_event_kind::attempt;
    std::uint32_t attempt = 0;
    std::chrono::milliseconds delay{0};
    delay_source source = delay_source::none;
    failure_class classification = failure_class::success;
    stop_reason reason = stop_reason::none;
    std::optional<std::chrono::milliseconds> time_left{};
    const attempt_outcome* outcome = nullptr;
};

/// Hooks are any type with any of these members, each taking `const retry_event&`:
/// on_attempt (before each attempt), on_retry (a retry was scheduled), on_give_up (stopped on a
/// failure), on_success. Missing members are skipped at compile time. No logging library is imposed.
struct no_hooks {};

// ---------------------------------------------------------------------------------------------------
// Effects.

/// A clock: a `now()` member (static or not) returning its time_point. std::chrono clocks qualify;
/// tests pass a manual clock object.
template <class C>
concept retry_clock = std::copyable<C> && requires(const C& c) {
    typename C::time_point;
    typename C::duration;
    { c.now() } -> std::same_as<typename C::time_point>;
};

/// A sleeper: called with the delay; blocks (or, in tests, advances a manual clock).
template <class S>
concept retry_sleeper = std::invocable<S&, std::chrono::milliseconds>;

/// The default sleeper of the blocking retry(): std::this_thread::sleep_for.
struct this_thread_sleeper {
    void operator()(std::chrono::milliseconds d) const { std::this_thread::sleep_for(d); }
};

static_assert(retry_clock<std::chrono::steady_clock> && retry_sleeper<this_thread_sleeper>);

/// Per-call settings of the step API.
template <retry_clock Clock = std::chrono::steady_clock>
struct call_options {
    idempotency idempotence = idempotency::idempotent;
    std::optional<typename Clock::time_point> deadline{};
    retry_budget* budget = nullptr;  ///< shared, optional; must outlive the call
};

/// The persistent state of one operation, for job queues that reschedule a job and later resume it
/// (use a wall clock such as system_clock as `Clock` if the state outlives the process).
template <retry_clock Clock = std::chrono::steady_clock>
struct retry_state {
    std::uint32_t attempts = 0;
    typename Clock::time_point started{};
    std::chrono::milliseconds previous_delay{0};
};

// ---------------------------------------------------------------------------------------------------
// The step API.

/// Decides, one attempt at a time, whether and when to retry. Use it from event loops, coroutines,
/// senders and job queues; retry() below is the blocking loop built on it.
///
///     r.start({.deadline = d, .budget = &budget});
///     attempt: if (auto p = r.begin_attempt()) { run it; auto d = r.next(outcome); if (d) schedule(d.delay)
///     }
///
/// Not thread-safe (one operation at a time); the shared retry_budget is. Never allocates.
template <backoff_policy Backoff = exponential_backoff, retry_clock Clock = std::chrono::steady_clock,
          std::uniform_random_bit_generator Random = splitmix64, class Hooks = no_hooks>
class retrier {
public:
    using policy_type = retry_policy<Backoff>;
    using clock_type = Clock;
    using time_point = typename Clock::time_point;

    /// Precondition: !policy.check() (use checked() or validated()). `random` defaults to a splitmix64
    /// seeded from std::random_device, once.
    explicit retrier(const policy_type& policy, Clock clock = Clock{}, Random random = Random{},
                     Hooks hooks = Hooks{})
        : policy_(policy), clock_(std::move(clock)), random_(std::move(random)), hooks_(std::move(hooks))
    {
        MEETINGBAAS_ASSERT(!policy.check());
        state_.started = clock_.now();
    }

    /// Begins a new operation (forgetting the previous one): no attempts yet, elapsed time from now.
    void start(const call_options<Clock>& options = {})
    {
        options_ = options;
        state_ = retry_state<Clock>{0, clock_.now(), std::chrono::milliseconds(0)};
        last_class_ = failure_class::success;
    }

    /// Continues an operation from a saved state (a job queue's row), with fresh per-call options.
    void resume(const retry_state<Clock>& state, const call_options<Clock>& options = {})
    {
        options_ = options;
        state_ = state;
        last_class_ = failure_class::success;
    }

    /// Call right before each attempt. Refuses when the deadline or elapsed limit leaves less than
    /// policy.attempt_reserve (the hooks then see a give-up). The permit's time_left is what the
    /// attempt may use as its own timeout.
    attempt_permit begin_attempt()
    {
        const auto limit = time_left(clock_.now());
        const std::uint32_t number =
            state_.attempts == unlimited_attempts ? state_.attempts : state_.attempts + 1;
        if (limit.left && (limit.left->count() <= 0 || *limit.left <= policy_.attempt_reserve)) {
            const retry_event ev{retry_event_kind::give_up,
                                 number,
                                 std::chrono::milliseconds(0),
                                 delay_source::deadline,
                                 last_class_,
                                 limit.reason,
                                 limit.left,
                                 nullptr};
            emit(ev);
            return {false, number, limit.left, limit.reason};
        }
        state_.attempts = number;
        const retry_event ev{retry_event_kind::attempt,
                             number,
                             std::chrono::milliseconds(0),
                             delay_source::none,
                             failure_class::success,
                             stop_reason::none,
                             limit.left,
                             nullptr};
        emit(ev);
        return {true, number, limit.left, stop_reason::none};
    }

    /// Judges the outcome of the attempt that begin_attempt() permitted and decides what happens next.
    template <class Classifier = http_classifier>
        requires retry_classifier<std::remove_cvref_t<Classifier>>
    retry_decision next(const attempt_outcome& outcome, Classifier&& classify = Classifier{})
    {
        retry_decision d;
        d.attempt = state_.attempts;
        d.classification = std::invoke(classify, outcome);
        last_class_ = d.classification;
        retry_budget* const budget = options_.budget;

        if (d.classification == failure_class::success) {
            if (budget != nullptr) budget->on_success();
            d.reason = stop_reason::succeeded;
            return finish(d, outcome, retry_event_kind::success);
        }
        if (!is_retryable(d.classification)) {
            // The backend answered definitively: for the budget that is not a failure (gRPC counts
            // only retryable failures).
            if (budget != nullptr) budget->on_success();
            d.reason = stop_reason::permanent_failure;
            return finish(d, outcome, retry_event_kind::give_up);
        }
        if (budget != nullptr) budget->on_failure();
        if (!retry_is_safe(outcome, options_.idempotence)) {
            d.reason = stop_reason::not_idempotent;
            return finish(d, outcome, retry_event_kind::give_up);
        }
        if (state_.attempts >= policy_.stop.max_attempts) {
            d.reason = stop_reason::attempts_exhausted;
            return finish(d, outcome, retry_event_kind::give_up);
        }

        // How long: backoff with jitter, then the server's pushback as a floor (capped).
        const std::uint32_t retry_index = state_.attempts == 0 ? 0 : state_.attempts - 1;
        const auto computed = policy_.backoff.delay(retry_index);
        const auto jittered = policy_.jitter.apply(computed, policy_.backoff.base(), policy_.backoff.cap(),
                                                   state_.previous_delay, random_);
        d.delay = jittered;
        d.source = delay_source::backoff;
        if (outcome.retry_after) {
            auto pushback = *outcome.retry_after;
            if (pushback.count() < 0) pushback = std::chrono::milliseconds(0);
            if (pushback > policy_.max_retry_after) pushback = policy_.max_retry_after;
            if (pushback > d.delay) {
                d.delay = pushback;
                d.source = delay_source::retry_after;
            }
        }

        // Deadline-aware: never start a sleep after which the attempt could not run.
        const auto limit = time_left(clock_.now());
        if (limit.left && detail::sat_add(d.delay, policy_.attempt_reserve) >= *limit.left) {
            d.reason = limit.reason;
            d.source = delay_source::deadline;
            return finish(d, outcome, retry_event_kind::give_up);
        }
        if (budget != nullptr && !budget->allow_retry()) {
            d.reason = stop_reason::budget_exhausted;
            d.source = delay_source::budget;
            return finish(d, outcome, retry_event_kind::give_up);
        }
        state_.previous_delay = jittered;
        d.retry = true;
        return finish(d, outcome, retry_event_kind::retry);
    }

    /// The state to persist (attempts made, start time, previous delay).
    [[nodiscard]] const retry_state<Clock>& state() const noexcept { return state_; }
    [[nodiscard]] std::uint32_t attempts() const noexcept { return state_.attempts; }
    [[nodiscard]] const policy_type& policy() const noexcept { return policy_; }
    [[nodiscard]] const call_options<Clock>& options() const noexcept { return options_; }
    [[nodiscard]] Clock& clock() noexcept { return clock_; }
    [[nodiscard]] Random& random() noexcept { return random_; }
    [[nodiscard]] Hooks& hooks() noexcept { return hooks_; }

    /// Time left until the nearer of the deadline and the elapsed limit, from `now`; nullopt if neither.
    [[nodiscard]] std::optional<std::chrono::milliseconds> time_left() const
    {
        return time_left(clock_.now()).left;
    }

private:
    struct limit_info {
        std::optional<std::chrono::milliseconds> left;
        stop_reason reason = stop_reason::none;
    };

    limit_info time_left(time_point now) const
    {
        limit_info info;
        if (policy_.stop.max_elapsed != std::chrono::milliseconds::max()) {
            const auto elapsed = detail::saturating_ms(now - state_.started);
            info.left = detail::sat_sub(policy_.stop.max_elapsed, elapsed);
            info.reason = stop_reason::elapsed_exhausted;
        }
        if (options_.deadline) {
            const auto left = detail::saturating_ms(*options_.deadline - now);
            if (!info.left || left <= *info.left) {
                info.left = left;
                info.reason = stop_reason::deadline_exceeded;
            }
        }
        return info;
    }

    retry_decision finish(const retry_decision& d, const attempt_outcome& outcome, retry_event_kind kind)
    {
        const retry_event ev{kind,     d.attempt,    d.delay, d.source, d.classification,
                             d.reason, std::nullopt, &outcome};
        emit(ev);
        return d;
    }

    void emit(const retry_event& ev)
    {
        switch (ev.kind) {
            case retry_event_kind::attempt:
                if constexpr (requires { hooks_.on_attempt(ev); }) hooks_.on_attempt(ev);
                break;
            case retry_event_kind::retry:
                if constexpr (requires { hooks_.on_retry(ev); }) hooks_.on_retry(ev);
                break;
            case retry_event_kind::give_up:
                if constexpr (requires { hooks_.on_give_up(ev); }) hooks_.on_give_up(ev);
                break;
            case retry_event_kind::success:
                if constexpr (requires { hooks_.on_success(ev); }) hooks_.on_success(ev);
                break;
        }
    }

    policy_type policy_;
    [[no_unique_address]] Clock clock_;
    Random random_;
    [[no_unique_address]] Hooks hooks_;
    call_options<Clock> options_{};
    retry_state<Clock> state_{};
    failure_class last_class_ = failure_class::success;  // of the last judged attempt, for give-up events
};

// ---------------------------------------------------------------------------------------------------
// The blocking driver.

/// Settings and effects of one blocking retry() call. Defaults: the HTTP classifier, steady_clock,
/// std::this_thread::sleep_for, a freshly seeded splitmix64 and no hooks.
template <class Classifier = http_classifier, retry_clock Clock = std::chrono::steady_clock,
          retry_sleeper Sleeper = this_thread_sleeper, std::uniform_random_bit_generator Random = splitmix64,
          class Hooks = no_hooks>
struct retry_options {
    idempotency idempotence = idempotency::idempotent;
    std::optional<typename Clock::time_point> deadline{};
    retry_budget* budget = nullptr;
    Classifier classify{};
    Clock clock{};
    Sleeper sleep{};
    Random random{};
    Hooks hooks{};
};

/// What retry() returns: the last attempt's value (absent only if no attempt could start), the final
/// decision (its `reason` says why it stopped), the number of attempts and the total time slept.
template <class R>
struct retry_result {
    std::optional<R> last;
    retry_decision decision;
    std::uint32_t attempts = 0;
    std::chrono::milliseconds slept{0};
};

namespace detail {
template <class Fn>
decltype(auto) invoke_attempt(Fn& fn, const attempt_permit& permit)
{
    if constexpr (std::invocable<Fn&, const attempt_permit&>) {
        return std::invoke(fn, permit);
    } else {
        return std::invoke(fn);
    }
}
template <class Fn>
using attempt_result_t =
    std::remove_cvref_t<decltype(invoke_attempt(std::declval<Fn&>(), std::declval<const attempt_permit&>()))>;

struct identity_outcome {
    constexpr attempt_outcome operator()(const attempt_outcome& o) const noexcept { return o; }
};
}  // namespace detail

/// Runs `fn` (called with no argument or with the attempt_permit) until `observe(result)` is
/// classified as success or permanent, or a stop condition ends it, sleeping between attempts with
/// options.sleep. For thread-per-request servers; event loops use retrier. Never allocates.
template <backoff_policy Backoff, class Fn, class Observe, class Classifier = http_classifier,
          retry_clock Clock = std::chrono::steady_clock, retry_sleeper Sleeper = this_thread_sleeper,
          std::uniform_random_bit_generator Random = splitmix64, class Hooks = no_hooks>
    requires std::invocable<Observe&, const detail::attempt_result_t<Fn>&>
retry_result<detail::attempt_result_t<Fn>>
retry(const retry_policy<Backoff>& policy, Fn&& fn, Observe&& observe,
      retry_options<Classifier, Clock, Sleeper, Random, Hooks> options = {})
{
    using R = detail::attempt_result_t<Fn>;
    retrier<Backoff, Clock, Random, Hooks> r(policy, options.clock, std::move(options.random),
                                             std::move(options.hooks));
    r.start({options.idempotence, options.deadline, options.budget});
    retry_result<R> out;
    for (;;) {
        const attempt_permit permit = r.begin_attempt();
        if (!permit) {
            out.decision = retry_decision{false,
                                          permit.attempt,
                                          std::chrono::milliseconds(0),
                                          delay_source::deadline,
                                          out.decision.classification,
                                          permit.reason};
            break;
        }
        out.last.emplace(detail::invoke_attempt(fn, permit));
        const attempt_outcome outcome = std::invoke(observe, std::as_const(*out.last));
        out.decision = r.next(outcome, options.classify);
        if (!out.decision.retry) break;
        std::invoke(options.sleep, out.decision.delay);
        out.slept = detail::sat_add(out.slept, out.decision.delay);
    }
    out.attempts = r.attempts();
    return out;
}

/// retry() for functions that return an attempt_outcome directly.
template <backoff_policy Backoff, class Fn, class Classifier = http_classifier,
          retry_clock Clock = std::chrono::steady_clock, retry_sleeper Sleeper = this_thread_sleeper,
          std::uniform_random_bit_generator Random = splitmix64, class Hooks = no_hooks>
    requires std::same_as<detail::attempt_result_t<Fn>, attempt_outcome>
retry_result<attempt_outcome> retry(const retry_policy<Backoff>& policy, Fn&& fn,
                                    retry_options<Classifier, Clock, Sleeper, Random, Hooks> options = {})
{
    return retry(policy, std::forward<Fn>(fn), detail::identity_outcome{}, std::move(options));
}

// ---------------------------------------------------------------------------------------------------
// Meeting BaaS defaults.

/// A ready-made policy for Meeting BaaS API calls (spec section 4.3): full-jitter exponential backoff
/// from 500 ms, doubling, capped at 10 s; at most 5 attempts within 60 s; Retry-After honoured up to
/// 30 s. With 5 writes/s on the lowest plan, a throttled write waits at least the server's Retry-After
/// (usually 1 s) and retries spread over the next second. GETs are not rate-limited; the same policy is
/// a safe default for them. Use with a shared retry_budget per API key (meetingbaas_budget_config).
inline constexpr retry_policy<exponential_backoff> meetingbaas_api_policy =
    checked(retry_policy<exponential_backoff>{
        .backoff = {.initial = std::chrono::milliseconds(500),
                    .multiplier = 2.0,
                    .maximum = std::chrono::seconds(10)},
        .jitter = full_jitter,
        .stop = stop_after_attempts(5) | stop_after_elapsed(std::chrono::seconds(60)),
        .max_retry_after = std::chrono::seconds(30),
        .attempt_reserve = std::chrono::milliseconds(0),
    });

/// A budget for one API key: 10 tokens, 0.1 back per success (retries stay near 10 % of calls).
inline constexpr retry_budget_config meetingbaas_budget_config =
    checked(retry_budget_config{.max_tokens = 10.0, .token_ratio = 0.1});

}  // namespace meetingbaas::inline v0
