// SPDX-License-Identifier: MIT
#pragma once

// Parsing Meeting BaaS webhook bodies (v1 and v2) from raw bytes into typed events.
// Straight from bytes to structs: a strict RFC 8259 reader (events/detail/json_reader.hpp), no DOM, no
// exceptions, explicit size and depth limits. See docs/events.md.

#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/events/detail/json_decode.hpp>
#include <meetingbaas/events/detail/json_reader.hpp>
#include <meetingbaas/events/enums.hpp>
#include <meetingbaas/events/event_types.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace meetingbaas::inline v0 {

/// Options of parse_delivery, parse_event and decode_json.
struct parse_options {
    /// Which API generation the delivery came from (v2 deliveries carry Svix headers). Only
    /// `bot.status_change` needs it; when unknown, a body whose `data` has `event_id` or which has a
    /// top-level `extra` is v2, otherwise v1.
    api_version version = api_version::unknown;
    std::size_t max_body_bytes = std::size_t{1} << 20;  ///< larger bodies: errc::too_large
    std::size_t max_depth = 64;                         ///< deeper nesting: errc::too_deep
};

namespace detail {

// ---- nested objects ----------------------------------------------------------------------------------

template <>
struct object_decoder<bot_status> {
    static bool decode(json_reader& r, bot_status& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "code") return field(r, seen, 0, out.code);
            if (key == "created_at") return field(r, seen, 1, out.created_at);
            if (key == "start_time") return mark_seen(r, seen, 2) && read_epoch_time(r, out.start_time);
            if (key == "error_message") return field(r, seen, 3, out.error_message);
            if (key == "error_type") return field(r, seen, 4, out.error_type);
            if (key == "attempt") return field(r, seen, 5, out.attempt);
            if (key == "max") return field(r, seen, 6, out.max);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "code") && require(r, seen, bit(1), "created_at");
    }
};

template <>
struct object_decoder<transcript_word> {
    static bool decode(json_reader& r, transcript_word& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "start") return field(r, seen, 0, out.start);
            if (key == "end") return field(r, seen, 1, out.end);
            if (key == "word") return field(r, seen, 2, out.word);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "start") && require(r, seen, bit(1), "end") &&
               require(r, seen, bit(2), "word");
    }
};

template <>
struct object_decoder<transcript_segment> {
    static bool decode(json_reader& r, transcript_segment& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "speaker") return lenient_field(r, seen, 0, out.speaker);
            if (key == "words") return lenient_field(r, seen, 1, out.words);
            if (key == "offset") return field(r, seen, 2, out.offset);
            if (key == "start_time") return field(r, seen, 3, out.start_time);
            if (key == "end_time") return field(r, seen, 4, out.end_time);
            return r.skip_value();
        });
        return ok;
    }
};

template <>
struct object_decoder<participant_v2> {
    static bool decode(json_reader& r, participant_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "name") return field(r, seen, 0, out.name);
            if (key == "id") return field(r, seen, 1, out.id);
            if (key == "display_name") return field(r, seen, 2, out.display_name);
            if (key == "profile_picture") return field(r, seen, 3, out.profile_picture);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "name");
    }
};

template <>
struct object_decoder<calendar_instance_v2> {
    static bool decode(json_reader& r, calendar_instance_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "event_id") return field(r, seen, 0, out.event_id);
            if (key == "start") return field(r, seen, 1, out.start);
            if (key == "end") return field(r, seen, 2, out.end);
            if (key == "title") return lenient_field(r, seen, 3, out.title);
            if (key == "status") return lenient_field(r, seen, 4, out.status);
            if (key == "is_all_day") return lenient_field(r, seen, 5, out.is_all_day);
            if (key == "is_exception") return lenient_field(r, seen, 6, out.is_exception);
            if (key == "bot_scheduled") return lenient_field(r, seen, 7, out.bot_scheduled);
            if (key == "meeting_url") return field(r, seen, 8, out.meeting_url);
            if (key == "meeting_platform") return field(r, seen, 9, out.meeting_platform);
            if (key == "start_time") return alias_field(r, seen, 10, 1, out.start);
            if (key == "end_time") return alias_field(r, seen, 11, 2, out.end);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "event_id") && require(r, seen, bit(1) | bit(10), "start") &&
               require(r, seen, bit(2) | bit(11), "end");
    }
};

