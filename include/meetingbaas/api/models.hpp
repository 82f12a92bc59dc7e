// SPDX-License-Identifier: MIT
#pragma once

// Typed models of the Meeting BaaS calendar API (v1 and v2), their non-throwing parsers and the
// request bodies the api_client sends. Spec: meetingbaas-api.md §4.1 (v1) and §4.2 (v2).
// Parsers are liberal (unknown fields ignored, nullable fields optional) and precise: every error names
// the JSON Pointer of the offending value. They never throw, also under -fno-exceptions -DJSON_NOEXCEPTION.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/events/detail/json_pointer.hpp>
#include <meetingbaas/events/detail/json_reader.hpp>
#include <meetingbaas/events/event_types.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

// ---------------------------------------------------------------------------------------------------
// v1 models
// ---------------------------------------------------------------------------------------------------

/// An attendee of a v1 event: `{email, name|null}`.
struct v1_attendee {
    std::string email{};
    std::optional<std::string> name{};

    friend bool operator==(const v1_attendee&, const v1_attendee&) = default;
};

/// The bot configuration stored on a v1 event (`Event.bot_param`, schema `BotParam`). The common fields
/// are typed; `json` keeps the whole object (every field, including ones this version does not know).
struct v1_bot_param {
    std::string bot_name{};
    std::optional<std::string> bot_image{};
    std::optional<std::string> enter_message{};
    std::optional<std::string> recording_mode{};  ///< speaker_view | gallery_view | audio_only
    std::optional<std::string> speech_to_text_provider{};
    std::optional<std::string> webhook_url{};
    std::optional<std::string> deduplication_key{};
    std::optional<std::int64_t> noone_joined_timeout{};
    std::optional<std::int64_t> waiting_room_timeout{};
    raw_json extra{};  ///< echoed in the bot's webhooks, as JSON text; empty when absent
    raw_json json{};   ///< the whole stored object, as JSON text
};

/// A v1 calendar event (`GET /calendar_events/{uuid}`, schema `Event`).
struct v1_event {
    std::string uuid{};
    std::string calendar_uuid{};
    std::string google_id{};  ///< the provider's event id (Google or Microsoft)
    std::string name{};
    timestamp start_time{};
    timestamp end_time{};
    bool deleted = false;
    bool is_organizer = false;
    bool is_recurring = false;
    std::optional<std::string> recurring_event_id{};
    timestamp last_updated_at{};
    std::string meeting_url{};  ///< empty when the event has none
    std::vector<v1_attendee> attendees{};
    std::optional<v1_bot_param> bot_param{};  ///< set when a bot is scheduled
    raw_json raw{};  ///< the provider's raw event object, as JSON text; empty when absent
};

/// A v1 calendar (`GET /calendars/`, schema `Calendar`).
struct v1_calendar {
    std::string uuid{};
    std::string name{};
    std::string email{};
    std::string google_id{};
    std::optional<std::string> resource_id{};

    friend bool operator==(const v1_calendar&, const v1_calendar&) = default;
};

/// One page of `GET /calendar_events/` (`ListEventResponse`): events plus the `next` token or URL.
struct v1_event_page {
    std::vector<v1_event> data{};
    std::optional<std::string> next{};  ///< nullopt when null, empty or absent: no more pages
};

/// The answer of `POST /calendars/resync_all`.
struct v1_resync_result {
    std::vector<std::string> synced_calendars{};
    std::vector<std::pair<std::string, std::string>> errors{};  ///< (calendar uuid, message)
};

/// `status` filter of `GET /calendar_events/`. The server's default is `upcoming`, which hides events
/// that have started: reconcile with `all`.
enum class v1_event_status { upcoming = 1, past, all };

/// True for the enumerators above; false for any other value (a cast from an integer).
constexpr bool is_valid(v1_event_status s) noexcept
{
    return s == v1_event_status::upcoming || s == v1_event_status::past || s == v1_event_status::all;
}

constexpr std::string_view to_string(v1_event_status s) noexcept
{
    switch (s) {
        case v1_event_status::upcoming: return "upcoming";
        case v1_event_status::past: return "past";
        case v1_event_status::all: return "all";
    }
    return "(invalid v1_event_status)";
}

/// Filters of `GET /calendar_events/`. Timestamps are ISO 8601 strings sent as given: echo the
/// provider's own text (e.g. `last_updated_ts`) rather than re-formatting it.
struct v1_event_query {
    std::string calendar_id{};  ///< required
    std::optional<std::string> start_date_gte{};
    std::optional<std::string> start_date_lte{};
    std::optional<std::string> updated_at_gte{};
    std::optional<v1_event_status> status{};  ///< not sent when unset (server default: upcoming)
    std::optional<std::string> attendee_email{};
    std::optional<std::string> organizer_email{};
    std::optional<std::string> cursor{};  ///< start from this page
};

/// The body of `POST /calendar_events/{uuid}/bot` (`BotParam2`) and of the PATCH (`BotParam3`, where
/// every field is optional: unset fields, and an empty bot_name, are left out of the body).
struct v1_bot_config {
    std::string bot_name{};  ///< required to schedule
    std::optional<std::string> bot_image{};
    std::optional<std::string> enter_message{};
    std::optional<std::string> recording_mode{};
    std::optional<std::string> speech_to_text_provider{};  ///< "Gladia" | "Runpod" | "Default"
    std::optional<std::string> speech_to_text_api_key{};
    std::optional<std::string> webhook_url{};
    std::optional<std::string> deduplication_key{};
    std::optional<std::int64_t> noone_joined_timeout{};
    std::optional<std::int64_t> waiting_room_timeout{};
    std::optional<std::int64_t> silence_timeout{};
    std::optional<std::string> streaming_input{};
    std::optional<std::string> streaming_output{};
    std::optional<std::string> streaming_audio_frequency{};
    nlohmann::json extra{};       ///< an object echoed in webhooks; left out when null
    nlohmann::json additional{};  ///< more top-level fields (an object), merged last; null for none

