// SPDX-License-Identifier: MIT
#pragma once

// A small RAII wrapper over the SQLite C API (link meetingbaas::sqlite): a database connection, prepared
// statements, a transaction guard. It never throws; every failure is errc::storage_error whose message
// carries SQLite's own message and result code.
//
// Thread safety: a `database` and the statements prepared from it must be used by one thread at a time
// (connections are opened with SQLITE_OPEN_NOMUTEX, SQLite's "multi-thread" mode). Use one connection per
// thread, or guard a shared connection with your own mutex (sqlite_idempotency_store does the latter).
// Distinct connections to the same file may be used concurrently from any threads and processes: SQLite's
// file locks and the busy timeout serialize their writes.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0::sqlite {

/// PRAGMA synchronous. In WAL mode, `normal` is durable across application crashes (kill -9) and can lose
/// only the last transactions on a power loss or OS crash; `full` survives those too, at a cost per commit.
enum class synchronous_mode { off, normal, full, extra };

/// How open() configures a connection.
struct open_options {
    std::chrono::milliseconds busy_timeout{5000};  ///< wait this long for another writer's lock
    bool wal = true;                               ///< journal_mode=WAL: readers never block the writer
    synchronous_mode synchronous = synchronous_mode::normal;
    bool create = true;        ///< create the file when missing
    bool read_only = false;    ///< open read-only (wal and synchronous are then left alone)
    bool foreign_keys = true;  ///< PRAGMA foreign_keys=ON
};

/// What step() reached.
enum class step_result { row, done };

/// SQLite's storage classes, as column_type() reports them.
enum class column_type { integer, real, text, blob, null };

/// BEGIN DEFERRED / IMMEDIATE / EXCLUSIVE. Use immediate for read-modify-write: it takes the write lock at
/// BEGIN (waiting up to the busy timeout), so the transaction cannot fail later with SQLITE_BUSY.
enum class transaction_kind { deferred, immediate, exclusive };

namespace detail {

inline error make_error(sqlite3* db, int rc, std::string_view where)
{
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    message += " (sqlite result code ";
    message += std::to_string(rc);
    message += ')';
    return error{errc::storage_error, std::string(where), std::move(message)};
}

/// "prepare: SELECT a FROM b WHERE ...", bounded so that logs stay small.
inline std::string where_with_sql(std::string_view what, std::string_view sql)
{
    constexpr std::size_t max_sql = 80;
    std::string out(what);
    out += ": ";
    out += sql.substr(0, max_sql);
    if (sql.size() > max_sql) out += "...";
    return out;
}

inline int to_int_size(std::size_t n) noexcept
{
    return n > static_cast<std::size_t>(std::numeric_limits<int>::max()) ? -1 : static_cast<int>(n);
}

}  // namespace detail

class database;

