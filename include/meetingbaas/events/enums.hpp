// SPDX-License-Identifier: MIT
#pragma once

// Open enumerations of Meeting BaaS payloads: a known enumerator when the wire string matches one,
// and always the raw string, so that values the provider adds later never break parsing.
// The lists follow the provider spec, section 2.4. No JSON dependency.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace meetingbaas::inline v0 {

/// A value of an open enumeration: `value` is E::unknown (= E{}) when `raw` is not a known spelling.
/// `raw` is always the string exactly as received. Compare with an enumerator directly:
/// `if (status.code == bot_status_code::in_call_recording)`.
template <class E>
struct open_enum {
    E value{};
    std::string raw;

    [[nodiscard]] constexpr bool is_known() const noexcept { return value != E{}; }
    friend constexpr bool operator==(const open_enum& a, E b) noexcept { return a.value == b; }
    friend bool operator==(const open_enum&, const open_enum&) = default;
};

/// Spellings of the enumerators of E; specialized for every open enumeration below.
template <class E>
struct enum_spellings;

namespace detail {

/// ASCII comparison that ignores case, '_', '-' and ' ' (the provider mixes PascalCase,
/// snake_case and SCREAMING_CASE for the same codes).
constexpr bool loose_equal(std::string_view a, std::string_view b) noexcept
{
    auto skip = [](char c) { return c == '_' || c == '-' || c == ' '; };
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    std::size_t i = 0, j = 0;
    for (;;) {
        while (i < a.size() && skip(a[i])) ++i;
        while (j < b.size() && skip(b[j])) ++j;
        if (i == a.size() || j == b.size()) return i == a.size() && j == b.size();
        if (lower(a[i]) != lower(b[j])) return false;
        ++i;
        ++j;
    }
}

}  // namespace detail

/// The enumerator whose spelling matches `raw` (exactly first, then ignoring case and separators),
/// or E::unknown. Never allocates.
template <class E>
[[nodiscard]] constexpr E enum_from_string(std::string_view raw) noexcept
{
    for (const auto& [name, value] : enum_spellings<E>::items) {
        if (name == raw) return value;
    }
    for (const auto& [name, value] : enum_spellings<E>::items) {
        if (detail::loose_equal(name, raw)) return value;
    }
    return E{};
}

/// Builds an open_enum from a wire string.
template <class E>
[[nodiscard]] open_enum<E> make_open_enum(std::string_view raw)
{
    return open_enum<E>{enum_from_string<E>(raw), std::string(raw)};
}

namespace detail {

/// Satisfied by the enumerations that have an enum_spellings specialization.
template <class E>
concept spelled_enum = std::is_enum_v<E> && requires { enum_spellings<E>::items; };

/// One more than the largest enumerator listed in enum_spellings<E> (0 is E::unknown).
template <spelled_enum E>
constexpr std::size_t spelled_value_count() noexcept
{
    std::size_t count = 1;
    for (const auto& item : enum_spellings<E>::items) {
        const auto v = static_cast<std::size_t>(item.second);
        if (v + 1 > count) count = v + 1;
    }
    return count;
}

/// The canonical spelling of each enumerator, indexed by value: the first one listed in enum_spellings<E>
/// (later entries for the same value are accepted aliases), and "unknown" for E::unknown.
template <spelled_enum E>
inline constexpr auto canonical_spellings = [] {
    std::array<std::string_view, spelled_value_count<E>()> names{};
    names[0] = "unknown";
    for (const auto& [name, value] : enum_spellings<E>::items) {
        auto& slot = names[static_cast<std::size_t>(value)];
        if (slot.empty()) slot = name;
    }
    return names;
}();

template <spelled_enum E>
constexpr bool every_enumerator_spelled() noexcept
{
    for (const std::string_view name : canonical_spellings<E>) {
        if (name.empty()) return false;
    }
    return true;
}

}  // namespace detail

/// The canonical wire spelling of an open enumeration's value (the first one listed in its enum_spellings),
/// or "unknown" for E::unknown and for values that are not enumerators. Never allocates. The spellings
/// table is the only place a wire name is written down.
template <detail::spelled_enum E>
[[nodiscard]] constexpr std::string_view to_string(E v) noexcept
{
    static_assert(detail::every_enumerator_spelled<E>(),
                  "every enumerator needs a spelling in enum_spellings<E>");
    const auto i = static_cast<std::size_t>(v);
    const auto& names = detail::canonical_spellings<E>;
    return i < names.size() ? names[i] : std::string_view("unknown");
}

