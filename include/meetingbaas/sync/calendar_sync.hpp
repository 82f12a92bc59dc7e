// SPDX-License-Identifier: MIT
#pragma once

// Calendar sync: turn v1 `calendar.sync_events` deliveries into bot schedules and cancellations.
//
//  * sync_policy / default_sync_policy: what to do with one event (schedule, cancel, nothing) and why;
//  * event_state_store / in_memory_event_state: the newest `last_updated_at` applied per event, so that an
//    older view of an event is never acted on (reconcile, don't replay);
//  * calendar_sync_processor: one sync delivery -> fetch the events (each affected UUID, or every page of
//    `updated_at_gte = last_updated_ts, status = all`), decide, act once per state change (an idempotency
//    key per action), record;
//  * sync_worker: leases jobs from a job_queue, runs the processor, and settles each job: acknowledge,
//    retry later (the delay comes from the retry step API) or dead-letter with the reason.
//
// Threads: the library starts none. Run one sync_worker per thread you start (each with its own
// api_client, which is not internally synchronized); share the queue, the idempotency guard, the event
// state, the event_locks and the metrics. See docs/calendar-sync.md.

#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/models.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>
#include <meetingbaas/retry/retrier.hpp>
#include <meetingbaas/sync/event_state.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

// ---------------------------------------------------------------------------------------------------------
// Decision policy

/// What to do about one calendar event.
enum class sync_action {
    none,      ///< leave it as it is
    schedule,  ///< POST /calendar_events/{uuid}/bot
    cancel,    ///< DELETE /calendar_events/{uuid}/bot
};

constexpr std::string_view to_string(sync_action a) noexcept
{
    switch (a) {
        case sync_action::none: return "none";
        case sync_action::schedule: return "schedule";
        case sync_action::cancel: return "cancel";
    }
    return "none";
}

/// A policy's answer: the action and a short human reason (logged, shown by the demo).
struct sync_decision {
    sync_action action = sync_action::none;
    std::string reason;
};

/// A decision policy: `policy(event, now)` -> sync_decision. Called from worker threads concurrently.
template <class P>
concept sync_policy = requires(const P& p, const v1_event& e, utc_time now) {
    { p(e, now) } -> std::convertible_to<sync_decision>;
};

/// The default policy:
///  * record when the event is not deleted, has a non-empty meeting_url, has no bot_param, and ends in the
///    future (end_time > now);
///  * cancel when it is deleted or has no meeting URL, and has a bot_param;
///  * otherwise nothing.
struct default_sync_policy {
    [[nodiscard]] sync_decision operator()(const v1_event& e, utc_time now) const
    {
        const bool has_url = !e.meeting_url.empty();
        if (e.deleted || !has_url) {
            if (e.bot_param)
                return {sync_action::cancel, e.deleted ? "event deleted" : "meeting URL removed"};
            return {sync_action::none, e.deleted ? "event deleted, no bot scheduled" : "no meeting URL"};
        }
        if (e.bot_param) return {sync_action::none, "bot already scheduled"};
        if (e.end_time.time <= now) return {sync_action::none, "meeting already ended"};
        return {sync_action::schedule, "upcoming meeting with a URL and no bot"};
    }
};

static_assert(sync_policy<default_sync_policy>);

// ---------------------------------------------------------------------------------------------------------
// The calendar API the processor needs (api_client satisfies it)

/// The four v1 calls of calendar sync, as meetingbaas::api_client provides them.
template <class A>
concept calendar_sync_api =
    requires(A& a, std::string_view uuid, const v1_event_query& q, const v1_bot_config& c) {
        { a.v1_get_event(uuid) } -> std::same_as<api_result<v1_event>>;
        { a.v1_list_events(q) } -> std::same_as<api_result<std::vector<v1_event>>>;
        { a.v1_schedule_bot(uuid, c) } -> std::same_as<api_result<std::vector<v1_event>>>;
        { a.v1_unschedule_bot(uuid) } -> std::same_as<api_result<std::vector<v1_event>>>;
    };

// ---------------------------------------------------------------------------------------------------------
// Reports

/// What happened to one event.
enum class event_outcome {
    applied,       ///< the action ran now (or there was nothing to do)
    already_done,  ///< this action for this state of the event was done before (its key is completed)
    stale,         ///< older than the state already applied: ignored
    not_found,     ///< the API no longer knows the event (404): nothing to do
    busy,          ///< another worker holds the action's key: retry later
    failed,        ///< the API call failed (see `error`)
};