/// A prepared statement. Parameters are numbered from 1 (?1, ?2, ...), columns from 0, as in SQLite.
/// Text and blobs are copied when bound (SQLITE_TRANSIENT); column_text/column_blob views stay valid until
/// the next step(), reset() or destruction.
class statement {
public:
    statement() noexcept = default;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement(statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
    statement& operator=(statement&& other) noexcept
    {
        if (this != &other) {
            sqlite3_finalize(stmt_);
            stmt_ = std::exchange(other.stmt_, nullptr);
        }
        return *this;
    }
    ~statement() { sqlite3_finalize(stmt_); }

    [[nodiscard]] bool valid() const noexcept { return stmt_ != nullptr; }

    result<void> bind_int64(int index, std::int64_t value)
    {
        return check(sqlite3_bind_int64(stmt_, index, value), "bind_int64");
    }
    result<void> bind_double(int index, double value)
    {
        return check(sqlite3_bind_double(stmt_, index, value), "bind_double");
    }
    result<void> bind_text(int index, std::string_view text)
    {
        const int n = detail::to_int_size(text.size());
        if (n < 0) return error{errc::too_large, "sqlite bind_text", "text longer than INT_MAX bytes"};
        // A non-null pointer even for empty text: a null pointer would bind NULL.
        return check(sqlite3_bind_text(stmt_, index, text.empty() ? "" : text.data(), n, SQLITE_TRANSIENT),
                     "bind_text");
    }
    /// Binds bytes as a BLOB (never NULL: an empty view binds a zero-length blob).
    result<void> bind_blob(int index, std::string_view bytes)
    {
        const int n = detail::to_int_size(bytes.size());
        if (n < 0) return error{errc::too_large, "sqlite bind_blob", "blob longer than INT_MAX bytes"};
        if (bytes.empty()) return check(sqlite3_bind_zeroblob(stmt_, index, 0), "bind_blob");
        return check(sqlite3_bind_blob(stmt_, index, bytes.data(), n, SQLITE_TRANSIENT), "bind_blob");
    }
    result<void> bind_blob(int index, std::span<const std::byte> bytes)
    {
        return bind_blob(index, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    }
    result<void> bind_null(int index) { return check(sqlite3_bind_null(stmt_, index), "bind_null"); }

    /// The index of a named parameter (":name", "@name", "$name"), or 0 when there is none.
    [[nodiscard]] int parameter_index(const char* name) const noexcept
    {
        return sqlite3_bind_parameter_index(stmt_, name);
    }

    /// Runs the statement to its next row, or to completion. SQLITE_BUSY after the busy timeout, constraint
    /// violations and I/O errors are errc::storage_error. After an error, call reset() before reusing it.
    result<step_result> step()
    {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return step_result::row;
        if (rc == SQLITE_DONE) return step_result::done;
        return detail::make_error(sqlite3_db_handle(stmt_), rc, detail::where_with_sql("step", sql()));
    }

    /// Makes the statement runnable again; bindings are kept (clear them with clear_bindings()).
    void reset() noexcept { sqlite3_reset(stmt_); }
    void clear_bindings() noexcept { sqlite3_clear_bindings(stmt_); }

    [[nodiscard]] int column_count() const noexcept { return sqlite3_column_count(stmt_); }
    [[nodiscard]] column_type type_of(int column) const noexcept
    {
        switch (sqlite3_column_type(stmt_, column)) {
            case SQLITE_INTEGER: return column_type::integer;
            case SQLITE_FLOAT: return column_type::real;
            case SQLITE_TEXT: return column_type::text;
            case SQLITE_BLOB: return column_type::blob;
            default: return column_type::null;
        }
    }
    [[nodiscard]] bool is_null(int column) const noexcept { return type_of(column) == column_type::null; }
    [[nodiscard]] std::int64_t column_int64(int column) const noexcept
    {
        return sqlite3_column_int64(stmt_, column);
    }
    [[nodiscard]] double column_double(int column) const noexcept
    {
        return sqlite3_column_double(stmt_, column);
    }
    [[nodiscard]] std::string_view column_text(int column) const noexcept
    {
        const auto* p = sqlite3_column_text(stmt_, column);  // before _bytes, as SQLite documents
        const int n = sqlite3_column_bytes(stmt_, column);
        if (p == nullptr || n <= 0) return {};
        return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
    }
    [[nodiscard]] std::string_view column_blob(int column) const noexcept
    {
        const void* p = sqlite3_column_blob(stmt_, column);
        const int n = sqlite3_column_bytes(stmt_, column);
        if (p == nullptr || n <= 0) return {};
        return {static_cast<const char*>(p), static_cast<std::size_t>(n)};
    }

    /// The SQL text the statement was prepared from.
    [[nodiscard]] std::string_view sql() const noexcept
    {
        const char* s = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
        return s != nullptr ? std::string_view(s) : std::string_view();
    }
    [[nodiscard]] sqlite3_stmt* native_handle() const noexcept { return stmt_; }

private:
    friend class database;
    explicit statement(sqlite3_stmt* s) noexcept : stmt_(s) {}

    result<void> check(int rc, std::string_view what)
    {
        if (rc == SQLITE_OK) return {};
        return detail::make_error(sqlite3_db_handle(stmt_), rc, detail::where_with_sql(what, sql()));
    }

    sqlite3_stmt* stmt_ = nullptr;
};

class transaction;

/// One connection. Move-only; closing is sqlite3_close_v2, so statements may outlive it safely (the
/// connection is released when the last one is finalized). See the file comment for thread safety.
class database {
public:
    database() noexcept = default;
    database(const database&) = delete;
    database& operator=(const database&) = delete;
    database(database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
    database& operator=(database&& other) noexcept
    {
        if (this != &other) {
            sqlite3_close_v2(db_);
            db_ = std::exchange(other.db_, nullptr);
        }
        return *this;
    }
    ~database() { sqlite3_close_v2(db_); }

    [[nodiscard]] bool valid() const noexcept { return db_ != nullptr; }

    /// Runs one or more ';'-separated statements, discarding any rows.
    result<void> exec(std::string_view sql)
    {
        const std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
        char* message = nullptr;
        const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
        if (rc == SQLITE_OK) return {};
        error e{errc::storage_error, detail::where_with_sql("exec", sql),
                message != nullptr ? message : sqlite3_errstr(rc)};
        sqlite3_free(message);
        e.message += " (sqlite result code " + std::to_string(rc) + ')';
        return e;
    }

    /// Compiles one statement. Text after the first statement is an error (errc::invalid_argument), so a
    /// query cannot silently lose a second statement.
    result<statement> prepare(std::string_view sql)
    {
        const int n = detail::to_int_size(sql.size());
        if (n < 0) return error{errc::too_large, "sqlite prepare", "SQL longer than INT_MAX bytes"};
        sqlite3_stmt* stmt = nullptr;
        const char* tail = nullptr;
        // NOLINTNEXTLINE(bugprone-suspicious-stringview-data-usage): the length is passed as `n`
        const int rc = sqlite3_prepare_v2(db_, sql.data(), n, &stmt, &tail);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(stmt);
            return detail::make_error(db_, rc, detail::where_with_sql("prepare", sql));
        }
        statement out(stmt);
        if (stmt == nullptr) {
            return error{errc::invalid_argument, detail::where_with_sql("prepare", sql), "no SQL statement"};
        }
        const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
        if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
            return error{errc::invalid_argument, detail::where_with_sql("prepare", sql),
                         "more than one SQL statement"};
        }
        return out;
    }

    /// Starts a transaction; the guard rolls it back unless commit() succeeds.
    result<transaction> begin_transaction(transaction_kind kind = transaction_kind::immediate);

    /// Rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
    [[nodiscard]] std::int64_t changes() const noexcept { return sqlite3_changes64(db_); }
    [[nodiscard]] std::int64_t last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_); }
    /// The extended result code of the most recent failure (e.g. SQLITE_BUSY = 5), for callers that branch.
    [[nodiscard]] int last_error_code() const noexcept { return sqlite3_extended_errcode(db_); }
    [[nodiscard]] sqlite3* native_handle() const noexcept { return db_; }

