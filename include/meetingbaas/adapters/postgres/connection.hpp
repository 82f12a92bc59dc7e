// SPDX-License-Identifier: MIT
#pragma once

// A small RAII layer over libpq (link meetingbaas::postgres): one connection (PGconn), query results
// (PGresult), binary parameters, prepared statements prepared lazily per connection, and client-side
// timeouts. It never throws; every failure is a result error whose text says what happened and where.
//
// Errors (all errc::storage_error unless noted; `where` is "postgres <what>", e.g. "postgres lease"):
//   * "SQLSTATE 23505: duplicate key value ..."   the server refused the statement (nothing was applied);
//     pg::sqlstate(e) returns the five characters.
//   * "connection lost before the statement was sent (not applied): ..."   nothing reached the server.
//   * "connection lost after the statement was sent (outcome unknown): ..." the statement may or may not
//     have been applied: the server dropped the connection (restart, pg_terminate_backend, network).
//   * "no reply within 5000 ms (outcome unknown) ..."   the call timeout passed; the connection is closed.
//   * "cannot connect to 127.0.0.1:5432/postgres: ..."   connecting failed (server down, bad credentials).
//   * errc::invalid_argument "invalid connection string: ..."   (the string itself, never its password).
//   pg::outcome_unknown(e) tells the two "maybe applied" cases apart from the rest. After any connection
//   loss the connection is broken() and must be discarded; pg::pool does that by itself.
//
// Thread safety: a connection is used by one thread at a time (libpq's rule). pg::pool hands connections
// to threads; share the pool, not a connection.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <poll.h>

