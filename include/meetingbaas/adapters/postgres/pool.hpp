// SPDX-License-Identifier: MIT
#pragma once

// pg::pool: a small, bounded pool of libpq connections (link meetingbaas::postgres), and the
// connection_source concept through which the PostgreSQL stores get their connections.
//
//  * Connections are opened on demand up to max_connections and reused most-recently-used first (warm
//    prepared statements). A connection that broke during a call (lost, timed out) is discarded when it
//    comes back; an idle one is checked without blocking before it is handed out, so that a server restart
//    or pg_terminate_backend is noticed before a call, not during it.
//  * After a failed connect, acquire() fails fast with that error for retry_connect_after, so that a caller
//    answering webhooks (503 while the database is down) is not held up by a connect attempt per request.
//  * Nothing runs in the background: no threads, no timers.
//
// Bringing your own connections or pool:
//  * pool_options::connect is a factory: return a pg::connection made your way (TLS client certificates,
//    IAM tokens, a PGconn adopted with connection::adopt, session settings), and the pool manages it.
//  * Or implement connection_source yourself (an `acquire()` that returns a handle dereferencing to a
//    pg::connection&) over your own pool: every PostgreSQL store takes a std::shared_ptr<Source>. Discard a
//    connection whose broken() is true when its handle comes back.

#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0::pg {

/// Something that lends a pg::connection: `*handle` is the connection while the handle lives.
template <class H>
concept connection_handle = std::movable<H> && requires(H& h) {
    { *h } -> std::same_as<connection&>;
};

/// Where the PostgreSQL stores get connections. pg::pool is one; your own pool can be another.
/// Requirements: acquire() -> result<S::handle>, callable from any thread at the same time; the handle gives
/// the connection back when destroyed.
template <class S>
concept connection_source = requires(S& s) {
    typename S::handle;
    requires connection_handle<typename S::handle>;
    { s.acquire() } -> std::same_as<result<typename S::handle>>;
};

/// Makes one new connection.
using connect_function = std::function<result<connection>()>;

struct pool_options {
    /// libpq URI ("postgresql://user@host:5432/db", "postgres://...") or key=value string. Used when
    /// `connect` is empty.
    std::string conninfo;
    connect_options connection{};
    /// Optional factory for new connections (see the file comment). When set, conninfo is not used. It is
    /// called from whichever thread needs a connection, possibly from several at once.
    connect_function connect{};
    std::size_t max_connections = 8;  ///< at least 1
    /// acquire() waits this long for a connection when all are in use, then fails (storage_error).
    std::chrono::milliseconds acquire_timeout{5000};
    /// After a failed connect, acquire() returns that error at once for this long instead of connecting
    /// again (0 = always try).
    std::chrono::milliseconds retry_connect_after{250};
    /// create() opens one connection, so that an unreachable or misconfigured server is an error at start.
    bool connect_at_start = true;
};

/// Counters and gauges, for /metrics.
struct pool_stats {
    std::size_t open = 0;  ///< connections that exist (idle + lent out + being opened)
    std::size_t idle = 0;
    std::size_t waiting = 0;  ///< callers waiting in acquire()
    std::uint64_t connects = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t discarded = 0;  ///< broken connections dropped
};

class pool {
public:
    /// A lent connection; gives it back (or drops it when broken) on destruction. Move-only.
    class handle {
    public:
        handle(const handle&) = delete;
        handle& operator=(const handle&) = delete;
        handle(handle&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), conn_(std::move(o.conn_)) {}
        handle& operator=(handle&& o) noexcept
        {
            if (this != &o) {
                give_back();
                pool_ = std::exchange(o.pool_, nullptr);
                conn_ = std::move(o.conn_);
            }
            return *this;
        }
        ~handle() { give_back(); }

        connection& operator*() noexcept { return conn_; }
        connection* operator->() noexcept { return &conn_; }

    private:
        friend class pool;
        handle(pool* p, connection c) noexcept : pool_(p), conn_(std::move(c)) {}
        void give_back() noexcept
        {
            if (pool_ != nullptr) std::exchange(pool_, nullptr)->release(std::move(conn_));
        }
        pool* pool_;
        connection conn_;
    };