template <>
struct object_decoder<calendar_series_v2> {
    static bool decode(json_reader& r, calendar_series_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "event_type") return lenient_field(r, seen, 0, out.event_type);
            if (key == "series_id") return field(r, seen, 1, out.series_id);
            if (key == "series_bot_scheduled") return field(r, seen, 2, out.series_bot_scheduled);
            if (key == "instances") return lenient_field(r, seen, 3, out.instances);
            return r.skip_value();
        });
        return ok;
    }
};

// ---- event payloads (`data`) ----------------------------------------------------------------------------

template <>
struct object_decoder<calendar_sync_events> {
    static bool decode(json_reader& r, calendar_sync_events& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "calendar_id") return field(r, seen, 0, out.calendar_id);
            if (key == "last_updated_ts") return field(r, seen, 1, out.last_updated_ts);
            if (key == "affected_event_uuids") return field(r, seen, 2, out.affected_event_uuids);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "calendar_id") && require(r, seen, bit(1), "last_updated_ts");
    }
};

/// `bot.status_change` data of either version, decoded into the v2 shape; `saw_event_id` feeds the
/// version decision.
struct status_change_data {
    bot_status_change_v2 event;
    bool saw_event_id = false;
};

template <>
struct object_decoder<status_change_data> {
    static bool decode(json_reader& r, status_change_data& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "bot_id") return field(r, seen, 0, out.event.bot_id);
            if (key == "status") return field(r, seen, 1, out.event.status);
            if (key == "event_id") return field(r, seen, 2, out.event.event_id);
            if (key == "extra") return mark_seen(r, seen, 3) && read_extra(r, out.event.extra);
            return r.skip_value();
        });
        out.saw_event_id = (seen & bit(2)) != 0;
        return ok && require(r, seen, bit(0), "bot_id") && require(r, seen, bit(1), "status");
    }
};

template <>
struct object_decoder<bot_complete_v1> {
    static bool decode(json_reader& r, bot_complete_v1& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "bot_id") return field(r, seen, 0, out.bot_id);
            if (key == "event_uuid") return field(r, seen, 1, out.event_uuid);
            if (key == "mp4") return field(r, seen, 2, out.mp4);
            if (key == "audio") return field(r, seen, 3, out.audio);
            if (key == "speakers") return lenient_field(r, seen, 4, out.speakers);
            if (key == "transcript") return field(r, seen, 5, out.transcript);
            if (key == "extra") return mark_seen(r, seen, 6) && read_extra(r, out.extra);
            if (key == "video") return alias_field(r, seen, 7, 2, out.mp4);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "bot_id");
    }
};

template <>
struct object_decoder<bot_failed_v1> {
    static bool decode(json_reader& r, bot_failed_v1& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "bot_id") return field(r, seen, 0, out.bot_id);
            if (key == "event_uuid") return field(r, seen, 1, out.event_uuid);
            if (key == "error") return field(r, seen, 2, out.error);
            if (key == "message") return field(r, seen, 3, out.message);
            if (key == "extra") return mark_seen(r, seen, 4) && read_extra(r, out.extra);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "bot_id") && require(r, seen, bit(2), "error");
    }
};

template <>
struct object_decoder<transcription_complete_v1> {
    static bool decode(json_reader& r, transcription_complete_v1& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "bot_id") return field(r, seen, 0, out.bot_id);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "bot_id");
    }
};