namespace meetingbaas::inline v0::pg {

/// Type OIDs of the parameters and columns the adapters use (pg_type.oid; stable across versions).
namespace oid {
inline constexpr Oid boolean = 16;
inline constexpr Oid bytea = 17;
inline constexpr Oid int8 = 20;
inline constexpr Oid int2 = 21;
inline constexpr Oid int4 = 23;
inline constexpr Oid text = 25;
inline constexpr Oid float8 = 701;
}  // namespace oid

/// How a connection is opened and how long a call may take.
struct connect_options {
    /// libpq connect_timeout (whole seconds, at least 2: libpq's own floor). Ignored when the connection
    /// string sets connect_timeout itself.
    std::chrono::milliseconds connect_timeout{5000};
    /// Client-side limit for one call (send, execute, receive). On expiry the connection is closed and
    /// the call fails with "outcome unknown". 0 = wait forever (not recommended: a silent network
    /// partition would block the caller until TCP gives up).
    std::chrono::milliseconds call_timeout{5000};
    /// Server-side statement_timeout, sent in the startup packet's `options` (0 = not sent). Keep it below
    /// call_timeout: the server then cancels a slow statement itself (SQLSTATE 57014: not applied, the
    /// connection stays usable) before the client gives up on it (outcome unknown, connection closed), and
    /// a statement abandoned by a client that timed out does not run on. Set it to 0 behind PgBouncer
    /// unless `options` is in its ignore_startup_parameters.
    std::chrono::milliseconds statement_timeout{4000};
    /// TCP user timeout and keepalives, so that a dead peer is noticed within seconds, not minutes.
    std::chrono::milliseconds tcp_user_timeout{10000};
    std::string application_name = "meetingbaas";
};

namespace detail {

inline std::string trim_message(const char* m)
{
    std::string s = m != nullptr ? m : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    for (char& c : s) {
        if (c == '\n') c = ' ';
    }
    return s;
}

inline error storage(std::string_view what, std::string message)
{
    return error{errc::storage_error, "postgres " + std::string(what), std::move(message)};
}

inline constexpr std::string_view lost_before = "connection lost before the statement was sent (not applied)";
inline constexpr std::string_view lost_after =
    "connection lost after the statement was sent (outcome unknown)";
inline constexpr std::string_view timed_out = "(outcome unknown)";

/// 64-bit FNV-1a: names a prepared statement after its SQL text, so equal texts share one name.
constexpr std::uint64_t fnv1a(std::string_view s) noexcept
{
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

inline void store_be(char* out, std::uint64_t v, int bytes) noexcept
{
    for (int i = bytes - 1; i >= 0; --i) {
        out[i] = static_cast<char>(v & 0xFFU);
        v >>= 8U;
    }
}

inline std::uint64_t load_be(const char* in, int bytes) noexcept
{
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8U) | static_cast<unsigned char>(in[i]);
    return v;
}

/// Notice receiver: drops notices, but remembers a FATAL one. libpq hands an error that arrives while the
/// connection is idle (the server terminating this backend) to the notice receiver, not to a result.
inline void on_notice(void* arg, const PGresult* res)
{
    const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (arg != nullptr && severity != nullptr &&
        (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
        *static_cast<bool*>(arg) = true;
    }
}

/// "host:port/dbname" of a connection string, for messages (never the user or password).
inline std::string describe_target(PQconninfoOption* opts)
{
    std::string host = "localhost";
    std::string port = "5432";
    std::string db;
    for (PQconninfoOption* o = opts; o != nullptr && o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        const std::string_view k = o->keyword;
        if (k == "host" || (k == "hostaddr" && host == "localhost")) host = o->val;
        if (k == "port") port = o->val;
        if (k == "dbname") db = o->val;
    }
    return host + ":" + port + (db.empty() ? "" : "/" + db);
}

}  // namespace detail

/// The SQLSTATE of an error returned by this layer ("23505"), or "" when it did not come from the server.
[[nodiscard]] inline std::string_view sqlstate(const error& e) noexcept
{
    constexpr std::string_view prefix = "SQLSTATE ";
    const std::string_view m = e.message;
    if (m.size() < prefix.size() + 5 || m.substr(0, prefix.size()) != prefix) return {};
    return m.substr(prefix.size(), 5);
}

/// True when the call may or may not have been applied (connection lost after sending, or timeout).
[[nodiscard]] inline bool outcome_unknown(const error& e) noexcept
{
    return e.code == errc::storage_error &&
           std::string_view(e.message).find(detail::timed_out) != std::string_view::npos;
}

/// A prepared statement's definition: SQL text with $1..$n placeholders, and the parameter types. The
/// name is derived from the text, so every store using the same text shares one server-side statement.
class statement {
public:
    statement() = default;
    statement(std::string label, std::string sql, std::vector<Oid> param_types)
        : label_(std::move(label)), sql_(std::move(sql)), types_(std::move(param_types))
    {
        static constexpr char hex[] = "0123456789abcdef";
        std::uint64_t h = detail::fnv1a(sql_);
        name_ = "mb_";
        for (int i = 0; i < 16; ++i) {
            name_ += hex[h >> 60U];
            h <<= 4U;
        }
    }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }    ///< "mb_" + 16 hex digits
    [[nodiscard]] const std::string& label() const noexcept { return label_; }  ///< for errors: "lease"
    [[nodiscard]] const std::string& sql() const noexcept { return sql_; }
    [[nodiscard]] const std::vector<Oid>& param_types() const noexcept { return types_; }

private:
    std::string label_;
    std::string sql_;
    std::string name_;
    std::vector<Oid> types_;
};

/// Statement parameters, all sent in binary format (bytea as raw bytes, integers big-endian). Text and
/// bytes are referenced, not copied: they must outlive the call. Not copyable (it points into itself).
class params {
public:
    static constexpr int capacity = 16;

    params() = default;
    params(const params&) = delete;
    params& operator=(const params&) = delete;
    params(params&&) = delete;
    params& operator=(params&&) = delete;
    ~params() = default;

