// SPDX-License-Identifier: MIT
#pragma once

// hiredis_client: the redis::connection of the meetingbaas::redis target, on hiredis (Debian's 0.14 or
// vcpkg's 1.x: only calls both have are used). A small pool of blocking connections shared by copies of
// the client (a handle), so that workers, the receiver and the health probe each send their command on a
// connection of their own; connect and command timeouts; AUTH and SELECT from the URL; a connection that
// failed is dropped and a fresh one is opened by the next command, so the client recovers by itself when
// Redis comes back. See docs/scale-out.md.

#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/url.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <csignal>
#include <ctime>

#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#endif

namespace meetingbaas::inline v0::redis {

/// Options of a hiredis_client.
struct client_options {
    std::chrono::milliseconds connect_timeout{2'000};  ///< TCP connect + AUTH + SELECT of one connection
    /// Per command: waiting for a free pooled connection, and each socket read or write. A command that
    /// times out is reported as outcome unknown (it may still run) and its connection is dropped.
    std::chrono::milliseconds command_timeout{5'000};
    std::size_t max_connections = 8;  ///< pool size; 1 = one connection behind a mutex
    /// After a failed connect, commands fail at once (not sent) for this long instead of each waiting for
    /// its own connect attempt: a dead Redis costs a webhook a fast 503, not a connect timeout.
    std::chrono::milliseconds reconnect_backoff{200};
    /// Block SIGPIPE in the calling thread while a command runs (hiredis writes with write(2), and a write
    /// to a connection the server closed would otherwise kill a process that did not ignore SIGPIPE).
    /// Costs two pthread_sigmask calls per command, and is skipped while the process ignores SIGPIPE (the
    /// disposition is read again whenever a connection is opened).
    bool guard_sigpipe = true;
};

/// Counters of a client (all copies share them).
struct client_stats {
    std::size_t open = 0;                ///< connections open now (idle + in use)
    std::size_t idle = 0;                ///< connections waiting in the pool
    std::uint64_t connects = 0;          ///< connections opened since the start
    std::uint64_t connect_failures = 0;  ///< failed connection attempts
    std::uint64_t dropped = 0;           ///< connections closed after a failure or found dead before use
};

namespace detail {

struct context_deleter {
    void operator()(redisContext* c) const noexcept
    {
        if (c != nullptr) redisFree(c);
    }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

struct reply_deleter {
    void operator()(redisReply* r) const noexcept
    {
        if (r != nullptr) freeReplyObject(r);
    }
};

inline timeval to_timeval(std::chrono::milliseconds d) noexcept
{
    const auto ms = std::max<std::int64_t>(d.count(), 1);
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms % 1000) * 1000);
    return tv;
}

/// True when the process ignores SIGPIPE (then no guard is needed).
inline bool sigpipe_ignored() noexcept
{
#if !defined(_WIN32)
    struct sigaction current{};
    return ::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;  // NOLINT
#else
    return true;
#endif
}

inline command_failure failure(failure_kind kind, std::string message)
{
    return command_failure{kind, std::move(message)};
}

/// Copies one hiredis reply, without its elements.
inline reply convert_one(const redisReply& r)
{
    switch (r.type) {
        case REDIS_REPLY_STRING: return reply::of_string(std::string(r.str, r.len));
        case REDIS_REPLY_STATUS: return reply::of_status(std::string(r.str, r.len));
        case REDIS_REPLY_ERROR: return reply::of_error(std::string(r.str, r.len));
        case REDIS_REPLY_INTEGER: return reply::of_integer(static_cast<std::int64_t>(r.integer));
        case REDIS_REPLY_NIL: return reply::nil();
        case REDIS_REPLY_ARRAY: return reply::of_array({});
        default: break;
    }
    return reply::of_error("unsupported reply type " + std::to_string(r.type) + " (RESP3?)");
}

/// Copies a hiredis reply, nested arrays included (iteratively: a deep reply cannot exhaust the stack).
/// RESP3-only types (hiredis 1.x, never produced on a RESP2 connection) become an error reply naming the
/// type.
inline reply convert(const redisReply& root)
{
    reply out;
    struct pending {
        const redisReply* from;
        reply* to;
    };
    std::vector<pending> todo{{&root, &out}};
    while (!todo.empty()) {
        const pending p = todo.back();
        todo.pop_back();
        *p.to = convert_one(*p.from);
        if (p.from->type != REDIS_REPLY_ARRAY) continue;
        p.to->elements.resize(p.from->elements);  // never resized again: the pointers below stay valid
        for (std::size_t i = 0; i < p.from->elements; ++i) {
            if (p.from->element[i] != nullptr) todo.push_back({p.from->element[i], &p.to->elements[i]});
        }
    }
    return out;
}

/// Blocks SIGPIPE in this thread for the duration of one command, and swallows a SIGPIPE the command
/// raised (a write to a closed socket). A SIGPIPE already pending before cannot exist unless the thread
/// blocked SIGPIPE itself, in which case nothing is swallowed (libpq does the same).
class sigpipe_guard {
public:
    /// `always_check`: look for a pending SIGPIPE on exit even without command_failed() (for the rare
    /// connection set-up, where several writes happen).
    explicit sigpipe_guard(bool enabled, bool always_check = false) noexcept : failed_(always_check)
    {
#if !defined(_WIN32)
        if (!enabled) return;
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        active_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
        was_blocked_ = active_ && sigismember(&old_, SIGPIPE) == 1;
#else
        (void)enabled;
#endif
    }
    sigpipe_guard(const sigpipe_guard&) = delete;
    sigpipe_guard& operator=(const sigpipe_guard&) = delete;
    ~sigpipe_guard()
    {
#if !defined(_WIN32)
        if (!active_) return;
        if (failed_ && !was_blocked_) {
            sigset_t pending;
            sigemptyset(&pending);
            if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
                const timespec zero{0, 0};
                (void)sigtimedwait(&pipe_, nullptr, &zero);
            }
        }
        (void)pthread_sigmask(SIG_SETMASK, &old_, nullptr);
#endif
    }
    void command_failed() noexcept { failed_ = true; }

private:
#if !defined(_WIN32)
    sigset_t pipe_{};
    sigset_t old_{};
#endif
    bool active_ = false;
    bool was_blocked_ = false;
    bool failed_ = false;
};

/// True when the idle connection still looks usable: no EOF, no error and no unexpected bytes waiting.
/// A server restart or CLIENT KILL while the connection sat in the pool is found here, before a command
/// is written (so that command is reported "not sent", and goes out on a fresh connection instead).
inline bool still_open(const redisContext& c) noexcept
{
    if (c.err != 0) return false;
#if !defined(_WIN32)
    char byte = 0;
    const auto n = ::recv(c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
#else
    return true;
#endif
}

/// Sends one command on `c` and reads its reply. `healthy` becomes false when the connection must go.
inline command_result exec(redisContext& c, std::span<const std::string_view> argv, bool& healthy,
                           std::chrono::milliseconds timeout)
{
    constexpr std::size_t inline_capacity = 32;
    std::array<const char*, inline_capacity> fixed_ptrs{};
    std::array<std::size_t, inline_capacity> fixed_lens{};
    std::vector<const char*> heap_ptrs;
    std::vector<std::size_t> heap_lens;
    const char** ptrs = fixed_ptrs.data();
    std::size_t* lens = fixed_lens.data();
    if (argv.size() > inline_capacity) {
        heap_ptrs.resize(argv.size());
        heap_lens.resize(argv.size());
        ptrs = heap_ptrs.data();
        lens = heap_lens.data();
    }
    for (std::size_t i = 0; i < argv.size(); ++i) {
        ptrs[i] = argv[i].data();
        lens[i] = argv[i].size();
    }
    errno = 0;
    void* raw = redisCommandArgv(&c, static_cast<int>(argv.size()), ptrs, lens);
    const int saved_errno = errno;
    if (raw == nullptr) {
        healthy = false;
        std::string message = c.errstr[0] != '\0' ? std::string(c.errstr) : std::string("no reply");
        bool timed_out = c.err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
#if defined(REDIS_ERR_TIMEOUT)
        timed_out = timed_out || c.err == REDIS_ERR_TIMEOUT;
#endif
        if (timed_out) {
            message = "timed out after " + std::to_string(timeout.count()) + " ms (" + message + ")";
        } else if (c.err == REDIS_ERR_EOF) {
            message = "the server closed the connection (" + message + ")";
        }
        return failure(failure_kind::outcome_unknown, std::move(message));
    }
    const std::unique_ptr<redisReply, reply_deleter> owned(static_cast<redisReply*>(raw));
    return convert(*owned);
}

/// The connections of one client, shared by its copies.
struct client_pool {
    endpoint target;
    client_options options;
    std::mutex mutex;
    std::condition_variable freed;
    std::vector<context_ptr> idle;
    std::size_t open = 0;
    std::uint64_t connects = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t dropped = 0;
    std::chrono::steady_clock::time_point failed_at{};
    std::string last_connect_error;
    std::atomic<bool> guard_sigpipe{true};  ///< options.guard_sigpipe, unless SIGPIPE is ignored

    /// Opens one connection: TCP, timeouts, keep-alive, AUTH, SELECT.
    [[nodiscard]] result<context_ptr, command_failure> open_connection() const
    {
        const sigpipe_guard guard(options.guard_sigpipe, true);
        context_ptr c(
            redisConnectWithTimeout(target.host.c_str(), target.port, to_timeval(options.connect_timeout)));
        if (!c) return failure(failure_kind::not_sent, "cannot allocate a hiredis context");
        if (c->err != 0) {
            return failure(failure_kind::not_sent,
                           "cannot connect to " + target.describe() + ": " + c->errstr);
        }
        if (redisSetTimeout(c.get(), to_timeval(options.command_timeout)) != REDIS_OK) {
            return failure(failure_kind::not_sent,
                           "cannot set the socket timeouts: " + std::string(c->errstr));
        }
        (void)redisEnableKeepAlive(c.get());
        bool healthy = true;
        if (!target.password.empty()) {
            std::array<std::string_view, 3> auth{"AUTH", target.username, target.password};
            std::span<const std::string_view> argv(auth);
            if (target.username.empty()) {  // AUTH <password>: the default user (and Redis before 6)
                auth[1] = target.password;
                argv = argv.first(2);
            }
            auto r = exec(*c, argv, healthy, options.connect_timeout);
            if (!r)
                return failure(failure_kind::not_sent,
                               "AUTH at " + target.describe() + ": " + r.error().message);
            if (r->is_error()) {
                return failure(failure_kind::not_sent,
                               "authentication failed at " + target.describe() + ": " + r->str);
            }
        }
        if (target.db != 0) {
            const std::string db = std::to_string(target.db);
            const std::array<std::string_view, 2> select{"SELECT", db};
            auto r = exec(*c, select, healthy, options.connect_timeout);
            if (!r)
                return failure(failure_kind::not_sent,
                               "SELECT at " + target.describe() + ": " + r.error().message);
            if (r->is_error()) {
                return failure(failure_kind::not_sent,
                               "SELECT " + db + " failed at " + target.describe() + ": " + r->str);
            }
        }
        return c;
    }

    /// A connection for one command: an idle one that still looks open, or a new one.
    [[nodiscard]] result<context_ptr, command_failure> acquire()
    {
        const auto deadline = std::chrono::steady_clock::now() + options.command_timeout;
        std::unique_lock lock(mutex);
        for (;;) {
            if (!idle.empty()) {
                context_ptr c = std::move(idle.back());
                idle.pop_back();
                lock.unlock();
                if (still_open(*c)) return c;
                c.reset();
                lock.lock();
                --open;
                ++dropped;
                freed.notify_one();
                continue;
            }
            if (open < options.max_connections) {
                const auto now = std::chrono::steady_clock::now();
                if (connect_failures > 0 && now - failed_at < options.reconnect_backoff) {
                    return failure(failure_kind::not_sent,
                                   last_connect_error + " (retrying in at most " +
                                       std::to_string(options.reconnect_backoff.count()) + " ms)");
                }
                ++open;
                lock.unlock();
                auto c = open_connection();
                lock.lock();
                if (!c) {
                    --open;
                    ++connect_failures;
                    failed_at = std::chrono::steady_clock::now();
                    last_connect_error = c.error().message;
                    freed.notify_one();
                    return std::move(c).error();
                }
                ++connects;
                failed_at = {};
                guard_sigpipe.store(options.guard_sigpipe && !sigpipe_ignored(), std::memory_order_relaxed);
                return std::move(*c);
            }
            if (freed.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
                open >= options.max_connections) {
                return failure(failure_kind::not_sent,
                               "all " + std::to_string(options.max_connections) + " connections to " +
                                   target.describe() + " stayed busy for " +
                                   std::to_string(options.command_timeout.count()) + " ms");
            }
        }
    }

    void release(context_ptr c, bool healthy)
    {
        {
            const std::lock_guard lock(mutex);
            if (healthy) {
                idle.push_back(std::move(c));
            } else {
                --open;
                ++dropped;
            }
        }
        freed.notify_one();
        // An unhealthy connection is freed here, outside the lock.
    }

    client_pool(endpoint t, client_options o) : target(std::move(t)), options(o) {}
    client_pool(const client_pool&) = delete;
    client_pool& operator=(const client_pool&) = delete;
    client_pool(client_pool&&) = delete;
    client_pool& operator=(client_pool&&) = delete;
    ~client_pool() = default;
};

}  // namespace detail

/// A thread-safe Redis client on hiredis: a redis::connection. Copies are handles to the same pool.
class hiredis_client {
public:
    /// Parses `url` (redis::parse_url) and opens the first connection, so that an unreachable server or
    /// bad credentials are reported at start. Errors: errc::invalid_url / unsupported from the URL;
    /// errc::storage_error "cannot connect to redis://host:port/db: <reason>" (where = "redis connect").
    [[nodiscard]] static result<hiredis_client> connect(std::string_view url, client_options options = {})
    {
        auto ep = parse_url(url);
        if (!ep) return ep.error();
        return connect(std::move(*ep), options);
    }