template <>
struct object_decoder<bot_completed_v2> {
    static bool decode(json_reader& r, bot_completed_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "bot_id") return field(r, seen, 0, out.bot_id);
            if (key == "event_id") return field(r, seen, 1, out.event_id);
            if (key == "participants") return lenient_field(r, seen, 2, out.participants);
            if (key == "speakers") return lenient_field(r, seen, 3, out.speakers);
            if (key == "duration_seconds") return field(r, seen, 4, out.duration_seconds);
            if (key == "joined_at") return field(r, seen, 5, out.joined_at);
            if (key == "exited_at") return field(r, seen, 6, out.exited_at);
            if (key == "data_deleted") return field(r, seen, 7, out.data_deleted);
            if (key == "video") return field(r, seen, 8, out.video);
            if (key == "audio") return field(r, seen, 9, out.audio);
            if (key == "diarization") return field(r, seen, 10, out.diarization);
            if (key == "raw_transcription") return field(r, seen, 11, out.raw_transcription);
            if (key == "transcription") return field(r, seen, 12, out.transcription);
            if (key == "transcription_provider") return field(r, seen, 13, out.transcription_provider);
            if (key == "transcription_ids") return field(r, seen, 14, out.transcription_ids);
            if (key == "sent_at") return field(r, seen, 15, out.sent_at);
            if (key == "extra") return mark_seen(r, seen, 16) && read_extra(r, out.extra);
            if (key == "mp4") return alias_field(r, seen, 17, 8, out.video);
            if (key == "chat_messages") return field(r, seen, 18, out.chat_messages);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "bot_id");
    }
};

template <>
struct object_decoder<bot_failed_v2> {
    static bool decode(json_reader& r, bot_failed_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "bot_id") return field(r, seen, 0, out.bot_id);
            if (key == "event_id") return field(r, seen, 1, out.event_id);
            if (key == "error_code") return field(r, seen, 2, out.error_code);
            if (key == "error_message") return field(r, seen, 3, out.error_message);
            if (key == "sent_at") return field(r, seen, 4, out.sent_at);
            if (key == "extra") return mark_seen(r, seen, 5) && read_extra(r, out.extra);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "bot_id") && require(r, seen, bit(2), "error_code") &&
               require(r, seen, bit(3), "error_message");
    }
};

template <>
struct object_decoder<bot_chat_message_v2> {
    static bool decode(json_reader& r, bot_chat_message_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "bot_id") return field(r, seen, 0, out.bot_id);
            if (key == "event_id") return field(r, seen, 1, out.event_id);
            if (key == "message_id") return field(r, seen, 2, out.message_id);
            if (key == "sender_name") return field(r, seen, 3, out.sender_name);
            if (key == "sender_id") return field(r, seen, 4, out.sender_id);
            if (key == "text") return field(r, seen, 5, out.text);
            if (key == "sent_at") return field(r, seen, 6, out.sent_at);
            if (key == "extra") return mark_seen(r, seen, 7) && read_extra(r, out.extra);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "bot_id") && require(r, seen, bit(2), "message_id") &&
               require(r, seen, bit(3), "sender_name") && require(r, seen, bit(5), "text");
    }
};

template <>
struct object_decoder<calendar_connection_v2> {
    /// Precondition: out.change is set (it decides which timestamp is required).
    static bool decode(json_reader& r, calendar_connection_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "calendar_id") return field(r, seen, 0, out.calendar_id);
            if (key == "calendar_platform") return field(r, seen, 1, out.calendar_platform);
            if (key == "account_email") return field(r, seen, 2, out.account_email);
            if (key == "status") return field(r, seen, 3, out.status);
            if (key == "created_at") return field(r, seen, 4, out.created_at);
            if (key == "updated_at") return field(r, seen, 5, out.updated_at);
            if (key == "deleted_at") return field(r, seen, 6, out.deleted_at);
            if (key == "platform") return alias_field(r, seen, 7, 1, out.calendar_platform);
            return r.skip_value();
        });
        if (!ok || !require(r, seen, bit(0), "calendar_id") ||
            !require(r, seen, bit(1) | bit(7), "calendar_platform")) {
            return false;
        }
        switch (out.change) {
            case calendar_connection_change::created: return require(r, seen, bit(4), "created_at");
            case calendar_connection_change::updated: return require(r, seen, bit(5), "updated_at");
            case calendar_connection_change::deleted: return require(r, seen, bit(6), "deleted_at");
        }
        return true;
    }
};