    params& int64(std::int64_t v) noexcept
    {
        if (auto* slot = next(8)) detail::store_be(slot, static_cast<std::uint64_t>(v), 8);
        return *this;
    }
    params& int32(std::int32_t v) noexcept
    {
        if (auto* slot = next(4)) detail::store_be(slot, static_cast<std::uint32_t>(v), 4);
        return *this;
    }
    params& boolean(bool v) noexcept
    {
        if (auto* slot = next(1)) slot[0] = v ? 1 : 0;
        return *this;
    }
    params& float64(double v) noexcept
    {
        std::uint64_t bits = 0;
        static_assert(sizeof bits == sizeof v);
        std::memcpy(&bits, &v, sizeof bits);
        if (auto* slot = next(8)) detail::store_be(slot, bits, 8);
        return *this;
    }
    /// bytea or text bytes (text must be valid UTF-8 in a UTF-8 database; the adapters use bytea).
    params& bytes(std::string_view v) noexcept
    {
        if (n_ >= capacity) {
            overflow_ = true;
            return *this;
        }
        if (v.size() > static_cast<std::size_t>(INT_MAX)) too_large_ = true;
        values_[static_cast<std::size_t>(n_)] = v.data() != nullptr ? v.data() : "";
        lengths_[static_cast<std::size_t>(n_)] = too_large_ ? 0 : static_cast<int>(v.size());
        formats_[static_cast<std::size_t>(n_)] = 1;
        ++n_;
        return *this;
    }
    params& null() noexcept
    {
        if (n_ >= capacity) {
            overflow_ = true;
            return *this;
        }
        values_[static_cast<std::size_t>(n_)] = nullptr;
        lengths_[static_cast<std::size_t>(n_)] = 0;
        formats_[static_cast<std::size_t>(n_)] = 1;
        ++n_;
        return *this;
    }
    params& int64_or_null(std::optional<std::int64_t> v) noexcept { return v ? int64(*v) : null(); }

    [[nodiscard]] int size() const noexcept { return n_; }
    [[nodiscard]] const char* const* values() const noexcept { return values_.data(); }
    [[nodiscard]] const int* lengths() const noexcept { return lengths_.data(); }
    [[nodiscard]] const int* formats() const noexcept { return formats_.data(); }
    /// errc::too_large / invalid_argument when a value did not fit.
    [[nodiscard]] result<void> check(std::string_view what) const
    {
        if (too_large_)
            return error{errc::too_large, "postgres " + std::string(what), "a value exceeds 2 GiB"};
        if (overflow_) {
            return error{errc::invalid_argument, "postgres " + std::string(what), "more than 16 parameters"};
        }
        return {};
    }

private:
    char* next(int length) noexcept
    {
        if (n_ >= capacity) {
            overflow_ = true;
            return nullptr;
        }
        const auto i = static_cast<std::size_t>(n_++);
        values_[i] = scratch_[i].data();
        lengths_[i] = length;
        formats_[i] = 1;
        return scratch_[i].data();
    }

    std::array<const char*, capacity> values_{};
    std::array<int, capacity> lengths_{};
    std::array<int, capacity> formats_{};
    std::array<std::array<char, 8>, capacity> scratch_{};
    int n_ = 0;
    bool overflow_ = false;
    bool too_large_ = false;
};

/// A query result (owns the PGresult). Binary columns are read through a row_reader.
class result_set {
public:
    result_set() noexcept = default;
    explicit result_set(PGresult* r) noexcept : r_(r) {}
    result_set(const result_set&) = delete;
    result_set& operator=(const result_set&) = delete;
    result_set(result_set&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
    result_set& operator=(result_set&& o) noexcept
    {
        if (this != &o) {
            PQclear(r_);
            r_ = std::exchange(o.r_, nullptr);
        }
        return *this;
    }
    ~result_set() { PQclear(r_); }

    [[nodiscard]] int rows() const noexcept { return r_ != nullptr ? PQntuples(r_) : 0; }
    [[nodiscard]] int columns() const noexcept { return r_ != nullptr ? PQnfields(r_) : 0; }
    /// Rows inserted, updated or deleted (PQcmdTuples), 0 when not applicable.
    [[nodiscard]] std::int64_t affected() const noexcept
    {
        if (r_ == nullptr) return 0;
        const char* s = PQcmdTuples(r_);
        std::int64_t n = 0;
        for (; s != nullptr && *s >= '0' && *s <= '9'; ++s) n = n * 10 + (*s - '0');
        return n;
    }
    [[nodiscard]] PGresult* native_handle() const noexcept { return r_; }

private:
    PGresult* r_ = nullptr;
};

/// Reads the columns of one row of a binary-format result, checking each column's type and size; the
/// first mismatch is kept and reported by status() (a corrupt or unexpected reply never crashes).
class row_reader {
public:
    row_reader(const result_set& rs, int row, std::string_view what) noexcept
        : r_(rs.native_handle()), row_(row), what_(what)
    {}

