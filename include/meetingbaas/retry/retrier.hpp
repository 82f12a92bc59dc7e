// SPDX-License-Identifier: MIT
#pragma once

// Retry with backoff: classification (classify.hpp), idempotence gating, stop conditions, server pushback,
// retry budgets and deadlines, driven either by a blocking loop (retry) or step by step (retrier) from an
// event loop, a coroutine or a job queue.
//
// Three concerns stay apart (google-cloud-cpp's split, as values): *whether* a failure may be retried
// (a classifier plus idempotence), *how long* to wait (backoff + jitter + Retry-After), and *when to
// stop* (attempts, elapsed time, deadline, budget). The effects (clock, sleeper, random source, hooks,
// classifier, budget) travel together in one aggregate, retry_effects, whose types are deduced from
// designated initializers: `retry_effects{.sleeper = stop_aware_sleeper(token)}` changes the sleeper and
// nothing else. The same effects type configures retry(), retrier and api_client. Nothing here allocates,
// throws or uses global state. See docs/retries.md.

#include <meetingbaas/core/assert.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/retry/backoff.hpp>
#include <meetingbaas/retry/budget.hpp>
#include <meetingbaas/retry/classify.hpp>
#include <meetingbaas/retry/retry_after.hpp>

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace meetingbaas::inline v0 {

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
    return "(invalid delay_source)";
}

/// Why the retrier stopped.
enum class stop_reason : std::uint8_t {
    none,                ///< not stopped (the decision is "retry")
    succeeded,           ///< the attempt succeeded
    permanent_failure,   ///< the classifier said retrying cannot help
    not_idempotent,      ///< retryable, but the request is not idempotent and may have been applied
    attempts_exhausted,  ///< stop_policy::max_attempts reached
    elapsed_exhausted,   ///< the next attempt could not start (or finish its reserve) within max_elapsed
    deadline_exceeded,   ///< the next attempt could not start (or finish its reserve) before the deadline
    budget_exhausted,    ///< the shared retry budget denied the retry
    cancelled,           ///< the sleeper was interrupted (stop requested): the operation was abandoned
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
        case stop_reason::cancelled: return "cancelled";
    }
    return "(invalid stop_reason)";
}

