// SPDX-License-Identifier: MIT
#pragma once

// redis_idempotency_store: the idempotency_store (idempotency/store.hpp) on Redis, shared by every replica
// that points at the same server. Written against redis::connection (link meetingbaas::redis for the
// hiredis client, or bring your own).
//
//  * One string per record, key `<prefix>{<hash of the key>}:<key>`: one hash tag per record, so records
//    spread over a Redis Cluster and each primitive touches one slot. The value packs the record:
//    `<fence>|<state>|<outcome>|<expires_at us>|<fingerprint length>|<fingerprint><outcome data>`
//    (binary-safe; the fence first, so a script reads it with one anchored match).
//  * Each primitive is one round trip and atomic on the server: insert_if_absent is one SET NX PX (no
//    script at all), load one GET, compare_and_set and erase_if_fence are Lua scripts (EVALSHA).
//  * Retention by key expiry: every write sets the key's expiry to (expires_at - now) + expiry_grace,
//    relative to the caller's clock, so the record outlives its expires_at whatever the offset between
//    the caller's and the server's clocks; no sweeping, no KEYS/SCAN.
//  * Fences come from the guard (time-based and strictly increasing per key, see guard.hpp); the store
//    compares them exactly (as decimal strings, never as Lua numbers).
//
// After a failure whose outcome is unknown (redis::outcome_unknown(e): the connection dropped after the
// command was sent), the primitive may or may not have been applied. What a retry finds:
//  * insert_if_absent: the record it wrote (the guard then reports in_progress for one lease, after which
//    the key is taken over: a delivery is delayed by at most one lease, never processed twice);
//  * compare_and_set: false when the first attempt was applied (the fence changed): complete() reports
//    fence_mismatch although the outcome was stored; load() shows it;
//  * erase_if_fence: false when the first attempt was applied.

#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/script.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/idempotency/store.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// Options of redis_idempotency_store.
struct redis_store_options {
    std::string prefix = "mb:idem:";  ///< key prefix: lets several stores (or applications) share a server
    /// How long a record's key outlives its expires_at (measured on the caller's clock): covers the clock
    /// differences between replicas, so that no replica sees a record vanish before it expired for it.
    std::chrono::milliseconds expiry_grace{std::chrono::minutes(1)};
};

namespace detail {

// ARGV: the new value, its time to live (ms), the expected fence.
inline constexpr redis::script redis_idem_cas = redis::make_script("mb.idem.cas", R"lua(
local v = redis.call('GET', KEYS[1])
if not v or string.match(v, '^(%d+)|') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua");

// ARGV: the fence.
inline constexpr redis::script redis_idem_erase = redis::make_script("mb.idem.erase", R"lua(
local v = redis.call('GET', KEYS[1])
if not v or string.match(v, '^(%d+)|') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
)lua");

/// The packed value of a record (see the file comment).
inline std::string encode_record(const record_view& r)
{
    const redis::decimal fence(r.fence);
    const redis::decimal expires(static_cast<std::int64_t>(r.expires_at.time_since_epoch().count()));
    const redis::decimal fp_size(static_cast<std::uint64_t>(r.fingerprint.size()));
    std::string out;
    out.reserve(fence.view().size() + expires.view().size() + fp_size.view().size() + 8 +
                r.fingerprint.size() + r.outcome_data.size());
    out += fence.view();
    out += '|';
    out += static_cast<char>('0' + static_cast<int>(r.state));
    out += '|';
    out += static_cast<char>('0' + static_cast<int>(r.outcome));
    out += '|';
    out += expires.view();
    out += '|';
    out += fp_size.view();
    out += '|';
    out += r.fingerprint;
    out += r.outcome_data;
    return out;
}

/// Unpacks a record; nullopt when the value is not one.
inline std::optional<idempotency_record> decode_record(std::string_view v)
{
    const auto field = [&v]() -> std::optional<std::string_view> {
        const auto bar = v.find('|');
        if (bar == std::string_view::npos) return std::nullopt;
        const auto f = v.substr(0, bar);
        v.remove_prefix(bar + 1);
        return f;
    };
    const auto fence = field();
    const auto state = field();
    const auto outcome = field();
    const auto expires = field();
    const auto fp_size = field();
    if (!fence || !state || !outcome || !expires || !fp_size) return std::nullopt;
    const auto f = redis::parse_uint64(*fence);
    const auto e = redis::parse_int64(*expires);
    const auto n = redis::parse_uint64(*fp_size);
    if (!f || !e || !n || *n > v.size() || state->size() != 1 || outcome->size() != 1) return std::nullopt;
    if ((*state)[0] < '1' || (*state)[0] > '2' || (*outcome)[0] < '0' || (*outcome)[0] > '3')
        return std::nullopt;
    idempotency_record rec;
    rec.fence = *f;
    rec.state = static_cast<record_state>((*state)[0] - '0');
    rec.outcome = static_cast<work_outcome>((*outcome)[0] - '0');
    rec.expires_at = utc_time(std::chrono::microseconds(*e));
    rec.fingerprint = std::string(v.substr(0, static_cast<std::size_t>(*n)));
    rec.outcome_data = std::string(v.substr(static_cast<std::size_t>(*n)));
    return rec;
}

/// FNV-1a, 64 bits: spreads record keys over hash slots (not a security boundary).
constexpr std::uint64_t fnv1a64(std::string_view s) noexcept
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

/// `<prefix>{<16 hex digits>}:<key>`: the hash tag is derived from the key, so the key itself may hold
/// braces or any other byte.
inline std::string tagged_key(std::string_view prefix, std::string_view key)
{
    constexpr std::string_view digits = "0123456789abcdef";
    const std::uint64_t h = fnv1a64(key);
    std::string out;
    out.reserve(prefix.size() + key.size() + 19);
    out += prefix;
    out += '{';
    for (int i = 60; i >= 0; i -= 4) out += digits[(h >> i) & 0xFU];
    out += "}:";
    out += key;
    return out;
}

/// Redis refuses bulk strings over 512 MiB (proto-max-bulk-len).
inline constexpr std::size_t redis_max_bulk = std::size_t{512} << 20;

}  // namespace detail

/// An idempotency_store on Redis (see the file comment). Holds the connection by value (a handle such as
/// redis::hiredis_client, or a reference type) and its options; no state of its own, so copies and
/// stores in other processes share the same records. Thread-safe when the connection is.
template <redis::connection Connection>
class redis_idempotency_store {
public:
    explicit redis_idempotency_store(Connection connection, redis_store_options options = {})
        : conn_(std::forward<Connection>(connection)), options_(std::move(options))
    {}