    [[nodiscard]] bool is_null(int col) const noexcept
    {
        return r_ == nullptr || col >= PQnfields(r_) || PQgetisnull(r_, row_, col) != 0;
    }

    /// int2, int4 or int8 column; 0 and an error when null or of another type.
    std::int64_t int64(int col)
    {
        auto v = nullable_int64(col);
        if (!v) {
            fail(col, "unexpected NULL");
            return 0;
        }
        return *v;
    }
    std::optional<std::int64_t> nullable_int64(int col)
    {
        if (!valid(col)) return std::nullopt;
        if (PQgetisnull(r_, row_, col) != 0) return std::nullopt;
        const Oid t = PQftype(r_, col);
        const int len = PQgetlength(r_, row_, col);
        const int want = t == oid::int8 ? 8 : t == oid::int4 ? 4 : t == oid::int2 ? 2 : 0;
        if (want == 0 || len != want) {
            fail(col, "not an integer column");
            return std::nullopt;
        }
        const std::uint64_t raw = detail::load_be(PQgetvalue(r_, row_, col), want);
        // Sign-extend from the column's width.
        const unsigned shift = 64U - 8U * static_cast<unsigned>(want);
        return static_cast<std::int64_t>(raw << shift) >> shift;
    }
    bool boolean(int col)
    {
        if (!valid(col)) return false;
        if (PQgetisnull(r_, row_, col) != 0 || PQftype(r_, col) != oid::boolean ||
            PQgetlength(r_, row_, col) != 1) {
            fail(col, "not a boolean");
            return false;
        }
        return PQgetvalue(r_, row_, col)[0] != 0;
    }
    double float64(int col)
    {
        if (!valid(col)) return 0;
        if (PQgetisnull(r_, row_, col) != 0 || PQftype(r_, col) != oid::float8 ||
            PQgetlength(r_, row_, col) != 8) {
            fail(col, "not a float8");
            return 0;
        }
        const std::uint64_t bits = detail::load_be(PQgetvalue(r_, row_, col), 8);
        double v = 0;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    /// bytea or text bytes; a NULL reads as "". Valid until the result_set is destroyed.
    std::string_view bytes(int col)
    {
        if (!valid(col)) return {};
        if (PQgetisnull(r_, row_, col) != 0) return {};
        const Oid t = PQftype(r_, col);
        if (t != oid::bytea && t != oid::text) {
            fail(col, "not a bytea or text column");
            return {};
        }
        const int len = PQgetlength(r_, row_, col);
        return {PQgetvalue(r_, row_, col), static_cast<std::size_t>(len < 0 ? 0 : len)};
    }

    [[nodiscard]] result<void> status() const
    {
        if (error_.empty()) return {};
        return detail::storage(what_, error_);
    }

private:
    bool valid(int col)
    {
        if (r_ == nullptr || row_ < 0 || row_ >= PQntuples(r_) || col < 0 || col >= PQnfields(r_)) {
            fail(col, "no such row or column");
            return false;
        }
        if (PQfformat(r_, col) != 1) {
            fail(col, "not in binary format");
            return false;
        }
        return true;
    }
    void fail(int col, std::string_view why)
    {
        if (!error_.empty()) return;
        error_ = "unexpected reply: column " + std::to_string(col) + ": " + std::string(why);
    }

    PGresult* r_;
    int row_;
    std::string_view what_;
    std::string error_;
};

/// One libpq connection. Move-only. Prepares statements on first use and remembers them. See the file
/// comment for errors and thread safety.
class connection {
public:
    connection() noexcept = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    connection(connection&& o) noexcept
        : conn_(std::exchange(o.conn_, nullptr)), options_(std::move(o.options_)),
          prepared_(std::move(o.prepared_)), target_(std::move(o.target_)), listening_(o.listening_),
          fatal_notice_(std::move(o.fatal_notice_))
    {}
    connection& operator=(connection&& o) noexcept
    {
        if (this != &o) {
            PQfinish(conn_);
            conn_ = std::exchange(o.conn_, nullptr);
            options_ = std::move(o.options_);
            prepared_ = std::move(o.prepared_);
            target_ = std::move(o.target_);
            listening_ = o.listening_;
            fatal_notice_ = std::move(o.fatal_notice_);
        }
        return *this;
    }
    ~connection() { PQfinish(conn_); }

