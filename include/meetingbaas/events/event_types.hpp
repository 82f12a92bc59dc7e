// SPDX-License-Identifier: MIT
#pragma once

// The typed Meeting BaaS webhook events (v1 and v2), without the parser: include this header where
// you only pass events around. The parser is in <meetingbaas/events/event.hpp>. See docs/events.md for every
// event, its wire name, and which fields can be missing.

#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/assert.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/events/enums.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace meetingbaas::inline v0 {

/// The exact text of a JSON value, as received (validated, not re-serialized). Used for user data
/// (`extra`) and for the payload of events this version does not know. Feed it to any JSON library.
struct raw_json {
    std::string text;

    friend bool operator==(const raw_json&, const raw_json&) = default;
};

// ---- shared nested objects --------------------------------------------------------------------------

/// `data.status` of `bot.status_change` (both versions; v1 sends a subset).
struct bot_status {
    open_enum<bot_status_code> code;
    timestamp created_at;
    /// Only on in_call_recording: epoch milliseconds in v1, seconds in v2; both are accepted
    /// (|value| >= 1e11 means milliseconds). An RFC 3339 string is accepted too.
    std::optional<utc_time> start_time;
    std::optional<std::string> error_message;  ///< on failures (v1 meeting_error, v2 recording_failed, ...)
    std::optional<std::string> error_type;     ///< v1 meeting_error: the error class name
    std::optional<std::int64_t> attempt;       ///< v2 "retrying"
    std::optional<std::int64_t> max;           ///< v2 "retrying"

    friend bool operator==(const bot_status&, const bot_status&) = default;
};

/// One word of a v1 transcript; times are seconds from the start of the recording.
struct transcript_word {
    double start = 0;
    double end = 0;
    std::string word;

    friend bool operator==(const transcript_word&, const transcript_word&) = default;
};

/// One speaker turn of a v1 transcript.
struct transcript_segment {
    std::string speaker;
    std::optional<double> offset;
    std::optional<double> start_time;
    std::optional<double> end_time;
    std::vector<transcript_word> words;

    friend bool operator==(const transcript_segment&, const transcript_segment&) = default;
};

/// A participant or speaker of a v2 `bot.completed`.
struct participant_v2 {
    std::string name;
    std::optional<std::int64_t> id;
    std::optional<std::string> display_name;
    std::optional<std::string> profile_picture;

    friend bool operator==(const participant_v2&, const participant_v2&) = default;
};

/// One instance of a v2 calendar event (the schema's `Instance`).
struct calendar_instance_v2 {
    std::string event_id;
    timestamp start;  ///< `start` (schema) or `start_time` (guide)
    timestamp end;    ///< `end` (schema) or `end_time` (guide)
    std::string title;
    open_enum<calendar_instance_status> status;
    bool is_all_day = false;
    bool is_exception = false;
    bool bot_scheduled = false;
    std::optional<std::string> meeting_url;
    std::optional<open_enum<meetingbaas::meeting_platform>> meeting_platform;

    friend bool operator==(const calendar_instance_v2&, const calendar_instance_v2&) = default;
};

/// One series (or one-off event) of a v2 `calendar.events_synced`.
struct calendar_series_v2 {
    open_enum<calendar_event_type> event_type;
    std::optional<std::string> series_id;
    std::optional<bool> series_bot_scheduled;
    std::vector<calendar_instance_v2> instances;

    friend bool operator==(const calendar_series_v2&, const calendar_series_v2&) = default;
};

// ---- v1 events ---------------------------------------------------------------------------------------

/// v1 `calendar.sync_events`: events of a calendar were added, updated or deleted.
struct calendar_sync_events {
    std::string calendar_id;  ///< opaque (usually a UUID; not checked)
    timestamp last_updated_ts;
    /// Missing or null: the set is unknown (list with updated_at_gte instead). Empty: no event changed.
    std::optional<std::vector<std::string>> affected_event_uuids;

    friend bool operator==(const calendar_sync_events&, const calendar_sync_events&) = default;
};

/// v1 `bot.status_change`.
struct bot_status_change_v1 {
    std::string bot_id;
    bot_status status;
    std::optional<raw_json> extra;  ///< not documented for v1; kept when present

    friend bool operator==(const bot_status_change_v1&, const bot_status_change_v1&) = default;
};

