// SPDX-License-Identifier: MIT
#pragma once

// Idempotency keys and fingerprints.
//
//  * idempotency_key: an immutable, bounded string naming "one unit of work" (a delivery, an event, an
//    outgoing action).
//  * key_builder / make_key: a namespace plus typed parts in an unambiguous encoding: parts are joined by
//    '|', and '\' and '|' inside text are escaped, so ("a|b","c") and ("a","b|c") never collide. Long parts
//    are replaced by their digest, and a key longer than the limit is replaced by the digest of the whole.
//  * Canonical keys for every Meeting BaaS event type (spec section 6) and for outgoing actions, over
//    primitive fields (event_keys.hpp adds overloads over the parsed event structs).
//  * Fingerprints: a digest of the raw body or of chosen fields, stored with a record so that the same key
//    with a different payload is detected.
//
// Digests are SHA-256 truncated to 128 bits, in lowercase hex. See docs/idempotency.md.

#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/detail/sha256.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

/// A key under which an idempotency record is stored. Build it with key_builder, make_key or one of the
/// canonical key functions; from_string() wraps a key you built yourself (it is used as is).
class idempotency_key {
public:
    idempotency_key() = default;
    /// Wraps an application-made key verbatim (no escaping, no length bound).
    [[nodiscard]] static idempotency_key from_string(std::string key)
    {
        idempotency_key k;
        k.value_ = std::move(key);
        return k;
    }

    [[nodiscard]] const std::string& str() const noexcept { return value_; }
    [[nodiscard]] std::string_view view() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return value_.size(); }

    friend bool operator==(const idempotency_key&, const idempotency_key&) = default;
    friend std::strong_ordering operator<=>(const idempotency_key& a, const idempotency_key& b) noexcept
    {
        return a.value_.compare(b.value_) <=> 0;
    }

private:
    std::string value_;
};

/// Bounds on built keys. Stores cope with long keys, but logs, indexes and Redis memory do better with
/// short ones: a text part longer than max_part_length (after escaping) is replaced by its digest, and a
/// whole key longer than max_length is replaced by "<namespace>|\*<digest of the full key>".
struct key_limits {
    std::size_t max_length = 200;      ///< at least 80 is used
    std::size_t max_part_length = 96;  ///< at least 34 (a digest part) is used
};

namespace detail {

inline constexpr std::size_t key_digest_bytes = 16;  // SHA-256 truncated to 128 bits

inline void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t n)
{
    constexpr std::string_view digits = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[bytes[i] >> 4U];
        out += digits[bytes[i] & 0x0FU];
    }
}

inline void append_digest(std::string& out, const sha256_digest& d)
{
    append_hex(out, d.data(), key_digest_bytes);
}

/// Feeds a length-prefixed item, so that a sequence of items hashes unambiguously.
inline void hash_item(sha256_hasher& h, std::string_view bytes) noexcept
{
    std::array<std::uint8_t, 8> len{};
    auto n = static_cast<std::uint64_t>(bytes.size());
    for (std::size_t i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(n >> (8U * (7 - i)));
    h.update(len.data(), len.size());
    h.update(bytes);
}

inline void append_escaped(std::string& out, std::string_view text)
{
    for (const char c : text) {
        if (c == '\\' || c == '|') out += '\\';
        out += c;
    }
}

inline std::size_t escaped_size(std::string_view text) noexcept
{
    std::size_t n = text.size();
    for (const char c : text) n += (c == '\\' || c == '|') ? 1U : 0U;
    return n;
}

}  // namespace detail

/// A part encoded as the digest of `bytes` ("\#" + 32 hex digits) instead of the bytes themselves: for raw
/// bodies, configuration blobs, anything long or private.
struct hashed_part {
    std::string_view bytes;
};

/// A part encoded as the digest of a set of strings, independent of their order and of duplicates.
/// Two calendar syncs with the same timestamp but different affected events differ in this part.
template <class Range>
struct sorted_set_part {
    const Range& items;
};
template <class Range>
sorted_set_part(const Range&) -> sorted_set_part<Range>;

/// Customization point: specialize for your own part types with
/// `static void append(meetingbaas::key_builder&, const T&)`.
template <class T>
struct key_part_traits;

class key_builder;

/// A type make_key() and key_builder::add() accept: strings, integers, bool, time points, std::optional of
/// those (nullopt is encoded as "\~", distinct from every value), hashed_part, sorted_set_part, or a type
/// with a key_part_traits specialization.
template <class T>
concept key_part = std::convertible_to<const T&, std::string_view> || std::integral<T> ||
                   requires(key_builder& b, const T& v) { key_part_traits<T>::append(b, v); };