    /// Creates a pool (and, with connect_at_start, one connection). Errors: errc::invalid_argument for
    /// bad options or a malformed connection string; errc::storage_error "cannot connect to ...".
    [[nodiscard]] static result<std::shared_ptr<pool>> create(pool_options options)
    {
        if (options.max_connections == 0) {
            return error{errc::invalid_argument, "pg::pool_options.max_connections", "must be at least 1"};
        }
        if (!options.connect) {
            if (options.conninfo.empty()) {
                return error{errc::invalid_argument, "pg::pool_options.conninfo",
                             "a connection string or a connect function is required"};
            }
            options.connect = [info = options.conninfo, opts = options.connection] {
                return connection::open(info, opts);
            };
        }
        auto p = std::shared_ptr<pool>(new pool(std::move(options)));
        if (p->options_.connect_at_start) {
            auto h = p->acquire();
            if (!h) return std::move(h).error();
        }
        return p;
    }

    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;
    pool(pool&&) = delete;
    pool& operator=(pool&&) = delete;
    ~pool() = default;

    /// Lends a connection: an idle one that is still alive, or a new one. Errors: the connect error
    /// (storage_error "cannot connect to ..."), or storage_error "pool exhausted" after acquire_timeout.
    result<handle> acquire()
    {
        const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
        std::unique_lock lock(mutex_);
        for (;;) {
            while (!idle_.empty()) {
                connection c = std::move(idle_.back());
                idle_.pop_back();
                lock.unlock();
                const bool alive = c.check_alive();
                if (alive) return handle(this, std::move(c));
                c.close();
                lock.lock();
                --open_;
                ++discarded_;
            }
            if (open_ < options_.max_connections) {
                const auto now = std::chrono::steady_clock::now();
                if (last_failure_ && options_.retry_connect_after.count() > 0 &&
                    now - last_failure_at_ < options_.retry_connect_after) {
                    error e = *last_failure_;
                    e.message += " (not retried for " + std::to_string(options_.retry_connect_after.count()) +
                                 " ms after a failed connect)";
                    return e;
                }
                ++open_;
                lock.unlock();
                auto c = options_.connect();
                lock.lock();
                if (!c) {
                    --open_;
                    ++connect_failures_;
                    last_failure_ = c.error();
                    last_failure_at_ = std::chrono::steady_clock::now();
                    cv_.notify_one();  // a waiter may try, or fail fast, in turn
                    return std::move(c).error();
                }
                ++connects_;
                last_failure_.reset();
                return handle(this, std::move(*c));
            }
            ++waiting_;
            const bool woke = cv_.wait_until(
                lock, deadline, [&] { return !idle_.empty() || open_ < options_.max_connections; });
            --waiting_;
            if (!woke) {
                return error{errc::storage_error, "postgres pool",
                             "pool exhausted: all " + std::to_string(options_.max_connections) +
                                 " connections stayed busy for " +
                                 std::to_string(options_.acquire_timeout.count()) + " ms"};
            }
        }
    }

    /// Health probe: one round trip ("SELECT 1") on a pooled connection. Errors: as acquire() and execute().
    result<void> ping()
    {
        auto h = acquire();
        if (!h) return std::move(h).error();
        auto r = (*h)->exec("SELECT 1", "ping");
        if (!r) return std::move(r).error();
        return {};
    }

    /// A new connection outside the pool (for LISTEN, which needs a session of its own).
    result<connection> open_unpooled() { return options_.connect(); }
    [[nodiscard]] const connect_function& connector() const noexcept { return options_.connect; }

    [[nodiscard]] pool_stats stats() const
    {
        std::lock_guard lock(mutex_);
        return {open_, idle_.size(), waiting_, connects_, connect_failures_, discarded_};
    }
    [[nodiscard]] const pool_options& options() const noexcept { return options_; }

private:
    explicit pool(pool_options options) : options_(std::move(options))
    {
        idle_.reserve(options_.max_connections);  // release() then never allocates
    }

    void release(connection c) noexcept
    {
        {
            std::lock_guard lock(mutex_);
            if (c.broken()) {
                --open_;
                ++discarded_;
            } else {
                idle_.push_back(std::move(c));
            }
        }
        cv_.notify_one();
        // A broken connection is closed here, outside the lock (PQfinish may write a Terminate message).
    }

    pool_options options_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<connection> idle_;
    std::size_t open_ = 0;
    std::size_t waiting_ = 0;
    std::uint64_t connects_ = 0;
    std::uint64_t connect_failures_ = 0;
    std::uint64_t discarded_ = 0;
    std::optional<error> last_failure_;
    std::chrono::steady_clock::time_point last_failure_at_{};
};

static_assert(connection_source<pool>);

}  // namespace meetingbaas::inline v0::pg