template <>
struct object_decoder<calendar_events_synced_v2> {
    static bool decode(json_reader& r, calendar_events_synced_v2& out)
    {
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "calendar_id") return field(r, seen, 0, out.calendar_id);
            if (key == "events") return lenient_field(r, seen, 1, out.events);
            if (key == "events_synced") return field(r, seen, 2, out.events_synced);
            if (key == "sync_type") return field(r, seen, 3, out.sync_type);
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "calendar_id");
    }
};

template <>
struct object_decoder<calendar_event_change_v2> {
    /// Precondition: out.change is set (it decides the name of the instance list).
    static bool decode(json_reader& r, calendar_event_change_v2& out)
    {
        static constexpr std::string_view list_names[] = {"instances", "affected_instances",
                                                          "cancelled_instances"};
        const std::string_view list_name = list_names[static_cast<std::size_t>(out.change)];
        std::uint64_t seen = 0;
        const bool ok = r.read_object([&](std::string_view key) {
            if (key == "calendar_id") return field(r, seen, 0, out.calendar_id);
            if (key == "event_type") return lenient_field(r, seen, 1, out.event_type);
            if (key == "series_id") return field(r, seen, 2, out.series_id);
            if (key == "series_bot_scheduled") return field(r, seen, 3, out.series_bot_scheduled);
            if (key == "is_exception") return field(r, seen, 4, out.is_exception);
            if (key == list_name) return field(r, seen, 5, out.instances);
            // Another event's list name: tolerated as an alias (the docs are not always consistent).
            if (key == "instances" || key == "affected_instances" || key == "cancelled_instances") {
                return alias_field(r, seen, 6, 5, out.instances);
            }
            return r.skip_value();
        });
        return ok && require(r, seen, bit(0), "calendar_id") && require(r, seen, bit(5) | bit(6), list_name);
    }
};

// ---- the envelope -------------------------------------------------------------------------------------
//
// Everything below derives from any_event and event_traits (events/event_types.hpp): the table of wire
// names, the decoder and the finisher of each alternative. A new event type needs nothing here.

/// What the `data` of event E is decoded into: E itself, except for the two `bot.status_change` types,
/// which share one wire name and are told apart only after decoding (see status_change_data).
template <class E>
struct wire_data {
    using type = E;
};
template <>
struct wire_data<bot_status_change_v1> {
    using type = status_change_data;
};
template <>
struct wire_data<bot_status_change_v2> {
    using type = status_change_data;
};
template <>
struct wire_data<unknown_event> {
    using type = std::monostate;  // unknown events keep their raw `data`
};

/// One wire name of a known event type: the name, the index of its type in any_event, and its position in
/// event_traits<E>::names.
struct wire_name {
    std::string_view name;
    std::size_t alternative = 0;
    std::size_t name_index = 0;
};

template <class E>
constexpr std::size_t wire_name_count() noexcept
{
    if constexpr (webhook_event<E>) {
        return event_traits<E>::names.size();
    } else {
        return 0;
    }
}

template <class V>
struct event_registry;

template <class... Es>
struct event_registry<std::variant<Es...>> {
    static constexpr std::size_t size = (std::size_t{0} + ... + wire_name_count<Es>());

    template <std::size_t... I>
    static constexpr std::array<wire_name, size> make(std::index_sequence<I...>) noexcept
    {
        std::array<wire_name, size> out{};
        std::size_t n = 0;
        const auto add = [&]<class E>(std::size_t alternative) {
            if constexpr (webhook_event<E>) {
                for (std::size_t k = 0; k < event_traits<E>::names.size(); ++k) {
                    out[n++] = wire_name{event_traits<E>::names[k], alternative, k};
                }
            }
        };
        (add.template operator()<Es>(I), ...);
        return out;
    }

    /// Every wire name, in any_event order (a name shared by two types appears twice; the first wins).
    static constexpr std::array<wire_name, size> names = make(std::index_sequence_for<Es...>{});
};

using registry = event_registry<any_event>;