/// The library error code for giving up: deadline_exceeded, budget_exhausted, cancelled, or
/// retries_exhausted for attempts/elapsed. For succeeded, permanent_failure, not_idempotent and none there
/// is no retry error (report the attempt's own error): errc{} (0).
constexpr errc to_errc(stop_reason r) noexcept
{
    switch (r) {
        case stop_reason::deadline_exceeded: return errc::deadline_exceeded;
        case stop_reason::budget_exhausted: return errc::budget_exhausted;
        case stop_reason::cancelled: return errc::cancelled;
        case stop_reason::attempts_exhausted:
        case stop_reason::elapsed_exhausted: return errc::retries_exhausted;
        case stop_reason::none:
        case stop_reason::succeeded:
        case stop_reason::not_idempotent:
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

/// What observability hooks receive. `outcome` is null for `attempt` events and for a cancellation;
/// otherwise it points to the attempt's outcome, which lives only until the hook returns (as does the
/// `api_code` view inside it): a hook that keeps the event must copy `*outcome` and re-point or drop it.
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

/// A sleeper: called with the delay; blocks (or, in tests, advances a manual clock). A sleeper that
/// returns `bool` may be interrupted: `false` means "stop requested, do not retry" (stop_aware_sleeper),
/// and the operation ends with stop_reason::cancelled.
template <class S>
concept retry_sleeper = std::invocable<S&, std::chrono::milliseconds>;

/// The default sleeper: std::this_thread::sleep_for.
struct this_thread_sleeper {
    void operator()(std::chrono::milliseconds d) const { std::this_thread::sleep_for(d); }
};

/// A sleeper that wakes early when its std::stop_token is stopped, and then says so (returns false), so
/// that an in-call retry loop ends at once on shutdown (api_client reports errc::cancelled, which is
/// transient: the job stays queued). Default-constructed, it never stops early. Copyable, cheap (one
/// stop_token); each call waits on its own condition variable, so one sleeper may be shared by threads.
class stop_aware_sleeper {
public:
    stop_aware_sleeper() = default;
    explicit stop_aware_sleeper(std::stop_token stop) noexcept : stop_(std::move(stop)) {}

    /// Sleeps `d`; false when stop was requested before or during the sleep.
    bool operator()(std::chrono::milliseconds d) const
    {
        if (stop_.stop_requested()) return false;
        if (d <= std::chrono::milliseconds::zero()) return true;
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        (void)cv.wait_for(lock, stop_, d, [] { return false; });
        return !stop_.stop_requested();
    }

    [[nodiscard]] const std::stop_token& stop_token() const noexcept { return stop_; }

private:
    std::stop_token stop_{};
};

static_assert(retry_clock<std::chrono::steady_clock> && retry_sleeper<this_thread_sleeper> &&
              retry_sleeper<stop_aware_sleeper>);

namespace detail {
/// Calls the sleeper; false when an interruptible sleeper reports a stop request.
template <class Sleeper>
bool sleep_for(Sleeper& sleeper, std::chrono::milliseconds d)
{
    if constexpr (std::same_as<std::invoke_result_t<Sleeper&, std::chrono::milliseconds>, bool>) {
        return std::invoke(sleeper, d);
    } else {
        std::invoke(sleeper, d);
        return true;
    }
}
}  // namespace detail

/// The effects of retrying, in one aggregate with named members: the clock (elapsed limits, deadlines),
/// the sleeper (blocking waits), the random source (jitter), observability hooks, the classifier (what is
/// transient), and an optional retry budget shared by many calls (it must outlive them).
///
/// Write only what you change; class template argument deduction fills in the rest:
///
///     meetingbaas::retry_effects{.sleeper = meetingbaas::stop_aware_sleeper(stop.get_token())}
///     meetingbaas::retry_effects{.clock = manual_clock, .random = meetingbaas::splitmix64(42)}
///     meetingbaas::retry_effects{.budget = &budget}
///
/// The same type configures retry(), retrier and api_client.
template <retry_clock Clock = std::chrono::steady_clock, retry_sleeper Sleeper = this_thread_sleeper,
          std::uniform_random_bit_generator Random = splitmix64, class Hooks = no_hooks,
          retry_classifier Classifier = http_classifier>
struct retry_effects {
    using clock_type = Clock;
    using sleeper_type = Sleeper;
    using random_type = Random;
    using hooks_type = Hooks;
    using classifier_type = Classifier;

    [[no_unique_address]] Clock clock{};
    [[no_unique_address]] Sleeper sleeper{};
    Random random{};
    [[no_unique_address]] Hooks hooks{};
    [[no_unique_address]] Classifier classifier{};
    retry_budget* budget = nullptr;
};

/// A retry_effects (or a type with the same member types and members).
template <class E>
concept retry_effect_set = requires(E& e) {
    typename E::clock_type;
    typename E::sleeper_type;
    typename E::random_type;
    typename E::hooks_type;
    typename E::classifier_type;
    requires retry_clock<typename E::clock_type>;
    requires retry_sleeper<typename E::sleeper_type>;
    requires std::uniform_random_bit_generator<typename E::random_type>;
    requires retry_classifier<typename E::classifier_type>;
    { e.clock } -> std::same_as<typename E::clock_type&>;
    { e.sleeper } -> std::same_as<typename E::sleeper_type&>;
    { e.random } -> std::same_as<typename E::random_type&>;
    { e.hooks } -> std::same_as<typename E::hooks_type&>;
    { e.classifier } -> std::same_as<typename E::classifier_type&>;
    { e.budget } -> std::convertible_to<retry_budget*>;
};
static_assert(retry_effect_set<retry_effects<>>);

/// Per-call settings: whether the request may be repeated after it may have been applied, and an
/// optional absolute deadline on the effects' clock (e.g. the webhook's own response deadline).
template <retry_clock Clock = std::chrono::steady_clock>
struct call_options {
    meetingbaas::idempotence idempotence = meetingbaas::idempotence::idempotent;
    std::optional<typename Clock::time_point> deadline{};
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
///     meetingbaas::retrier r(policy, meetingbaas::retry_effects{.budget = &budget});
///     r.start({.deadline = d});
///     attempt: if (auto p = r.begin_attempt()) { run it; auto d = r.next(outcome); if (d) schedule(d.delay)
///     }
///
/// The sleeper of the effects is not used here (the caller waits however it likes). Not thread-safe (one
/// operation at a time); the shared retry_budget is. Never allocates.
template <backoff_policy Backoff = exponential_backoff, retry_effect_set Effects = retry_effects<>>
class retrier {
public:
    using policy_type = retry_policy<Backoff>;
    using effects_type = Effects;
    using clock_type = typename Effects::clock_type;
    using time_point = typename clock_type::time_point;

    /// Precondition: !policy.check() (use checked() or validated()). The default random source is a
    /// splitmix64 seeded from std::random_device, once.
    explicit retrier(const policy_type& policy, Effects effects = Effects{})
        : policy_(policy), effects_(std::move(effects))
    {
        MEETINGBAAS_ASSERT(!policy.check());
        state_.started = effects_.clock.now();
    }

    /// Begins a new operation (forgetting the previous one): no attempts yet, elapsed time from now.
    void start(const call_options<clock_type>& options = {})
    {
        set_options(options);
        state_ = retry_state<clock_type>{0, effects_.clock.now(), std::chrono::milliseconds(0)};
        last_class_ = failure_class::success;
    }

    /// Continues an operation from a saved state (a job queue's row), with fresh per-call options.
    void resume(const retry_state<clock_type>& state, const call_options<clock_type>& options = {})
    {
        set_options(options);
        state_ = state;
        last_class_ = failure_class::success;
    }

    /// Call right before each attempt. Refuses when the deadline or elapsed limit leaves less than
    /// policy.attempt_reserve (the hooks then see a give-up). The permit's time_left is what the
    /// attempt may use as its own timeout.
    attempt_permit begin_attempt()
    {
        const auto limit = time_left(effects_.clock.now());
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

    /// Judges the outcome of the attempt that begin_attempt() permitted with the effects' classifier, and
    /// decides what happens next.
    retry_decision next(const attempt_outcome& outcome) { return next(outcome, effects_.classifier); }

    /// next() with another classifier for this one decision.
    template <class Classifier>
        requires retry_classifier<std::remove_cvref_t<Classifier>>
    retry_decision next(const attempt_outcome& outcome, Classifier&& classify)
    {
        retry_decision d;
        d.attempt = state_.attempts;
        d.classification = std::invoke(classify, outcome);
        last_class_ = d.classification;
        retry_budget* const budget = effects_.budget;

        if (d.classification == failure_class::success) {
            if (budget != nullptr) budget->on_success();
            d.reason = stop_reason::succeeded;
            return finish(d, &outcome, retry_event_kind::success);
        }
        if (!is_retryable(d.classification)) {
            // The backend answered definitively: for the budget that is not a failure (gRPC counts
            // only retryable failures).
            if (budget != nullptr) budget->on_success();
            d.reason = stop_reason::permanent_failure;
            return finish(d, &outcome, retry_event_kind::give_up);
        }
        if (budget != nullptr) budget->on_failure();
        if (!retry_is_safe(outcome, options_.idempotence)) {
            d.reason = stop_reason::not_idempotent;
            return finish(d, &outcome, retry_event_kind::give_up);
        }
        if (state_.attempts >= policy_.stop.max_attempts) {
            d.reason = stop_reason::attempts_exhausted;
            return finish(d, &outcome, retry_event_kind::give_up);
        }

        // How long: backoff with jitter, then the server's pushback as a floor (capped).
        const std::uint32_t retry_index = state_.attempts == 0 ? 0 : state_.attempts - 1;
        const auto computed = policy_.backoff.delay(retry_index);
        const auto jittered = policy_.jitter.apply(computed, policy_.backoff.base(), policy_.backoff.cap(),
                                                   state_.previous_delay, effects_.random);
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
        const auto limit = time_left(effects_.clock.now());
        if (limit.left && detail::sat_add(d.delay, policy_.attempt_reserve) >= *limit.left) {
            d.reason = limit.reason;
            d.source = delay_source::deadline;
            return finish(d, &outcome, retry_event_kind::give_up);
        }
        if (budget != nullptr && !budget->allow_retry()) {
            d.reason = stop_reason::budget_exhausted;
            d.source = delay_source::budget;
            return finish(d, &outcome, retry_event_kind::give_up);
        }
        state_.previous_delay = jittered;
        d.retry = true;
        return finish(d, &outcome, retry_event_kind::retry);
    }

    /// Abandons the operation after a retry was decided but before it ran (the sleeper was interrupted:
    /// stop requested). The hooks see a give-up with stop_reason::cancelled.
    retry_decision abandon()
    {
        retry_decision d;
        d.attempt = state_.attempts;
        d.classification = last_class_;
        d.reason = stop_reason::cancelled;
        return finish(d, nullptr, retry_event_kind::give_up);
    }

    /// The state to persist (attempts made, start time, previous delay).
    [[nodiscard]] const retry_state<clock_type>& state() const noexcept { return state_; }
    [[nodiscard]] std::uint32_t attempts() const noexcept { return state_.attempts; }
    [[nodiscard]] const policy_type& policy() const noexcept { return policy_; }
    [[nodiscard]] const call_options<clock_type>& options() const noexcept { return options_; }
    [[nodiscard]] Effects& effects() noexcept { return effects_; }
    [[nodiscard]] clock_type& clock() noexcept { return effects_.clock; }
    [[nodiscard]] typename Effects::random_type& random() noexcept { return effects_.random; }
    [[nodiscard]] typename Effects::hooks_type& hooks() noexcept { return effects_.hooks; }

    /// Time left until the nearer of the deadline and the elapsed limit, from `now`; nullopt if neither.
    [[nodiscard]] std::optional<std::chrono::milliseconds> time_left() const
    {
        return time_left(effects_.clock.now()).left;
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
        if (has_deadline_) {
            const auto left = detail::saturating_ms(deadline_ - now);
            if (!info.left || left <= *info.left) {
                info.left = left;
                info.reason = stop_reason::deadline_exceeded;
            }
        }
        return info;
    }

    retry_decision finish(const retry_decision& d, const attempt_outcome* outcome, retry_event_kind kind)
    {
        const retry_event ev{kind,     d.attempt,    d.delay, d.source, d.classification,
                             d.reason, std::nullopt, outcome};
        emit(ev);
        return d;
    }

    void emit(const retry_event& ev)
    {
        auto& hooks = effects_.hooks;
        switch (ev.kind) {
            case retry_event_kind::attempt:
                if constexpr (requires { hooks.on_attempt(ev); }) hooks.on_attempt(ev);
                break;
            case retry_event_kind::retry:
                if constexpr (requires { hooks.on_retry(ev); }) hooks.on_retry(ev);
                break;
            case retry_event_kind::give_up:
                if constexpr (requires { hooks.on_give_up(ev); }) hooks.on_give_up(ev);
                break;
            case retry_event_kind::success:
                if constexpr (requires { hooks.on_success(ev); }) hooks.on_success(ev);
                break;
        }
    }

    void set_options(const call_options<clock_type>& options)
    {
        options_ = options;
        // Read from a plain copy: GCC 12 at -O3 reports a copied std::optional<time_point> as "maybe
        // used uninitialized" (-Wmaybe-uninitialized, part of -Wall) in the users' Release builds.
        has_deadline_ = options.deadline.has_value();
        deadline_ = options.deadline.value_or(time_point{});
    }

    policy_type policy_;
    Effects effects_;
    call_options<clock_type> options_{};
    bool has_deadline_ = false;
    time_point deadline_{};
    retry_state<clock_type> state_{};
    failure_class last_class_ = failure_class::success;  // of the last judged attempt, for give-up events
};

// ---------------------------------------------------------------------------------------------------
// The blocking driver.

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
/// effects.sleeper (an interruptible sleeper that returns false ends it with stop_reason::cancelled).
/// For thread-per-request servers; event loops use retrier. Never allocates.
///
///     meetingbaas::retry(policy, send, to_outcome, {.deadline = now + 10s},
///                        meetingbaas::retry_effects{.budget = &budget});
template <backoff_policy Backoff, class Fn, class Observe, retry_effect_set Effects = retry_effects<>>
    requires std::invocable<Observe&, const detail::attempt_result_t<Fn>&>
retry_result<detail::attempt_result_t<Fn>>
retry(const retry_policy<Backoff>& policy, Fn&& fn, Observe&& observe,
      const call_options<typename Effects::clock_type>& call = {}, Effects effects = Effects{})
{
    using R = detail::attempt_result_t<Fn>;
    retrier<Backoff, Effects> r(policy, std::move(effects));
    r.start(call);
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
        out.decision = r.next(outcome);
        if (!out.decision.retry) break;
        const auto delay = out.decision.delay;
        if (!detail::sleep_for(r.effects().sleeper, delay)) {
            out.decision = r.abandon();
            break;
        }
        out.slept = detail::sat_add(out.slept, delay);
    }
    out.attempts = r.attempts();
    return out;
}

/// retry() for functions that return an attempt_outcome directly.
template <backoff_policy Backoff, class Fn, retry_effect_set Effects = retry_effects<>>
    requires std::same_as<detail::attempt_result_t<Fn>, attempt_outcome>
retry_result<attempt_outcome> retry(const retry_policy<Backoff>& policy, Fn&& fn,
                                    const call_options<typename Effects::clock_type>& call = {},
                                    Effects effects = Effects{})
{
    return retry(policy, std::forward<Fn>(fn), detail::identity_outcome{}, call, std::move(effects));
}

// ---------------------------------------------------------------------------------------------------
// Bounds.

/// The longest one call driven by `policy` can take when each attempt is given at most
/// `per_attempt_timeout` (and never more than the time left before the elapsed limit, as api_client
/// does): the elapsed limit when there is one, else every attempt at its timeout plus every wait at its
/// longest (the backoff cap, or max_retry_after when that is longer). Saturates at milliseconds::max().
/// Leases held across a call (an action's idempotency claim) must be longer than this.
template <backoff_policy Backoff>
constexpr std::chrono::milliseconds max_call_duration(const retry_policy<Backoff>& policy,
                                                      std::chrono::milliseconds per_attempt_timeout) noexcept
{
    using std::chrono::milliseconds;
    milliseconds by_attempts = milliseconds::max();
    if (policy.stop.max_attempts != unlimited_attempts) {
        const milliseconds longest_wait =
            policy.backoff.cap() > policy.max_retry_after ? policy.backoff.cap() : policy.max_retry_after;
        const auto n = static_cast<double>(policy.stop.max_attempts);
        by_attempts =
            detail::sat_add(detail::sat_mul(per_attempt_timeout, n), detail::sat_mul(longest_wait, n - 1.0));
    }
    const milliseconds by_elapsed = policy.stop.max_elapsed;
    return by_attempts < by_elapsed ? by_attempts : by_elapsed;
}

// ---------------------------------------------------------------------------------------------------
// Meeting BaaS defaults.

/// A ready-made policy for Meeting BaaS API calls (spec section 4.3): full-jitter exponential backoff
/// from 500 ms, doubling, capped at 10 s; at most 5 attempts within 60 s; Retry-After honoured up to
/// 30 s. With 5 writes/s on the lowest plan, a throttled write waits at least the server's Retry-After
/// (usually 1 s) and retries spread over the next second. GETs are not rate-limited; the same policy is
/// a safe default for them. Use with a shared retry_budget per API key (meetingbaas_budget_config).
/// One call lasts at most 60 s (max_call_duration).
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