constexpr std::string_view to_string(event_outcome o) noexcept
{
    switch (o) {
        case event_outcome::applied: return "applied";
        case event_outcome::already_done: return "already_done";
        case event_outcome::stale: return "stale";
        case event_outcome::not_found: return "not_found";
        case event_outcome::busy: return "busy";
        case event_outcome::failed: return "failed";
    }
    return "failed";
}

/// One event's line in a report (and in the server's log).
struct event_report {
    std::string uuid;
    std::string name;        ///< the event's title, when fetched
    std::string start_time;  ///< as the API sent it, when fetched
    sync_action action = sync_action::none;
    std::string reason;  ///< the policy's reason, or why the event was skipped
    event_outcome outcome = event_outcome::applied;
    std::optional<api_error> error;                        ///< set when outcome == failed
    std::optional<std::chrono::milliseconds> retry_after;  ///< busy: until the other worker's lease ends
};

/// How a job ended, for the worker: done, retry later, or failed for good.
struct job_verdict {
    enum class kind { done, retry, fail } verdict = kind::done;
    std::string reason;  ///< for retry and fail: stored with the job (last_error / dead-letter reason)
    /// For retry: the failing attempt, judged by the retry step API (status, Retry-After).
    attempt_outcome last_outcome{};
};

/// What processing one delivery did.
struct sync_report {
    std::string calendar_id;
    bool listed = false;  ///< true: approach 1 (list with updated_at_gte); false: fetched each UUID
    std::vector<event_report> events;
    job_verdict verdict;
};

// ---------------------------------------------------------------------------------------------------------
// The processor

/// Options of a calendar_sync_processor.
struct calendar_sync_options {
    v1_bot_config bot{.bot_name = "Recorder"};  ///< the body of POST /calendar_events/{uuid}/bot
    /// Lease of an action key: longer than one API call with its in-call retries.
    std::chrono::milliseconds action_lease{std::chrono::seconds(30)};
    parse_options parse{};
};

/// The idempotency key of one action on one state of an event: `calendar_sync.<action>|<uuid>|<t>`.
[[nodiscard]] inline idempotency_key action_key(sync_action action, std::string_view event_uuid,
                                                utc_time last_updated_at)
{
    const std::string ns = "calendar_sync." + std::string(to_string(action));
    return make_key(ns, event_uuid, format_timestamp(last_updated_at));
}

/// Processes `calendar.sync_events` deliveries. Not thread-safe itself (it owns the caller's api_client by
/// value or reference): create one per worker thread; the guard, state store, locks and metrics it points to
/// are shared and thread-safe.
template <calendar_sync_api Api, class Guard, event_state_store State,
          sync_policy Policy = default_sync_policy, class Clock = std::chrono::system_clock>
class calendar_sync_processor {
public:
    calendar_sync_processor(Api api, Guard& guard, State& state, event_locks& locks,
                            calendar_sync_options options, Policy policy = Policy{},
                            sync_metrics* metrics = nullptr, Clock clock = Clock{})
        : api_(std::forward<Api>(api)), guard_(&guard), state_(&state), locks_(&locks),
          options_(std::move(options)), policy_(std::move(policy)), metrics_(metrics),
          clock_(std::move(clock))
    {}

    /// Processes one delivery body (a verified `calendar.sync_events`). A body that does not parse, or
    /// another event type, fails for good (the verdict is kind::fail).
    sync_report process_body(std::string_view body, const std::stop_token& stop = {})
    {
        auto parsed = parse_delivery(body, options_.parse);
        if (!parsed) {
            sync_report r;
            r.verdict = {job_verdict::kind::fail, "unparsable job payload: " + to_string(parsed.error()), {}};
            return r;
        }
        const auto* sync = std::get_if<calendar_sync_events>(&parsed->event);
        if (sync == nullptr) {
            sync_report r;
            r.verdict = {job_verdict::kind::fail, "job payload is not a calendar.sync_events delivery", {}};
            return r;
        }
        return process(*sync, stop);
    }