/// v1 `complete`: the recording is finished and processed.
struct bot_complete_v1 {
    std::string bot_id;
    std::optional<std::string> event_uuid;  ///< the calendar event, or null for direct bots
    std::optional<std::string> mp4;         ///< pre-signed, short-lived (`mp4`, or `video`)
    std::optional<std::string> audio;
    std::vector<std::string> speakers;
    std::optional<std::vector<transcript_segment>> transcript;  ///< only with speech_to_text
    std::optional<raw_json> extra;

    friend bool operator==(const bot_complete_v1&, const bot_complete_v1&) = default;
};

/// v1 `failed`: the bot could not join or record.
struct bot_failed_v1 {
    std::string bot_id;
    std::optional<std::string> event_uuid;
    open_enum<bot_error_code_v1> error;
    std::optional<std::string> message;
    std::optional<raw_json> extra;

    friend bool operator==(const bot_failed_v1&, const bot_failed_v1&) = default;
};

/// v1 `transcription_complete`: fetch the data with GET /bots/meeting_data.
struct transcription_complete_v1 {
    std::string bot_id;

    friend bool operator==(const transcription_complete_v1&, const transcription_complete_v1&) = default;
};

// ---- v2 events ---------------------------------------------------------------------------------------

/// v2 `bot.status_change`.
struct bot_status_change_v2 {
    std::string bot_id;
    std::optional<std::string> event_id;  ///< the calendar event, or null
    bot_status status;
    std::optional<raw_json> extra;  ///< top-level (schema) or inside data (guide)

    friend bool operator==(const bot_status_change_v2&, const bot_status_change_v2&) = default;
};

/// v2 `bot.completed` (also the payload of per-bot completion callbacks).
struct bot_completed_v2 {
    std::string bot_id;
    std::optional<std::string> event_id;
    std::vector<participant_v2> participants;
    std::vector<participant_v2> speakers;
    std::optional<std::int64_t> duration_seconds;
    std::optional<timestamp> joined_at;
    std::optional<timestamp> exited_at;
    std::optional<bool> data_deleted;
    std::optional<std::string> video;  ///< `video` (schema) or `mp4` (guide); pre-signed, valid 4 h
    std::optional<std::string> audio;
    std::optional<std::string> diarization;
    std::optional<std::string> raw_transcription;
    std::optional<std::string> transcription;
    std::optional<std::string> chat_messages;  ///< guide only
    std::optional<std::string> transcription_provider;
    std::optional<std::vector<std::string>> transcription_ids;
    std::optional<timestamp> sent_at;  ///< inside data (schema) or top-level (migration guide)
    std::optional<raw_json> extra;

    friend bool operator==(const bot_completed_v2&, const bot_completed_v2&) = default;
};

/// v2 `bot.failed` (also the payload of per-bot failure callbacks).
struct bot_failed_v2 {
    std::string bot_id;
    std::optional<std::string> event_id;
    open_enum<bot_error_code_v2> error_code;
    std::string error_message;
    std::optional<timestamp> sent_at;
    std::optional<raw_json> extra;

    friend bool operator==(const bot_failed_v2&, const bot_failed_v2&) = default;
};

/// v2 `bot.chat_message`: someone other than the bot wrote in the meeting chat.
struct bot_chat_message_v2 {
    std::string bot_id;
    std::optional<std::string> event_id;
    std::string message_id;  ///< format varies by platform
    std::string sender_name;
    std::optional<std::int64_t> sender_id;
    std::string text;
    std::optional<timestamp> sent_at;  ///< server dispatch time, not the chat time
    std::optional<raw_json> extra;

    friend bool operator==(const bot_chat_message_v2&, const bot_chat_message_v2&) = default;
};

/// Which calendar connection event a calendar_connection_v2 is.
enum class calendar_connection_change { created, updated, deleted };

/// v2 `calendar.connection_created`, `calendar.connection_updated` and `calendar.connection_deleted`.
struct calendar_connection_v2 {
    calendar_connection_change change = calendar_connection_change::created;
    std::string calendar_id;
    open_enum<meetingbaas::calendar_platform>
        calendar_platform;  ///< `calendar_platform` (schema) or `platform` (guide)
    std::optional<std::string> account_email;
    std::optional<open_enum<calendar_connection_status>> status;
    std::optional<timestamp> created_at;  ///< required for created
    std::optional<timestamp> updated_at;  ///< required for updated
    std::optional<timestamp> deleted_at;  ///< required for deleted

    friend bool operator==(const calendar_connection_v2&, const calendar_connection_v2&) = default;
};

