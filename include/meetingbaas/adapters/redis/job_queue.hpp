// SPDX-License-Identifier: MIT
#pragma once

// redis_job_queue: the job_queue (sync/job_queue.hpp) on Redis, shared by every replica that points at the
// same server: a delivery enqueued by one instance is leased by exactly one worker of any instance, and the
// jobs of an instance that died are leased again by the others once their lease ends.
//
// Layout (every key of one queue shares the hash tag `{name}`, so its scripts run on one Redis Cluster slot):
//   <prefix>{name}:seq       INCR counter: job ids
//   <prefix>{name}:token     counter: lease tokens (fences), strictly increasing across the queue; each
//                            is max(previous + 1, now in microseconds), so tokens do not repeat even after
//                            a fail-over lost the last increments
//   <prefix>{name}:j:<id>    hash: k kind, p payload, u unique key, s state (r ready, l leased, c completed,
//                            d dead), a attempt, t token, q enqueued at, d due / lease end / settled at,
//                            e last error or dead-letter reason, f failed at
//   <prefix>{name}:u:<key>   string: the job id holding a unique key
//   <prefix>{name}:due       zset: ready, scheduled and leased jobs, scored by due time or lease end; a
//                            lease that ended is simply due again, so stalled jobs need no rescuer pass
//   <prefix>{name}:leased    zset: leased jobs by lease end (for stats)
//   <prefix>{name}:dead      zset: dead letters by failure time
//   <prefix>{name}:done      zset: completed jobs that keep a unique key, by completion time
// Members of the zsets are zero-padded ids, so equal due times lease in insertion order.
//
// Every primitive is one Lua script (one round trip, atomic). Retention is key expiry: a completed job with
// a unique key (its deduplication marker) is kept `completed_retention`, a dead letter
// `dead_letter_retention`; jobs without a unique key are deleted when acknowledged. No KEYS or SCAN.
//
// Clocks: with Clock = redis::server_time (the default) every time is the server's TIME, so replicas with
// skewed clocks agree on lease ends; with any wall_clock (tests) the queue's clock is sent with each call.

#include <meetingbaas/adapters/redis/clock.hpp>
#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/idempotency_store.hpp>
#include <meetingbaas/adapters/redis/script.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/sync/job_queue.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

/// Options of redis_job_queue.
struct redis_queue_options {
    std::string prefix = "mb:q:";
    std::string name = "jobs";  ///< the queue's hash tag: queues with other names are independent
    /// How long an acknowledged job with a unique key is remembered (a delivery with the same key is a
    /// duplicate until then).
    std::chrono::milliseconds completed_retention{std::chrono::hours(72)};
    /// How long a dead letter waits for an operator before it is forgotten.
    std::chrono::milliseconds dead_letter_retention{std::chrono::hours(24 * 30)};
    std::size_t purge_batch = 1000;  ///< completed jobs forgotten per purge_completed() call, at most
};