    /// Processes one parsed delivery: fetch, decide, act, record. Stops between events when `stop` is
    /// requested (the verdict is then retry, so the job resumes later).
    sync_report process(const calendar_sync_events& sync, const std::stop_token& stop = {})
    {
        sync_report report;
        report.calendar_id = sync.calendar_id;
        std::vector<v1_event> events;
        std::vector<event_report> missing;
        std::optional<api_error> fetch_failure;
        bool interrupted = false;  // stopped before every event was handled

        if (!sync.affected_event_uuids || sync.affected_event_uuids->empty()) {
            report.listed = true;
            v1_event_query query;
            query.calendar_id = sync.calendar_id;
            query.updated_at_gte = sync.last_updated_ts.text;  // the provider's own text (spec section 5)
            query.status = v1_event_status::all;
            auto listed = api_.v1_list_events(query);
            if (!listed) {
                fetch_failure = std::move(listed).error();
            } else {
                events = std::move(*listed);
            }
        } else {
            for (const auto& uuid : *sync.affected_event_uuids) {
                if (stop.stop_requested()) {
                    interrupted = true;
                    break;
                }
                auto e = api_.v1_get_event(uuid);
                if (e) {
                    events.push_back(std::move(*e));
                } else if (e.error().is_not_found()) {
                    event_report r;
                    r.uuid = uuid;
                    r.outcome = event_outcome::not_found;
                    r.reason = "the API no longer knows this event";
                    missing.push_back(std::move(r));
                } else {
                    event_report r;
                    r.uuid = uuid;
                    r.outcome = event_outcome::failed;
                    r.reason = "GET failed";
                    r.error = e.error();
                    missing.push_back(std::move(r));
                }
            }
        }

        for (auto& e : events) {
            if (stop.stop_requested()) {
                interrupted = true;
                break;
            }
            report.events.push_back(reconcile(e));
        }
        for (auto& r : missing) report.events.push_back(std::move(r));
        report.verdict = judge(report, fetch_failure, interrupted);
        return report;
    }

    [[nodiscard]] Api& api() noexcept { return api_; }
    [[nodiscard]] const calendar_sync_options& options() const noexcept { return options_; }

private:
    event_report reconcile(const v1_event& e)
    {
        event_report r;
        r.uuid = e.uuid;
        r.name = e.name;
        r.start_time = e.start_time.text;
        auto guard = locks_->lock(e.uuid);

        auto applied = state_->applied_version(e.uuid);
        if (!applied) return storage_failure(std::move(r), applied.error());
        if (*applied && e.last_updated_at.time < **applied) {
            r.outcome = event_outcome::stale;
            r.reason = "older than the state already applied (" + format_timestamp(**applied) + ")";
            count(metrics_ ? &metrics_->events_stale : nullptr);
            return r;
        }

        const utc_time now = std::chrono::time_point_cast<std::chrono::microseconds>(
            std::chrono::system_clock::time_point(clock_.now()));
        sync_decision d = policy_(e, now);
        r.action = d.action;
        r.reason = std::move(d.reason);
        if (d.action == sync_action::none) {
            if (auto ok = state_->record_applied(e.uuid, e.last_updated_at.time); !ok) {
                return storage_failure(std::move(r), ok.error());
            }
            r.outcome = event_outcome::applied;
            return r;
        }

        auto begun = guard_->begin_for(action_key(d.action, e.uuid, e.last_updated_at.time), fingerprint{},
                                       options_.action_lease);
        if (!begun) return storage_failure(std::move(r), begun.error());
        switch (begun->status) {
            case begin_status::completed:
            case begin_status::mismatch:  // cannot happen without a fingerprint; treat as done
                if (auto ok = state_->record_applied(e.uuid, e.last_updated_at.time); !ok) {
                    return storage_failure(std::move(r), ok.error());
                }
                r.outcome = event_outcome::already_done;
                return r;
            case begin_status::in_progress:
                r.outcome = event_outcome::busy;
                if (begun->record) {
                    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        begun->record->expires_at - now);
                    r.retry_after = left > std::chrono::milliseconds(0) ? left : std::chrono::milliseconds(0);
                }
                return r;
            case begin_status::acquired: break;
        }