    /// The JSON body. Pure; does not throw (nlohmann's object insertion on a non-const object).
    [[nodiscard]] nlohmann::json to_json() const
    {
        nlohmann::json body = nlohmann::json::object();
        if (!bot_name.empty()) body["bot_name"] = bot_name;
        auto put = [&body](const char* key, const auto& value) {
            if (value) body[key] = *value;
        };
        put("bot_image", bot_image);
        put("enter_message", enter_message);
        put("recording_mode", recording_mode);
        if (speech_to_text_provider) {
            nlohmann::json stt = nlohmann::json::object();
            stt["provider"] = *speech_to_text_provider;
            if (speech_to_text_api_key) stt["api_key"] = *speech_to_text_api_key;
            body["speech_to_text"] = std::move(stt);
        }
        put("webhook_url", webhook_url);
        put("deduplication_key", deduplication_key);
        put("noone_joined_timeout", noone_joined_timeout);
        put("waiting_room_timeout", waiting_room_timeout);
        put("silence_timeout", silence_timeout);
        put("streaming_input", streaming_input);
        put("streaming_output", streaming_output);
        put("streaming_audio_frequency", streaming_audio_frequency);
        if (!extra.is_null()) body["extra"] = extra;
        if (additional.is_object()) {
            for (auto it = additional.begin(); it != additional.end(); ++it) body[it.key()] = it.value();
        }
        return body;
    }
};

// ---------------------------------------------------------------------------------------------------
// v2 models
// ---------------------------------------------------------------------------------------------------

/// An attendee of a v2 event.
struct v2_attendee {
    std::string email{};
    std::optional<std::string> name{};
    std::string response_status{};  ///< accepted | declined | tentative | needsAction (open set)
    std::optional<bool> organizer{};
    std::optional<bool> self{};

    friend bool operator==(const v2_attendee&, const v2_attendee&) = default;
};

/// An event as listed by `GET /v2/calendars/{calendar_id}/events`.
struct v2_event_summary {
    std::string event_id{};
    std::string series_id{};
    std::string event_type{};
    std::string title{};
    timestamp start_time{};
    timestamp end_time{};
    std::string status{};  ///< confirmed | cancelled | tentative (open set)
    bool is_exception = false;
    std::optional<std::string> meeting_url{};
    std::optional<std::string> meeting_platform{};
    std::string calendar_id{};
    bool bot_scheduled = false;
    std::optional<timestamp> created_at{};
};

/// One event, `GET /v2/calendars/{calendar_id}/events/{event_id}`.
struct v2_event {
    std::string event_id{};
    std::string series_id{};
    std::string event_type{};
    std::string title{};
    std::optional<std::string> description{};
    std::optional<std::string> location{};
    timestamp start_time{};
    timestamp end_time{};
    std::optional<std::string> timezone{};
    bool is_all_day = false;
    std::string status{};
    std::optional<std::string> organizer_email{};
    std::optional<std::string> organizer_name{};
    std::vector<v2_attendee> attendees{};  ///< empty when null
    std::optional<std::string> meeting_url{};
    std::optional<std::string> meeting_platform{};
    std::string calendar_id{};
    std::string calendar_platform{};
    bool bot_scheduled = false;
    nlohmann::json raw_payload{};  ///< the provider's object, null when absent
    std::optional<timestamp> created_at{};
    std::optional<timestamp> updated_at{};
};

/// A v2 calendar connection (`GET /v2/calendars`).
struct v2_calendar {
    std::string calendar_id{};
    std::string calendar_platform{};  ///< google | microsoft
    std::string account_email{};
    std::string status{};
    std::optional<timestamp> synced_at{};
    std::optional<timestamp> created_at{};
};

/// One page of a v2 list endpoint.
template <class T>
struct v2_page {
    std::vector<T> data{};
    std::optional<std::string> cursor{};       ///< next page; nullopt when there is none
    std::optional<std::string> prev_cursor{};  ///< previous page
};

/// Filters of `GET /v2/calendars/{calendar_id}/events`. `limit` and `show_cancelled` are always sent
/// (the OpenAPI marks them required).
struct v2_event_query {
    int limit = 50;  ///< 1..250
    std::optional<std::string> start_date{};
    std::optional<std::string> end_date{};
    std::optional<std::string> status{};  ///< comma list of confirmed,cancelled,tentative
    bool show_cancelled = true;
    std::optional<std::string> cursor{};
};

/// Which events of a series a v2 calendar-bot call targets.
struct v2_bot_target {
    std::string series_id{};
    bool all_occurrences = false;
    std::optional<std::string> event_id{};  ///< required when all_occurrences is false

    /// The targeting fields as a JSON object (the whole DELETE body).
    [[nodiscard]] nlohmann::json to_json() const
    {
        nlohmann::json body = nlohmann::json::object();
        body["series_id"] = series_id;
        body["all_occurrences"] = all_occurrences;
        if (event_id) body["event_id"] = *event_id;
        return body;
    }
};

/// The bot configuration of `POST|PATCH /v2/calendars/{calendar_id}/bots` (only bot_name is required to
/// schedule; an empty bot_name is left out, as PATCH allows). Other fields (timeout_config, zoom_config,
/// streaming_*, transcription_*, callback_*) go in `additional`.
struct v2_bot_config {
    std::string bot_name{};
    std::optional<std::string> bot_image{};
    std::optional<std::string> recording_mode{};
    std::optional<std::string> entry_message{};
    nlohmann::json extra{};       ///< object, left out when null
    nlohmann::json additional{};  ///< more top-level fields (an object), merged last

    [[nodiscard]] nlohmann::json to_json() const
    {
        nlohmann::json body = nlohmann::json::object();
        if (!bot_name.empty()) body["bot_name"] = bot_name;
        if (bot_image) body["bot_image"] = *bot_image;
        if (recording_mode) body["recording_mode"] = *recording_mode;
        if (entry_message) body["entry_message"] = *entry_message;
        if (!extra.is_null()) body["extra"] = extra;
        if (additional.is_object()) {
            for (auto it = additional.begin(); it != additional.end(); ++it) body[it.key()] = it.value();
        }
        return body;
    }
};

/// A per-event failure inside a v2 calendar-bot answer.
struct v2_bot_item_error {
    std::string event_id{};
    std::string code{};
    std::string message{};
    std::optional<std::string> details{};

    friend bool operator==(const v2_bot_item_error&, const v2_bot_item_error&) = default;
};

/// The partial-success answer of the v2 calendar-bot endpoints:
/// `{success, data: [{event_id}], errors: [{event_id, code, message, details|null}]}`.
struct v2_bot_result {
    bool success = false;
    std::vector<std::string> succeeded{};  ///< event ids the operation applied to
    std::vector<v2_bot_item_error> errors{};