/// Where the `data` of a known event is decoded: straight into the delivery's event, or, for the two
/// `bot.status_change` types, into status_change (the version is decided afterwards).
struct decoded_delivery {
    delivery out;
    status_change_data status_change;
};
using kind_mask = std::uint64_t;
static_assert(registry::size <= 64, "kind_mask has one bit per wire name");

/// The index in registry::names of the first entry named `name`, or registry::size (unknown).
constexpr std::size_t classify_event(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < registry::size; ++i) {
        if (registry::names[i].name == name) return i;
    }
    return registry::size;
}

inline constexpr std::size_t unknown_kind = registry::size;

constexpr kind_mask kind_bit(std::size_t kind) noexcept
{
    return kind < 64 ? kind_mask{1} << kind : 0;
}

inline constexpr kind_mask all_kinds = ~kind_mask{0};

/// The kinds an event type is parsed from (for parse_event's filter).
template <class E>
constexpr kind_mask kinds_of() noexcept
{
    kind_mask mask = 0;
    for (const std::string_view name : event_traits<E>::names) mask |= kind_bit(classify_event(name));
    return mask;
}

/// Decodes `data` as alternative A of any_event (A's discriminator set from the name first).
template <std::size_t A>
bool decode_alternative(json_reader& r, std::size_t name_index, decoded_delivery& d)
{
    using E = std::variant_alternative_t<A, any_event>;
    if constexpr (std::is_same_v<typename wire_data<E>::type, status_change_data>) {
        static_cast<void>(name_index);
        return read_value(r, d.status_change);
    } else if constexpr (webhook_event<E>) {
        auto& e = d.out.event.template emplace<A>();
        if constexpr (requires { event_traits<E>::discriminator; }) {
            using D = std::remove_cvref_t<decltype(e.*event_traits<E>::discriminator)>;
            e.*event_traits<E>::discriminator = static_cast<D>(name_index);
        }
        return read_value(r, e);
    } else {
        static_cast<void>(name_index);
        static_cast<void>(d);
        return r.skip_value();  // not reached: unknown events keep their raw data
    }
}

/// Applies the envelope's top-level extra and sent_at to an event that has them.
template <class E>
void apply_envelope(E& e, std::optional<raw_json>& top_extra, std::optional<timestamp>& top_sent_at)
{
    if constexpr (requires { e.extra; }) {
        if (top_extra) e.extra = std::move(top_extra);
    }
    if constexpr (requires { e.sent_at; }) {
        if (!e.sent_at && top_sent_at) e.sent_at = std::move(top_sent_at);
    }
}

/// What the envelope adds to the decoded data.
struct envelope_facts {
    api_version hint = api_version::unknown;
    bool have_extra = false;  ///< a top-level `extra` member was present
    std::optional<raw_json> extra;
    std::optional<timestamp> sent_at;
};

/// Completes the decoded alternative A: the envelope applied, the version set.
template <std::size_t A>
void finish_alternative(decoded_delivery& d, envelope_facts& env)
{
    using E = std::variant_alternative_t<A, any_event>;
    if constexpr (std::is_same_v<typename wire_data<E>::type, status_change_data>) {
        // One wire name, two versions: the delivery's version decides, else the body's shape (an
        // `event_id` in data or a top-level `extra` is v2).
        auto& sc = d.status_change;
        const bool v2 = env.hint == api_version::v2 ||
                        (env.hint == api_version::unknown && (sc.saw_event_id || env.have_extra));
        apply_envelope(sc.event, env.extra, env.sent_at);
        if (v2) {
            d.out.version = api_version::v2;
            d.out.event = std::move(sc.event);
        } else {
            d.out.version = api_version::v1;
            d.out.event = bot_status_change_v1{std::move(sc.event.bot_id), std::move(sc.event.status),
                                               std::move(sc.event.extra)};
        }
    } else if constexpr (webhook_event<E>) {
        if (auto* e = std::get_if<A>(&d.out.event)) apply_envelope(*e, env.extra, env.sent_at);
        d.out.version = event_traits<E>::version;
    } else {
        static_cast<void>(d);
        static_cast<void>(env);
    }
}