/// v2 `calendar.events_synced`: sent once, after the first sync of a new connection.
struct calendar_events_synced_v2 {
    std::string calendar_id;
    std::vector<calendar_series_v2> events;     ///< schema; empty when only the guide's fields are sent
    std::optional<std::int64_t> events_synced;  ///< guide only: a count
    std::optional<std::string> sync_type;       ///< guide only

    friend bool operator==(const calendar_events_synced_v2&, const calendar_events_synced_v2&) = default;
};

/// Which calendar event change a calendar_event_change_v2 is.
enum class calendar_event_change { created, updated, cancelled };

/// v2 `calendar.event_created`, `calendar.event_updated` and `calendar.event_cancelled`.
struct calendar_event_change_v2 {
    calendar_event_change change = calendar_event_change::created;
    std::string calendar_id;
    open_enum<calendar_event_type> event_type;
    std::optional<std::string> series_id;
    std::optional<bool> series_bot_scheduled;  ///< absent from cancelled
    std::optional<bool> is_exception;          ///< updated only
    /// `instances` (created), `affected_instances` (updated) or `cancelled_instances` (cancelled).
    std::vector<calendar_instance_v2> instances;

    friend bool operator==(const calendar_event_change_v2&, const calendar_event_change_v2&) = default;
};

// ---- unknown events ----------------------------------------------------------------------------------

/// An event type this version of the library does not know (e.g. v2 `calendar.connection_error`).
/// Not an error: log it, store it or forward it.
struct unknown_event {
    std::string type;               ///< the `event` string as received
    std::optional<raw_json> data;   ///< the `data` value, if present
    std::optional<raw_json> extra;  ///< the top-level `extra`, if present

    friend bool operator==(const unknown_event&, const unknown_event&) = default;
};

// ---- the list of events ------------------------------------------------------------------------------
//
// The one place that registers an event type: its struct above, an event_traits specialization below (API
// version and wire names) and its place in any_event. The parser's name table, parse_event's filter,
// event_name() and the receiver's routing derive from these; docs/design.md, "Adding an event", lists the
// two other places a new event needs (its field decoder and its idempotency key).

/// Every event a delivery can hold. Visit it with std::visit or visit_event. unknown_event stays last.
using any_event = std::variant<calendar_sync_events, bot_status_change_v1, bot_complete_v1, bot_failed_v1,
                               transcription_complete_v1, bot_status_change_v2, bot_completed_v2,
                               bot_failed_v2, bot_chat_message_v2, calendar_connection_v2,
                               calendar_events_synced_v2, calendar_event_change_v2, unknown_event>;

/// A parsed webhook body.
struct delivery {
    api_version version = api_version::unknown;  ///< of the event type; the caller's hint for unknown events
    any_event event;

    friend bool operator==(const delivery&, const delivery&) = default;
};

/// Static facts about an event type:
///  * `version`: the API generation it belongs to;
///  * `names`: the wire names (`event` strings) it is parsed from;
///  * `discriminator` (only when there are several names): the member that says which name an event has,
///    an enumeration whose values follow the order of `names`.
template <class E>
struct event_traits;

/// Satisfied by the event types of any_event except unknown_event.
template <class E>
concept webhook_event = requires {
    { event_traits<E>::version } -> std::convertible_to<api_version>;
    event_traits<E>::names;
    requires event_traits<E>::names.size() == 1 || requires { event_traits<E>::discriminator; };
};