    /// True when every targeted event succeeded.
    [[nodiscard]] bool complete() const noexcept { return errors.empty(); }
};

// ---------------------------------------------------------------------------------------------------
// Non-throwing JSON reading with JSON-Pointer locations
// ---------------------------------------------------------------------------------------------------

namespace detail {

/// Moves a successfully read value into `target`, or passes the read's error on: one line per field.
template <class T, class U>
result<void> assign(T& target, result<U> value)
{
    if (!value) return std::move(value).error();
    target = std::move(*value);
    return {};
}

/// `base` + "/" + key, with '~' and '/' escaped (RFC 6901).
inline std::string pointer_append(std::string_view base, std::string_view key)
{
    std::string out(base);
    append_pointer_segment(out, key);
    return out;
}

inline std::string pointer_index(std::string_view base, std::size_t i)
{
    return std::string(base) + '/' + std::to_string(i);
}

inline std::string_view json_type_name(const nlohmann::json& j) noexcept
{
    return j.type_name();  // noexcept in nlohmann: "null", "object", "string", ...
}

/// Field reader over one JSON object; every error carries the field's JSON Pointer.
class api_object_reader {
public:
    api_object_reader(const nlohmann::json& object, std::string path)
        : object_(object), path_(std::move(path))
    {}

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    /// The member, or nullptr when absent (find() never throws, even on non-objects).
    [[nodiscard]] const nlohmann::json* find(std::string_view key) const
    {
        const auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }

    [[nodiscard]] error missing(std::string_view key) const
    {
        return error{errc::missing_field, pointer_append(path_, key), "required field is absent"};
    }
    [[nodiscard]] error wrong(std::string_view key, std::string_view expected,
                              const nlohmann::json& got) const
    {
        std::string message = "expected ";
        message += expected;
        message += ", got ";
        message += json_type_name(got);
        return error{errc::wrong_type, pointer_append(path_, key), std::move(message)};
    }

    /// A required string.
    [[nodiscard]] result<std::string> string(std::string_view key) const
    {
        const auto* v = find(key);
        if (v == nullptr) return missing(key);
        if (!v->is_string()) return wrong(key, "string", *v);
        return v->get_ref<const std::string&>();
    }

    /// A string that may be absent (-> fallback) or null (-> fallback).
    [[nodiscard]] result<std::string> string_or(std::string_view key, std::string fallback) const
    {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) return fallback;
        if (!v->is_string()) return wrong(key, "string", *v);
        return v->get_ref<const std::string&>();
    }

    /// A string that may be absent or null (-> nullopt).
    [[nodiscard]] result<std::optional<std::string>> optional_string(std::string_view key) const
    {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) return std::optional<std::string>{};
        if (!v->is_string()) return wrong(key, "string or null", *v);
        return std::optional<std::string>(v->get_ref<const std::string&>());
    }

    /// A required boolean.
    [[nodiscard]] result<bool> boolean(std::string_view key) const
    {
        const auto* v = find(key);
        if (v == nullptr) return missing(key);
        if (!v->is_boolean()) return wrong(key, "boolean", *v);
        return v->get<bool>();
    }

    /// A boolean that may be absent or null (-> fallback).
    [[nodiscard]] result<bool> boolean_or(std::string_view key, bool fallback) const
    {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) return fallback;
        if (!v->is_boolean()) return wrong(key, "boolean", *v);
        return v->get<bool>();
    }

    [[nodiscard]] result<std::optional<bool>> optional_boolean(std::string_view key) const
    {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) return std::optional<bool>{};
        if (!v->is_boolean()) return wrong(key, "boolean or null", *v);
        return std::optional<bool>(v->get<bool>());
    }

    /// An integer that may be absent or null.
    [[nodiscard]] result<std::optional<std::int64_t>> optional_integer(std::string_view key) const
    {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) return std::optional<std::int64_t>{};
        if (v->is_number_integer()) {
            if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
                return error{errc::invalid_value, pointer_append(path_, key), "integer out of range"};
            }
            return std::optional<std::int64_t>(v->get<std::int64_t>());
        }
        return wrong(key, "integer or null", *v);
    }

    /// A required date-time: an ISO 8601 string, or (tolerated, seen in 2024 v1 payloads) the Rust
    /// SystemTime object `{secs_since_epoch, nanos_since_epoch}`.
    [[nodiscard]] result<timestamp> time(std::string_view key) const
    {
        const auto* v = find(key);
        if (v == nullptr) return missing(key);
        return time_value(key, *v);
    }

    /// A date-time that may be absent or null.
    [[nodiscard]] result<std::optional<timestamp>> optional_time(std::string_view key) const
    {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) return std::optional<timestamp>{};
        auto t = time_value(key, *v);
        if (!t) return t.error();
        return std::optional<timestamp>(std::move(*t));
    }

    /// Any JSON value (null when absent), copied.
    [[nodiscard]] nlohmann::json any(std::string_view key) const
    {
        const auto* v = find(key);
        return v == nullptr ? nlohmann::json() : *v;
    }

private:
    [[nodiscard]] result<timestamp> time_value(std::string_view key, const nlohmann::json& v) const
    {
        if (v.is_string()) {
            auto t = parse_timestamp(v.get_ref<const std::string&>());
            if (!t) {
                auto e = t.error();
                e.where = pointer_append(path_, key);
                return e;
            }
            return t;
        }
        if (v.is_object()) {
            const api_object_reader inner(v, pointer_append(path_, key));
            const auto* secs = inner.find("secs_since_epoch");
            if (secs == nullptr) return inner.missing("secs_since_epoch");
            if (!secs->is_number_integer()) return inner.wrong("secs_since_epoch", "integer", *secs);
            auto nanos = inner.optional_integer("nanos_since_epoch");
            if (!nanos) return nanos.error();
            const auto s = secs->is_number_unsigned() ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                                                            secs->get<std::uint64_t>(), INT64_MAX))
                                                      : secs->get<std::int64_t>();
            auto base = time_from_epoch(s, epoch_unit::seconds);
            if (!base) {
                auto e = base.error();
                e.where = inner.path();
                return e;
            }
            const auto n = nanos->value_or(0);
            if (n < 0 || n > 999'999'999) {
                return error{errc::invalid_value, pointer_append(inner.path(), "nanos_since_epoch"),
                             "nanoseconds out of range"};
            }
            const utc_time t = *base + std::chrono::microseconds(n / 1000);
            return timestamp{t, format_timestamp(t), false};
        }
        return wrong(key, "date-time string", v);
    }

    const nlohmann::json& object_;
    std::string path_{};
};