    /// The same with an endpoint.
    [[nodiscard]] static result<hiredis_client> connect(endpoint target, client_options options = {})
    {
        if (options.max_connections == 0) {
            return error{errc::invalid_argument, "redis::client_options.max_connections",
                         "must be at least 1"};
        }
        if (options.connect_timeout <= std::chrono::milliseconds::zero() ||
            options.command_timeout <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "redis::client_options", "timeouts must be positive"};
        }
        auto pool = std::make_shared<detail::client_pool>(std::move(target), options);
        auto first = pool->acquire();
        if (!first) return error{errc::storage_error, "redis connect", std::move(first.error().message)};
        // PING: a server that wants a password we did not give answers NOAUTH here, not on the first
        // webhook. LOADING (replaying its append-only file) is a server that exists: accepted.
        bool healthy = true;
        const std::array<std::string_view, 1> ping{"PING"};
        const detail::sigpipe_guard guard(options.guard_sigpipe, true);
        auto pong = detail::exec(**first, ping, healthy, options.command_timeout);
        if (!pong) {
            return error{errc::storage_error, "redis connect",
                         "no answer to PING from " + pool->target.describe() + ": " + pong.error().message};
        }
        if (pong->is_error() && !std::string_view(pong->str).starts_with("LOADING")) {
            return error{errc::storage_error, "redis connect",
                         pool->target.describe() + " refused PING: " + pong->str};
        }
        pool->release(std::move(*first), healthy);
        return hiredis_client(std::move(pool));
    }

