// SPDX-License-Identifier: MIT
#pragma once

// What processing one calendar job did: a line per event (event_report), and the job's verdict
// (job_verdict: done, retry later, or fail for good) with its cause kept as the API or the store reported
// it. Shared by the calendar-sync processor (calendar_sync.hpp), which writes reports, and the sync worker
// (sync_worker.hpp), which settles jobs from them.

#include <meetingbaas/api/client.hpp>
#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/retry/classify.hpp>
#include <meetingbaas/sync/sync_policy.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meetingbaas::inline v0 {

/// What happened to one event.
enum class event_outcome {
    applied,       ///< the action ran now (or there was nothing to do)
    already_done,  ///< this action for this state of the event was done before (its key is completed, or the
                   ///< API answered that the bot already exists)
    stale,         ///< older than the state already applied: ignored
    not_found,     ///< the API no longer knows the event (404): nothing to do
    busy,      ///< another worker holds the action's key, or a write whose answer was lost may still land:
               ///< retry when the claim ends (`retry_after`)
    failed,    ///< a call failed (`error`, judged `classification`): transient ones are retried
    rejected,  ///< the API refused the action for good (a per-event error of a partial success, a 409,
               ///< another 4xx, the daily bot cap): not retried; the job goes to the dead letters
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
        case event_outcome::rejected: return "rejected";
    }
    return "(invalid event_outcome)";
}

/// One event's line in a report (and in the server's log).
struct event_report {
    std::string uuid;         ///< the event's id: v1 `uuid`, v2 `event_id`
    std::string calendar_id;  ///< v2: the calendar of the event (the key is calendar_id + event_id)
    std::string series_id;    ///< v2: the event's series
    std::string name;         ///< the event's title, when read
    std::string start_time;   ///< as the API sent it, when read
    sync_action action = sync_action::none;
    std::string reason;  ///< the policy's reason, or why the event was skipped, refused or failed
    event_outcome outcome = event_outcome::applied;
    std::optional<api_error> error;  ///< failed and rejected: the cause (what, where), as reported
    failure_class classification = failure_class::success;  ///< failed and rejected: how the cause is judged
    std::optional<std::chrono::milliseconds> retry_after;   ///< busy and lost answers: until the claim ends
    bool confirmed_by_reread = false;  ///< the write's answer was lost, and reading again showed it applied
};

/// How a job ended, for the worker: done, retry later, or failed for good.
struct job_verdict {
    enum class kind { done, retry, fail } verdict = kind::done;
    std::string reason;  ///< for retry and fail: stored with the job (last_error / dead-letter reason)
    /// retry: transient or throttled; fail: permanent (the one classification, classify.hpp).
    failure_class classification = failure_class::success;
    std::optional<api_error> cause;  ///< the failure the verdict is about, as reported (what, where)
    /// retry: the earliest useful time (a claim's end), on top of the cause's own pushback.
    std::optional<std::chrono::milliseconds> retry_after;

    /// The attempt_outcome the job-level retrier judges: outcome_of(cause) with the longer pushback, or a
    /// local failure (busy, shutting down) when there is no API cause. Views point into this verdict.
    [[nodiscard]] attempt_outcome outcome() const
    {
        attempt_outcome o = cause ? outcome_of(*cause) : attempt_outcome::local_failure();
        if (retry_after && (!o.retry_after || *o.retry_after < *retry_after)) o.retry_after = retry_after;
        return o;
    }
};

/// What processing one job did.
struct sync_report {
    api_version version = api_version::unknown;  ///< of the job kind
    std::string job_kind;                        ///< e.g. "calendar.sync_events", "calendar.event_updated"
    std::string calendar_id;
    bool listed = false;  ///< v1: listed with updated_at_gte; v2: judged from the listing of the window
    std::vector<event_report> events;
    job_verdict verdict;
};

}  // namespace meetingbaas::inline v0