/// Requires `j` to be an object; `path` names it.
inline result<void> require_object(const nlohmann::json& j, std::string_view path)
{
    if (j.is_object()) return {};
    return error{errc::not_an_object, std::string(path.empty() ? "/" : path),
                 std::string("expected an object, got ") + std::string(json_type_name(j))};
}

/// Parses an array member with `parse_item(element, pointer)`; absent or null gives an empty vector
/// when `required` is false.
template <class T, class F>
result<std::vector<T>> parse_array(const nlohmann::json& j, const std::string& path, F&& parse_item)
{
    if (!j.is_array()) {
        return error{errc::wrong_type, path.empty() ? std::string("/") : path,
                     std::string("expected array, got ") + std::string(json_type_name(j))};
    }
    std::vector<T> out{};
    out.reserve(j.size());
    std::size_t i = 0;
    for (const auto& item : j) {
        auto parsed = parse_item(item, pointer_index(path, i));
        if (!parsed) return parsed.error();
        out.push_back(std::move(*parsed));
        ++i;
    }
    return out;
}

/// The deepest nesting an API answer may have. Meeting BaaS answers nest about 6 levels; the limit keeps
/// nlohmann's recursive copy and dump far from the stack's end on hostile input.
inline constexpr std::size_t max_api_json_depth = 64;

/// The maximum nesting depth of the JSON text `body` (brackets outside strings), stopping early once
/// `limit` is exceeded. Linear, no allocation; the text need not be valid JSON.
constexpr std::size_t json_nesting_depth(std::string_view body, std::size_t limit) noexcept
{
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : body) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
            if (deepest > limit) return deepest;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