/// Bot status codes of `bot.status_change` (v1 and v2 share one list; v2 keeps adding codes).
enum class bot_status_code {
    unknown,  ///< not a spelling this version knows: read the raw string
    joining_call,
    in_waiting_room,
    in_waiting_for_host,
    in_call_not_recording,
    in_call_recording,
    recording_paused,
    recording_resumed,
    call_ended,
    recording_succeeded,
    recording_failed,
    api_request_stop,
    bot_rejected,
    bot_removed,
    bot_removed_too_early,
    waiting_room_timeout,
    invalid_meeting_url,
    meeting_error,
    queued,
    pickup_delayed,
    transcribing,
    completed,
    failed,
    awaiting_reconciliation,
    transcription_failed,
    retrying,
    meet_login_unavailable,
    meet_login_required,
    meet_login_failed_saml_rejected,
    meet_login_failed_timeout,
};

template <>
struct enum_spellings<bot_status_code> {
    static constexpr std::pair<std::string_view, bot_status_code> items[] = {
        {"joining_call", bot_status_code::joining_call},
        {"in_waiting_room", bot_status_code::in_waiting_room},
        {"in_waiting_for_host", bot_status_code::in_waiting_for_host},
        {"in_call_not_recording", bot_status_code::in_call_not_recording},
        {"in_call_recording", bot_status_code::in_call_recording},
        {"recording_paused", bot_status_code::recording_paused},
        {"recording_resumed", bot_status_code::recording_resumed},
        {"call_ended", bot_status_code::call_ended},
        {"recording_succeeded", bot_status_code::recording_succeeded},
        {"recording_failed", bot_status_code::recording_failed},
        {"api_request_stop", bot_status_code::api_request_stop},
        {"bot_rejected", bot_status_code::bot_rejected},
        {"bot_removed", bot_status_code::bot_removed},
        {"bot_removed_too_early", bot_status_code::bot_removed_too_early},
        {"waiting_room_timeout", bot_status_code::waiting_room_timeout},
        {"invalid_meeting_url", bot_status_code::invalid_meeting_url},
        {"meeting_error", bot_status_code::meeting_error},
        {"queued", bot_status_code::queued},
        {"pickup_delayed", bot_status_code::pickup_delayed},
        {"transcribing", bot_status_code::transcribing},
        {"completed", bot_status_code::completed},
        {"failed", bot_status_code::failed},
        {"awaiting_reconciliation", bot_status_code::awaiting_reconciliation},
        {"transcription_failed", bot_status_code::transcription_failed},
        {"retrying", bot_status_code::retrying},
        {"MEET_LOGIN_UNAVAILABLE", bot_status_code::meet_login_unavailable},
        {"MEET_LOGIN_REQUIRED", bot_status_code::meet_login_required},
        {"MEET_LOGIN_FAILED_SAML_REJECTED", bot_status_code::meet_login_failed_saml_rejected},
        {"MEET_LOGIN_FAILED_TIMEOUT", bot_status_code::meet_login_failed_timeout},
    };
};

/// Error codes of the v1 `failed` event. The sources spell them in PascalCase and in snake_case; matching
/// ignores case and underscores.
enum class bot_error_code_v1 {
    unknown,  ///< not a spelling this version knows: read the raw string
    cannot_join_meeting,
    timeout_waiting_to_start,
    bot_not_accepted,
    bot_removed,
    internal_error,
    invalid_meeting_url,
    streaming_setup_failed,
    api_request,
    meeting_not_found,
    access_denied,
    authentication_error,
    network_error,
};

template <>
struct enum_spellings<bot_error_code_v1> {
    static constexpr std::pair<std::string_view, bot_error_code_v1> items[] = {
        {"CannotJoinMeeting", bot_error_code_v1::cannot_join_meeting},
        {"TimeoutWaitingToStart", bot_error_code_v1::timeout_waiting_to_start},
        {"BotNotAccepted", bot_error_code_v1::bot_not_accepted},
        {"BotRemoved", bot_error_code_v1::bot_removed},
        {"InternalError", bot_error_code_v1::internal_error},
        {"InvalidMeetingUrl", bot_error_code_v1::invalid_meeting_url},
        {"StreamingSetupFailed", bot_error_code_v1::streaming_setup_failed},
        {"ApiRequest", bot_error_code_v1::api_request},
        {"meeting_not_found", bot_error_code_v1::meeting_not_found},
        {"access_denied", bot_error_code_v1::access_denied},
        {"authentication_error", bot_error_code_v1::authentication_error},
        {"network_error", bot_error_code_v1::network_error},
        {"InternalError classic", bot_error_code_v1::internal_error},
    };
};