    /// Connects to `conninfo`: a libpq URI ("postgresql://user@host:5432/db?sslmode=require", also
    /// "postgres://") or a key=value string ("host=... port=... dbname=..."). Settings in the string win
    /// over `options` (connect_timeout, application_name, options, keepalives).
    /// Errors: errc::invalid_argument for a malformed string; errc::storage_error "cannot connect to ...".
    [[nodiscard]] static result<connection> open(const std::string& conninfo,
                                                 const connect_options& options = {})
    {
        char* parse_error = nullptr;
        PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
        if (parsed == nullptr) {
            std::string why = parse_error != nullptr ? detail::trim_message(parse_error) : "out of memory";
            PQfreemem(parse_error);
            return error{errc::invalid_argument, "postgres connect", "invalid connection string: " + why};
        }
        std::string target = detail::describe_target(parsed);
        PQconninfoFree(parsed);

        const auto seconds = std::max<std::int64_t>(2, (options.connect_timeout.count() + 999) / 1000);
        const std::string timeout = std::to_string(seconds);
        const std::string user_timeout = std::to_string(options.tcp_user_timeout.count());
        std::string startup;
        if (options.statement_timeout.count() > 0) {
            startup = "-c statement_timeout=" + std::to_string(options.statement_timeout.count());
        }
        // Our defaults first, then dbname (the expanded connection string): later settings win.
        std::vector<const char*> keys{"connect_timeout", "application_name",    "keepalives",
                                      "keepalives_idle", "keepalives_interval", "keepalives_count"};
        std::vector<const char*> values{
            timeout.c_str(), options.application_name.c_str(), "1", "10", "5", "3"};
        if (options.tcp_user_timeout.count() > 0) {
            keys.push_back("tcp_user_timeout");
            values.push_back(user_timeout.c_str());
        }
        if (!startup.empty()) {
            keys.push_back("options");
            values.push_back(startup.c_str());
        }
        keys.push_back("dbname");
        values.push_back(conninfo.c_str());
        keys.push_back(nullptr);
        values.push_back(nullptr);
        PGconn* c = PQconnectdbParams(keys.data(), values.data(), 1);
        if (c == nullptr)
            return detail::storage("connect", "cannot connect to " + target + ": out of memory");
        if (PQstatus(c) != CONNECTION_OK) {
            std::string why = detail::trim_message(PQerrorMessage(c));
            PQfinish(c);
            return detail::storage("connect", "cannot connect to " + target + ": " + why);
        }
        connection out = adopt(c, options);
        out.target_ = std::move(target);
        return out;
    }

