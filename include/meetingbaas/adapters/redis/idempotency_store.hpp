// SPDX-License-Identifier: MIT
#pragma once

// redis_idempotency_store: the idempotency_store (idempotency/store.hpp) on Redis, shared by every replica
// that points at the same server. Written against redis::connection (link meetingbaas::redis for the
// hiredis client, or bring your own).
//
//  * One hash per record, key `<prefix>{<hash of the key>}:<key>`: one hash tag per record, so records
//    spread over a Redis Cluster and each primitive touches one slot.
//  * Each primitive is one round trip: insert_if_absent, compare_and_set and erase_if_fence are Lua scripts
//    (atomic on the server, EVALSHA); load is one HMGET.
//  * Retention by key expiry: every write sets PEXPIRE to (expires_at - now) + expiry_grace, relative to
//    the caller's clock, so the record outlives its expires_at whatever the offset between the caller's and
//    the server's clocks; no sweeping, no KEYS/SCAN.
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

inline constexpr redis::script redis_idem_insert = redis::make_script("mb.idem.insert", R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'o', ARGV[2], 'f', ARGV[3], 'e', ARGV[4], 'p', ARGV[5], 'd', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1
)lua");

inline constexpr redis::script redis_idem_cas = redis::make_script("mb.idem.cas", R"lua(
if redis.call('HGET', KEYS[1], 'f') ~= ARGV[8] then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'o', ARGV[2], 'f', ARGV[3], 'e', ARGV[4], 'p', ARGV[5], 'd', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1
)lua");

inline constexpr redis::script redis_idem_erase = redis::make_script("mb.idem.erase", R"lua(
if redis.call('HGET', KEYS[1], 'f') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
)lua");

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
        return write(detail::redis_idem_insert, "redis_idempotency_store::insert_if_absent", key, r, now, {});
    }

    result<std::optional<idempotency_record>> load(std::string_view key, utc_time /*now*/)
    {
        constexpr std::string_view where = "redis_idempotency_store::load";
        const std::string k = detail::tagged_key(options_.prefix, key);
        const std::array<std::string_view, 8> argv{"HMGET", k, "s", "o", "f", "e", "p", "d"};
        auto r = conn_.command(argv);
        if (!r) return redis::to_error(r.error(), where, "HMGET");
        if (r->is_error()) return redis::reply_error(*r, where, "HMGET");
        if (!r->is_array() || r->elements.size() != 6)
            return redis::shape_error(*r, where, "HMGET", "6 fields");
        auto& f = r->elements;
        bool all_nil = true;
        bool any_nil = false;
        for (const auto& e : f) {
            all_nil = all_nil && e.is_nil();
            any_nil = any_nil || e.is_nil();
        }
        if (all_nil) return std::optional<idempotency_record>();
        const auto state = any_nil ? std::nullopt : redis::parse_uint64(f[0].str);
        const auto outcome = any_nil ? std::nullopt : redis::parse_uint64(f[1].str);
        const auto fence = any_nil ? std::nullopt : redis::parse_uint64(f[2].str);
        const auto expires = any_nil ? std::nullopt : redis::parse_int64(f[3].str);
        if (!state || !outcome || !fence || !expires || *state < 1 || *state > 2 || *outcome > 3) {
            return error{errc::storage_error, std::string(where), "malformed record at " + k};
        }
        idempotency_record rec;
        rec.state = static_cast<record_state>(*state);
        rec.outcome = static_cast<work_outcome>(*outcome);
        rec.fence = *fence;
        rec.expires_at = utc_time(std::chrono::microseconds(*expires));
        rec.fingerprint = std::move(f[4].str);
        rec.outcome_data = std::move(f[5].str);
        return std::optional<idempotency_record>(std::move(rec));
    }

    result<bool> compare_and_set(std::string_view key, std::uint64_t expected_fence, const record_view& r,
                                 utc_time now)
    {
        return write(detail::redis_idem_cas, "redis_idempotency_store::compare_and_set", key, r, now,
                     expected_fence);
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
    result<bool> write(const redis::script& s, std::string_view where, std::string_view key,
                       const record_view& r, utc_time now, std::optional<std::uint64_t> expected_fence)
    {
        if (r.fingerprint.size() + r.outcome_data.size() + key.size() > detail::redis_max_bulk) {
            return error{errc::too_large, std::string(where), "key or record larger than 512 MiB"};
        }
        using namespace std::chrono;
        const auto left = ceil<milliseconds>(r.expires_at - now);
        const auto ttl = std::clamp<std::int64_t>(left.count(), 0, std::int64_t{1} << 50) +
                         std::max<std::int64_t>(options_.expiry_grace.count(), 0) + 1;
        const std::string k = detail::tagged_key(options_.prefix, key);
        const redis::decimal state(static_cast<std::uint32_t>(r.state));
        const redis::decimal outcome(static_cast<std::uint32_t>(r.outcome));
        const redis::decimal fence(r.fence);
        const redis::decimal expires(static_cast<std::int64_t>(r.expires_at.time_since_epoch().count()));
        const redis::decimal ttl_ms(ttl);
        const redis::decimal expected(expected_fence.value_or(0));
        const std::array<std::string_view, 1> keys{k};
        const std::array<std::string_view, 8> args{state.view(),   outcome.view(), fence.view(),
                                                   expires.view(), r.fingerprint,  r.outcome_data,
                                                   ttl_ms.view(),  expected.view()};
        auto reply = redis::run_script(
            conn_, s, keys, std::span<const std::string_view>(args.data(), expected_fence ? 8 : 7), where);
        if (!reply) return std::move(reply).error();
        return to_bool(*reply, where, s);
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