/// Error codes of the v2 `bot.failed` event (`error_code`).
enum class bot_error_code_v2 {
    unknown,  ///< not a spelling this version knows: read the raw string
    bot_removed,
    no_attendees,
    no_speaker,
    recording_timeout,
    api_request,
    bot_not_accepted,
    timeout_waiting_to_start,
    cannot_join_meeting,
    bot_removed_too_early,
    invalid_meeting_url,
    streaming_setup_failed,
    login_required,
    internal_error,
    oom_killed,
    sigterm,
    force_killed,
    general_error,
    exiting_meeting_before_record,
    transcription_failed,
    waiting_for_host_timeout,
    waiting_for_authorized_user_timeout,
    unable_join_external_meeting,
    recording_rights_not_granted,
    cannot_request_recording_right,
    meeting_ended_prematurely,
    set_zoom_id_and_pwd_together,
    cannot_get_jwt_token,
    sdk_auth_failed,
    zoom_access_token_error,
    zoom_obf_token_error,
    recording_start_timeout,
    host_client_cannot_grant_permission,
    insufficient_tokens,
    daily_bot_cap_reached,
    bot_already_exists,
    unknown_error,
    meeting_not_found,
    meeting_ended,
    bot_crashed,
    invalid_meeting_platform,
    transcription_error,
};

template <>
struct enum_spellings<bot_error_code_v2> {
    static constexpr std::pair<std::string_view, bot_error_code_v2> items[] = {
        {"BOT_REMOVED", bot_error_code_v2::bot_removed},
        {"NO_ATTENDEES", bot_error_code_v2::no_attendees},
        {"NO_SPEAKER", bot_error_code_v2::no_speaker},
        {"RECORDING_TIMEOUT", bot_error_code_v2::recording_timeout},
        {"API_REQUEST", bot_error_code_v2::api_request},
        {"BOT_NOT_ACCEPTED", bot_error_code_v2::bot_not_accepted},
        {"TIMEOUT_WAITING_TO_START", bot_error_code_v2::timeout_waiting_to_start},
        {"CANNOT_JOIN_MEETING", bot_error_code_v2::cannot_join_meeting},
        {"BOT_REMOVED_TOO_EARLY", bot_error_code_v2::bot_removed_too_early},
        {"INVALID_MEETING_URL", bot_error_code_v2::invalid_meeting_url},
        {"STREAMING_SETUP_FAILED", bot_error_code_v2::streaming_setup_failed},
        {"LOGIN_REQUIRED", bot_error_code_v2::login_required},
        {"INTERNAL_ERROR", bot_error_code_v2::internal_error},
        {"OOM_KILLED", bot_error_code_v2::oom_killed},
        {"SIGTERM", bot_error_code_v2::sigterm},
        {"FORCE_KILLED", bot_error_code_v2::force_killed},
        {"GENERAL_ERROR", bot_error_code_v2::general_error},
        {"EXITING_MEETING_BEFORE_RECORD", bot_error_code_v2::exiting_meeting_before_record},
        {"TRANSCRIPTION_FAILED", bot_error_code_v2::transcription_failed},
        {"WAITING_FOR_HOST_TIMEOUT", bot_error_code_v2::waiting_for_host_timeout},
        {"WAITING_FOR_AUTHORIZED_USER_TIMEOUT", bot_error_code_v2::waiting_for_authorized_user_timeout},
        {"UNABLE_JOIN_EXTERNAL_MEETING", bot_error_code_v2::unable_join_external_meeting},
        {"RECORDING_RIGHTS_NOT_GRANTED", bot_error_code_v2::recording_rights_not_granted},
        {"CANNOT_REQUEST_RECORDING_RIGHT", bot_error_code_v2::cannot_request_recording_right},
        {"MEETING_ENDED_PREMATURELY", bot_error_code_v2::meeting_ended_prematurely},
        {"SET_ZOOM_ID_AND_PWD_TOGETHER", bot_error_code_v2::set_zoom_id_and_pwd_together},
        {"CANNOT_GET_JWT_TOKEN", bot_error_code_v2::cannot_get_jwt_token},
        {"SDK_AUTH_FAILED", bot_error_code_v2::sdk_auth_failed},
        {"ZOOM_ACCESS_TOKEN_ERROR", bot_error_code_v2::zoom_access_token_error},
        {"ZOOM_OBF_TOKEN_ERROR", bot_error_code_v2::zoom_obf_token_error},
        {"RECORDING_START_TIMEOUT", bot_error_code_v2::recording_start_timeout},
        {"HOST_CLIENT_CANNOT_GRANT_PERMISSION", bot_error_code_v2::host_client_cannot_grant_permission},
        {"INSUFFICIENT_TOKENS", bot_error_code_v2::insufficient_tokens},
        {"DAILY_BOT_CAP_REACHED", bot_error_code_v2::daily_bot_cap_reached},
        {"BOT_ALREADY_EXISTS", bot_error_code_v2::bot_already_exists},
        {"UNKNOWN_ERROR", bot_error_code_v2::unknown_error},
        {"MEETING_NOT_FOUND", bot_error_code_v2::meeting_not_found},
        {"MEETING_ENDED", bot_error_code_v2::meeting_ended},
        {"BOT_CRASHED", bot_error_code_v2::bot_crashed},
        {"INVALID_MEETING_PLATFORM", bot_error_code_v2::invalid_meeting_platform},
        {"TRANSCRIPTION_ERROR", bot_error_code_v2::transcription_error},
    };
};

