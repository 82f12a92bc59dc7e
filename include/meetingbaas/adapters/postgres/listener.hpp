// SPDX-License-Identifier: MIT
#pragma once

// pg::listener: waits for PostgreSQL notifications on one channel (LISTEN/NOTIFY), for workers that
// should wake when work is enqueued by any instance instead of polling (link meetingbaas::postgres).
//
//  * It owns one connection of its own (LISTEN is session state: it cannot use a pooled connection, and
//    it does not work through PgBouncer in transaction mode; connect it to the server directly).
//  * wait(timeout) may be called from several threads at once: one of them reads the socket while the
//    others wait on a condition variable; every waiter wakes when a notification arrives.
//  * A lost connection is reopened on the next wait (at most every retry_after); notifications sent while
//    it was down are lost, so a (re)connect counts as a wake-up: the caller checks for work again.
//  * Polling stays the fallback: wait() returns false on timeout, and an error (the server is unreachable)
//    after sleeping out the timeout, so a loop around it never spins.

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace meetingbaas::inline v0::pg {

class listener {
public:
    /// Listens on `channel` through connections made by `connect` (opened lazily, on the first wait).
    listener(connect_function connect, std::string channel,
             std::chrono::milliseconds retry_after = std::chrono::milliseconds(500))
        : connect_(std::move(connect)), channel_(std::move(channel)), retry_after_(retry_after)
    {
        // A self-pipe: wake() writes a byte to interrupt the thread blocked in poll() on the socket.
        if (::pipe(wake_pipe_.data()) == 0) {
            for (const int fd : wake_pipe_) {
                const int flags = ::fcntl(fd, F_GETFL);
                (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
                (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
            }
        } else {
            wake_pipe_ = {-1, -1};  // wake() then only reaches the threads waiting on the condition variable
        }
    }
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;
    listener(listener&&) = delete;
    listener& operator=(listener&&) = delete;
    ~listener()
    {
        for (const int fd : wake_pipe_) {
            if (fd >= 0) ::close(fd);
        }
    }

    /// Waits until a notification arrives on the channel (true), or `timeout` passes (false). Also true
    /// right after the connection was (re)opened (notifications may have been missed). Errors: the server
    /// is unreachable (returned after waiting out `timeout`).
    result<bool> wait(std::chrono::milliseconds timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::unique_lock lock(mutex_);
        const std::uint64_t seen = generation_;
        for (;;) {
            if (generation_ != seen) return true;
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) return false;
            if (reading_) {
                cv_.wait_until(lock, deadline);
                continue;
            }
            reading_ = true;  // this thread reads the socket; the others wait on the condition variable
            lock.unlock();
            auto got = read_once(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
            lock.lock();
            reading_ = false;
            if (got && *got) ++generation_;
            cv_.notify_all();
            if (!got) {
                // Unreachable: behave like a poll interval (a wake() still ends it early), then report.
                cv_.wait_until(lock, deadline, [&] { return generation_ != seen; });
                return std::move(got).error();
            }
        }
    }

    /// Opens the connection and LISTENs now (optional: wait() does it lazily).
    result<void> start()
    {
        std::lock_guard lock(mutex_);
        if (reading_) return {};
        auto r = ensure_connected();
        if (!r) return std::move(r).error();
        return {};
    }

    /// Wakes every waiter, the one reading the socket included (e.g. at shutdown, or when this process
    /// enqueued work itself).
    void wake()
    {
        {
            std::lock_guard lock(mutex_);
            ++generation_;
        }
        cv_.notify_all();
        if (wake_pipe_[1] >= 0) {
            const char byte = 1;
            (void)::write(wake_pipe_[1], &byte, 1);  // a full pipe already wakes the reader
        }
    }

    [[nodiscard]] const std::string& channel() const noexcept { return channel_; }
    /// Notifications received (and reconnects), for tests and metrics.
    [[nodiscard]] std::uint64_t wakeups() const
    {
        std::lock_guard lock(mutex_);
        return generation_;
    }

private:
    /// true when a notification arrived or the connection was just (re)opened.
    result<bool> read_once(std::chrono::milliseconds budget)
    {
        auto fresh = ensure_connected();
        if (!fresh) return std::move(fresh).error();
        if (*fresh) return true;
        auto n = conn_.wait_for_notifications(budget, wake_pipe_[0]);
        drain_wake_pipe();
        if (!n) {
            // Lost (terminated backend, server restart): reopen at once; a fresh session is a wake-up.
            conn_.close();
            last_attempt_.reset();
            auto again = ensure_connected();
            if (!again) return std::move(again).error();
            return true;
        }
        return *n > 0;
    }

    /// Opens and LISTENs when needed; true when it just did.
    result<bool> ensure_connected()
    {
        if (!conn_.broken()) return false;
        const auto now = std::chrono::steady_clock::now();
        if (last_attempt_ && now - *last_attempt_ < retry_after_ && last_error_) return *last_error_;
        last_attempt_ = now;
        auto c = connect_();
        if (!c) {
            last_error_ = c.error();
            return std::move(c).error();
        }
        if (auto l = c->listen(channel_); !l) {
            last_error_ = l.error();
            return std::move(l).error();
        }
        conn_ = std::move(*c);
        last_error_.reset();
        return true;
    }

    void drain_wake_pipe() noexcept
    {
        if (wake_pipe_[0] < 0) return;
        std::array<char, 64> sink{};
        while (::read(wake_pipe_[0], sink.data(), sink.size()) > 0) {
        }
    }

    connect_function connect_;
    std::string channel_;
    std::array<int, 2> wake_pipe_{-1, -1};
    std::chrono::milliseconds retry_after_;
    connection conn_;  // used by the reading thread only (reading_ == true) or under the mutex
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::uint64_t generation_ = 0;
    bool reading_ = false;
    std::optional<std::chrono::steady_clock::time_point> last_attempt_;
    std::optional<error> last_error_;
};

}  // namespace meetingbaas::inline v0::pg
