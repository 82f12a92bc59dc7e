// SPDX-License-Identifier: MIT
#pragma once

// The sync worker: leases calendar jobs (v1 and v2 alike) from a job_queue, runs a processor on each, and
// settles the job from the verdict:
//
//  * done: acknowledge;
//  * retry (transient: transport errors, timeouts, 408/425/429/5xx, unusable answers, shutdown, a busy
//    key, a lost answer): back to the queue with a growing, jittered delay (the job-level retry policy on
//    the wall clock, resumed from the job's attempt count and enqueue time; Retry-After and a claim's end
//    are floors). Only after the horizon (default 24 h from enqueue, beyond v2's 3.5 h delivery window)
//    and at least min_attempts attempts is a transient failure dead-lettered;
//  * fail (permanent: other 4xx, a per-event refusal, the daily bot cap, an unparsable payload): to the
//    dead letters at once, with the reason.
//
// On shutdown (stop requested) a job that is not done goes back due now, never to the dead letters.
// The worker renews the job's lease between units of work, so a job with many events never outlives its
// lease. See docs/calendar-sync.md and docs/retries.md, "Job-level retries".

#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/retry/classify.hpp>
#include <meetingbaas/retry/retrier.hpp>
#include <meetingbaas/sync/job_kinds.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>
#include <meetingbaas/sync/sync_report.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// How long a job's transient failures are retried, counted from the job's enqueue time: 24 h. Longer
/// than v2's automatic retry window (v2_retry_horizon(), about 3.5 h), so an API outage that outlasts the
/// sender's own retries loses nothing; long enough for an operator to notice and fix a broken deployment.
inline constexpr std::chrono::hours default_job_retry_horizon{24};
static_assert(default_job_retry_horizon >= v2_retry_horizon());

/// How a sync_worker retries jobs (a job-level policy, on the wall clock so that it survives restarts):
/// exponential backoff from 2 s, doubling, capped at 5 min, with equal jitter (each wait is at least half
/// the computed one, so the delays grow), Retry-After and a claim's end honoured up to 10 min, until
/// default_job_retry_horizon after the job was enqueued. No attempt cap: the horizon decides.
inline constexpr retry_policy<exponential_backoff> default_job_retry_policy =
    checked(retry_policy<exponential_backoff>{.backoff = {.initial = std::chrono::seconds(2),
                                                          .multiplier = 2.0,
                                                          .maximum = std::chrono::minutes(5)},
                                              .jitter = equal_jitter,
                                              .stop = stop_after_elapsed(default_job_retry_horizon),
                                              .max_retry_after = std::chrono::minutes(10),
                                              .attempt_reserve = std::chrono::milliseconds(0)});

/// Options of a sync_worker (check them with validate()).
struct sync_worker_options {
    /// Job lease. Renewed between units of work, so it must outlast one unit (a read, a write, a read
    /// again: the processor's max_unit_duration()) plus lease_margin, not a whole job.
    std::chrono::milliseconds lease{std::chrono::minutes(5)};
    std::chrono::milliseconds lease_margin{std::chrono::seconds(10)};
    std::chrono::milliseconds idle_poll{std::chrono::milliseconds(200)};  ///< re-check an empty queue
    retry_policy<exponential_backoff> retry = default_job_retry_policy;
    /// A transient failure is dead-lettered only after this many attempts since the job was (re)queued,
    /// even past the horizon: a job that waited long before its first lease still gets tried. (A re-queued
    /// dead letter starts a new horizon: requeue_dead_letter sets enqueued_at to the re-queue time.)
    std::uint32_t min_attempts = 3;
};

/// Checks the options: a positive lease and idle_poll, a non-negative margin, a valid retry policy,
/// min_attempts >= 1. Errors: errc::invalid_argument, `where` = the field.
[[nodiscard]] inline result<void> validate(const sync_worker_options& o)
{
    if (o.lease <= std::chrono::milliseconds::zero())
        return error{errc::invalid_argument, "sync_worker_options.lease", "must be positive"};
    if (o.lease_margin < std::chrono::milliseconds::zero())
        return error{errc::invalid_argument, "sync_worker_options.lease_margin", "must not be negative"};
    if (o.idle_poll <= std::chrono::milliseconds::zero())
        return error{errc::invalid_argument, "sync_worker_options.idle_poll", "must be positive"};
    if (const auto v = o.retry.check()) {
        return error{errc::invalid_argument, "sync_worker_options.retry" + std::string(v.field),
                     std::string(v.problem)};
    }
    if (o.min_attempts == 0)
        return error{errc::invalid_argument, "sync_worker_options.min_attempts", "must be at least 1"};
    return {};
}

/// What a sync_worker works with (designated initializers, class template argument deduction):
///
///     meetingbaas::sync_worker worker(meetingbaas::sync_worker_deps{
///         .queue = queue, .processor = processor, .metrics = &metrics});
template <class Queue, class Processor, wall_clock Clock = std::chrono::system_clock>
struct sync_worker_deps {
    Queue& queue;
    Processor& processor;
    sync_worker_options options{};
    sync_metrics* metrics = nullptr;
    [[no_unique_address]] Clock clock{};  ///< a wall_clock (core/clock.hpp): queue times
};