/// Parses `body` as JSON without exceptions. Errors: empty_input, too_deep (more than
/// max_api_json_depth levels), malformed_json; `where` is "/".
inline result<nlohmann::json> parse_json_body(std::string_view body)
{
    if (body.empty()) return error{errc::empty_input, "/", "empty body"};
    if (json_nesting_depth(body, max_api_json_depth) > max_api_json_depth) {
        return error{errc::too_deep, "/",
                     "nesting deeper than " + std::to_string(max_api_json_depth) + " levels"};
    }
    auto doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return error{errc::malformed_json, "/", "the body is not valid JSON"};
    return doc;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------------
// v1 models: one schema per type (the fields, their JSON names, which are required), read by two readers:
// the DOM reader over nlohmann::json (every error precise), and the streaming reader over the body text
// (events/detail/json_reader.hpp, no DOM), which gives up on anything the DOM reader would report or
// decode differently. Adding a field means adding one line to a schema.
// ---------------------------------------------------------------------------------------------------

namespace detail::v1_schema {

/// When a field may be absent or null.
enum class presence {
    required,  ///< absent: missing_field; null: wrong_type
    optional,  ///< absent or null keeps the member's default
};

/// One member of a model: its JSON name, the member, and whether it is required. `array_tolerated`: an array
/// value is skipped (kept only in the whole-object text), for fields whose type changed in newer schemas.
template <class Owner, class T>
struct field {
    std::string_view key;
    T Owner::* member;
    presence when = presence::optional;
    bool array_tolerated = false;
};

template <class Owner, class T>
constexpr field<Owner, T> required(std::string_view key, T Owner::* member) noexcept
{
    return {key, member, presence::required, false};
}

template <class Owner, class T>
constexpr field<Owner, T> optional(std::string_view key, T Owner::* member,
                                   bool array_tolerated = false) noexcept
{
    return {key, member, presence::optional, array_tolerated};
}

/// The schema of a model: `fields` (a tuple of field, in the order the DOM reader checks them), and
/// optionally `whole_text`, a raw_json member that receives the text of the whole object.
template <class T>
struct schema;

template <>
struct schema<v1_attendee> {
    static constexpr auto fields =
        std::tuple{optional("email", &v1_attendee::email), optional("name", &v1_attendee::name)};
};

template <>
struct schema<v1_bot_param> {
    static constexpr auto fields = std::tuple{
        optional("bot_name", &v1_bot_param::bot_name),
        optional("bot_image", &v1_bot_param::bot_image, /*array_tolerated=*/true),
        optional("enter_message", &v1_bot_param::enter_message),
        optional("recording_mode", &v1_bot_param::recording_mode),
        optional("speech_to_text_provider", &v1_bot_param::speech_to_text_provider),
        optional("webhook_url", &v1_bot_param::webhook_url),
        optional("deduplication_key", &v1_bot_param::deduplication_key),
        optional("noone_joined_timeout", &v1_bot_param::noone_joined_timeout),
        optional("waiting_room_timeout", &v1_bot_param::waiting_room_timeout),
        optional("extra", &v1_bot_param::extra),
    };
    static constexpr auto whole_text = &v1_bot_param::json;
};

template <>
struct schema<v1_event> {
    static constexpr auto fields = std::tuple{
        required("uuid", &v1_event::uuid),
        required("calendar_uuid", &v1_event::calendar_uuid),
        optional("google_id", &v1_event::google_id),
        optional("name", &v1_event::name),
        required("start_time", &v1_event::start_time),
        required("end_time", &v1_event::end_time),
        required("deleted", &v1_event::deleted),
        optional("is_organizer", &v1_event::is_organizer),
        optional("is_recurring", &v1_event::is_recurring),
        optional("recurring_event_id", &v1_event::recurring_event_id),
        required("last_updated_at", &v1_event::last_updated_at),
        optional("meeting_url", &v1_event::meeting_url),
        optional("attendees", &v1_event::attendees),
        optional("bot_param", &v1_event::bot_param),
        optional("raw", &v1_event::raw),
    };
};

template <class T>
concept has_schema = requires { schema<T>::fields; };

template <class T>
constexpr std::size_t field_count = std::tuple_size_v<std::remove_cvref_t<decltype(schema<T>::fields)>>;

/// Calls f(field, index) for each field of T's schema, in order, while f returns true.
template <class T, class F>
constexpr bool for_each_field(F&& f)
{
    return std::apply(
        [&](const auto&... fs) {
            std::size_t i = 0;
            return (f(fs, i++) && ...);
        },
        schema<T>::fields);
}

// ---- the DOM reader --------------------------------------------------------------------------------------

template <has_schema T>
result<T> read_dom(const nlohmann::json& j, const std::string& path);

template <class Owner, class T>
result<void> read_dom_field(const api_object_reader& r, const field<Owner, T>& f, Owner& out)
{
    T& member = out.*f.member;
    const bool required = f.when == presence::required;
    if constexpr (std::is_same_v<T, std::string>) {
        return assign(member, required ? r.string(f.key) : r.string_or(f.key, member));
    } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
        if (f.array_tolerated) {
            if (const auto* v = r.find(f.key); v != nullptr && v->is_array()) return {};
        }
        return assign(member, r.optional_string(f.key));
    } else if constexpr (std::is_same_v<T, bool>) {
        return assign(member, required ? r.boolean(f.key) : r.boolean_or(f.key, member));
    } else if constexpr (std::is_same_v<T, timestamp>) {
        return assign(member, r.time(f.key));
    } else if constexpr (std::is_same_v<T, std::optional<std::int64_t>>) {
        return assign(member, r.optional_integer(f.key));
    } else if constexpr (std::is_same_v<T, raw_json>) {
        if (const auto* v = r.find(f.key); v != nullptr) member.text = v->dump();
        return {};
    } else if constexpr (requires { typename T::value_type; } && has_schema<typename T::value_type>) {
        // std::vector or std::optional of a model: absent or null leaves it empty.
        using M = typename T::value_type;
        const auto* v = r.find(f.key);
        if (v == nullptr || v->is_null()) return {};
        const std::string at = pointer_append(r.path(), f.key);
        if constexpr (std::is_same_v<T, std::vector<M>>) {
            return assign(member, parse_array<M>(*v, at, [](const nlohmann::json& a, const std::string& p) {
                              return read_dom<M>(a, p);
                          }));
        } else {
            return assign(member, read_dom<M>(*v, at));
        }
    } else {
        static_assert(sizeof(T) == 0, "v1_schema: no DOM reader for this member type");
    }
}

/// Reads a model from a DOM object; errors name the JSON Pointer below `path`.
template <has_schema T>
result<T> read_dom(const nlohmann::json& j, const std::string& path)
{
    if (auto ok = require_object(j, path); !ok) return ok.error();
    const api_object_reader r(j, path);
    T out{};
    result<void> status;
    for_each_field<T>([&](const auto& f, std::size_t) {
        status = read_dom_field(r, f, out);
        return status.has_value();
    });
    if (!status) return status.error();
    if constexpr (requires { schema<T>::whole_text; }) (out.*schema<T>::whole_text).text = j.dump();
    return out;
}

// ---- the streaming reader --------------------------------------------------------------------------------

/// Marks field `bit` as seen; false for a duplicate (the DOM keeps the last one: let it decide).
inline bool member_once(std::uint64_t& seen, std::size_t bit) noexcept
{
    const std::uint64_t mask = std::uint64_t{1} << bit;
    if ((seen & mask) != 0) return false;
    seen |= mask;
    return true;
}

template <has_schema T>
bool read_stream(json_reader& r, T& out);

template <class Owner, class T>
bool read_stream_field(json_reader& r, const field<Owner, T>& f, Owner& out)
{
    T& member = out.*f.member;
    const json_kind k = r.peek();
    const bool null_ok = f.when == presence::optional;
    if (k == json_kind::null) {
        if (!null_ok) return false;
        if constexpr (std::is_same_v<T, raw_json>) {
            member.text = "null";
        } else if constexpr (requires { member.reset(); }) {
            member.reset();
        }
        return r.read_null();
    }
    if constexpr (std::is_same_v<T, std::string>) {
        return k == json_kind::string && r.read_string(member);
    } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
        if (f.array_tolerated && k == json_kind::array) return r.skip_value();
        return k == json_kind::string && r.read_string(member.emplace());
    } else if constexpr (std::is_same_v<T, bool>) {
        return k == json_kind::boolean && r.read_bool(member);
    } else if constexpr (std::is_same_v<T, timestamp>) {
        // An ISO 8601 string; the SystemTime object form is left to the DOM reader.
        if (k != json_kind::string) return false;
        std::string scratch;
        std::string_view text;
        if (!r.read_string_view(text, scratch)) return false;
        auto t = parse_timestamp(text);
        if (!t) return false;
        member = std::move(*t);
        return true;
    } else if constexpr (std::is_same_v<T, std::optional<std::int64_t>>) {
        if (k != json_kind::number) return false;
        std::string_view text;
        if (!r.read_number(text)) return false;
        if (text.find_first_of(".eE") != std::string_view::npos) return false;
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || ptr != text.data() + text.size()) return false;
        member = v;
        return true;
    } else if constexpr (std::is_same_v<T, raw_json>) {
        std::string_view text;
        if (!r.skip_value(&text)) return false;
        member.text.assign(text.data(), text.size());
        return true;
    } else if constexpr (requires { typename T::value_type; } && has_schema<typename T::value_type>) {
        using M = typename T::value_type;
        if constexpr (std::is_same_v<T, std::vector<M>>) {
            if (k != json_kind::array) return false;
            return r.read_array([&](std::size_t) { return read_stream(r, member.emplace_back()); });
        } else {
            return read_stream(r, member.emplace());
        }
    } else {
        static_assert(sizeof(T) == 0, "v1_schema: no streaming reader for this member type");
    }
}

