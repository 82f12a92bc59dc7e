// SPDX-License-Identifier: MIT
#pragma once

// redis_rate_limiter: the write_rate_limiter (api/rate_limit.hpp) that every worker of every instance
// shares through one Redis hash (GCRA: the theoretical arrival time, a hold set by a 429, and a lowered
// interval reported by x-ratelimit-limit). try_acquire is one Lua script on the server's TIME, so replicas
// with skewed clocks still share one timeline; feedback is one script, sent only when it changes something.

#include <meetingbaas/adapters/redis/clock.hpp>
#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/script.hpp>
#include <meetingbaas/api/rate_limit.hpp>
#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// Options of redis_rate_limiter.
struct redis_rate_limiter_options {
    /// The bucket's key: every limiter with the same key shares one limit (one per Meeting BaaS team).
    std::string key = "mb:rl:{meetingbaas-api-writes}";
    rate_limit_options rate{};
};

/// A permit with the server time at which it was decided (tests measure the real rate with it).
struct timed_permit {
    rate_permit permit;
    std::chrono::sys_time<std::chrono::microseconds> at{};
};

namespace detail {

// Times in microseconds (exact in doubles until the year 2255). ARGV: interval, burst, now ('' = TIME).
inline constexpr redis::script redis_rate_acquire = redis::make_script("mb.rate.acquire", R"lua(
local now
if ARGV[3] ~= '' then now = tonumber(ARGV[3]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local f = redis.call('HMGET', KEYS[1], 'tat', 'hold', 'iv', 'ivx')
local interval = tonumber(ARGV[1])
local iv, ivx = tonumber(f[3]), tonumber(f[4])
if iv and ivx and ivx > now and iv > interval then interval = iv end
local hold = tonumber(f[2])
if hold and hold > now then return {0, hold - now, now} end
local tat = tonumber(f[1])
if not tat or tat < now then tat = now end
local tau = (tonumber(ARGV[2]) - 1) * interval
if tat - now > tau then return {0, tat - now - tau, now} end
tat = tat + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%d', tat))
local last = tat
if ivx and ivx > last then last = ivx end
redis.call('PEXPIRE', KEYS[1], math.floor((last - now) / 1000) + 1000)
return {1, 0, now}
)lua");

// ARGV: hold ('' = none), lowered interval ('' = none), how long the lowered interval applies, now.
inline constexpr redis::script redis_rate_feedback = redis::make_script("mb.rate.feedback", R"lua(
local now
if ARGV[4] ~= '' then now = tonumber(ARGV[4]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local f = redis.call('HMGET', KEYS[1], 'tat', 'hold', 'ivx')
local last = tonumber(f[1]) or now
local cur = tonumber(f[2])
if cur and cur > last then last = cur end
if ARGV[1] ~= '' then
  local h = now + tonumber(ARGV[1])
  if not cur or cur < h then redis.call('HSET', KEYS[1], 'hold', string.format('%d', h)) end
  if h > last then last = h end
end
local x = tonumber(f[3])
if ARGV[2] ~= '' then
  x = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'iv', ARGV[2], 'ivx', string.format('%d', x))
end
if x and x > last then last = x end
if last > now then redis.call('PEXPIRE', KEYS[1], math.floor((last - now) / 1000) + 1000) end
return 1
)lua");

}  // namespace detail

/// A write_rate_limiter on Redis (see the file comment). Copies share the same bucket (the state is on the
/// server) and the same feedback cache. Thread-safe when the connection is.
template <redis::connection Connection, class Clock = redis::server_time>
    requires std::same_as<Clock, redis::server_time> || wall_clock<Clock>
class redis_rate_limiter {
public:
    /// Errors: errc::invalid_argument when validate(options.rate) fails or the key is empty.
    [[nodiscard]] static result<redis_rate_limiter>
    create(Connection connection, redis_rate_limiter_options options = {}, Clock clock = Clock{})
    {
        if (auto ok = validate(options.rate); !ok) return std::move(ok).error();
        if (options.key.empty()) {
            return error{errc::invalid_argument, "redis_rate_limiter_options.key", "must not be empty"};
        }
        return redis_rate_limiter(std::forward<Connection>(connection), std::move(options), std::move(clock));
    }

    result<rate_permit> try_acquire()
    {
        auto t = try_acquire_timed();
        if (!t) return std::move(t).error();
        return t->permit;
    }