        auto call = d.action == sync_action::schedule ? api_.v1_schedule_bot(e.uuid, options_.bot)
                                                      : api_.v1_unschedule_bot(e.uuid);
        if (!call) {
            // Nothing recorded: release the key so that a later attempt (this job's retry, or a re-queued
            // dead letter) may act. Reconciliation re-fetches the event first, so an action that did land
            // despite the error is seen (bot_param set or cleared) and not repeated.
            (void)guard_->release(begun->claim);
            if (call.error().is_not_found()) {  // deleted between the GET and the call: nothing left to do
                r.outcome = event_outcome::not_found;
                r.reason = "the event disappeared before the " + std::string(to_string(d.action));
                return r;
            }
            r.outcome = event_outcome::failed;
            r.error = std::move(call).error();
            return r;
        }
        if (auto ok = guard_->complete(begun->claim); !ok) {  // kept for the guard's retention
            return storage_failure(std::move(r), ok.error());
        }
        if (auto ok = state_->record_applied(e.uuid, e.last_updated_at.time); !ok) {
            return storage_failure(std::move(r), ok.error());
        }
        count(!metrics_                           ? nullptr
              : d.action == sync_action::schedule ? &metrics_->bots_scheduled
                                                  : &metrics_->bots_cancelled);
        r.outcome = event_outcome::applied;
        return r;
    }

    static event_report storage_failure(event_report r, const error& e)
    {
        api_error err;
        err.code = e.code;
        err.message = e.message;
        err.operation = "state store: " + e.where;
        r.outcome = event_outcome::failed;
        r.error = std::move(err);
        return r;
    }

    static void count(std::atomic<std::uint64_t>* c) noexcept
    {
        if (c != nullptr) c->fetch_add(1, std::memory_order_relaxed);
    }

    /// The attempt_outcome the retry step API judges for an API failure.
    static attempt_outcome outcome_of(const api_error& e)
    {
        if (e.http_status != 0) return attempt_outcome::http(e.http_status, e.retry_after);
        if (e.code == errc::transport_error) {
            return e.may_have_been_sent ? attempt_outcome::maybe_sent() : attempt_outcome::not_sent();
        }
        if (e.code == errc::storage_error) return attempt_outcome::maybe_sent();  // local and transient
        return attempt_outcome::http(400);  // malformed response, pagination loop, invalid argument: final
    }

    static job_verdict judge(const sync_report& report, const std::optional<api_error>& fetch_failure,
                             bool stopped)
    {
        if (fetch_failure) {
            const bool final = classify_http_status(fetch_failure->http_status) == failure_class::permanent &&
                               fetch_failure->http_status != 0;
            return {final ? job_verdict::kind::fail : job_verdict::kind::retry,
                    "list events: " + to_string(*fetch_failure), outcome_of(*fetch_failure)};
        }
        std::optional<job_verdict> retry;
        std::optional<job_verdict> fail;
        for (const auto& r : report.events) {
            if (r.outcome == event_outcome::busy && !retry) {
                retry = job_verdict{job_verdict::kind::retry,
                                    "event " + r.uuid + ": another worker holds the action",
                                    attempt_outcome::http(503, r.retry_after)};
            }
            if (r.outcome != event_outcome::failed || !r.error) continue;
            const auto outcome = outcome_of(*r.error);
            const bool final = http_classifier{}(outcome) == failure_class::permanent;
            job_verdict v{final ? job_verdict::kind::fail : job_verdict::kind::retry,
                          "event " + r.uuid + ": " + to_string(*r.error), outcome};
            if (final) {
                if (!fail) fail = std::move(v);
            } else if (!retry) {
                retry = std::move(v);
            }
        }
        if (retry) return *retry;  // transient problems first: the final ones are reported on the last try
        if (fail) return *fail;
        if (stopped) return {job_verdict::kind::retry, "shutting down", attempt_outcome::not_sent()};
        return {};
    }

    Api api_;
    Guard* guard_;
    State* state_;
    event_locks* locks_;
    calendar_sync_options options_;
    Policy policy_;
    sync_metrics* metrics_;
    [[no_unique_address]] Clock clock_;
};

// ---------------------------------------------------------------------------------------------------------
// The worker

/// How a sync_worker retries jobs (a job-level policy, on the wall clock so that it survives restarts).
/// Default: full-jitter exponential backoff from 2 s, capped at 5 min, Retry-After honoured up to 10 min,
/// at most 12 attempts within 24 h; then the job is dead-lettered.
inline constexpr retry_policy<exponential_backoff> default_job_retry_policy =
    checked(retry_policy<exponential_backoff>{.backoff = {.initial = std::chrono::seconds(2),
                                                          .multiplier = 2.0,
                                                          .maximum = std::chrono::minutes(5)},
                                              .jitter = full_jitter,
                                              .stop = stop_after_attempts(12) |
                                                      stop_after_elapsed(std::chrono::hours(24)),
                                              .max_retry_after = std::chrono::minutes(10),
                                              .attempt_reserve = std::chrono::milliseconds(0)});

/// Options of a sync_worker.
struct sync_worker_options {
    std::chrono::milliseconds lease{std::chrono::seconds(60)};            ///< job lease (longer than one job)
    std::chrono::milliseconds idle_poll{std::chrono::milliseconds(200)};  ///< re-check an empty queue
    retry_policy<exponential_backoff> retry = default_job_retry_policy;
};