/// What sync_worker::run_once did.
struct worker_step {
    bool leased = false;  ///< false: nothing was due
    std::string job_id;
    std::string job_kind;
    std::uint32_t attempt = 0;
    sync_report report;
    enum class settlement { none, acknowledged, retried, dead_lettered, lost } settled = settlement::none;
    std::optional<queue_time> retry_at;
    std::string settle_detail;  ///< why the lease was lost, or the dead-letter reason
};

/// Wakes idle workers when work is enqueued in this process (the receiver calls notify()).
class work_signal {
public:
    void notify()
    {
        {
            std::lock_guard lock(mutex_);
            ++generation_;
        }
        cv_.notify_all();
    }
    /// Waits until notify(), `timeout`, or a stop request.
    void wait_for(std::chrono::milliseconds timeout, const std::stop_token& stop)
    {
        std::unique_lock lock(mutex_);
        const auto seen = generation_;
        cv_.wait_for(lock, stop, timeout, [&] { return generation_ != seen; });
    }

private:
    std::mutex mutex_;
    std::condition_variable_any cv_;
    std::uint64_t generation_ = 0;
};

/// Leases calendar jobs and settles them. One per thread. A configuration that breaks its own invariants
/// (validate()) makes run_once() and run() return the error without leasing anything.
template <job_queue Queue, class Processor, wall_clock Clock = std::chrono::system_clock>
class sync_worker {
public:
    using deps_type = sync_worker_deps<Queue, Processor, Clock>;

    explicit sync_worker(deps_type deps)
        : queue_(&deps.queue), processor_(&deps.processor), options_(std::move(deps.options)),
          metrics_(deps.metrics), clock_(std::move(deps.clock)),
          retrier_(options_.retry.check() ? default_job_retry_policy : options_.retry,
                   retry_effects<Clock>{.clock = clock_})
    {
        if (auto ok = check(); !ok) config_error_ = std::move(ok).error();
    }

    /// A worker, or the reason its configuration is refused.
    [[nodiscard]] static result<sync_worker> create(deps_type deps)
    {
        sync_worker w(std::move(deps));
        if (w.config_error_) return *w.config_error_;
        return w;
    }

    /// Checks the options (validate(sync_worker_options)), the processor's configuration (its validate(),
    /// when it has one), and that the job lease outlasts one unit of work: lease >=
    /// processor.max_unit_duration() + lease_margin. Errors: errc::invalid_argument.
    [[nodiscard]] result<void> validate() const
    {
        if (config_error_) return *config_error_;
        return {};
    }

    [[nodiscard]] const sync_worker_options& options() const noexcept { return options_; }

    /// Leases one due job, processes it and settles it. Errors: the queue's, and the configuration's.
    result<worker_step> run_once(const std::stop_token& stop = {})
    {
        if (config_error_) return *config_error_;
        auto leased = queue_->lease(options_.lease);
        if (!leased) return leased.error();
        worker_step step;
        if (!leased->has_value()) return step;
        const leased_job& job = **leased;
        step.leased = true;
        step.job_id = job.id;
        step.job_kind = job.kind;
        step.attempt = job.attempt;

        // The heartbeat: renew the lease whenever less than one unit of work (plus the margin) is left.
        queue_time leased_until = job.leased_until;
        const auto needed = detail::sat_add(unit_duration_, options_.lease_margin);
        auto heartbeat = [&]() -> bool {
            const queue_time now = queue_now(clock_);
            if (leased_until - now > needed) return true;
            if (!queue_->extend_lease(job.id, job.lease_token, options_.lease)) return false;
            leased_until = now + options_.lease;
            return true;
        };
        step.report = processor_->process_job(job.kind, job.payload, stop, heartbeat);
        const api_version version = step.report.version != api_version::unknown
                                        ? step.report.version
                                        : calendar_job_version(job.kind);
        const job_verdict& v = step.report.verdict;

        if (v.verdict == job_verdict::kind::done) {
            settle(step, queue_->acknowledge(job.id, job.lease_token), worker_step::settlement::acknowledged);
            if (step.settled == worker_step::settlement::acknowledged)
                bump(version, &sync_counters::jobs_done);
            return step;
        }
        if (v.verdict == job_verdict::kind::retry && stop.stop_requested()) {
            // Shutting down: put it back as it was, due now. Never dead on shutdown.
            step.retry_at = queue_now(clock_);
            settle(step, queue_->retry_later(job.id, job.lease_token, *step.retry_at, v.reason),
                   worker_step::settlement::retried);
            return step;
        }
        if (v.verdict == job_verdict::kind::retry) {
            // The step API judges this attempt of the job: attempts so far, and time since it was enqueued.
            retrier_.resume(retry_state<Clock>{job.attempt > 0 ? job.attempt - 1 : 0,
                                               typename Clock::time_point(job.enqueued_at),
                                               std::chrono::milliseconds(0)});
            const auto permit = retrier_.begin_attempt();
            const attempt_outcome outcome = v.outcome();
            // The processor classified the failure already (classify.hpp): the retrier only decides when.
            const failure_class judged =
                is_retryable(v.classification) ? v.classification : failure_class::transient;
            const retry_decision d =
                permit ? retrier_.next(outcome, [judged](const attempt_outcome&) { return judged; })
                       : retry_decision{
                             false,  permit.attempt, std::chrono::milliseconds(0), delay_source::deadline,
                             judged, permit.reason};
            std::optional<std::chrono::milliseconds> delay;
            if (d.retry) {
                delay = d.delay;
            } else if (job.attempt < options_.min_attempts) {
                // Past the horizon, but not tried enough since it was (re)queued: one more, after the
                // backoff.
                delay = options_.retry.backoff.delay(job.attempt > 0 ? job.attempt - 1 : 0);
                if (outcome.retry_after && *outcome.retry_after > *delay) {
                    delay = std::min(*outcome.retry_after, options_.retry.max_retry_after);
                }
            }
            if (delay) {
                step.retry_at = queue_now(clock_) + *delay;
                settle(step, queue_->retry_later(job.id, job.lease_token, *step.retry_at, v.reason),
                       worker_step::settlement::retried);
                if (step.settled == worker_step::settlement::retried)
                    bump(version, &sync_counters::jobs_retried);
                return step;
            }
            const auto elapsed =
                std::chrono::duration_cast<std::chrono::seconds>(queue_now(clock_) - job.enqueued_at);
            step.settle_detail = v.reason + " (gave up after " + std::to_string(job.attempt) +
                                 " attempts over " + std::to_string(elapsed.count()) +
                                 " s: " + std::string(to_string(d.reason)) + ")";
        } else {
            step.settle_detail = v.reason;
        }
        settle(step, queue_->dead_letter(job.id, job.lease_token, step.settle_detail),
               worker_step::settlement::dead_lettered);
        if (step.settled == worker_step::settlement::dead_lettered)
            bump(version, &sync_counters::jobs_dead_lettered);
        return step;
    }