/// Builds an idempotency_key from a namespace and typed parts. Not thread-safe; cheap to create.
class key_builder {
public:
    explicit key_builder(std::string_view name_space, key_limits limits = {})
        : limits_{std::max<std::size_t>(limits.max_length, 80),
                  std::max<std::size_t>(limits.max_part_length, 34)}
    {
        out_.reserve(96);
        if (detail::escaped_size(name_space) > limits_.max_part_length) {
            append_digest_of(name_space);
        } else {
            detail::append_escaped(out_, name_space);
        }
        namespace_size_ = out_.size();
    }

    /// Text, escaped; replaced by its digest when longer than max_part_length.
    key_builder& text(std::string_view s)
    {
        out_ += '|';
        if (detail::escaped_size(s) > limits_.max_part_length) {
            append_digest_of(s);
        } else {
            detail::append_escaped(out_, s);
        }
        return *this;
    }
    key_builder& integer(std::int64_t v)
    {
        out_ += '|';
        out_ += std::to_string(v);
        return *this;
    }
    key_builder& unsigned_integer(std::uint64_t v)
    {
        out_ += '|';
        out_ += std::to_string(v);
        return *this;
    }
    key_builder& boolean(bool v)
    {
        out_ += v ? "|true" : "|false";
        return *this;
    }
    /// A UTC time, normalized to microseconds ("...:45Z" and "...:45.000Z" give the same part).
    key_builder& time(utc_time t)
    {
        out_ += '|';
        out_ += format_timestamp(t);
        return *this;
    }
    /// An absent value: "\~", which no text, number or digest encodes to.
    key_builder& null()
    {
        out_ += "|\\~";
        return *this;
    }
    /// The digest of `bytes`: "\#" + 32 hex digits.
    key_builder& digest(std::string_view bytes)
    {
        out_ += '|';
        append_digest_of(bytes);
        return *this;
    }
    /// The digest of a set of strings: sorted, duplicates removed, each length-prefixed.
    template <class Range>
    key_builder& set_digest(const Range& items)
    {
        std::vector<std::string_view> sorted;
        if constexpr (std::ranges::sized_range<const Range>) sorted.reserve(std::ranges::size(items));
        for (const auto& item : items) sorted.emplace_back(std::string_view(item));
        std::ranges::sort(sorted);
        sorted.erase(std::ranges::unique(sorted).begin(), sorted.end());
        detail::sha256_hasher h;
        for (const auto item : sorted) detail::hash_item(h, item);
        out_ += "|\\#";
        detail::append_digest(out_, h.finish());
        return *this;
    }

    /// Appends one typed part (see the key_part concept).
    template <class T>
    key_builder& add(const T& part)
    {
        if constexpr (requires(key_builder& b, const T& v) { key_part_traits<T>::append(b, v); }) {
            key_part_traits<T>::append(*this, part);
        } else if constexpr (std::is_same_v<T, bool>) {
            boolean(part);
        } else if constexpr (std::is_same_v<T, char>) {
            text(std::string_view(&part, 1));
        } else if constexpr (std::signed_integral<T>) {
            integer(static_cast<std::int64_t>(part));
        } else if constexpr (std::unsigned_integral<T>) {
            unsigned_integer(static_cast<std::uint64_t>(part));
        } else if constexpr (std::convertible_to<const T&, std::string_view>) {
            text(std::string_view(part));
        } else {
            static_assert(sizeof(T) == 0,
                          "meetingbaas::key_builder::add: not a key_part (specialize key_part_traits)");
        }
        return *this;
    }

    /// The key. Longer than max_length: "<namespace>|\*<digest of the full encoding>".
    [[nodiscard]] idempotency_key build() const
    {
        if (out_.size() <= limits_.max_length) return idempotency_key::from_string(out_);
        std::string bounded = out_.substr(0, namespace_size_);
        bounded += "|\\*";
        detail::append_digest(bounded, detail::sha256(out_));
        return idempotency_key::from_string(std::move(bounded));
    }

    /// The encoding so far (unbounded), e.g. for fingerprints.
    [[nodiscard]] const std::string& encoded() const noexcept { return out_; }

private:
    void append_digest_of(std::string_view bytes)
    {
        out_ += "\\#";
        detail::append_digest(out_, detail::sha256(bytes));
    }

    key_limits limits_;
    std::string out_;
    std::size_t namespace_size_ = 0;
};

template <class Rep, class Period>
struct key_part_traits<
    std::chrono::time_point<std::chrono::system_clock, std::chrono::duration<Rep, Period>>> {
    static void append(key_builder& b, const std::chrono::sys_time<std::chrono::duration<Rep, Period>>& t)
    {
        b.time(std::chrono::time_point_cast<std::chrono::microseconds>(t));
    }
};
template <>
struct key_part_traits<timestamp> {
    static void append(key_builder& b, const timestamp& t) { b.time(t.time); }
};
template <>
struct key_part_traits<hashed_part> {
    static void append(key_builder& b, const hashed_part& p) { b.digest(p.bytes); }
};
template <class Range>
struct key_part_traits<sorted_set_part<Range>> {
    static void append(key_builder& b, const sorted_set_part<Range>& p) { b.set_digest(p.items); }
};
template <class T>
struct key_part_traits<std::optional<T>> {
    static void append(key_builder& b, const std::optional<T>& v)
    {
        if (v) {
            b.add(*v);
        } else {
            b.null();
        }
    }
};

