// SPDX-License-Identifier: MIT
#pragma once

// redis_event_state: the calendar-sync event_state_store (sync/event_state.hpp) on Redis: one string per
// event, key `<prefix>{<hash of the uuid>}:<uuid>`, holding the newest applied `last_updated_at`.
// record_applied is one Lua script (keep the maximum), applied_version one GET. Times keep their
// microseconds: they are compared as fixed-width decimal strings, never as Lua numbers (doubles).

#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/idempotency_store.hpp>
#include <meetingbaas/adapters/redis/script.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/event_state.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// Options of redis_event_state.
struct redis_event_state_options {
    std::string prefix = "mb:ev:";
    /// 0 = keep each event's version forever; otherwise forget an event this long after its last update
    /// (an event untouched for that long is in the past: an old view of it is harmless).
    std::chrono::milliseconds retention{0};
};

namespace detail {

// Values are 20 digits: the microseconds since the epoch with the sign bit flipped, so that the string
// order is the time order (negative times included). Compared in two 10-digit halves, exact in doubles.
inline constexpr redis::script redis_event_record = redis::make_script("mb.event.record", R"lua(
local function less(a, b)
  local ah, bh = tonumber(string.sub(a, 1, 10)), tonumber(string.sub(b, 1, 10))
  if ah ~= bh then return ah < bh end
  return tonumber(string.sub(a, 11)) < tonumber(string.sub(b, 11))
end
local cur = redis.call('GET', KEYS[1])
if cur and (string.len(cur) ~= 20 or not string.match(cur, '^%d+$')) then
  return redis.error_reply('malformed event state at ' .. KEYS[1])
end
local changed = 0
if (not cur) or less(cur, ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  changed = 1
end
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return changed
)lua");

inline std::string encode_event_time(utc_time t)
{
    const auto us = static_cast<std::uint64_t>(t.time_since_epoch().count()) ^ (std::uint64_t{1} << 63);
    std::string out(20, '0');
    std::uint64_t v = us;
    for (std::size_t i = 20; i-- > 0;) {
        out[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    return out;
}

inline std::optional<utc_time> decode_event_time(std::string_view s)
{
    if (s.size() != 20) return std::nullopt;
    const auto v = redis::parse_uint64(s);
    if (!v) return std::nullopt;
    const auto us = static_cast<std::int64_t>(*v ^ (std::uint64_t{1} << 63));
    return utc_time(std::chrono::microseconds(us));
}

}  // namespace detail

/// An event_state_store on Redis (see the file comment). Thread-safe when the connection is.
template <redis::connection Connection>
class redis_event_state {
public:
    explicit redis_event_state(Connection connection, redis_event_state_options options = {})
        : conn_(std::forward<Connection>(connection)), options_(std::move(options))
    {}

    result<std::optional<utc_time>> applied_version(std::string_view uuid)
    {
        constexpr std::string_view where = "redis_event_state::applied_version";
        const std::string k = detail::tagged_key(options_.prefix, uuid);
        const std::array<std::string_view, 2> argv{"GET", k};
        auto r = conn_.command(argv);
        if (!r) return redis::to_error(r.error(), where, "GET");
        if (r->is_error()) return redis::reply_error(*r, where, "GET");
        if (r->is_nil()) return std::optional<utc_time>();
        if (!r->is_string()) return redis::shape_error(*r, where, "GET", "string");
        const auto t = detail::decode_event_time(r->str);
        if (!t) return error{errc::storage_error, std::string(where), "malformed event state at " + k};
        return std::optional<utc_time>(*t);
    }

    result<void> record_applied(std::string_view uuid, utc_time t)
    {
        constexpr std::string_view where = "redis_event_state::record_applied";
        const std::string k = detail::tagged_key(options_.prefix, uuid);
        const std::string v = detail::encode_event_time(t);
        const redis::decimal keep(
            static_cast<std::int64_t>(std::max<std::int64_t>(options_.retention.count(), 0)));
        const std::array<std::string_view, 1> keys{k};
        const std::array<std::string_view, 2> args{v, keep.view()};
        auto r = redis::run_script(conn_, detail::redis_event_record, keys, args, where);
        if (!r) return std::move(r).error();
        if (!r->is_integer())
            return redis::shape_error(*r, where, detail::redis_event_record.name, "integer");
        return {};
    }

    result<void> ping() { return redis::ping(conn_); }
    [[nodiscard]] Connection& connection() noexcept { return conn_; }

private:
    Connection conn_;
    redis_event_state_options options_;
};

}  // namespace meetingbaas::inline v0