/// Calendar providers (`Google`/`Microsoft` in v1, lowercase in v2; matching ignores case).
enum class calendar_platform {
    unknown,  ///< not a spelling this version knows: read the raw string
    google,
    microsoft,
};

template <>
struct enum_spellings<calendar_platform> {
    static constexpr std::pair<std::string_view, calendar_platform> items[] = {
        {"google", calendar_platform::google},
        {"microsoft", calendar_platform::microsoft},
    };
};

/// Status of a v2 calendar connection.
enum class calendar_connection_status {
    unknown,  ///< not a spelling this version knows: read the raw string
    active,
    error,
    revoked,
    permission_denied,
};

template <>
struct enum_spellings<calendar_connection_status> {
    static constexpr std::pair<std::string_view, calendar_connection_status> items[] = {
        {"active", calendar_connection_status::active},
        {"error", calendar_connection_status::error},
        {"revoked", calendar_connection_status::revoked},
        {"permission_denied", calendar_connection_status::permission_denied},
    };
};

/// Whether a v2 calendar event is a one-off or a recurring series.
enum class calendar_event_type {
    unknown,  ///< not a spelling this version knows: read the raw string
    one_off,
    recurring,
};

template <>
struct enum_spellings<calendar_event_type> {
    static constexpr std::pair<std::string_view, calendar_event_type> items[] = {
        {"one_off", calendar_event_type::one_off},
        {"recurring", calendar_event_type::recurring},
    };
};

/// Status of one v2 calendar event instance.
enum class calendar_instance_status {
    unknown,  ///< not a spelling this version knows: read the raw string
    confirmed,
    cancelled,
    tentative,
};

template <>
struct enum_spellings<calendar_instance_status> {
    static constexpr std::pair<std::string_view, calendar_instance_status> items[] = {
        {"confirmed", calendar_instance_status::confirmed},
        {"cancelled", calendar_instance_status::cancelled},
        {"tentative", calendar_instance_status::tentative},
    };
};

/// Meeting platform of a calendar event instance.
enum class meeting_platform {
    unknown,  ///< not a spelling this version knows: read the raw string
    zoom,
    meet,
    teams,
};

template <>
struct enum_spellings<meeting_platform> {
    static constexpr std::pair<std::string_view, meeting_platform> items[] = {
        {"zoom", meeting_platform::zoom},
        {"meet", meeting_platform::meet},
        {"teams", meeting_platform::teams},
    };
};

/// v1 bot recording modes (API models reuse it).
enum class recording_mode {
    unknown,  ///< not a spelling this version knows: read the raw string
    speaker_view,
    gallery_view,
    audio_only,
};

template <>
struct enum_spellings<recording_mode> {
    static constexpr std::pair<std::string_view, recording_mode> items[] = {
        {"speaker_view", recording_mode::speaker_view},
        {"gallery_view", recording_mode::gallery_view},
        {"audio_only", recording_mode::audio_only},
    };
};

}  // namespace meetingbaas::inline v0