    /// Sends one command and reads its reply (redis::connection). Thread-safe.
    command_result command(std::span<const std::string_view> argv)
    {
        if (argv.empty()) return detail::failure(failure_kind::not_sent, "empty command");
        auto c = pool_->acquire();
        if (!c) return std::move(c).error();
        bool healthy = true;
        detail::sigpipe_guard guard(pool_->guard_sigpipe.load(std::memory_order_relaxed));
        auto r = detail::exec(**c, argv, healthy, pool_->options.command_timeout);
        if (!healthy) guard.command_failed();
        pool_->release(std::move(*c), healthy);
        return r;
    }

    /// Where this client connects (the password is kept, but describe() never shows it).
    [[nodiscard]] const endpoint& target() const noexcept { return pool_->target; }
    /// "redis://host:port/db", for logs and /healthz.
    [[nodiscard]] std::string describe() const { return pool_->target.describe(); }
    [[nodiscard]] const client_options& options() const noexcept { return pool_->options; }

    [[nodiscard]] client_stats stats() const
    {
        const std::lock_guard lock(pool_->mutex);
        return client_stats{pool_->open, pool_->idle.size(), pool_->connects, pool_->connect_failures,
                            pool_->dropped};
    }

    /// Closes the idle connections (in-use ones close when returned after a failure, or stay pooled).
    void close_idle()
    {
        std::vector<detail::context_ptr> closing;
        {
            const std::lock_guard lock(pool_->mutex);
            closing.swap(pool_->idle);
            pool_->open -= closing.size();
        }
        pool_->freed.notify_all();
    }

private:
    explicit hiredis_client(std::shared_ptr<detail::client_pool> pool) noexcept : pool_(std::move(pool)) {}
    std::shared_ptr<detail::client_pool> pool_;
};

static_assert(connection<hiredis_client>);

}  // namespace meetingbaas::inline v0::redis