/// make_key("orders", tenant, order_id, hashed_part{body}): the generic, typed key builder.
/// Pure; thread-safe.
template <class... Parts>
[[nodiscard]] idempotency_key make_key(std::string_view name_space, const Parts&... parts)
{
    key_builder b(name_space);
    (b.add(parts), ...);
    return b.build();
}

// ---------------------------------------------------------------------------------------------------------
// Fingerprints

/// A payload fingerprint: 32 lowercase hex digits (SHA-256 truncated to 128 bits). Empty = "not checked".
using fingerprint = std::string;

/// The fingerprint of a raw body, byte for byte. Use it when a redelivery carries the identical body
/// (Svix retries do). Pure; thread-safe.
[[nodiscard]] inline fingerprint fingerprint_body(std::string_view raw_body)
{
    std::string out;
    out.reserve(2 * detail::key_digest_bytes);
    detail::append_digest(out, detail::sha256(raw_body));
    return out;
}

/// The fingerprint of chosen fields, typed and unambiguous as in make_key. Use it when some fields
/// legitimately change between redeliveries (v2 `sent_at`, pre-signed URLs). Pure; thread-safe.
template <class... Parts>
[[nodiscard]] fingerprint fingerprint_fields(const Parts&... parts)
{
    key_builder b("fingerprint",
                  key_limits{.max_length = ~std::size_t{0}, .max_part_length = ~std::size_t{0}});
    (b.add(parts), ...);
    return fingerprint_body(b.encoded());
}

// ---------------------------------------------------------------------------------------------------------
// Canonical keys for Meeting BaaS deliveries (spec section 6). Namespaces: "mb2.delivery" (Svix message
// ids), "mb1" / "mb2" (payload keys of v1 / v2 events), "mb.action" (outgoing actions).

namespace detail {
inline std::string_view payload_namespace(api_version v) noexcept
{
    switch (v) {
        case api_version::v1: return "mb1";
        case api_version::v2: return "mb2";
        case api_version::unknown: break;
    }
    return "mb";
}
}  // namespace detail

/// v2 (Svix): the message id (`svix-id` / `webhook-id` header). Stable across Svix's automatic retries,
/// but a manual resend is a new message: pair it with the event's payload key.
[[nodiscard]] inline idempotency_key svix_delivery_key(std::string_view message_id)
{
    return make_key("mb2.delivery", message_id);
}

/// The keys to claim for one delivery, in order: `delivery` (v2 only: the Svix message id, stable across
/// Svix's retries; it can be checked before parsing) then `payload` (the event's canonical key, which also
/// catches manual resends, as they carry a new message id). claim_delivery (idempotency/delivery.hpp) claims
/// both in one call; delivery_keys_for (idempotency/event_keys.hpp) computes them for a parsed delivery.
struct delivery_keys {
    std::optional<idempotency_key> delivery;
    idempotency_key payload;
};

/// v1 `calendar.sync_events`: calendar, sync time normalized to UTC microseconds, and the digest of the
/// sorted affected event uuids (nullopt = the field was missing or null: "unknown set", which is distinct
/// from an empty set). Two syncs sharing a timestamp but touching different events get different keys.
[[nodiscard]] inline idempotency_key
calendar_sync_events_key(std::string_view calendar_id, utc_time last_updated,
                         std::optional<std::span<const std::string>> affected)
{
    key_builder b("mb1");
    b.text("calendar.sync_events").text(calendar_id).time(last_updated);
    if (affected) {
        b.set_digest(*affected);
    } else {
        b.null();
    }
    return b.build();
}

/// As above, parsing `last_updated_ts` first. Errors: errc::invalid_timestamp (where
/// "/data/last_updated_ts").
[[nodiscard]] inline result<idempotency_key>
calendar_sync_events_key(std::string_view calendar_id, std::string_view last_updated_ts,
                         std::optional<std::span<const std::string>> affected)
{
    auto ts = parse_timestamp(last_updated_ts);
    if (!ts) {
        error e = std::move(ts).error();
        e.where = "/data/last_updated_ts";
        return e;
    }
    return calendar_sync_events_key(calendar_id, ts->time, affected);
}

