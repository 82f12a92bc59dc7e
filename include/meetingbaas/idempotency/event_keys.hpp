// SPDX-License-Identifier: MIT
#pragma once

// The canonical idempotency key of every parsed Meeting BaaS event (spec section 6), over the event structs
// of event_types.hpp (no JSON needed here):
//
//   idempotency_key_for(event)              one overload per event type (transcription_complete_v1 and
//                                           unknown_event also need the raw body)
//   idempotency_key_for(delivery, body)     any parsed delivery
//   delivery_keys_for(delivery, body, id)   v2: the Svix message id key *and* the payload key
//
// See docs/idempotency.md, "Which key for which event".

#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/events/event_types.hpp>
#include <meetingbaas/idempotency/key.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace meetingbaas::inline v0 {

/// v1 `calendar.sync_events`: calendar | sync time (UTC, µs) | digest of the sorted affected uuids
/// (or "unknown" when the field was missing or null).
[[nodiscard]] inline idempotency_key idempotency_key_for(const calendar_sync_events& e)
{
    if (!e.affected_event_uuids)
        return calendar_sync_events_key(e.calendar_id, e.last_updated_ts.time, std::nullopt);
    return calendar_sync_events_key(e.calendar_id, e.last_updated_ts.time,
                                    std::span<const std::string>(*e.affected_event_uuids));
}

/// v1 `bot.status_change`: bot | status code | status time.
[[nodiscard]] inline idempotency_key idempotency_key_for(const bot_status_change_v1& e)
{
    return bot_status_change_key(api_version::v1, e.bot_id, e.status.code.raw, e.status.created_at.time);
}

/// v1 `complete`: one per bot.
[[nodiscard]] inline idempotency_key idempotency_key_for(const bot_complete_v1& e)
{
    return bot_terminal_key(api_version::v1, event_name(e), e.bot_id);
}

/// v1 `failed`: one per bot.
[[nodiscard]] inline idempotency_key idempotency_key_for(const bot_failed_v1& e)
{
    return bot_terminal_key(api_version::v1, event_name(e), e.bot_id);
}

/// v1 `transcription_complete`: bot | digest of the raw body (it legitimately repeats after a
/// retranscription, and the payload carries nothing else to tell the repeats apart).
[[nodiscard]] inline idempotency_key idempotency_key_for(const transcription_complete_v1& e,
                                                         std::string_view raw_body)
{
    return transcription_complete_key(e.bot_id, raw_body);
}

/// v2 `bot.status_change`: bot | status code | status time.
[[nodiscard]] inline idempotency_key idempotency_key_for(const bot_status_change_v2& e)
{
    return bot_status_change_key(api_version::v2, e.bot_id, e.status.code.raw, e.status.created_at.time);
}

/// v2 `bot.completed`: one per bot, so a manual resend (a new Svix message) is recognized too.
[[nodiscard]] inline idempotency_key idempotency_key_for(const bot_completed_v2& e)
{
    return bot_terminal_key(api_version::v2, event_name(e), e.bot_id);
}

/// v2 `bot.failed`: one per bot.
[[nodiscard]] inline idempotency_key idempotency_key_for(const bot_failed_v2& e)
{
    return bot_terminal_key(api_version::v2, event_name(e), e.bot_id);
}

/// v2 `bot.chat_message`: bot | message id.
[[nodiscard]] inline idempotency_key idempotency_key_for(const bot_chat_message_v2& e)
{
    return chat_message_key(e.bot_id, e.message_id);
}

/// v2 `calendar.connection_*`: event | calendar | the change time (created_at, updated_at or deleted_at).
[[nodiscard]] inline idempotency_key idempotency_key_for(const calendar_connection_v2& e)
{
    const std::optional<timestamp>* at = &e.deleted_at;
    if (e.change == calendar_connection_change::created) at = &e.created_at;
    if (e.change == calendar_connection_change::updated) at = &e.updated_at;
    key_builder b("mb2");
    b.text(event_name(e)).text(e.calendar_id);
    if (*at) {
        b.time((*at)->time);
    } else {
        b.null();
    }
    return b.build();
}

/// v2 `calendar.events_synced`: sent once per connection.
[[nodiscard]] inline idempotency_key idempotency_key_for(const calendar_events_synced_v2& e)
{
    return calendar_events_synced_key(e.calendar_id);
}

/// v2 `calendar.event_created` / `_updated` / `_cancelled`: event | calendar | series | digest of the
/// sorted (event_id, start, end, status) instance tuples.
[[nodiscard]] inline idempotency_key idempotency_key_for(const calendar_event_change_v2& e)
{
    std::vector<calendar_instance_ref> refs;
    refs.reserve(e.instances.size());
    for (const auto& i : e.instances) refs.push_back({i.event_id, i.start.time, i.end.time, i.status.raw});
    std::optional<std::string_view> series;
    if (e.series_id) series = *e.series_id;
    return calendar_event_key(event_name(e), e.calendar_id, series, refs);
}

/// An event type this version does not know: its type | digest of the raw body.
[[nodiscard]] inline idempotency_key idempotency_key_for(const unknown_event& e, api_version version,
                                                         std::string_view raw_body)
{
    return raw_payload_key(version, e.type, raw_body);
}

/// The payload key of any parsed delivery; `raw_body` is the body exactly as received (needed for
/// transcription_complete and unknown events).
[[nodiscard]] inline idempotency_key idempotency_key_for(const delivery& d, std::string_view raw_body)
{
    return visit_event<idempotency_key>(d.event, [&](const auto& e) -> idempotency_key {
        using E = std::remove_cvref_t<decltype(e)>;
        if constexpr (std::is_same_v<E, transcription_complete_v1>) {
            return idempotency_key_for(e, raw_body);
        } else if constexpr (std::is_same_v<E, unknown_event>) {
            return idempotency_key_for(e, d.version, raw_body);
        } else {
            return idempotency_key_for(e);
        }
    });
}

/// Both keys of a delivery (claim them with claim_delivery, idempotency/delivery.hpp). `message_id` is the
/// `svix-id` / `webhook-id` header, e.g. verified_body::delivery_id() (empty for v1).
[[nodiscard]] inline delivery_keys delivery_keys_for(const delivery& d, std::string_view raw_body,
                                                     std::string_view message_id = {})
{
    delivery_keys out{std::nullopt, idempotency_key_for(d, raw_body)};
    if (!message_id.empty()) out.delivery = svix_delivery_key(message_id);
    return out;
}

}  // namespace meetingbaas::inline v0