/// Reads a model from the text at the reader's position; false when the DOM reader must decide.
template <has_schema T>
bool read_stream(json_reader& r, T& out)
{
    static_assert(field_count<T> <= 64, "one bit per field");
    if (r.peek() != json_kind::object) return false;
    const std::size_t start = r.position();
    std::uint64_t seen = 0;
    const bool ok = r.read_object([&](std::string_view key) {
        bool handled = false;
        bool good = true;
        for_each_field<T>([&](const auto& f, std::size_t i) {
            if (key != f.key) return true;
            handled = true;
            good = member_once(seen, i) && read_stream_field(r, f, out);
            return false;
        });
        return handled ? good : r.skip_value();
    });
    if (!ok) return false;
    std::uint64_t required = 0;
    for_each_field<T>([&](const auto& f, std::size_t i) {
        if (f.when == presence::required) required |= std::uint64_t{1} << i;
        return true;
    });
    if ((seen & required) != required) return false;
    if constexpr (requires { schema<T>::whole_text; }) {
        const std::string_view text = r.text().substr(start, r.position() - start);
        (out.*schema<T>::whole_text).text.assign(text.data(), text.size());
    }
    return true;
}

}  // namespace detail::v1_schema

/// Parses one v1 attendee object.
[[nodiscard]] inline result<v1_attendee> parse_v1_attendee(const nlohmann::json& j,
                                                           const std::string& path = "")
{
    return detail::v1_schema::read_dom<v1_attendee>(j, path);
}

/// Parses a stored v1 `BotParam` object (`json` receives the whole object).
[[nodiscard]] inline result<v1_bot_param> parse_v1_bot_param(const nlohmann::json& j,
                                                             const std::string& path = "")
{
    return detail::v1_schema::read_dom<v1_bot_param>(j, path);
}

/// Parses a v1 `Event` object. Required: uuid, calendar_uuid, start_time, end_time, last_updated_at,
/// deleted. Other schema-required fields default when absent or null (google_id, name, meeting_url: "";
/// is_organizer, is_recurring: false; attendees: empty), but a wrong type is always an error.
/// Errors: not_an_object, missing_field, wrong_type, invalid_timestamp, invalid_value, with `where` the
/// JSON Pointer below `path`.
[[nodiscard]] inline result<v1_event> parse_v1_event(const nlohmann::json& j, const std::string& path = "")
{
    return detail::v1_schema::read_dom<v1_event>(j, path);
}

/// Parses a v1 `Calendar` object.
[[nodiscard]] inline result<v1_calendar> parse_v1_calendar(const nlohmann::json& j,
                                                           const std::string& path = "")
{
    if (auto ok = detail::require_object(j, path); !ok) return ok.error();
    const detail::api_object_reader r(j, path);
    v1_calendar c;
    if (auto ok = detail::assign(c.uuid, r.string("uuid")); !ok) return ok.error();
    if (auto ok = detail::assign(c.name, r.string_or("name", "")); !ok) return ok.error();
    if (auto ok = detail::assign(c.email, r.string_or("email", "")); !ok) return ok.error();
    if (auto ok = detail::assign(c.google_id, r.string_or("google_id", "")); !ok) return ok.error();
    if (auto ok = detail::assign(c.resource_id, r.optional_string("resource_id")); !ok) return ok.error();
    return c;
}

/// Parses a `ListEventResponse` object `{data: Event[], next?: string|null}`.
[[nodiscard]] inline result<v1_event_page> parse_v1_event_page(const nlohmann::json& j,
                                                               const std::string& path = "")
{
    if (auto ok = detail::require_object(j, path); !ok) return ok.error();
    const detail::api_object_reader r(j, path);
    const auto* data = r.find("data");
    if (data == nullptr) return r.missing("data");
    auto events = detail::parse_array<v1_event>(
        *data, detail::pointer_append(path, "data"),
        [](const nlohmann::json& a, const std::string& p) { return parse_v1_event(a, p); });
    if (!events) return events.error();
    auto next = r.optional_string("next");
    if (!next) return next.error();
    v1_event_page page;
    page.data = std::move(*events);
    if (auto& text = *next; text && !text->empty()) page.next = std::move(text);
    return page;
}

/// Parses an array of v1 events (the answer of the bot endpoints).
[[nodiscard]] inline result<std::vector<v1_event>> parse_v1_event_list(const nlohmann::json& j,
                                                                       const std::string& path = "")
{
    return detail::parse_array<v1_event>(
        j, path, [](const nlohmann::json& a, const std::string& p) { return parse_v1_event(a, p); });
}

// ---------------------------------------------------------------------------------------------------
// v1 events from the body text: a streaming fast path (events/detail/json_reader.hpp, no DOM) with the DOM
// parsers above as the fallback. The fast path gives up (returns false) on anything it does not decode
// exactly like the DOM path: a type mismatch, a duplicate member, a SystemTime timestamp, a syntax error,
// ... The body is then parsed again through nlohmann, so results and errors (codes, JSON Pointers,
// messages) are those of parse_json_body + parse_v1_event, whichever path ran.
// ---------------------------------------------------------------------------------------------------

namespace detail::v1_fast {

using v1_schema::member_once;

inline bool opt_str(json_reader& r, std::optional<std::string>& out)
{
    const json_kind k = r.peek();
    if (k == json_kind::null) {
        out.reset();
        return r.read_null();
    }
    return k == json_kind::string && r.read_string(out.emplace());
}

inline bool read_event(json_reader& r, v1_event& e)
{
    return v1_schema::read_stream(r, e);
}

inline bool read_event_page(json_reader& r, v1_event_page& page)
{
    if (r.peek() != json_kind::object) return false;
    std::uint64_t seen = 0;
    std::optional<std::string> next{};
    const bool ok = r.read_object([&](std::string_view key) {
        if (key == "data") {
            if (!member_once(seen, 0) || r.peek() != json_kind::array) return false;
            return r.read_array([&](std::size_t) { return read_event(r, page.data.emplace_back()); });
        }
        if (key == "next") return member_once(seen, 1) && opt_str(r, next);
        return r.skip_value();
    });
    if (!ok || (seen & 1u) == 0) return false;
    if (next && !next->empty()) page.next = std::move(next);
    return true;
}

inline bool read_event_list(json_reader& r, std::vector<v1_event>& events)
{
    if (r.peek() != json_kind::array) return false;
    return r.read_array([&](std::size_t) { return read_event(r, events.emplace_back()); });
}

/// Runs `decode` over the whole body; nullopt when the fast path gave up.
template <class T, class F>
std::optional<T> decode(std::string_view body, F&& decode_value)
{
    if (body.empty()) return std::nullopt;
    json_reader r(body, max_api_json_depth);
    std::optional<T> out(std::in_place);
    if (!decode_value(r, *out) || !r.at_end()) return std::nullopt;
    return out;
}

/// decode() with `read`, or, when the fast path gives up, parse_json_body followed by `dom` (which
/// then also produces the error).
template <class T, class Read, class Dom>
result<T> decode_or_fall_back(std::string_view body, Read&& read, Dom&& dom)
{
    if (auto fast = decode<T>(body, std::forward<Read>(read))) return std::move(*fast);
    auto doc = parse_json_body(body);
    if (!doc) return doc.error();
    return std::forward<Dom>(dom)(*doc);
}

}  // namespace detail::v1_fast