    /// Takes ownership of an open PGconn made elsewhere (your own TLS, auth or session setup). The
    /// connection is switched to non-blocking mode and its notices are silenced.
    [[nodiscard]] static connection adopt(PGconn* c, const connect_options& options = {}) noexcept
    {
        connection out;
        out.conn_ = c;
        out.options_ = options;
        if (c != nullptr) {
            out.fatal_notice_ = std::make_unique<bool>(false);
            PQsetNoticeReceiver(c, &detail::on_notice, out.fatal_notice_.get());
            (void)PQsetnonblocking(c, 1);
            const char* host = PQhost(c);
            const char* port = PQport(c);
            const char* db = PQdb(c);
            out.target_ = std::string(host != nullptr ? host : "?") + ":" + (port != nullptr ? port : "?") +
                          "/" + (db != nullptr ? db : "");
        }
        return out;
    }

    [[nodiscard]] bool valid() const noexcept { return conn_ != nullptr; }
    /// True when the connection is unusable (lost, timed out, never opened): discard it.
    [[nodiscard]] bool broken() const noexcept
    {
        return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
    }
    [[nodiscard]] PGconn* native_handle() const noexcept { return conn_; }
    [[nodiscard]] int backend_pid() const noexcept { return conn_ != nullptr ? PQbackendPID(conn_) : 0; }
    [[nodiscard]] const std::string& target() const noexcept { return target_; }
    [[nodiscard]] const connect_options& options() const noexcept { return options_; }

    /// Without blocking: reads whatever the server sent while the connection was idle (a termination
    /// notice, a closed socket, notifications) and reports whether the connection is still usable. A pool
    /// calls it before handing out an idle connection, so that a server restart is noticed before a call.
    bool check_alive() noexcept
    {
        if (broken()) return false;
        // A terminated backend sends an ErrorResponse (which libpq, idle, passes to the notice receiver)
        // and then closes the socket: read until nothing more is pending, so that the end of the stream is
        // seen too (PQconsumeInput then fails and the status turns bad). Bounded: an idle connection gets
        // little unsolicited input (notifications, parameter changes).
        for (int i = 0; i < 8; ++i) {
            pollfd p{PQsocket(conn_), POLLIN, 0};
            if (p.fd < 0) return false;
            if (::poll(&p, 1, 0) <= 0) break;
            if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 && (p.revents & POLLIN) == 0) {
                close();
                return false;
            }
            if (PQconsumeInput(conn_) == 0) return false;
            drop_notifications_if_unwanted();
        }
        return !broken();
    }

    /// Runs a prepared statement (preparing it on this connection first, once). One round trip.
    result<result_set> execute(const statement& st, const params& p)
    {
        if (auto ok = p.check(st.label()); !ok) return std::move(ok).error();
        if (!prepared(st)) {
            if (auto r = prepare(st); !r) return std::move(r).error();
        }
        auto r = run(st.label(), [&] {
            return PQsendQueryPrepared(conn_, st.name().c_str(), p.size(), p.values(), p.lengths(),
                                       p.formats(), 1);
        });
        if (!r && sqlstate(r.error()) == "26000") {
            // "prepared statement does not exist": someone deallocated it (DISCARD ALL, a pooler). The
            // statement did not run; prepare it again and run it once more.
            prepared_.erase(st.name());
            if (auto again = prepare(st); !again) return std::move(again).error();
            return run(st.label(), [&] {
                return PQsendQueryPrepared(conn_, st.name().c_str(), p.size(), p.values(), p.lengths(),
                                           p.formats(), 1);
            });
        }
        return r;
    }

    /// Runs SQL text through the simple-query protocol (several ';'-separated statements in one implicit
    /// transaction unless they contain BEGIN/COMMIT). Rows come back in text format. For DDL and tests.
    result<result_set> exec(std::string_view sql, std::string_view what = "exec")
    {
        const std::string text(sql);
        return run(what, [&] { return PQsendQuery(conn_, text.c_str()); });
    }