/// Terminal bot events, one per bot: v1 `complete` / `failed`, v2 `bot.completed` / `bot.failed`.
/// The body is not hashed: v2 `sent_at` and the pre-signed URLs change between resends.
[[nodiscard]] inline idempotency_key bot_terminal_key(api_version version, std::string_view event_name,
                                                      std::string_view bot_id)
{
    return make_key(detail::payload_namespace(version), event_name, bot_id);
}

/// v1 `transcription_complete`: legitimately repeats after each retranscription, so the body is hashed in.
[[nodiscard]] inline idempotency_key transcription_complete_key(std::string_view bot_id,
                                                                std::string_view raw_body)
{
    return make_key("mb1", std::string_view("transcription_complete"), bot_id, hashed_part{raw_body});
}

/// `bot.status_change` (v1 and v2): bot, status code and the status time, normalized.
[[nodiscard]] inline idempotency_key bot_status_change_key(api_version version, std::string_view bot_id,
                                                           std::string_view status_code, utc_time created_at)
{
    key_builder b(detail::payload_namespace(version));
    b.text("bot.status_change").text(bot_id).text(status_code).time(created_at);
    return b.build();
}

/// v2 `bot.chat_message`: bot and the platform's message id.
[[nodiscard]] inline idempotency_key chat_message_key(std::string_view bot_id, std::string_view message_id)
{
    return make_key("mb2", std::string_view("bot.chat_message"), bot_id, message_id);
}

/// What identifies one calendar instance in a v2 calendar event key.
struct calendar_instance_ref {
    std::string_view event_id;
    utc_time start{};
    utc_time end{};
    std::string_view status;
};

/// v2 `calendar.event_created` / `event_updated` / `event_cancelled`: calendar, series (nullopt for
/// one-off events) and the digest of the sorted (event_id, start, end, status) tuples of the instances.
[[nodiscard]] inline idempotency_key calendar_event_key(std::string_view event_name,
                                                        std::string_view calendar_id,
                                                        std::optional<std::string_view> series_id,
                                                        std::span<const calendar_instance_ref> instances)
{
    std::vector<std::string> tuples;
    tuples.reserve(instances.size());
    for (const auto& i : instances) {
        key_builder t("i", key_limits{.max_length = ~std::size_t{0}, .max_part_length = ~std::size_t{0}});
        t.text(i.event_id).time(i.start).time(i.end).text(i.status);
        tuples.push_back(t.encoded());
    }
    key_builder b("mb2");
    b.text(event_name).text(calendar_id);
    if (series_id) {
        b.text(*series_id);
    } else {
        b.null();
    }
    b.set_digest(tuples);
    return b.build();
}

/// v2 `calendar.events_synced`: sent once per connection, after its first sync.
[[nodiscard]] inline idempotency_key calendar_events_synced_key(std::string_view calendar_id)
{
    return make_key("mb2", std::string_view("calendar.events_synced"), calendar_id);
}

/// v2 `calendar.connection_created` / `_updated` / `_deleted`: calendar and the change time
/// (created_at, updated_at or deleted_at).
[[nodiscard]] inline idempotency_key
calendar_connection_key(std::string_view event_name, std::string_view calendar_id, utc_time changed_at)
{
    key_builder b("mb2");
    b.text(event_name).text(calendar_id).time(changed_at);
    return b.build();
}

/// Any other event (unknown types, callbacks): the event name and the digest of the raw body.
[[nodiscard]] inline idempotency_key raw_payload_key(api_version version, std::string_view event_name,
                                                     std::string_view raw_body)
{
    return make_key(detail::payload_namespace(version), event_name, hashed_part{raw_body});
}

// ---------------------------------------------------------------------------------------------------------
// Keys for outgoing actions: "do this at most once per state of the calendar event".

/// Scheduling a recording bot for a calendar event, once per event state. `state_version` is the event's
/// `last_updated_at` (so a later change schedules again), and `bot_config` a fingerprint of the canonical
/// bot configuration (empty when not relevant). Also usable as the API's `deduplication_key` source.
[[nodiscard]] inline idempotency_key schedule_recording_key(std::string_view event_uuid,
                                                            utc_time state_version, bool all_occurrences,
                                                            std::string_view bot_config = {})
{
    key_builder b("mb.action");
    b.text("schedule").text(event_uuid).time(state_version).boolean(all_occurrences);
    if (bot_config.empty()) {
        b.null();
    } else {
        b.text(bot_config);
    }
    return b.build();
}

/// Cancelling (unscheduling) the recording of a calendar event, once per event state.
[[nodiscard]] inline idempotency_key cancel_recording_key(std::string_view event_uuid, utc_time state_version,
                                                          bool all_occurrences)
{
    key_builder b("mb.action");
    b.text("cancel").text(event_uuid).time(state_version).boolean(all_occurrences);
    return b.build();
}

}  // namespace meetingbaas::inline v0
