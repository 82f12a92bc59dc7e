// SPDX-License-Identifier: MIT
#pragma once

// The Redis server's clock, for lease arithmetic that several replicas must agree on:
//  * redis::server_time: a tag for the Redis job queue and rate limiter: every script reads TIME on the
//    server, so replicas whose clocks are skewed still agree on when a lease ends;
//  * redis::server_clock: a wall clock for the idempotency guard (whose state machine compares times on the
//    client): the local system_clock plus the offset to the server's TIME, measured with one round trip
//    and refreshed every `refresh`. Replicas using it agree within their round-trip times.

#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/script.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace meetingbaas::inline v0::redis {

/// Clock tag: lease and due-time arithmetic happens on the Redis server (TIME inside each script).
struct server_time {};

/// Reads the server's TIME once. Errors: errc::storage_error.
template <connection C>
[[nodiscard]] result<std::chrono::sys_time<std::chrono::microseconds>> read_server_time(C& c)
{
    constexpr std::string_view where = "redis::read_server_time";
    const std::array<std::string_view, 1> argv{"TIME"};
    auto r = c.command(argv);
    if (!r) return to_error(r.error(), where, "TIME");
    if (r->is_error()) return reply_error(*r, where, "TIME");
    if (!r->is_array() || r->elements.size() != 2 || !r->elements[0].is_string() ||
        !r->elements[1].is_string()) {
        return shape_error(*r, where, "TIME", "array of two strings");
    }
    const auto s = parse_int64(r->elements[0].str);
    const auto us = parse_int64(r->elements[1].str);
    if (!s || !us || *s < 0 || *us < 0 || *us >= 1'000'000)
        return shape_error(*r, where, "TIME", "seconds, micros");
    return std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(*s * 1'000'000 + *us));
}

/// A wall clock that follows the Redis server's (see the file comment). Copies share the offset.
/// Thread-safe. If a refresh fails (Redis unreachable), the last offset is kept and the refresh is tried
/// again a second later; until the first successful measurement the offset is zero.
template <connection Connection>
class server_clock {
public:
    explicit server_clock(Connection c, std::chrono::milliseconds refresh = std::chrono::seconds(30))
        : s_(std::make_shared<state>(std::move(c), refresh))
    {}

    /// system_clock::now() plus the current offset; measures the offset first when a refresh is due
    /// (one TIME round trip, on one caller at a time; the others use the previous offset meanwhile).
    [[nodiscard]] std::chrono::system_clock::time_point now() const
    {
        const auto steady = std::chrono::steady_clock::now().time_since_epoch().count();
        if (steady >= s_->next_refresh.load(std::memory_order_relaxed)) {
            const std::unique_lock lock(s_->refresh_mutex, std::try_to_lock);
            if (lock.owns_lock() && steady >= s_->next_refresh.load(std::memory_order_relaxed))
                (void)measure();
        }
        return std::chrono::system_clock::now() +
               std::chrono::duration_cast<std::chrono::system_clock::duration>(offset());
    }

    /// Measures the offset now (one TIME round trip). Errors: errc::storage_error.
    result<std::chrono::microseconds> sync() const
    {
        const std::lock_guard lock(s_->refresh_mutex);
        return measure();
    }

    /// server time - local time, as last measured.
    [[nodiscard]] std::chrono::microseconds offset() const noexcept
    {
        return std::chrono::microseconds(s_->offset_us.load(std::memory_order_relaxed));
    }

private:
    struct state {
        state(Connection c, std::chrono::milliseconds r) : conn(std::move(c)), refresh(r) {}
        Connection conn;
        std::chrono::milliseconds refresh;
        std::atomic<std::int64_t> offset_us{0};
        std::atomic<std::chrono::steady_clock::rep> next_refresh{0};
        std::mutex refresh_mutex;
    };

    // Called with refresh_mutex held.
    result<std::chrono::microseconds> measure() const
    {
        using namespace std::chrono;
        const auto before = system_clock::now();
        auto t = read_server_time(s_->conn);
        const auto after = system_clock::now();
        const auto retry = t ? s_->refresh : duration_cast<milliseconds>(seconds(1));
        s_->next_refresh.store((steady_clock::now() + retry).time_since_epoch().count(),
                               std::memory_order_relaxed);
        if (!t) return t.error();
        const auto midpoint = time_point_cast<microseconds>(before + (after - before) / 2);
        const auto off = duration_cast<microseconds>(*t - midpoint);
        s_->offset_us.store(off.count(), std::memory_order_relaxed);
        return off;
    }

    std::shared_ptr<state> s_;
};

}  // namespace meetingbaas::inline v0::redis