/// What sync_worker::run_once did.
struct worker_step {
    bool leased = false;  ///< false: nothing was due
    std::string job_id;
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

/// Leases `calendar.sync_events` jobs and settles them. One per thread.
template <job_queue Queue, class Processor, class Clock = std::chrono::system_clock>
class sync_worker {
public:
    sync_worker(Queue& queue, Processor& processor, sync_worker_options options = {},
                sync_metrics* metrics = nullptr, Clock clock = Clock{})
        : queue_(&queue), processor_(&processor), options_(options), metrics_(metrics), clock_(clock),
          retrier_(options.retry, retry_effects<Clock>{.clock = clock})
    {}

    /// Leases one due job, processes it and settles it. Errors are the queue's.
    result<worker_step> run_once(const std::stop_token& stop = {})
    {
        auto leased = queue_->lease(options_.lease);
        if (!leased) return leased.error();
        worker_step step;
        if (!leased->has_value()) return step;
        const leased_job& job = **leased;
        step.leased = true;
        step.job_id = job.id;
        step.attempt = job.attempt;
        step.report = processor_->process_body(job.payload, stop);
        const job_verdict& v = step.report.verdict;

        if (v.verdict == job_verdict::kind::done) {
            settle(step, queue_->acknowledge(job.id, job.lease_token), worker_step::settlement::acknowledged);
            if (step.settled == worker_step::settlement::acknowledged) bump(&sync_metrics::jobs_done);
            return step;
        }
        if (v.verdict == job_verdict::kind::retry && stop.stop_requested()) {
            // Shutting down: put it back as it was, due now, without spending an attempt of the policy.
            step.retry_at = queue_now(clock_);
            settle(step, queue_->retry_later(job.id, job.lease_token, *step.retry_at, v.reason),
                   worker_step::settlement::retried);
            return step;
        }
        if (v.verdict == job_verdict::kind::retry) {
            // The step API judges this attempt of the job: attempts so far and time since it was enqueued.
            retrier_.resume(retry_state<Clock>{job.attempt > 0 ? job.attempt - 1 : 0,
                                               typename Clock::time_point(job.enqueued_at),
                                               std::chrono::milliseconds(0)});
            const auto permit = retrier_.begin_attempt();
            const retry_decision d = permit ? retrier_.next(v.last_outcome) : retry_decision{};
            if (d.retry) {
                step.retry_at = queue_now(clock_) + d.delay;
                settle(step, queue_->retry_later(job.id, job.lease_token, *step.retry_at, v.reason),
                       worker_step::settlement::retried);
                if (step.settled == worker_step::settlement::retried) bump(&sync_metrics::jobs_retried);
                return step;
            }
            step.settle_detail =
                v.reason + " (gave up: " + std::string(to_string(permit ? d.reason : permit.reason)) + ")";
        } else {
            step.settle_detail = v.reason;
        }
        settle(step, queue_->dead_letter(job.id, job.lease_token, step.settle_detail),
               worker_step::settlement::dead_lettered);
        if (step.settled == worker_step::settlement::dead_lettered) bump(&sync_metrics::jobs_dead_lettered);
        return step;
    }

    /// Runs until `stop` is requested: processes due jobs, waits on `signal` (or idle_poll, or the next
    /// due time) when there are none. `on_step` sees every processed job (for logs). Queue errors are
    /// reported to `on_error` and retried after idle_poll.
    template <class OnStep, class OnError>
    void run(const std::stop_token& stop, work_signal& signal, OnStep&& on_step, OnError&& on_error)
    {
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
    }

private:
    static void settle(worker_step& step, const result<void>& r, worker_step::settlement ok)
    {
        if (r) {
            step.settled = ok;
            return;
        }
        step.settled = worker_step::settlement::lost;  // the lease expired and another worker took the job
        step.settle_detail = to_string(r.error());
    }

    void bump(std::atomic<std::uint64_t> sync_metrics::* counter) noexcept
    {
        if (metrics_ != nullptr) (metrics_->*counter).fetch_add(1, std::memory_order_relaxed);
    }

    Queue* queue_;
    Processor* processor_;
    sync_worker_options options_;
    sync_metrics* metrics_;
    Clock clock_;
    retrier<exponential_backoff, retry_effects<Clock>> retrier_;
};

}  // namespace meetingbaas::inline v0