    /// try_acquire(), plus the server time of the decision.
    result<timed_permit> try_acquire_timed()
    {
        constexpr std::string_view where = "redis_rate_limiter::try_acquire";
        const auto now = now_arg();
        const std::array<std::string_view, 1> keys{options_.key};
        const std::array<std::string_view, 3> args{interval_.view(), burst_.view(), now ? now->view() : ""};
        auto r = redis::run_script(conn_, detail::redis_rate_acquire, keys, args, where);
        if (!r) return std::move(r).error();
        const auto& e = r->elements;
        if (!r->is_array() || e.size() != 3 || !e[0].is_integer() || !e[1].is_integer() ||
            !e[2].is_integer()) {
            return redis::shape_error(*r, where, detail::redis_rate_acquire.name, "[granted, wait, now]");
        }
        timed_permit out;
        out.permit.granted = e[0].integer == 1;
        const auto wait_us = std::max<std::int64_t>(e[1].integer, 0);
        out.permit.retry_in =
            out.permit.granted ? std::chrono::milliseconds(0)
                               : std::chrono::milliseconds(std::max<std::int64_t>((wait_us + 999) / 1000, 1));
        out.at = std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(e[2].integer));
        return out;
    }

    /// Best effort: a failure is counted (feedback_failures()) and otherwise ignored; the next 429 or
    /// header tries again.
    void feedback(const rate_limit_feedback& f)
    {
        if (!apply(f)) feedback_failures_->fetch_add(1, std::memory_order_relaxed);
    }

    /// feedback() with its error. A reported limit that is not lower than the configured rate, or that was
    /// already pushed to Redis within the last half of limit_memory, costs no round trip.
    result<void> apply(const rate_limit_feedback& f)
    {
        constexpr std::string_view where = "redis_rate_limiter::feedback";
        const auto a = plan_adjustment(f, options_.rate);
        // Plain values from here on (GCC 12 -O1 warns about reading a reset optional).
        std::uint32_t lower = a.limit_per_second.value_or(0U);
        if (lower != 0 && static_cast<double>(lower) >= options_.rate.per_second) lower = 0;
        if (lower != 0 && !limit_push_due(lower)) lower = 0;
        if (!a.hold && lower == 0) return {};
        const redis::decimal hold(
            static_cast<std::int64_t>(a.hold.value_or(std::chrono::milliseconds(0)).count() * 1000));
        const redis::decimal lowered(lower == 0 ? std::int64_t{0}
                                                : (1'000'000 + static_cast<std::int64_t>(lower) - 1) /
                                                      static_cast<std::int64_t>(lower));
        const redis::decimal memory(static_cast<std::int64_t>(options_.rate.limit_memory.count() * 1000));
        const auto now = now_arg();
        const std::array<std::string_view, 1> keys{options_.key};
        const std::array<std::string_view, 4> args{a.hold ? hold.view() : "",
                                                   lower != 0 ? lowered.view() : "", memory.view(),
                                                   now ? now->view() : ""};
        auto r = redis::run_script(conn_, detail::redis_rate_feedback, keys, args, where);
        if (!r) {
            if (lower != 0) forget_limit_push();
            return std::move(r).error();
        }
        return {};
    }

    [[nodiscard]] std::uint64_t feedback_failures() const noexcept
    {
        return feedback_failures_->load(std::memory_order_relaxed);
    }
    [[nodiscard]] const redis_rate_limiter_options& options() const noexcept { return options_; }
    [[nodiscard]] Connection& connection() noexcept { return conn_; }

private:
    redis_rate_limiter(Connection connection, redis_rate_limiter_options options, Clock clock)
        : conn_(std::forward<Connection>(connection)), options_(std::move(options)), clock_(std::move(clock)),
          interval_(detail::interval_us(options_.rate.per_second)), burst_(options_.rate.burst),
          cache_(std::make_shared<push_cache>()),
          feedback_failures_(std::make_shared<std::atomic<std::uint64_t>>(0))
    {}

    [[nodiscard]] std::optional<redis::decimal> now_arg() const
    {
        if constexpr (std::same_as<Clock, redis::server_time>) {
            return std::nullopt;
        } else {
            const auto us = std::chrono::time_point_cast<std::chrono::microseconds>(wall_now(clock_));
            return redis::decimal(static_cast<std::int64_t>(us.time_since_epoch().count()));
        }
    }

    // The last lowered limit pushed to Redis, so that steady x-ratelimit-limit headers cost no round trip.
    struct push_cache {
        std::mutex mutex;
        std::uint32_t limit = 0;
        std::chrono::steady_clock::time_point at{};
    };

    bool limit_push_due(std::uint32_t limit)
    {
        const auto now = std::chrono::steady_clock::now();
        const std::lock_guard lock(cache_->mutex);
        if (cache_->limit == limit && now - cache_->at < options_.rate.limit_memory / 2) return false;
        cache_->limit = limit;
        cache_->at = now;
        return true;
    }

    void forget_limit_push()
    {
        const std::lock_guard lock(cache_->mutex);
        cache_->limit = 0;
    }

    Connection conn_;
    redis_rate_limiter_options options_;
    [[no_unique_address]] Clock clock_;
    redis::decimal interval_;
    redis::decimal burst_;
    std::shared_ptr<push_cache> cache_;
    std::shared_ptr<std::atomic<std::uint64_t>> feedback_failures_;
};

}  // namespace meetingbaas::inline v0