namespace detail {

// ARGV[1] of every queue script is the key prefix "<prefix>{name}:". `now` is the caller's time when its
// argument is not empty, else the server's TIME. Times are integral milliseconds (exact in Lua's doubles).

inline constexpr redis::script redis_queue_enqueue = redis::make_script("mb.queue.enqueue", R"lua(
local P = ARGV[1]
local now
if ARGV[6] ~= '' then now = tonumber(ARGV[6]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
if ARGV[4] ~= '' then
  local existing = redis.call('GET', P .. 'u:' .. ARGV[4])
  if existing then return {0, existing} end
end
local id = redis.call('INCR', KEYS[1])
local sid = string.format('%d', id)
local due = now
if ARGV[5] ~= '' then due = tonumber(ARGV[5]) end
redis.call('HSET', P .. 'j:' .. sid, 'k', ARGV[2], 'p', ARGV[3], 'u', ARGV[4], 's', 'r', 'a', '0', 't', '0',
  'q', string.format('%d', now), 'd', string.format('%d', due), 'e', '')
if ARGV[4] ~= '' then redis.call('SET', P .. 'u:' .. ARGV[4], sid) end
redis.call('ZADD', KEYS[2], string.format('%d', due), string.format('%020d', id))
return {1, sid}
)lua");

inline constexpr redis::script redis_queue_lease = redis::make_script("mb.queue.lease", R"lua(
local P = ARGV[1]
local now
if ARGV[3] ~= '' then now = tonumber(ARGV[3]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
for _ = 1, 16 do
  local first = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'LIMIT', 0, 1)
  if #first == 0 then return false end
  local m = first[1]
  local sid = string.format('%d', tonumber(m))
  local jk = P .. 'j:' .. sid
  local st = redis.call('HGET', jk, 's')
  if st == 'r' or st == 'l' then
    local token = tonumber(redis.call('GET', KEYS[3]) or '0') + 1
    if token < now * 1000 then token = now * 1000 end
    redis.call('SET', KEYS[3], string.format('%d', token))
    local till = now + tonumber(ARGV[2])
    local attempt = redis.call('HINCRBY', jk, 'a', 1)
    redis.call('HSET', jk, 's', 'l', 't', string.format('%d', token), 'd', string.format('%d', till))
    redis.call('ZADD', KEYS[1], string.format('%d', till), m)
    redis.call('ZADD', KEYS[2], string.format('%d', till), m)
    local f = redis.call('HMGET', jk, 'k', 'p', 'u', 'q', 'e')
    return {sid, f[1], f[2], f[3], attempt, token, till, tonumber(f[4]), f[5]}
  end
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
end
return false
)lua");

// Settling scripts: 0 = no such job (or completed), -1 = fence mismatch (not leased with this token).
inline constexpr redis::script redis_queue_ack = redis::make_script("mb.queue.ack", R"lua(
local P = ARGV[1]
local jk = P .. 'j:' .. ARGV[2]
local f = redis.call('HMGET', jk, 's', 't', 'u')
if not f[1] or f[1] == 'c' then return 0 end
if f[1] ~= 'l' or f[2] ~= ARGV[3] then return -1 end
local now
if ARGV[4] ~= '' then now = tonumber(ARGV[4]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local m = string.format('%020d', tonumber(ARGV[2]))
redis.call('ZREM', KEYS[1], m)
redis.call('ZREM', KEYS[2], m)
if f[3] == '' then
  redis.call('DEL', jk)
  return 1
end
local keep = tonumber(ARGV[5])
redis.call('HSET', jk, 's', 'c', 'd', string.format('%d', now))
redis.call('HDEL', jk, 'p')
redis.call('PEXPIRE', jk, keep)
local uk = P .. 'u:' .. f[3]
if redis.call('GET', uk) == ARGV[2] then redis.call('PEXPIRE', uk, keep) end
redis.call('ZADD', KEYS[3], string.format('%d', now), m)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.format('%d', now - keep))
return 1
)lua");

inline constexpr redis::script redis_queue_retry = redis::make_script("mb.queue.retry", R"lua(
local P = ARGV[1]
local jk = P .. 'j:' .. ARGV[2]
local f = redis.call('HMGET', jk, 's', 't')
if not f[1] or f[1] == 'c' then return 0 end
if f[1] ~= 'l' or f[2] ~= ARGV[3] then return -1 end
local m = string.format('%020d', tonumber(ARGV[2]))
redis.call('HSET', jk, 's', 'r', 'd', ARGV[4], 'e', ARGV[5])
redis.call('ZADD', KEYS[1], ARGV[4], m)
redis.call('ZREM', KEYS[2], m)
return 1
)lua");

inline constexpr redis::script redis_queue_dead = redis::make_script("mb.queue.dead", R"lua(
local P = ARGV[1]
local jk = P .. 'j:' .. ARGV[2]
local f = redis.call('HMGET', jk, 's', 't', 'u')
if not f[1] or f[1] == 'c' then return 0 end
if f[1] ~= 'l' or f[2] ~= ARGV[3] then return -1 end
local now
if ARGV[4] ~= '' then now = tonumber(ARGV[4]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local keep = tonumber(ARGV[6])
local m = string.format('%020d', tonumber(ARGV[2]))
redis.call('HSET', jk, 's', 'd', 'e', ARGV[5], 'f', string.format('%d', now), 'd', string.format('%d', now))
redis.call('ZREM', KEYS[1], m)
redis.call('ZREM', KEYS[2], m)
redis.call('ZADD', KEYS[3], string.format('%d', now), m)
redis.call('PEXPIRE', jk, keep)
if f[3] ~= '' then
  local uk = P .. 'u:' .. f[3]
  if redis.call('GET', uk) == ARGV[2] then redis.call('PEXPIRE', uk, keep) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.format('%d', now - keep))
return 1
)lua");

inline constexpr redis::script redis_queue_extend = redis::make_script("mb.queue.extend", R"lua(
local P = ARGV[1]
local jk = P .. 'j:' .. ARGV[2]
local f = redis.call('HMGET', jk, 's', 't')
if not f[1] or f[1] == 'c' then return 0 end
if f[1] ~= 'l' or f[2] ~= ARGV[3] then return -1 end
local now
if ARGV[5] ~= '' then now = tonumber(ARGV[5]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local till = string.format('%d', now + tonumber(ARGV[4]))
local m = string.format('%020d', tonumber(ARGV[2]))
redis.call('HSET', jk, 'd', till)
redis.call('ZADD', KEYS[1], till, m)
redis.call('ZADD', KEYS[2], till, m)
return 1
)lua");

// Dead letters, oldest failure first: flat array of 8 fields per job. Index entries whose job expired or
// left the dead state are dropped on the way.
inline constexpr redis::script redis_queue_dead_list = redis::make_script("mb.queue.dead_letters", R"lua(
local P = ARGV[1]
local limit = tonumber(ARGV[2])
local out = {}
local n = 0
local start = 0
while n < limit do
  local ms = redis.call('ZRANGE', KEYS[1], start, start + (limit - n) - 1)
  if #ms == 0 then break end
  for _, m in ipairs(ms) do
    local sid = string.format('%d', tonumber(m))
    local f = redis.call('HMGET', P .. 'j:' .. sid, 's', 'k', 'p', 'u', 'e', 'a', 'q', 'f')
    if f[1] == 'd' then
      table.insert(out, sid)
      for i = 2, 8 do table.insert(out, f[i] or '') end
      n = n + 1
      start = start + 1
    else
      redis.call('ZREM', KEYS[1], m)
    end
  end
end
return out
)lua");

inline constexpr redis::script redis_queue_requeue = redis::make_script("mb.queue.requeue", R"lua(
local P = ARGV[1]
local jk = P .. 'j:' .. ARGV[2]
local f = redis.call('HMGET', jk, 's', 'u')
if f[1] ~= 'd' then return 0 end
local now
if ARGV[3] ~= '' then now = tonumber(ARGV[3]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local m = string.format('%020d', tonumber(ARGV[2]))
redis.call('HSET', jk, 's', 'r', 'a', '0', 'd', string.format('%d', now), 'q', string.format('%d', now))
redis.call('PERSIST', jk)
if f[2] and f[2] ~= '' then
  local uk = P .. 'u:' .. f[2]
  local holder = redis.call('GET', uk)
  if holder == ARGV[2] then redis.call('PERSIST', uk)
  elseif not holder then redis.call('SET', uk, ARGV[2]) end
end
redis.call('ZREM', KEYS[2], m)
redis.call('ZADD', KEYS[1], string.format('%d', now), m)
return 1
)lua");

inline constexpr redis::script redis_queue_stats = redis::make_script("mb.queue.stats", R"lua(
local now
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local n = string.format('%d', now)
local ready = redis.call('ZCOUNT', KEYS[1], '-inf', n)
local future = redis.call('ZCOUNT', KEYS[1], '(' .. n, '+inf')
local leased = redis.call('ZCOUNT', KEYS[2], '(' .. n, '+inf')
local dead = redis.call('ZCOUNT', KEYS[3], string.format('%d', now - tonumber(ARGV[3])), '+inf')
local done = redis.call('ZCOUNT', KEYS[4], string.format('%d', now - tonumber(ARGV[2])), '+inf')
return {ready, future - leased, leased, dead, done}
)lua");

inline constexpr redis::script redis_queue_purge = redis::make_script("mb.queue.purge", R"lua(
local P = ARGV[1]
local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(ms) do
  local sid = string.format('%d', tonumber(m))
  local jk = P .. 'j:' .. sid
  local f = redis.call('HMGET', jk, 's', 'u')
  if f[1] == 'c' then
    redis.call('DEL', jk)
    if f[2] and f[2] ~= '' and redis.call('GET', P .. 'u:' .. f[2]) == sid then
      redis.call('DEL', P .. 'u:' .. f[2])
    end
  end
  redis.call('ZREM', KEYS[1], m)
end
return #ms
)lua");

inline std::optional<std::uint64_t> parse_redis_job_id(std::string_view id) noexcept
{
    if (id.empty() || id.size() > 15 || id.front() == '0') return std::nullopt;
    for (const char c : id) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    return redis::parse_uint64(id);
}

}  // namespace detail

/// A job_queue on Redis (see the file comment). Holds the connection by value and the key names; no other
/// state, so any number of queues in any number of processes may share one Redis queue. Thread-safe when
/// the connection is.
template <redis::connection Connection, class Clock = redis::server_time>
    requires std::same_as<Clock, redis::server_time> || wall_clock<Clock>
class redis_job_queue {
public:
    explicit redis_job_queue(Connection connection, redis_queue_options options = {}, Clock clock = Clock{})
        : conn_(std::forward<Connection>(connection)), options_(std::move(options)), clock_(std::move(clock))
    {
        base_ = options_.prefix + "{" + options_.name + "}:";
        seq_ = base_ + "seq";
        token_ = base_ + "token";
        due_ = base_ + "due";
        leased_ = base_ + "leased";
        dead_ = base_ + "dead";
        done_ = base_ + "done";
    }

    result<enqueue_outcome> enqueue(job_spec spec)
    {
        constexpr std::string_view where = "redis_job_queue::enqueue";
        if (spec.payload.size() + spec.kind.size() + spec.unique_key.size() > detail::redis_max_bulk) {
            return error{errc::too_large, std::string(where), "job larger than 512 MiB"};
        }
        const auto now = now_arg();
        const std::optional<redis::decimal> not_before =
            spec.not_before ? std::optional<redis::decimal>(redis::decimal(
                                  static_cast<std::int64_t>(spec.not_before->time_since_epoch().count())))
                            : std::nullopt;
        const std::array<std::string_view, 2> keys{seq_, due_};
        const std::array<std::string_view, 6> args{base_,
                                                   spec.kind,
                                                   spec.payload,
                                                   spec.unique_key,
                                                   not_before ? not_before->view() : std::string_view{},
                                                   now.view()};
        auto r = redis::run_script(conn_, detail::redis_queue_enqueue, keys, args, where);
        if (!r) return std::move(r).error();
        if (!r->is_array() || r->elements.size() != 2 || !r->elements[0].is_integer() ||
            !r->elements[1].is_string()) {
            return redis::shape_error(*r, where, detail::redis_queue_enqueue.name, "[inserted, id]");
        }
        return enqueue_outcome{std::move(r->elements[1].str), r->elements[0].integer == 1};
    }

    result<std::optional<leased_job>> lease(std::chrono::milliseconds lease_duration)
    {
        constexpr std::string_view where = "redis_job_queue::lease";
        if (lease_duration <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "lease", "lease duration must be positive"};
        }
        const auto now = now_arg();
        const redis::decimal d(static_cast<std::int64_t>(lease_duration.count()));
        const std::array<std::string_view, 3> keys{due_, leased_, token_};
        const std::array<std::string_view, 3> args{base_, d.view(), now.view()};
        auto r = redis::run_script(conn_, detail::redis_queue_lease, keys, args, where);
        if (!r) return std::move(r).error();
        if (r->is_nil()) return std::optional<leased_job>();
        auto& e = r->elements;
        const bool shape = r->is_array() && e.size() == 9 && e[0].is_string() && e[1].is_string() &&
                           e[2].is_string() && e[3].is_string() && e[4].is_integer() && e[5].is_integer() &&
                           e[6].is_integer() && e[7].is_integer() && e[8].is_string() && e[4].integer >= 0 &&
                           e[5].integer > 0;
        if (!shape) return redis::shape_error(*r, where, detail::redis_queue_lease.name, "a leased job");
        leased_job job;
        job.id = std::move(e[0].str);
        job.kind = std::move(e[1].str);
        job.payload = std::move(e[2].str);
        job.unique_key = std::move(e[3].str);
        job.attempt = static_cast<std::uint32_t>(e[4].integer);
        job.lease_token = static_cast<std::uint64_t>(e[5].integer);
        job.leased_until = queue_time(std::chrono::milliseconds(e[6].integer));
        job.enqueued_at = queue_time(std::chrono::milliseconds(e[7].integer));
        job.last_error = std::move(e[8].str);
        return std::optional<leased_job>(std::move(job));
    }

    result<void> acknowledge(std::string_view id, std::uint64_t token)
    {
        constexpr std::string_view where = "acknowledge";
        if (!detail::parse_redis_job_id(id)) return missing(where, id);
        const auto now = now_arg();
        const redis::decimal t(token);
        const redis::decimal keep(static_cast<std::int64_t>(options_.completed_retention.count()));
        const std::array<std::string_view, 3> keys{due_, leased_, done_};
        const std::array<std::string_view, 5> args{base_, id, t.view(), now.view(), keep.view()};
        return settle(detail::redis_queue_ack, keys, args, where, id);
    }

    result<void> retry_later(std::string_view id, std::uint64_t token, queue_time at, std::string_view reason)
    {
        constexpr std::string_view where = "retry_later";
        if (!detail::parse_redis_job_id(id)) return missing(where, id);
        const redis::decimal t(token);
        const redis::decimal when(static_cast<std::int64_t>(at.time_since_epoch().count()));
        const std::array<std::string_view, 2> keys{due_, leased_};
        const std::array<std::string_view, 5> args{base_, id, t.view(), when.view(), reason};
        return settle(detail::redis_queue_retry, keys, args, where, id);
    }

    result<void> dead_letter(std::string_view id, std::uint64_t token, std::string_view reason)
    {
        constexpr std::string_view where = "dead_letter";
        if (!detail::parse_redis_job_id(id)) return missing(where, id);
        const auto now = now_arg();
        const redis::decimal t(token);
        const redis::decimal keep(static_cast<std::int64_t>(options_.dead_letter_retention.count()));
        const std::array<std::string_view, 3> keys{due_, leased_, dead_};
        const std::array<std::string_view, 6> args{base_, id, t.view(), now.view(), reason, keep.view()};
        return settle(detail::redis_queue_dead, keys, args, where, id);
    }

    result<void> extend_lease(std::string_view id, std::uint64_t token, std::chrono::milliseconds d)
    {
        constexpr std::string_view where = "extend_lease";
        if (d <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "extend_lease", "lease duration must be positive"};
        }
        if (!detail::parse_redis_job_id(id)) return missing(where, id);
        const auto now = now_arg();
        const redis::decimal t(token);
        const redis::decimal length(static_cast<std::int64_t>(d.count()));
        const std::array<std::string_view, 2> keys{due_, leased_};
        const std::array<std::string_view, 5> args{base_, id, t.view(), length.view(), now.view()};
        return settle(detail::redis_queue_extend, keys, args, where, id);
    }

    result<std::vector<dead_letter_entry>> dead_letters(std::size_t limit)
    {
        constexpr std::string_view where = "redis_job_queue::dead_letters";
        const redis::decimal n(static_cast<std::uint64_t>(std::min<std::size_t>(limit, 100'000)));
        if (limit == 0) return std::vector<dead_letter_entry>();
        const std::array<std::string_view, 1> keys{dead_};
        const std::array<std::string_view, 2> args{base_, n.view()};
        auto r = redis::run_script(conn_, detail::redis_queue_dead_list, keys, args, where);
        if (!r) return std::move(r).error();
        if (!r->is_array() || r->elements.size() % 8 != 0) {
            return redis::shape_error(*r, where, detail::redis_queue_dead_list.name,
                                      "8 fields per dead letter");
        }
        std::vector<dead_letter_entry> out;
        out.reserve(r->elements.size() / 8);
        for (std::size_t i = 0; i < r->elements.size(); i += 8) {
            auto* f = &r->elements[i];
            for (std::size_t j = 0; j < 8; ++j) {
                if (!f[j].is_string()) return redis::shape_error(f[j], where, "dead letter field", "string");
            }
            const auto attempts = redis::parse_uint64(f[5].str);
            const auto enqueued = redis::parse_int64(f[6].str);
            const auto failed = redis::parse_int64(f[7].str);
            if (!attempts || !enqueued || !failed) {
                return error{errc::storage_error, std::string(where), "malformed dead letter " + f[0].str};
            }
            out.push_back(dead_letter_entry{std::move(f[0].str), std::move(f[1].str), std::move(f[2].str),
                                            std::move(f[3].str), std::move(f[4].str),
                                            static_cast<std::uint32_t>(*attempts),
                                            queue_time(std::chrono::milliseconds(*enqueued)),
                                            queue_time(std::chrono::milliseconds(*failed))});
        }
        return out;
    }

    result<void> requeue_dead_letter(std::string_view id)
    {
        constexpr std::string_view where = "requeue_dead_letter";
        if (!detail::parse_redis_job_id(id)) {
            return error{errc::not_found, std::string(where), "no dead letter with id " + std::string(id)};
        }
        const auto now = now_arg();
        const std::array<std::string_view, 2> keys{due_, dead_};
        const std::array<std::string_view, 3> args{base_, id, now.view()};
        auto r = redis::run_script(conn_, detail::redis_queue_requeue, keys, args,
                                   "redis_job_queue::requeue_dead_letter");
        if (!r) return std::move(r).error();
        if (!r->is_integer())
            return redis::shape_error(*r, where, detail::redis_queue_requeue.name, "integer");
        if (r->integer != 1) {
            return error{errc::not_found, std::string(where), "no dead letter with id " + std::string(id)};
        }
        return {};
    }

    result<queue_stats> stats()
    {
        constexpr std::string_view where = "redis_job_queue::stats";
        const auto now = now_arg();
        const redis::decimal keep_done(static_cast<std::int64_t>(options_.completed_retention.count()));
        const redis::decimal keep_dead(static_cast<std::int64_t>(options_.dead_letter_retention.count()));
        const std::array<std::string_view, 4> keys{due_, leased_, dead_, done_};
        const std::array<std::string_view, 3> args{now.view(), keep_done.view(), keep_dead.view()};
        auto r = redis::run_script(conn_, detail::redis_queue_stats, keys, args, where);
        if (!r) return std::move(r).error();
        if (!r->is_array() || r->elements.size() != 5) {
            return redis::shape_error(*r, where, detail::redis_queue_stats.name, "5 counts");
        }
        std::array<std::size_t, 5> n{};
        for (std::size_t i = 0; i < 5; ++i) {
            const auto& e = r->elements[i];
            if (!e.is_integer()) return redis::shape_error(e, where, "count", "integer");
            n[i] = static_cast<std::size_t>(std::max<std::int64_t>(e.integer, 0));
        }
        queue_stats s;
        s.ready = n[0];
        s.scheduled = n[1];
        s.leased = n[2];
        s.dead = n[3];
        s.completed = n[4];
        return s;
    }

    result<std::optional<queue_time>> next_due()
    {
        constexpr std::string_view where = "redis_job_queue::next_due";
        const std::array<std::string_view, 5> argv{"ZRANGE", due_, "0", "0", "WITHSCORES"};
        auto r = conn_.command(argv);
        if (!r) return redis::to_error(r.error(), where, "ZRANGE");
        if (r->is_error()) return redis::reply_error(*r, where, "ZRANGE");
        if (!r->is_array()) return redis::shape_error(*r, where, "ZRANGE", "array");
        if (r->elements.empty()) return std::optional<queue_time>();
        if (r->elements.size() != 2 || !r->elements[1].is_string()) {
            return redis::shape_error(*r, where, "ZRANGE", "member and score");
        }
        const auto ms = redis::parse_int64(r->elements[1].str);
        if (!ms)
            return error{errc::storage_error, std::string(where), "malformed score " + r->elements[1].str};
        return std::optional<queue_time>(queue_time(std::chrono::milliseconds(*ms)));
    }

    /// Forgets completed jobs acknowledged before `before` (their unique keys can be enqueued again), at
    /// most options().purge_batch per call; returns how many. Key expiry forgets them anyway after
    /// completed_retention: call this only to free a key earlier.
    result<std::size_t> purge_completed(queue_time before)
    {
        constexpr std::string_view where = "redis_job_queue::purge_completed";
        const redis::decimal b(static_cast<std::int64_t>(before.time_since_epoch().count()));
        const redis::decimal batch(
            static_cast<std::uint64_t>(std::max<std::size_t>(options_.purge_batch, 1)));
        const std::array<std::string_view, 1> keys{done_};
        const std::array<std::string_view, 3> args{base_, b.view(), batch.view()};
        auto r = redis::run_script(conn_, detail::redis_queue_purge, keys, args, where);
        if (!r) return std::move(r).error();
        if (!r->is_integer() || r->integer < 0) {
            return redis::shape_error(*r, where, detail::redis_queue_purge.name, "a count");
        }
        return static_cast<std::size_t>(r->integer);
    }

    /// PING through the queue's connection (for /healthz). Errors: errc::storage_error.
    result<void> ping() { return redis::ping(conn_); }

    [[nodiscard]] Connection& connection() noexcept { return conn_; }
    [[nodiscard]] const redis_queue_options& options() const noexcept { return options_; }
    /// "<prefix>{name}:": the prefix of every key of this queue.
    [[nodiscard]] const std::string& key_prefix() const noexcept { return base_; }

private:
    /// The `now` argument of a script: empty (the server reads TIME) or the injected clock's milliseconds.
    class now_text {
    public:
        now_text() = default;
        explicit now_text(queue_time t) : value_(static_cast<std::int64_t>(t.time_since_epoch().count())) {}
        [[nodiscard]] std::string_view view() const noexcept
        {
            return value_ ? value_->view() : std::string_view{};
        }

    private:
        std::optional<redis::decimal> value_;
    };
    [[nodiscard]] now_text now_arg() const
    {
        if constexpr (std::same_as<Clock, redis::server_time>) {
            return now_text();
        } else {
            return now_text(queue_now(clock_));
        }
    }

    static error missing(std::string_view where, std::string_view id)
    {
        return error{errc::not_found, std::string(where), "no job with id " + std::string(id)};
    }

    result<void> settle(const redis::script& s, std::span<const std::string_view> keys,
                        std::span<const std::string_view> args, std::string_view where, std::string_view id)
    {
        auto r =
            redis::run_script(conn_, s, keys, args, std::string("redis_job_queue::") + std::string(where));
        if (!r) return std::move(r).error();
        if (!r->is_integer()) return redis::shape_error(*r, where, s.name, "integer");
        if (r->integer == 1) return {};
        if (r->integer == 0) return missing(where, id);
        return error{errc::fence_mismatch, std::string(where),
                     "the lease on job " + std::string(id) + " was lost"};
    }

    Connection conn_;
    redis_queue_options options_;
    [[no_unique_address]] Clock clock_;
    std::string base_;
    std::string seq_;
    std::string token_;
    std::string due_;
    std::string leased_;
    std::string dead_;
    std::string done_;
};

}  // namespace meetingbaas::inline v0