template <>
struct event_traits<calendar_sync_events> {
    static constexpr api_version version = api_version::v1;
    static constexpr std::array<std::string_view, 1> names{"calendar.sync_events"};
};
template <>
struct event_traits<bot_status_change_v1> {
    static constexpr api_version version = api_version::v1;
    static constexpr std::array<std::string_view, 1> names{"bot.status_change"};
};
template <>
struct event_traits<bot_complete_v1> {
    static constexpr api_version version = api_version::v1;
    static constexpr std::array<std::string_view, 1> names{"complete"};
};
template <>
struct event_traits<bot_failed_v1> {
    static constexpr api_version version = api_version::v1;
    static constexpr std::array<std::string_view, 1> names{"failed"};
};
template <>
struct event_traits<transcription_complete_v1> {
    static constexpr api_version version = api_version::v1;
    static constexpr std::array<std::string_view, 1> names{"transcription_complete"};
};
template <>
struct event_traits<bot_status_change_v2> {
    static constexpr api_version version = api_version::v2;
    static constexpr std::array<std::string_view, 1> names{"bot.status_change"};
};
template <>
struct event_traits<bot_completed_v2> {
    static constexpr api_version version = api_version::v2;
    static constexpr std::array<std::string_view, 1> names{"bot.completed"};
};
template <>
struct event_traits<bot_failed_v2> {
    static constexpr api_version version = api_version::v2;
    static constexpr std::array<std::string_view, 1> names{"bot.failed"};
};
template <>
struct event_traits<bot_chat_message_v2> {
    static constexpr api_version version = api_version::v2;
    static constexpr std::array<std::string_view, 1> names{"bot.chat_message"};
};
template <>
struct event_traits<calendar_connection_v2> {
    static constexpr api_version version = api_version::v2;
    static constexpr std::array<std::string_view, 3> names{
        "calendar.connection_created", "calendar.connection_updated", "calendar.connection_deleted"};
    static constexpr auto discriminator = &calendar_connection_v2::change;
};
template <>
struct event_traits<calendar_events_synced_v2> {
    static constexpr api_version version = api_version::v2;
    static constexpr std::array<std::string_view, 1> names{"calendar.events_synced"};
};
template <>
struct event_traits<calendar_event_change_v2> {
    static constexpr api_version version = api_version::v2;
    static constexpr std::array<std::string_view, 3> names{"calendar.event_created", "calendar.event_updated",
                                                           "calendar.event_cancelled"};
    static constexpr auto discriminator = &calendar_event_change_v2::change;
};

/// Which of event_traits<E>::names `e` carries (0 for single-name events).
template <webhook_event E>
[[nodiscard]] constexpr std::size_t wire_name_index(const E& e) noexcept
{
    if constexpr (requires { event_traits<E>::discriminator; }) {
        return static_cast<std::size_t>(e.*event_traits<E>::discriminator);
    } else {
        static_cast<void>(e);
        return 0;
    }
}

/// The wire name of an event (`"calendar.event_updated"`). The view refers to static storage.
template <webhook_event E>
[[nodiscard]] constexpr std::string_view event_name(const E& e) noexcept
{
    const std::size_t i = wire_name_index(e);
    return i < event_traits<E>::names.size() ? event_traits<E>::names[i] : std::string_view{};
}

namespace detail {

template <std::size_t I>
constexpr std::string_view event_name_of_alternative(const any_event& e) noexcept
{
    using E = std::variant_alternative_t<I, any_event>;
    const E& v = *std::get_if<I>(&e);
    if constexpr (webhook_event<E>) {
        return event_name(v);
    } else {
        return v.type;  // unknown_event
    }
}

template <std::size_t... I>
constexpr auto make_event_name_table(std::index_sequence<I...>) noexcept
{
    return std::array<std::string_view (*)(const any_event&) noexcept, sizeof...(I)>{
        &event_name_of_alternative<I>...};
}

/// event_name_of_alternative<I> for every alternative: a table lookup rather than std::visit, which
/// could throw bad_variant_access.
inline constexpr auto event_name_table =
    make_event_name_table(std::make_index_sequence<std::variant_size_v<any_event>>{});

}  // namespace detail

namespace detail {

template <class R, class F, std::size_t I>
R call_with_alternative(const any_event& e, F& f)
{
    return f(*std::get_if<I>(&e));
}

template <class R, class F, std::size_t... I>
R visit_event(const any_event& e, F& f, std::index_sequence<I...>)
{
    static constexpr R (*table[])(const any_event&, F&) = {&call_with_alternative<R, F, I>...};
    return table[e.index()](e, f);
}

}  // namespace detail

/// Calls f with the alternative `e` holds and returns its result as R: std::visit for any_event, through a
/// table of function pointers, which costs far less to compile than libstdc++'s std::visit.
/// Precondition: !e.valueless_by_exception() (checked with MEETINGBAAS_ASSERT).
template <class R, class F>
R visit_event(const any_event& e, F&& f)
{
    MEETINGBAAS_ASSERT(!e.valueless_by_exception());
    return detail::visit_event<R>(e, f, std::make_index_sequence<std::variant_size_v<any_event>>{});
}

/// The wire name of an event (`"calendar.sync_events"`, `"calendar.event_updated"`, or an unknown
/// event's own type); empty for a valueless variant. The view refers to static storage, or into `e` for
/// unknown events.
[[nodiscard]] inline std::string_view event_name(const any_event& e) noexcept
{
    const std::size_t i = e.index();
    return i < detail::event_name_table.size() ? detail::event_name_table[i](e) : std::string_view{};
}

}  // namespace meetingbaas::inline v0