    /// LISTEN on `channel` (quoted, so any name up to 63 bytes works). Keeps notifications from now on.
    result<void> listen(std::string_view channel)
    {
        std::string quoted = "LISTEN \"";
        for (const char c : channel) {
            if (c == '"') quoted += '"';
            quoted += c;
        }
        quoted += '"';
        auto r = exec(quoted, "listen");
        if (!r) return std::move(r).error();
        listening_ = true;
        return {};
    }

    /// Waits up to `timeout` for notifications; returns how many arrived (0 on timeout, or when `wake_fd`,
    /// if given, became readable). For a connection that called listen(). Errors: the connection was lost
    /// (reconnect and listen again).
    result<std::size_t> wait_for_notifications(std::chrono::milliseconds timeout, int wake_fd = -1)
    {
        if (broken()) return detail::storage("listen", "connection lost: " + target_);
        std::size_t n = take_notifications();
        if (n > 0) return n;
        std::array<pollfd, 2> p{pollfd{PQsocket(conn_), POLLIN, 0}, pollfd{wake_fd, POLLIN, 0}};
        const int ms = static_cast<int>(std::min<std::int64_t>(timeout.count(), INT_MAX));
        const int ready = ::poll(p.data(), wake_fd >= 0 ? 2 : 1, ms < 0 ? 0 : ms);
        if (ready > 0 && p[0].revents != 0) {
            if (PQconsumeInput(conn_) == 0 || broken()) {
                return detail::storage("listen",
                                       "connection lost: " + detail::trim_message(PQerrorMessage(conn_)));
            }
        }
        return take_notifications();
    }

    /// Closes the connection (it becomes broken()).
    void close() noexcept
    {
        PQfinish(conn_);
        conn_ = nullptr;
        prepared_.clear();
    }

private:
    [[nodiscard]] bool prepared(const statement& st) const
    {
        const auto it = prepared_.find(st.name());
        return it != prepared_.end() && it->second == st.sql();
    }

    result<void> prepare(const statement& st)
    {
        auto r = run(st.label(), [&] {
            return PQsendPrepare(conn_, st.name().c_str(), st.sql().c_str(),
                                 static_cast<int>(st.param_types().size()), st.param_types().data());
        });
        if (!r) {
            if (sqlstate(r.error()) != "42P05") return std::move(r).error();  // 42P05: already prepared
        }
        prepared_[st.name()] = st.sql();
        return {};
    }

    std::size_t take_notifications() noexcept
    {
        std::size_t n = 0;
        while (PGnotify* note = PQnotifies(conn_)) {
            PQfreemem(note);
            ++n;
        }
        return n;
    }
    void drop_notifications_if_unwanted() noexcept
    {
        if (!listening_) (void)take_notifications();
    }

    /// Waits until the socket is ready for `events`, or the deadline. Returns false on timeout or error.
    bool wait_socket(short events, std::optional<std::chrono::steady_clock::time_point> deadline) noexcept
    {
        pollfd p{PQsocket(conn_), events, 0};
        if (p.fd < 0) return false;
        for (;;) {
            int ms = -1;
            if (deadline) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    *deadline - std::chrono::steady_clock::now());
                if (left.count() <= 0) return false;
                ms = static_cast<int>(std::min<std::int64_t>(left.count() + 1, INT_MAX));
            }
            const int ready = ::poll(&p, 1, ms);
            if (ready > 0) return true;
            if (ready == 0) return false;
            if (errno != EINTR) return false;
        }
    }