private:
    friend result<database> open(const std::string& path, const open_options& options);
    explicit database(sqlite3* db) noexcept : db_(db) {}

    sqlite3* db_ = nullptr;
};

/// RAII transaction: rolls back on destruction unless committed. Move-only.
class transaction {
public:
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    transaction(transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
    transaction& operator=(transaction&&) = delete;
    ~transaction()
    {
        if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }

    /// Commits. On failure the transaction is rolled back (by the destructor) and the error returned.
    result<void> commit()
    {
        if (db_ == nullptr)
            return error{errc::invalid_argument, "sqlite commit", "transaction already ended"};
        const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) return detail::make_error(db_, rc, "sqlite commit");
        db_ = nullptr;
        return {};
    }
    result<void> rollback()
    {
        if (db_ == nullptr)
            return error{errc::invalid_argument, "sqlite rollback", "transaction already ended"};
        sqlite3* db = std::exchange(db_, nullptr);
        const int rc = sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) return detail::make_error(db, rc, "sqlite rollback");
        return {};
    }
    [[nodiscard]] bool active() const noexcept { return db_ != nullptr; }

private:
    friend class database;
    explicit transaction(sqlite3* db) noexcept : db_(db) {}
    sqlite3* db_;
};

inline result<transaction> database::begin_transaction(transaction_kind kind)
{
    const char* sql = "BEGIN IMMEDIATE";
    switch (kind) {
        case transaction_kind::deferred: sql = "BEGIN DEFERRED"; break;
        case transaction_kind::immediate: break;
        case transaction_kind::exclusive: sql = "BEGIN EXCLUSIVE"; break;
    }
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return detail::make_error(db_, rc, sql);
    return transaction(db_);
}

/// Opens (and by default creates) the database at `path` (":memory:" for a private in-memory database),
/// then applies the busy timeout, WAL, synchronous and foreign_keys settings.
[[nodiscard]] inline result<database> open(const std::string& path, const open_options& options = {})
{
    int flags = SQLITE_OPEN_NOMUTEX;
    if (options.read_only) {
        flags |= SQLITE_OPEN_READONLY;
    } else {
        flags |= SQLITE_OPEN_READWRITE;
        if (options.create) flags |= SQLITE_OPEN_CREATE;
    }
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    database db(raw);  // owns raw even on failure (sqlite3_open_v2 may allocate a handle anyway)
    if (rc != SQLITE_OK) return detail::make_error(raw, rc, "sqlite open " + path);
    sqlite3_extended_result_codes(raw, 1);
    const auto timeout = std::clamp<std::chrono::milliseconds::rep>(options.busy_timeout.count(), 0,
                                                                    std::numeric_limits<int>::max());
    sqlite3_busy_timeout(raw, static_cast<int>(timeout));
    if (options.foreign_keys) {
        if (auto r = db.exec("PRAGMA foreign_keys=ON"); !r) return r.error();
    }
    if (!options.read_only) {
        if (options.wal) {
            if (auto r = db.exec("PRAGMA journal_mode=WAL"); !r) return r.error();
        }
        const char* sync = "PRAGMA synchronous=NORMAL";
        switch (options.synchronous) {
            case synchronous_mode::off: sync = "PRAGMA synchronous=OFF"; break;
            case synchronous_mode::normal: break;
            case synchronous_mode::full: sync = "PRAGMA synchronous=FULL"; break;
            case synchronous_mode::extra: sync = "PRAGMA synchronous=EXTRA"; break;
        }
        if (auto r = db.exec(sync); !r) return r.error();
    }
    return db;
}

}  // namespace meetingbaas::inline v0::sqlite
