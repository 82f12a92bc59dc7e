// SPDX-License-Identifier: MIT
#pragma once

// Calendar-sync decisions: what to do about one calendar event as just read from the API (reconcile,
// don't replay). A policy is any callable that answers for v1 events, v2 events, or both:
//
//   sync_decision policy(const v1_event&, utc_time now);                         // v1
//   sync_decision policy(const v2_event&, const v2_series_hint&, utc_time now);  // v2
//
// default_sync_policy answers both (docs/calendar-sync.md, "The default policy").

#include <meetingbaas/api/models.hpp>
#include <meetingbaas/core/timestamp.hpp>

#include <concepts>
#include <optional>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0 {

/// What to do about one calendar event.
enum class sync_action {
    none,             ///< leave it as it is
    schedule,         ///< v1 POST /calendar_events/{uuid}/bot; v2 POST /v2/calendars/{id}/bots for the event
    cancel,           ///< v1 DELETE /calendar_events/{uuid}/bot; v2 DELETE /v2/calendars/{id}/bots
    schedule_series,  ///< v2 only: POST /v2/calendars/{id}/bots with all_occurrences: true (once per series)
};

constexpr std::string_view to_string(sync_action a) noexcept
{
    switch (a) {
        case sync_action::none: return "none";
        case sync_action::schedule: return "schedule";
        case sync_action::cancel: return "cancel";
        case sync_action::schedule_series: return "schedule_series";
    }
    return "(invalid sync_action)";
}

/// A policy's answer: the action and a short human reason (logged, shown by the demo).
struct sync_decision {
    sync_action action = sync_action::none;
    std::string reason;
};

/// What the delivery said about a v2 event's series, beyond the event as read: the API's event details
/// have no `series_bot_scheduled` (spec §4.2), the webhook does (absent from calendar.event_cancelled).
struct v2_series_hint {
    std::optional<bool> series_bot_scheduled{};
};

/// A policy for v1 events: `policy(event, now)` -> sync_decision.
template <class P>
concept v1_sync_policy = requires(const P& p, const v1_event& e, utc_time now) {
    { p(e, now) } -> std::convertible_to<sync_decision>;
};

/// A policy for v2 events: `policy(event, hint, now)` -> sync_decision.
template <class P>
concept v2_sync_policy = requires(const P& p, const v2_event& e, const v2_series_hint& h, utc_time now) {
    { p(e, h, now) } -> std::convertible_to<sync_decision>;
};

/// A decision policy for v1 events, v2 events or both. Called from worker threads concurrently.
template <class P>
concept sync_policy = v1_sync_policy<P> || v2_sync_policy<P>;

/// True when the v2 decision of P depends only on the fields that GET /v2/calendars/{id}/events lists
/// (event_id, series_id, event_type, title, start_time, end_time, status, is_exception, meeting_url,
/// meeting_platform, calendar_id, bot_scheduled, created_at): then a large calendar.events_synced may be
/// judged from the listing (calendar_sync_options::v2_list_threshold). Declare it with
/// `static constexpr bool decides_from_listed_fields = true;`.
template <class P>
inline constexpr bool decides_from_listed_fields =
    requires { requires static_cast<bool>(P::decides_from_listed_fields); };

/// The default policy.
///
/// v1 (the rule):
///  * record when the event is not deleted, has a non-empty meeting_url, has no bot_param, and ends in the
///    future (end_time > now);
///  * cancel when it is deleted or has no meeting URL, and has a bot_param;
///  * otherwise nothing.
///
/// v2:
///  * record when status != "cancelled", meeting_url is non-empty, bot_scheduled is false and end_time is in
///    the future;
///  * cancel when (status == "cancelled" or meeting_url is null/empty) and bot_scheduled is true and
///    end_time is in the future;
///  * otherwise nothing.
///  * With `schedule_whole_series` (off by default), a recurring event that would be recorded schedules its
///    whole series instead (all_occurrences: true, once per series) when the delivery says the series has no
///    bot (series_bot_scheduled false).
struct default_sync_policy {
    bool schedule_whole_series = false;

    /// Its v2 decisions read listed fields only.
    static constexpr bool decides_from_listed_fields = true;

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

    [[nodiscard]] sync_decision operator()(const v2_event& e, const v2_series_hint& hint, utc_time now) const
    {
        const bool has_url = e.meeting_url && !e.meeting_url->empty();
        const bool cancelled = e.status == "cancelled";
        const bool upcoming = e.end_time.time > now;
        if (cancelled || !has_url) {
            if (e.bot_scheduled && upcoming)
                return {sync_action::cancel, cancelled ? "event cancelled" : "meeting URL removed"};
            if (e.bot_scheduled) return {sync_action::none, "meeting already ended"};
            return {sync_action::none, cancelled ? "event cancelled, no bot scheduled" : "no meeting URL"};
        }
        if (e.bot_scheduled) return {sync_action::none, "bot already scheduled"};
        if (!upcoming) return {sync_action::none, "meeting already ended"};
        if (schedule_whole_series && e.event_type == "recurring" && !e.series_id.empty() &&
            hint.series_bot_scheduled == false) {
            return {sync_action::schedule_series,
                    "recurring series without a bot: schedule every occurrence"};
        }
        return {sync_action::schedule, "upcoming meeting with a URL and no bot"};
    }
};

static_assert(v1_sync_policy<default_sync_policy> && v2_sync_policy<default_sync_policy>);
static_assert(decides_from_listed_fields<default_sync_policy>);

}  // namespace meetingbaas::inline v0
