// SPDX-License-Identifier: MIT
#pragma once

// The Redis connection concept the Redis stores are written against: send one command as an argument
// vector, read one reply. The hiredis adapter (adapters/redis/hiredis.hpp, target meetingbaas::redis)
// satisfies it; an application that already has a Redis client wraps it in a few lines instead
// (docs/scale-out.md, "Bringing your own Redis client"). This header needs no third-party library.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0::redis {

/// The kinds of RESP2 replies.
enum class reply_type : std::uint8_t {
    nil = 1,  ///< a nil bulk string or nil array
    integer,  ///< ":42"
    status,   ///< a simple string: "+OK"
    string,   ///< a bulk string (binary-safe)
    error,    ///< "-ERR ...": the command failed on the server (it was received and rejected)
    array,    ///< "*n": `elements`
};

constexpr std::string_view to_string(reply_type t) noexcept
{
    switch (t) {
        case reply_type::nil: return "nil";
        case reply_type::integer: return "integer";
        case reply_type::status: return "status";
        case reply_type::string: return "string";
        case reply_type::error: return "error";
        case reply_type::array: return "array";
    }
    return "unknown";
}

/// One reply, owning its bytes.
struct reply {
    reply_type type = reply_type::nil;
    std::int64_t integer = 0;     ///< reply_type::integer
    std::string str;              ///< reply_type::status, string and error
    std::vector<reply> elements;  ///< reply_type::array

    [[nodiscard]] static reply nil() { return reply{}; }
    [[nodiscard]] static reply of_integer(std::int64_t v) { return reply{reply_type::integer, v, {}, {}}; }
    [[nodiscard]] static reply of_status(std::string s)
    {
        return reply{reply_type::status, 0, std::move(s), {}};
    }
    [[nodiscard]] static reply of_string(std::string s)
    {
        return reply{reply_type::string, 0, std::move(s), {}};
    }
    [[nodiscard]] static reply of_error(std::string s)
    {
        return reply{reply_type::error, 0, std::move(s), {}};
    }
    [[nodiscard]] static reply of_array(std::vector<reply> e)
    {
        return reply{reply_type::array, 0, {}, std::move(e)};
    }

    [[nodiscard]] bool is_nil() const noexcept { return type == reply_type::nil; }
    [[nodiscard]] bool is_error() const noexcept { return type == reply_type::error; }
    [[nodiscard]] bool is_string() const noexcept { return type == reply_type::string; }
    [[nodiscard]] bool is_integer() const noexcept { return type == reply_type::integer; }
    [[nodiscard]] bool is_array() const noexcept { return type == reply_type::array; }

    friend bool operator==(const reply&, const reply&) = default;
};

/// What is known about a command that got no reply.
enum class failure_kind : std::uint8_t {
    not_sent = 1,     ///< the command never left this process (no connection, pool exhausted): not applied
    outcome_unknown,  ///< the connection failed or timed out after sending: the server may have applied it
};

/// Why a command got no reply (a reply of type error is a reply, not a failure).
struct command_failure {
    failure_kind kind = failure_kind::outcome_unknown;
    std::string message;  ///< the client library's description, e.g. "Connection reset by peer"

    friend bool operator==(const command_failure&, const command_failure&) = default;
};

/// What connection::command returns.
using command_result = result<reply, command_failure>;

/// Requirement of `connection`: `c.command(argv)` sends one command (argv[0] is its name; every argument is
/// binary-safe) and returns its reply, or a command_failure when no reply arrived.
template <class C>
concept can_send_command = requires(C& c, std::span<const std::string_view> argv) {
    { c.command(argv) } -> std::same_as<command_result>;
};

/// A Redis connection (or pool) the Redis stores can use.
/// Requirements:
///   1. can_send_command: `c.command(std::span<const std::string_view>)` -> command_result;
///   2. one command, one reply: the connection never pipelines another caller's command in between, and
///      after a failure it never hands a later reply to a later caller (reconnect instead);
///   3. failures are classified honestly: `not_sent` only when no byte of the command was written;
///   4. thread safety: command() may be called concurrently from several threads (a pool, or a mutex);
///   5. no exceptions escape command().
/// The Redis stores hold the connection by value: make it a cheap handle (hiredis_client is one), or use
/// a reference type (`redis_job_queue<my_client&>`) and keep the client alive longer than the store.
template <class C>
concept connection = can_send_command<C>;

// ---------------------------------------------------------------------------------------------------------
// Turning failures into the library's errors

/// The prefix of error messages for a command whose outcome is unknown (see outcome_unknown()).
inline constexpr std::string_view outcome_unknown_prefix = "outcome unknown (may have been applied): ";
/// The prefix of error messages for a command that was certainly not applied.
inline constexpr std::string_view not_applied_prefix = "not applied: ";

/// True when `e` reports a Redis command that may have been applied although it failed (the connection
/// dropped or timed out after the command was sent). Such an error is never a success: retry the
/// operation (every store primitive says what a retry finds) or reconcile. False for every other error.
[[nodiscard]] inline bool outcome_unknown(const error& e) noexcept
{
    return e.code == errc::storage_error && std::string_view(e.message).starts_with(outcome_unknown_prefix);
}

/// The storage_error for a failed command: `where` names the operation (e.g. "redis_job_queue::lease"),
/// `command` the Redis command (e.g. "EVALSHA mb.queue.lease").
[[nodiscard]] inline error to_error(const command_failure& f, std::string_view where,
                                    std::string_view command)
{
    std::string message(f.kind == failure_kind::not_sent ? not_applied_prefix : outcome_unknown_prefix);
    message += f.kind == failure_kind::not_sent ? "could not send " : "no reply to ";
    message += command;
    message += ": ";
    message += f.message;
    return error{errc::storage_error, std::string(where), std::move(message)};
}

/// The storage_error for an error reply (the server received the command and rejected it).
[[nodiscard]] inline error reply_error(const reply& r, std::string_view where, std::string_view command)
{
    std::string message(not_applied_prefix);
    message += "redis rejected ";
    message += command;
    message += ": ";
    message += r.str;
    return error{errc::storage_error, std::string(where), std::move(message)};
}

/// The storage_error for a reply of an unexpected shape (a server or a client adapter gone wrong).
[[nodiscard]] inline error shape_error(const reply& r, std::string_view where, std::string_view command,
                                       std::string_view expected)
{
    std::string message = "unexpected reply to ";
    message += command;
    message += ": got ";
    message += to_string(r.type);
    message += ", expected ";
    message += expected;
    return error{errc::storage_error, std::string(where), std::move(message)};
}

/// Sends PING: a cheap health probe for /healthz. Errors: errc::storage_error (unreachable, or an error
/// reply such as NOAUTH or LOADING while the server replays its append-only file).
template <connection C>
[[nodiscard]] result<void> ping(C& c)
{
    const std::array<std::string_view, 1> argv{"PING"};
    auto r = c.command(argv);
    if (!r) return to_error(r.error(), "redis::ping", "PING");
    if (r->is_error()) return reply_error(*r, "redis::ping", "PING");
    if (r->type != reply_type::status) return shape_error(*r, "redis::ping", "PING", "status");
    return {};
}

}  // namespace meetingbaas::inline v0::redis
