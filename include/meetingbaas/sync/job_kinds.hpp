// SPDX-License-Identifier: MIT
#pragma once

// The job kinds of calendar sync: the contract between the receiver (which enqueues a verified delivery as
// a job) and the calendar-sync processor (which dispatches on the job's kind). A job's `kind` is the
// delivery's wire event name and its `payload` the verified body bytes:
//
//   v1  calendar.sync_events
//   v2  calendar.event_created, calendar.event_updated, calendar.event_cancelled, calendar.events_synced
//
// Tiny on purpose (no JSON, no processor): the receiver includes it to know what to enqueue.

#include <meetingbaas/core/api_version.hpp>

#include <array>
#include <string_view>

namespace meetingbaas::inline v0 {

/// The job kind of a v1 `calendar.sync_events` delivery.
inline constexpr std::string_view v1_calendar_job_kind = "calendar.sync_events";

/// The job kinds of the v2 calendar event deliveries (their wire event names).
inline constexpr std::array<std::string_view, 4> v2_calendar_job_kinds{
    "calendar.event_created", "calendar.event_updated", "calendar.event_cancelled", "calendar.events_synced"};

/// Every job kind the calendar-sync processor handles: v1's, then v2's.
inline constexpr std::array<std::string_view, 5> calendar_job_kinds{
    v1_calendar_job_kind, v2_calendar_job_kinds[0], v2_calendar_job_kinds[1], v2_calendar_job_kinds[2],
    v2_calendar_job_kinds[3]};

/// The API generation of a calendar job kind: v1, v2, or unknown for any other kind.
constexpr api_version calendar_job_version(std::string_view kind) noexcept
{
    if (kind == v1_calendar_job_kind) return api_version::v1;
    for (const std::string_view k : v2_calendar_job_kinds) {
        if (k == kind) return api_version::v2;
    }
    return api_version::unknown;
}

/// True for the kinds in calendar_job_kinds: a delivery of this event type is enqueued for the processor.
constexpr bool is_calendar_job_kind(std::string_view kind) noexcept
{
    return calendar_job_version(kind) != api_version::unknown;
}

}  // namespace meetingbaas::inline v0