/// Parses the text of a v1 `Event` (the body of `GET /calendar_events/{uuid}`) straight into a v1_event,
/// without building a DOM. Results and errors are those of parse_json_body followed by parse_v1_event
/// (empty_input, too_deep, malformed_json at "/", then the parse_v1_event errors); `raw` and
/// `bot_param->json`/`extra` keep the exact text of the body.
[[nodiscard]] inline result<v1_event> parse_v1_event_text(std::string_view body)
{
    return detail::v1_fast::decode_or_fall_back<v1_event>(
        body, detail::v1_fast::read_event, [](const nlohmann::json& j) { return parse_v1_event(j); });
}

/// The same for a `ListEventResponse` body (parse_json_body followed by parse_v1_event_page).
[[nodiscard]] inline result<v1_event_page> parse_v1_event_page_text(std::string_view body)
{
    return detail::v1_fast::decode_or_fall_back<v1_event_page>(
        body, detail::v1_fast::read_event_page,
        [](const nlohmann::json& j) { return parse_v1_event_page(j); });
}

/// The same for an array of events, the answer of the bot endpoints (parse_json_body followed by
/// parse_v1_event_list).
[[nodiscard]] inline result<std::vector<v1_event>> parse_v1_event_list_text(std::string_view body)
{
    return detail::v1_fast::decode_or_fall_back<std::vector<v1_event>>(
        body, detail::v1_fast::read_event_list,
        [](const nlohmann::json& j) { return parse_v1_event_list(j); });
}

/// Parses the resync_all answer `{synced_calendars: uuid[], errors: [[uuid, message], ...]}`.
[[nodiscard]] inline result<v1_resync_result> parse_v1_resync_result(const nlohmann::json& j,
                                                                     const std::string& path = "")
{
    if (auto ok = detail::require_object(j, path); !ok) return ok.error();
    const detail::api_object_reader r(j, path);
    v1_resync_result out;
    if (const auto* synced = r.find("synced_calendars"); synced != nullptr && !synced->is_null()) {
        auto list = detail::parse_array<std::string>(
            *synced, detail::pointer_append(path, "synced_calendars"),
            [](const nlohmann::json& a, const std::string& p) -> result<std::string> {
                if (!a.is_string()) return error{errc::wrong_type, p, "expected string"};
                return a.get_ref<const std::string&>();
            });
        if (!list) return list.error();
        out.synced_calendars = std::move(*list);
    }
    if (const auto* errors = r.find("errors"); errors != nullptr && !errors->is_null()) {
        auto list = detail::parse_array<std::pair<std::string, std::string>>(
            *errors, detail::pointer_append(path, "errors"),
            [](const nlohmann::json& a, const std::string& p) -> result<std::pair<std::string, std::string>> {
                if (!a.is_array() || a.size() != 2) {
                    return error{errc::wrong_type, p, "expected a [uuid, message] pair"};
                }
                const auto& first = *a.begin();
                const auto& second = *std::next(a.begin());
                if (!first.is_string()) return error{errc::wrong_type, p + "/0", "expected string"};
                std::string message = second.is_string() ? second.get<std::string>() : second.dump();
                return std::pair<std::string, std::string>(first.get<std::string>(), std::move(message));
            });
        if (!list) return list.error();
        out.errors = std::move(*list);
    }
    return out;
}

/// Parses a v2 attendee.
[[nodiscard]] inline result<v2_attendee> parse_v2_attendee(const nlohmann::json& j,
                                                           const std::string& path = "")
{
    if (auto ok = detail::require_object(j, path); !ok) return ok.error();
    const detail::api_object_reader r(j, path);
    v2_attendee a;
    if (auto ok = detail::assign(a.email, r.string_or("email", "")); !ok) return ok.error();
    if (auto ok = detail::assign(a.name, r.optional_string("name")); !ok) return ok.error();
    if (auto ok = detail::assign(a.response_status, r.string_or("response_status", "")); !ok)
        return ok.error();
    auto organizer = r.optional_boolean("organizer");
    if (!organizer) return organizer.error();
    a.organizer = *organizer;
    auto self = r.optional_boolean("self");
    if (!self) return self.error();
    a.self = *self;
    return a;
}

namespace detail {

/// Fields shared by v2_event_summary and v2_event.
template <class E>
result<void> parse_v2_event_common(const api_object_reader& r, E& e)
{
    if (auto ok = detail::assign(e.event_id, r.string("event_id")); !ok) return ok.error();
    if (auto ok = detail::assign(e.series_id, r.string_or("series_id", "")); !ok) return ok.error();
    if (auto ok = detail::assign(e.event_type, r.string_or("event_type", "")); !ok) return ok.error();
    if (auto ok = detail::assign(e.title, r.string_or("title", "")); !ok) return ok.error();
    if (auto ok = detail::assign(e.start_time, r.time("start_time")); !ok) return ok.error();
    if (auto ok = detail::assign(e.end_time, r.time("end_time")); !ok) return ok.error();
    if (auto ok = detail::assign(e.status, r.string_or("status", "")); !ok) return ok.error();
    if (auto ok = detail::assign(e.meeting_url, r.optional_string("meeting_url")); !ok) return ok.error();
    if (auto ok = detail::assign(e.meeting_platform, r.optional_string("meeting_platform")); !ok)
        return ok.error();
    if (auto ok = detail::assign(e.calendar_id, r.string_or("calendar_id", "")); !ok) return ok.error();
    auto bot = r.boolean_or("bot_scheduled", false);
    if (!bot) return bot.error();
    e.bot_scheduled = *bot;
    if (auto ok = detail::assign(e.created_at, r.optional_time("created_at")); !ok) return ok.error();
    return {};
}

}  // namespace detail