    result<bool> insert_if_absent(std::string_view key, const record_view& r, utc_time now)
    {
        constexpr std::string_view where = "redis_idempotency_store::insert_if_absent";
        if (auto ok = check_size(key, r, where); !ok) return std::move(ok).error();
        const std::string k = detail::tagged_key(options_.prefix, key);
        const std::string value = detail::encode_record(r);
        const redis::decimal ttl(time_to_live(r, now));
        const std::array<std::string_view, 6> argv{"SET", k, value, "NX", "PX", ttl.view()};
        auto reply = conn_.command(argv);
        if (!reply) return redis::to_error(reply.error(), where, "SET NX");
        if (reply->is_error()) return redis::reply_error(*reply, where, "SET NX");
        if (reply->is_nil()) return false;
        if (reply->type != redis::reply_type::status)
            return redis::shape_error(*reply, where, "SET NX", "OK or nil");
        return true;
    }

    result<std::optional<idempotency_record>> load(std::string_view key, utc_time /*now*/)
    {
        constexpr std::string_view where = "redis_idempotency_store::load";
        const std::string k = detail::tagged_key(options_.prefix, key);
        const std::array<std::string_view, 2> argv{"GET", k};
        auto r = conn_.command(argv);
        if (!r) return redis::to_error(r.error(), where, "GET");
        if (r->is_error()) return redis::reply_error(*r, where, "GET");
        if (r->is_nil()) return std::optional<idempotency_record>();
        if (!r->is_string()) return redis::shape_error(*r, where, "GET", "string");
        auto rec = detail::decode_record(r->str);
        if (!rec) return error{errc::storage_error, std::string(where), "malformed record at " + k};
        return std::optional<idempotency_record>(std::move(*rec));
    }

    result<bool> compare_and_set(std::string_view key, std::uint64_t expected_fence, const record_view& r,
                                 utc_time now)
    {
        constexpr std::string_view where = "redis_idempotency_store::compare_and_set";
        if (auto ok = check_size(key, r, where); !ok) return std::move(ok).error();
        const std::string k = detail::tagged_key(options_.prefix, key);
        const std::string value = detail::encode_record(r);
        const redis::decimal ttl(time_to_live(r, now));
        const redis::decimal expected(expected_fence);
        const std::array<std::string_view, 1> keys{k};
        const std::array<std::string_view, 3> args{value, ttl.view(), expected.view()};
        auto reply = redis::run_script(conn_, detail::redis_idem_cas, keys, args, where);
        if (!reply) return std::move(reply).error();
        return to_bool(*reply, where, detail::redis_idem_cas);
    }

    result<bool> erase_if_fence(std::string_view key, std::uint64_t fence)
    {
        constexpr std::string_view where = "redis_idempotency_store::erase_if_fence";
        const std::string k = detail::tagged_key(options_.prefix, key);
        const redis::decimal f(fence);
        const std::array<std::string_view, 1> keys{k};
        const std::array<std::string_view, 1> args{f.view()};
        auto r = redis::run_script(conn_, detail::redis_idem_erase, keys, args, where);
        if (!r) return std::move(r).error();
        return to_bool(*r, where, detail::redis_idem_erase);
    }

    /// PING through the store's connection (for /healthz). Errors: errc::storage_error.
    result<void> ping() { return redis::ping(conn_); }

    [[nodiscard]] Connection& connection() noexcept { return conn_; }
    [[nodiscard]] const redis_store_options& options() const noexcept { return options_; }

private:
    static result<void> check_size(std::string_view key, const record_view& r, std::string_view where)
    {
        if (r.fingerprint.size() + r.outcome_data.size() + key.size() + 64 > detail::redis_max_bulk) {
            return error{errc::too_large, std::string(where), "key or record larger than 512 MiB"};
        }
        return {};
    }

    /// Milliseconds until the key may go: until expires_at (on the caller's clock), plus the grace.
    [[nodiscard]] std::int64_t time_to_live(const record_view& r, utc_time now) const noexcept
    {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(r.expires_at - now).count();
        return std::clamp<std::int64_t>(left, 0, std::int64_t{1} << 50) +
               std::max<std::int64_t>(options_.expiry_grace.count(), 0) + 1;
    }

    static result<bool> to_bool(const redis::reply& r, std::string_view where, const redis::script& s)
    {
        if (!r.is_integer() || (r.integer != 0 && r.integer != 1)) {
            return redis::shape_error(r, where, s.name, "integer 0 or 1");
        }
        return r.integer == 1;
    }

    Connection conn_;
    redis_store_options options_;
};

}  // namespace meetingbaas::inline v0