    template <class Send>
    result<result_set> run(std::string_view what, Send send)
    {
        if (broken()) {
            return detail::storage(what, std::string(detail::lost_before) + ": the connection to " + target_ +
                                             " is closed");
        }
        drop_notifications_if_unwanted();
        std::optional<std::chrono::steady_clock::time_point> deadline;
        if (options_.call_timeout.count() > 0)
            deadline = std::chrono::steady_clock::now() + options_.call_timeout;

        if (send() == 0) {
            const bool lost = broken();
            std::string why = detail::trim_message(PQerrorMessage(conn_));
            if (lost) return detail::storage(what, std::string(detail::lost_before) + ": " + why);
            close();  // the protocol state is unknown: do not reuse
            return detail::storage(what, "could not send the statement (not applied): " + why);
        }
        // Send everything (non-blocking mode): an error before the last byte left means the server never
        // got the final Sync message, so the implicit transaction cannot have committed.
        for (;;) {
            const int f = PQflush(conn_);
            if (f == 0) break;
            if (f < 0) {
                std::string why = detail::trim_message(PQerrorMessage(conn_));
                close();
                return detail::storage(what, std::string(detail::lost_before) + ": " + why);
            }
            if (!wait_socket(POLLIN | POLLOUT, deadline)) {
                close();
                return detail::storage(what, "could not send within " +
                                                 std::to_string(options_.call_timeout.count()) +
                                                 " ms (not applied); connection to " + target_ + " closed");
            }
            if (PQconsumeInput(conn_) == 0) {
                std::string why = detail::trim_message(PQerrorMessage(conn_));
                close();
                return detail::storage(what, std::string(detail::lost_before) + ": " + why);
            }
        }
        // Collect every result until PQgetResult returns null; keep the first error, else the last result.
        result_set last;
        result_set first_error;
        for (;;) {
            while (PQisBusy(conn_) != 0) {
                if (!wait_socket(POLLIN, deadline)) {
                    close();
                    return detail::storage(
                        what, "no reply within " + std::to_string(options_.call_timeout.count()) + " ms " +
                                  std::string(detail::timed_out) + "; connection to " + target_ + " closed");
                }
                if (PQconsumeInput(conn_) == 0) {
                    std::string why = detail::trim_message(PQerrorMessage(conn_));
                    close();
                    return detail::storage(what, std::string(detail::lost_after) + ": " + why);
                }
            }
            PGresult* r = PQgetResult(conn_);
            if (r == nullptr) break;
            const ExecStatusType s = PQresultStatus(r);
            if ((s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE || s == PGRES_NONFATAL_ERROR) &&
                first_error.native_handle() == nullptr) {
                first_error = result_set(r);
            } else {
                last = result_set(r);
            }
        }
        if (first_error.native_handle() != nullptr) return classify(what, first_error);
        if (broken()) {
            return detail::storage(what, std::string(detail::lost_after) + ": " +
                                             detail::trim_message(PQerrorMessage(conn_)));
        }
        drop_notifications_if_unwanted();
        return last;
    }

    error classify(std::string_view what, const result_set& failed)
    {
        PGresult* r = failed.native_handle();
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const std::string message =
            detail::trim_message(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) != nullptr
                                     ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                     : PQresultErrorMessage(r));
        const std::string_view code = state != nullptr ? std::string_view(state) : std::string_view();
        // No SQLSTATE (libpq's own error), a FATAL one, class 08 (connection exception) or 57P0x (the
        // server is shutting down / terminated this backend): the connection is gone and the statement
        // may have been applied before the server dropped us.
        const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
        const bool fatal = severity != nullptr &&
                           (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC");
        if (code.empty() || broken() || fatal || code.substr(0, 2) == "08" || code.substr(0, 4) == "57P0") {
            close();
            std::string m = std::string(detail::lost_after) + ": ";
            if (!code.empty()) m += "SQLSTATE " + std::string(code) + " ";
            return detail::storage(what, m + message);
        }
        return detail::storage(what, "SQLSTATE " + std::string(code) + ": " + message);
    }

    PGconn* conn_ = nullptr;
    connect_options options_;
    std::unordered_map<std::string, std::string> prepared_;  // statement name -> SQL text
    std::string target_;
    bool listening_ = false;
    std::unique_ptr<bool> fatal_notice_;  // set by the notice receiver (a stable address across moves)
};

}  // namespace meetingbaas::inline v0::pg