/// Parses a v2 event as listed.
[[nodiscard]] inline result<v2_event_summary> parse_v2_event_summary(const nlohmann::json& j,
                                                                     const std::string& path = "")
{
    if (auto ok = detail::require_object(j, path); !ok) return ok.error();
    const detail::api_object_reader r(j, path);
    v2_event_summary e;
    if (auto ok = detail::parse_v2_event_common(r, e); !ok) return ok.error();
    auto exception = r.boolean_or("is_exception", false);
    if (!exception) return exception.error();
    e.is_exception = *exception;
    return e;
}

/// Parses a v2 event's details.
[[nodiscard]] inline result<v2_event> parse_v2_event(const nlohmann::json& j, const std::string& path = "")
{
    if (auto ok = detail::require_object(j, path); !ok) return ok.error();
    const detail::api_object_reader r(j, path);
    v2_event e;
    if (auto ok = detail::parse_v2_event_common(r, e); !ok) return ok.error();
    struct opt_field {
        const char* key;
        std::optional<std::string>* out;
    };
    for (const auto& f :
         {opt_field{"description", &e.description}, opt_field{"location", &e.location},
          opt_field{"timezone", &e.timezone}, opt_field{"organizer_email", &e.organizer_email},
          opt_field{"organizer_name", &e.organizer_name}}) {
        auto s = r.optional_string(f.key);
        if (!s) return s.error();
        *f.out = std::move(*s);
    }
    auto all_day = r.boolean_or("is_all_day", false);
    if (!all_day) return all_day.error();
    e.is_all_day = *all_day;
    if (auto ok = detail::assign(e.calendar_platform, r.string_or("calendar_platform", "")); !ok)
        return ok.error();
    if (const auto* attendees = r.find("attendees"); attendees != nullptr && !attendees->is_null()) {
        auto list = detail::parse_array<v2_attendee>(
            *attendees, detail::pointer_append(path, "attendees"),
            [](const nlohmann::json& a, const std::string& p) { return parse_v2_attendee(a, p); });
        if (!list) return list.error();
        e.attendees = std::move(*list);
    }
    e.raw_payload = r.any("raw_payload");
    if (auto ok = detail::assign(e.updated_at, r.optional_time("updated_at")); !ok) return ok.error();
    return e;
}

/// Parses a v2 calendar connection.
[[nodiscard]] inline result<v2_calendar> parse_v2_calendar(const nlohmann::json& j,
                                                           const std::string& path = "")
{
    if (auto ok = detail::require_object(j, path); !ok) return ok.error();
    const detail::api_object_reader r(j, path);
    v2_calendar c;
    if (auto ok = detail::assign(c.calendar_id, r.string("calendar_id")); !ok) return ok.error();
    if (auto ok = detail::assign(c.calendar_platform, r.string_or("calendar_platform", "")); !ok)
        return ok.error();
    if (auto ok = detail::assign(c.account_email, r.string_or("account_email", "")); !ok) return ok.error();
    if (auto ok = detail::assign(c.status, r.string_or("status", "")); !ok) return ok.error();
    if (auto ok = detail::assign(c.synced_at, r.optional_time("synced_at")); !ok) return ok.error();
    if (auto ok = detail::assign(c.created_at, r.optional_time("created_at")); !ok) return ok.error();
    return c;
}

/// Parses a v2 success envelope's list: `{success: true, data: [...], cursor?, prev_cursor?}`.
template <class T, class F>
[[nodiscard]] result<v2_page<T>> parse_v2_page(const nlohmann::json& j, F&& parse_item)
{
    if (auto ok = detail::require_object(j, ""); !ok) return ok.error();
    const detail::api_object_reader r(j, "");
    const auto* data = r.find("data");
    if (data == nullptr) return r.missing("data");
    auto items = detail::parse_array<T>(*data, "/data", std::forward<F>(parse_item));
    if (!items) return items.error();
    v2_page<T> page;
    page.data = std::move(*items);
    auto cursor = r.optional_string("cursor");
    if (!cursor) return cursor.error();
    if (*cursor && !(*cursor)->empty()) page.cursor = std::move(*cursor);
    auto prev = r.optional_string("prev_cursor");
    if (!prev) return prev.error();
    if (*prev && !(*prev)->empty()) page.prev_cursor = std::move(*prev);
    return page;
}

/// Parses the v2 calendar-bot answer (status 200/201, and also 4xx answers that carry the same shape).
[[nodiscard]] inline result<v2_bot_result> parse_v2_bot_result(const nlohmann::json& j)
{
    if (auto ok = detail::require_object(j, ""); !ok) return ok.error();
    const detail::api_object_reader r(j, "");
    v2_bot_result out;
    auto success = r.boolean_or("success", false);
    if (!success) return success.error();
    out.success = *success;
    if (const auto* data = r.find("data"); data != nullptr && !data->is_null()) {
        auto ids = detail::parse_array<std::string>(
            *data, "/data", [](const nlohmann::json& a, const std::string& p) -> result<std::string> {
                if (auto ok = detail::require_object(a, p); !ok) return ok.error();
                return detail::api_object_reader(a, p).string("event_id");
            });
        if (!ids) return ids.error();
        out.succeeded = std::move(*ids);
    }
    if (const auto* errors = r.find("errors"); errors != nullptr && !errors->is_null()) {
        auto list = detail::parse_array<v2_bot_item_error>(
            *errors, "/errors",
            [](const nlohmann::json& a, const std::string& p) -> result<v2_bot_item_error> {
                if (auto ok = detail::require_object(a, p); !ok) return ok.error();
                const detail::api_object_reader er(a, p);
                v2_bot_item_error item;
                if (auto ok = detail::assign(item.event_id, er.string_or("event_id", "")); !ok)
                    return ok.error();
                if (auto ok = detail::assign(item.code, er.string_or("code", "")); !ok) return ok.error();
                if (auto ok = detail::assign(item.message, er.string_or("message", "")); !ok)
                    return ok.error();
                auto details = er.optional_string("details");
                if (!details) {
                    // details is documented as string|null; keep other JSON as text rather than fail
                    const auto* d = er.find("details");
                    item.details = d->dump();
                } else {
                    item.details = std::move(*details);
                }
                return item;
            });
        if (!list) return list.error();
        out.errors = std::move(*list);
    }
    return out;
}

}  // namespace meetingbaas::inline v0