template <std::size_t... A>
constexpr auto make_decoders(std::index_sequence<A...>) noexcept
{
    return std::array<bool (*)(json_reader&, std::size_t, decoded_delivery&), sizeof...(A)>{
        &decode_alternative<A>...};
}

template <std::size_t... A>
constexpr auto make_finishers(std::index_sequence<A...>) noexcept
{
    return std::array<void (*)(decoded_delivery&, envelope_facts&), sizeof...(A)>{&finish_alternative<A>...};
}

inline constexpr auto alternative_decoders =
    make_decoders(std::make_index_sequence<std::variant_size_v<any_event>>{});
inline constexpr auto alternative_finishers =
    make_finishers(std::make_index_sequence<std::variant_size_v<any_event>>{});

/// Decodes the `data` of the event `kind` (an index in registry::names).
inline bool decode_data(json_reader& r, std::size_t kind, decoded_delivery& out)
{
    if (kind >= registry::size) return true;
    const wire_name& w = registry::names[kind];
    return alternative_decoders[w.alternative](r, w.name_index, out);
}

inline error envelope_error(errc code, std::string where, std::string message)
{
    return error{code, std::move(where), std::move(message)};
}

inline result<delivery> parse_delivery_impl(std::string_view body, const parse_options& options,
                                            kind_mask accepted, api_version hint)
{
    if (body.size() > options.max_body_bytes) {
        return envelope_error(errc::too_large, "",
                              "body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                                  std::to_string(options.max_body_bytes));
    }
    json_reader r(body, options.max_depth);
    const json_kind root = r.peek();
    if (root == json_kind::end) return envelope_error(errc::empty_input, "", "the body is empty");
    if (root != json_kind::object) {
        if (!r.skip_value()) return r.take_error();
        if (!r.at_end())
            return envelope_error(errc::malformed_json, "", "trailing characters after the value");
        return envelope_error(errc::not_an_object, "",
                              std::string("expected an object, got ") + std::string(describe(root)));
    }

    std::string type;
    bool have_type = false;
    std::size_t kind = unknown_kind;
    std::string_view deferred_data;  // `data` seen before `event`: decoded after the loop
    bool have_data = false;
    bool data_deferred = false;
    envelope_facts env;
    env.hint = hint;
    bool have_sent_at = false;
    decoded_delivery data;
    std::optional<raw_json> unknown_data;

    auto on_data = [&](json_reader& rd) -> bool {
        if (kind == unknown_kind) return read_value(rd, unknown_data.emplace());
        if ((accepted & kind_bit(kind)) == 0) return rd.skip_value();
        return decode_data(rd, kind, data);
    };

    const bool ok = r.read_object([&](std::string_view key) -> bool {
        if (key == "event") {
            if (have_type) return r.fail(errc::invalid_value, "duplicate member");
            have_type = true;
            const json_kind k = r.peek();
            if (k != json_kind::string) return type_mismatch(r, "a string", k);
            if (!r.read_string(type)) return false;
            if (type.empty()) return r.fail(errc::invalid_value, "empty event type");
            kind = classify_event(type);
            return true;
        }
        if (key == "data") {
            if (have_data) return r.fail(errc::invalid_value, "duplicate member");
            have_data = true;
            if (have_type) return on_data(r);
            data_deferred = true;
            return r.skip_value(&deferred_data);
        }
        if (key == "extra") {
            if (env.have_extra) return r.fail(errc::invalid_value, "duplicate member");
            env.have_extra = true;
            return read_extra(r, env.extra);
        }
        if (key == "sent_at") {
            if (have_sent_at) return r.fail(errc::invalid_value, "duplicate member");
            have_sent_at = true;
            return read_value(r, env.sent_at);
        }
        return r.skip_value();
    });
    if (!ok) return r.take_error();
    if (!r.at_end()) return envelope_error(errc::malformed_json, "", "trailing characters after the object");
    if (!have_type) return envelope_error(errc::missing_field, "/event", "required member is absent");
    if ((accepted & kind_bit(kind)) == 0) {
        return envelope_error(errc::unexpected_event, "/event", "unexpected event type \"" + type + "\"");
    }
    if (!have_data && kind != unknown_kind) {
        return envelope_error(errc::missing_field, "/data", "required member is absent");
    }
    if (data_deferred) {
        json_reader sub(deferred_data, options.max_depth, 1);
        if (!on_data(sub)) {
            sub.prefix_key("data");
            return sub.take_error();
        }
    }

    data.out.version = hint;
    if (kind == unknown_kind) {
        data.out.event = unknown_event{std::move(type), std::move(unknown_data), std::move(env.extra)};
        return std::move(data.out);
    }
    alternative_finishers[registry::names[kind].alternative](data, env);
    return std::move(data.out);
}

inline std::string_view as_chars(std::span<const std::byte> bytes) noexcept
{
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};  // NOLINT(*-reinterpret-cast)
}

}  // namespace detail