    /// Runs until `stop` is requested: processes due jobs, waits on `signal` (or idle_poll, or the next
    /// due time) when there are none. `on_step` sees every processed job (for logs). Queue errors are
    /// reported to `on_error` and retried after idle_poll. Returns the configuration error at once when the
    /// configuration is refused (nothing is leased), and success when stopped.
    template <class OnStep, class OnError>
    result<void> run(const std::stop_token& stop, work_signal& signal, OnStep&& on_step, OnError&& on_error)
    {
        if (config_error_) return *config_error_;
        while (!stop.stop_requested()) {
            auto step = run_once(stop);
            if (!step) {
                on_error(step.error());
                signal.wait_for(options_.idle_poll, stop);
                continue;
            }
            if (step->leased) {
                on_step(*step);
                continue;
            }
            auto wait = options_.idle_poll;
            if (auto due = queue_->next_due(); due && due->has_value()) {
                const auto until = **due - queue_now(clock_);
                if (until < wait)
                    wait = until < std::chrono::milliseconds(1) ? std::chrono::milliseconds(1) : until;
            }
            signal.wait_for(wait, stop);
        }
        return {};
    }

private:
    [[nodiscard]] result<void> check()
    {
        if (auto ok = meetingbaas::validate(options_); !ok) return ok;
        if constexpr (requires(const Processor& p) {
                          { p.validate() } -> std::same_as<result<void>>;
                      }) {
            if (auto ok = processor_->validate(); !ok) return ok;
        }
        if constexpr (requires(const Processor& p) {
                          { p.max_unit_duration() } -> std::convertible_to<std::chrono::milliseconds>;
                      }) {
            unit_duration_ = processor_->max_unit_duration();
            const auto needed = detail::sat_add(unit_duration_, options_.lease_margin);
            if (options_.lease < needed) {
                return error{
                    errc::invalid_argument, "sync_worker_options.lease",
                    "the job lease (" + std::to_string(options_.lease.count()) +
                        " ms) must outlast one unit of work (" + std::to_string(unit_duration_.count()) +
                        " ms: a read, a write and a read again, at the API client's max_call_duration) "
                        "plus lease_margin (" +
                        std::to_string(options_.lease_margin.count()) + " ms)"};
            }
        }
        return {};
    }

    static void settle(worker_step& step, const result<void>& r, worker_step::settlement ok)
    {
        if (r) {
            step.settled = ok;
            return;
        }
        step.settled = worker_step::settlement::lost;  // the lease expired and another worker took the job
        step.settle_detail = to_string(r.error());
    }

    void bump(api_version version, std::atomic<std::uint64_t> sync_counters::* counter) noexcept
    {
        if (metrics_ != nullptr) (metrics_->sync(version).*counter).fetch_add(1, std::memory_order_relaxed);
    }

    Queue* queue_;
    Processor* processor_;
    sync_worker_options options_;
    sync_metrics* metrics_;
    [[no_unique_address]] Clock clock_;
    retrier<exponential_backoff, retry_effects<Clock>> retrier_;
    std::chrono::milliseconds unit_duration_{0};
    std::optional<error> config_error_;
};

}  // namespace meetingbaas::inline v0