/// Parses a whole webhook body into the event it carries.
///
/// * Unknown event types are not errors: they yield an unknown_event with the raw `data`.
/// * `options.version` only matters for `bot.status_change` (see parse_options::version); the
///   returned delivery's `version` is the parsed event type's version.
/// * Errors (first one in document order): errc::empty_input, too_large, malformed_json (the message
///   names the byte offset), not_an_object, missing_field, wrong_type, invalid_value (also duplicate
///   members), invalid_timestamp, too_deep; `where` is the JSON Pointer of the offending value.
///
/// Never throws (except std::bad_alloc); no recursion deeper than the event schema. Thread-safe.
[[nodiscard]] inline result<delivery> parse_delivery(std::string_view body, const parse_options& options = {})
{
    return detail::parse_delivery_impl(body, options, detail::all_kinds, options.version);
}

/// parse_delivery over raw bytes.
[[nodiscard]] inline result<delivery> parse_delivery(std::span<const std::byte> body,
                                                     const parse_options& options = {})
{
    return parse_delivery(detail::as_chars(body), options);
}

/// Parses a body that must carry event E (e.g. `parse_event<calendar_sync_events>(body)`).
///
/// Errors: those of parse_delivery, and errc::unexpected_event (at "/event") when the body is valid
/// but carries another event type; the other event's `data` is then only checked for JSON syntax.
/// For `bot.status_change`, E decides the version unless options.version says otherwise.
template <webhook_event E>
[[nodiscard]] result<E> parse_event(std::string_view body, const parse_options& options = {})
{
    const api_version hint =
        options.version == api_version::unknown ? event_traits<E>::version : options.version;
    auto d = detail::parse_delivery_impl(body, options, detail::kinds_of<E>(), hint);
    if (!d) return std::move(d).error();
    if (auto* e = std::get_if<E>(&d->event)) return std::move(*e);
    return error{errc::unexpected_event, "/event",
                 "the body is a " + std::string(to_string(d->version)) + " event, not the requested type"};
}

/// parse_event over raw bytes.
template <webhook_event E>
[[nodiscard]] result<E> parse_event(std::span<const std::byte> body, const parse_options& options = {})
{
    return parse_event<E>(detail::as_chars(body), options);
}

/// Decodes one JSON object into T, for any T the event parser knows (event payloads such as
/// calendar_sync_events, and nested objects such as calendar_instance_v2, participant_v2, bot_status,
/// transcript_segment). Reuse it for objects found elsewhere, e.g. in API responses.
///
/// Errors as for parse_delivery; `where` is relative to `json`.
template <class T>
    requires detail::decodable_object<T>
[[nodiscard]] result<T> decode_json(std::string_view json, const parse_options& options = {})
{
    if (json.size() > options.max_body_bytes) {
        return error{errc::too_large, "",
                     "input of " + std::to_string(json.size()) + " bytes exceeds the limit of " +
                         std::to_string(options.max_body_bytes)};
    }
    detail::json_reader r(json, options.max_depth);
    if (r.peek() == detail::json_kind::end) return error{errc::empty_input, "", "the input is empty"};
    T out{};
    if (!detail::read_value(r, out)) return r.take_error();
    if (!r.at_end()) return error{errc::malformed_json, "", "trailing characters after the value"};
    return out;
}

}  // namespace meetingbaas::inline v0
