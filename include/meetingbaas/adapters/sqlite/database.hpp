// SPDX-License-Identifier: MIT
#pragma once

// A small RAII wrapper over the SQLite C API (link meetingbaas::sqlite): a database connection, prepared
// statements, a transaction guard, and the startup integrity check. It never throws; every failure is
// errc::storage_error whose message carries SQLite's own message, the extended result code by name and
// number, and the OS errno where the failure came from the file system, e.g.
//   "database or disk is full (SQLITE_FULL, extended code 13; errno 28: No space left on device)".
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
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0::sqlite {

/// PRAGMA synchronous. In WAL mode, `normal` is durable across application crashes (kill -9) and can lose
/// only the last transactions on a power loss or OS crash; `full` survives those too, at a cost per commit.
enum class synchronous_mode { off, normal, full, extra };

/// How open() configures a connection.
struct open_options {
    std::chrono::milliseconds busy_timeout{5000};  ///< wait this long for another writer's lock
    /// How to wait within busy_timeout: 0 = SQLite's back-off (sleeps of 1, 2, 5, ... up to 100 ms), which
    /// rarely finds the lock free while other connections take it in a tight loop; > 0 = try again every
    /// busy_poll (e.g. 100 us), which takes the lock within about that long after it is released.
    std::chrono::microseconds busy_poll{0};
    bool wal = true;  ///< journal_mode=WAL: readers never block the writer
    synchronous_mode synchronous = synchronous_mode::normal;
    bool create = true;        ///< create the file when missing
    bool read_only = false;    ///< open read-only (wal and synchronous are then left alone)
    bool foreign_keys = true;  ///< PRAGMA foreign_keys=ON
    /// PRAGMA journal_size_limit (bytes; -1 = none, SQLite's default): when this connection's write restarts
    /// the WAL from its beginning, the file is truncated to this size, so a WAL that once grew does not
    /// keep its disk space. 4 MiB, the same as sqlite_maintenance_options::wal_truncate_threshold.
    std::int64_t journal_size_limit = std::int64_t{4} * 1024 * 1024;
    /// PRAGMA wal_autocheckpoint (pages); nullopt keeps SQLite's default (1000). Set 0 on connections whose
    /// commits must not run checkpoints (the request path) when sqlite_state_maintenance checkpoints instead.
    std::optional<int> wal_autocheckpoint{};
    /// The name of a registered sqlite3_vfs to open the file with; empty = the default VFS.
    std::string vfs{};
};

/// What step() reached.
enum class step_result { row, done };

/// SQLite's storage classes, as column_type() reports them.
enum class column_type { integer, real, text, blob, null };

/// BEGIN DEFERRED / IMMEDIATE / EXCLUSIVE. Use immediate for read-modify-write: it takes the write lock at
/// BEGIN (waiting up to the busy timeout), so the transaction cannot fail later with SQLITE_BUSY.
enum class transaction_kind { deferred, immediate, exclusive };

namespace detail {

/// The symbolic name of an (extended) SQLite result code, e.g. "SQLITE_IOERR_WRITE"; "" when unknown.
constexpr std::string_view result_code_name(int rc) noexcept
{
    switch (rc) {
        case 1: return "SQLITE_ERROR";
        case 2: return "SQLITE_INTERNAL";
        case 3: return "SQLITE_PERM";
        case 4: return "SQLITE_ABORT";
        case 5: return "SQLITE_BUSY";
        case 6: return "SQLITE_LOCKED";
        case 7: return "SQLITE_NOMEM";
        case 8: return "SQLITE_READONLY";
        case 9: return "SQLITE_INTERRUPT";
        case 10: return "SQLITE_IOERR";
        case 11: return "SQLITE_CORRUPT";
        case 12: return "SQLITE_NOTFOUND";
        case 13: return "SQLITE_FULL";
        case 14: return "SQLITE_CANTOPEN";
        case 15: return "SQLITE_PROTOCOL";
        case 16: return "SQLITE_EMPTY";
        case 17: return "SQLITE_SCHEMA";
        case 18: return "SQLITE_TOOBIG";
        case 19: return "SQLITE_CONSTRAINT";
        case 20: return "SQLITE_MISMATCH";
        case 21: return "SQLITE_MISUSE";
        case 22: return "SQLITE_NOLFS";
        case 23: return "SQLITE_AUTH";
        case 24: return "SQLITE_FORMAT";
        case 25: return "SQLITE_RANGE";
        case 26: return "SQLITE_NOTADB";
        case 257: return "SQLITE_ERROR_MISSING_COLLSEQ";
        case 513: return "SQLITE_ERROR_RETRY";
        case 769: return "SQLITE_ERROR_SNAPSHOT";
        case 266: return "SQLITE_IOERR_READ";
        case 522: return "SQLITE_IOERR_SHORT_READ";
        case 778: return "SQLITE_IOERR_WRITE";
        case 1034: return "SQLITE_IOERR_FSYNC";
        case 1290: return "SQLITE_IOERR_DIR_FSYNC";
        case 1546: return "SQLITE_IOERR_TRUNCATE";
        case 1802: return "SQLITE_IOERR_FSTAT";
        case 2058: return "SQLITE_IOERR_UNLOCK";
        case 2314: return "SQLITE_IOERR_RDLOCK";
        case 2570: return "SQLITE_IOERR_DELETE";
        case 2826: return "SQLITE_IOERR_BLOCKED";
        case 3082: return "SQLITE_IOERR_NOMEM";
        case 3338: return "SQLITE_IOERR_ACCESS";
        case 3594: return "SQLITE_IOERR_CHECKRESERVEDLOCK";
        case 3850: return "SQLITE_IOERR_LOCK";
        case 4106: return "SQLITE_IOERR_CLOSE";
        case 4362: return "SQLITE_IOERR_DIR_CLOSE";
        case 4618: return "SQLITE_IOERR_SHMOPEN";
        case 4874: return "SQLITE_IOERR_SHMSIZE";
        case 5130: return "SQLITE_IOERR_SHMLOCK";
        case 5386: return "SQLITE_IOERR_SHMMAP";
        case 5642: return "SQLITE_IOERR_SEEK";
        case 5898: return "SQLITE_IOERR_DELETE_NOENT";
        case 6154: return "SQLITE_IOERR_MMAP";
        case 6410: return "SQLITE_IOERR_GETTEMPPATH";
        case 6666: return "SQLITE_IOERR_CONVPATH";
        case 6922: return "SQLITE_IOERR_VNODE";
        case 7178: return "SQLITE_IOERR_AUTH";
        case 7434: return "SQLITE_IOERR_BEGIN_ATOMIC";
        case 7690: return "SQLITE_IOERR_COMMIT_ATOMIC";
        case 7946: return "SQLITE_IOERR_ROLLBACK_ATOMIC";
        case 8202: return "SQLITE_IOERR_DATA";
        case 8458: return "SQLITE_IOERR_CORRUPTFS";
        case 262: return "SQLITE_LOCKED_SHAREDCACHE";
        case 518: return "SQLITE_LOCKED_VTAB";
        case 261: return "SQLITE_BUSY_RECOVERY";
        case 517: return "SQLITE_BUSY_SNAPSHOT";
        case 773: return "SQLITE_BUSY_TIMEOUT";
        case 270: return "SQLITE_CANTOPEN_NOTEMPDIR";
        case 526: return "SQLITE_CANTOPEN_ISDIR";
        case 782: return "SQLITE_CANTOPEN_FULLPATH";
        case 1038: return "SQLITE_CANTOPEN_CONVPATH";
        case 1294: return "SQLITE_CANTOPEN_DIRTYWAL";
        case 1550: return "SQLITE_CANTOPEN_SYMLINK";
        case 267: return "SQLITE_CORRUPT_VTAB";
        case 523: return "SQLITE_CORRUPT_SEQUENCE";
        case 779: return "SQLITE_CORRUPT_INDEX";
        case 264: return "SQLITE_READONLY_RECOVERY";
        case 520: return "SQLITE_READONLY_CANTLOCK";
        case 776: return "SQLITE_READONLY_ROLLBACK";
        case 1032: return "SQLITE_READONLY_DBMOVED";
        case 1288: return "SQLITE_READONLY_CANTINIT";
        case 1544: return "SQLITE_READONLY_DIRECTORY";
        case 516: return "SQLITE_ABORT_ROLLBACK";
        case 275: return "SQLITE_CONSTRAINT_CHECK";
        case 531: return "SQLITE_CONSTRAINT_COMMITHOOK";
        case 787: return "SQLITE_CONSTRAINT_FOREIGNKEY";
        case 1043: return "SQLITE_CONSTRAINT_FUNCTION";
        case 1299: return "SQLITE_CONSTRAINT_NOTNULL";
        case 1555: return "SQLITE_CONSTRAINT_PRIMARYKEY";
        case 1811: return "SQLITE_CONSTRAINT_TRIGGER";
        case 2067: return "SQLITE_CONSTRAINT_UNIQUE";
        case 2323: return "SQLITE_CONSTRAINT_VTAB";
        case 2579: return "SQLITE_CONSTRAINT_ROWID";
        case 2835: return "SQLITE_CONSTRAINT_PINNED";
        case 3091: return "SQLITE_CONSTRAINT_DATATYPE";
        case 279: return "SQLITE_AUTH_USER";
        default: return {};
    }
}

/// Is this result code SQLite reporting a damaged database file?
constexpr bool is_corruption(int rc) noexcept
{
    return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB || rc == (SQLITE_IOERR | (33 << 8));
}

/// "(SQLITE_FULL, extended code 13; errno 28: No space left on device)": the code by name and number,
/// and the OS error behind an I/O, open or disk-full failure when SQLite recorded one.
inline std::string describe_result(int rc, int system_errno)
{
    std::string out = " (";
    std::string_view name = result_code_name(rc);
    if (name.empty()) name = result_code_name(rc & 0xff);
    out += name.empty() ? std::string_view("SQLITE_?") : name;
    out += ", extended code ";
    out += std::to_string(rc);
    const int primary = rc & 0xff;
    const bool os_level = primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_FULL ||
                          primary == SQLITE_NOLFS || primary == SQLITE_READONLY || primary == SQLITE_PERM;
    if (os_level && system_errno != 0) {
        out += "; errno ";
        out += std::to_string(system_errno);
        out += ": ";
        out += std::generic_category().message(system_errno);
    }
    out += ')';
    return out;
}

/// The files on which SQLite reported corruption in this process (see sqlite::corruption_reported).
struct corruption_log {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> files;  // (main database file name, first report)
};

inline corruption_log& corruption_reports()
{
    static corruption_log log;
    return log;
}

inline void note_corruption(sqlite3* db, const std::string& report)
{
    const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
    if (file == nullptr || *file == '\0') return;  // in-memory or temporary database
    auto& log = corruption_reports();
    const std::lock_guard lock(log.mutex);
    for (const auto& entry : log.files) {
        if (entry.first == file) return;
    }
    log.files.emplace_back(file, report);
}

/// An errc::storage_error for result code `rc` on `db` (SQLite's message, the code, the errno).
inline error make_error(sqlite3* db, int rc, std::string_view where, const char* message = nullptr)
{
    std::string text = message != nullptr ? message : db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    text += describe_result(rc, db != nullptr ? sqlite3_system_errno(db) : 0);
    error e{errc::storage_error, std::string(where), std::move(text)};
    if (is_corruption(rc)) note_corruption(db, e.where + ": " + e.message);
    return e;
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

namespace detail {

/// The state of a polling busy handler (open_options::busy_poll), owned by its database.
struct busy_wait {
    std::chrono::milliseconds timeout{};
    std::chrono::microseconds poll{};
    std::chrono::steady_clock::time_point started{};

    static int retry(void* self, int count)
    {
        auto* w = static_cast<busy_wait*>(self);
        const auto now = std::chrono::steady_clock::now();
        if (count == 0) w->started = now;  // a new wait begins
        if (now - w->started >= w->timeout) return 0;
        std::this_thread::sleep_for(w->poll);
        return 1;
    }
};

inline int clamp_ms(std::chrono::milliseconds d) noexcept
{
    return static_cast<int>(
        std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, std::numeric_limits<int>::max()));
}

}  // namespace detail

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
    database(database&& other) noexcept
        : db_(std::exchange(other.db_, nullptr)), busy_(std::move(other.busy_))
    {}
    database& operator=(database&& other) noexcept
    {
        if (this != &other) {
            close();
            db_ = std::exchange(other.db_, nullptr);
            busy_ = std::move(other.busy_);
        }
        return *this;
    }
    ~database() { close(); }

    /// How this connection waits for a lock another connection holds: for `timeout` in total, with SQLite's
    /// back-off (poll = 0) or trying again every `poll` (see open_options::busy_poll).
    void set_busy_wait(std::chrono::milliseconds timeout, std::chrono::microseconds poll = {})
    {
        if (db_ == nullptr) return;
        if (poll <= std::chrono::microseconds::zero()) {
            sqlite3_busy_timeout(db_, detail::clamp_ms(timeout));
            busy_.reset();
            return;
        }
        if (!busy_) busy_ = std::make_unique<detail::busy_wait>();
        busy_->timeout = timeout;
        busy_->poll = poll;
        sqlite3_busy_handler(db_, &detail::busy_wait::retry, busy_.get());
    }

    [[nodiscard]] bool valid() const noexcept { return db_ != nullptr; }

    /// Runs one or more ';'-separated statements, discarding any rows.
    result<void> exec(std::string_view sql)
    {
        const std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
        char* message = nullptr;
        const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
        if (rc == SQLITE_OK) return {};
        error e = detail::make_error(db_, rc, detail::where_with_sql("exec", sql), message);
        sqlite3_free(message);
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

    /// The absolute path of the main database file ("" for an in-memory or temporary database).
    [[nodiscard]] std::string filename() const
    {
        const char* f = db_ != nullptr ? sqlite3_db_filename(db_, "main") : nullptr;
        return f != nullptr ? std::string(f) : std::string();
    }
    /// The path of the main database's WAL file ("" for an in-memory or temporary database).
    [[nodiscard]] std::string wal_filename() const
    {
        const char* f = db_ != nullptr ? sqlite3_db_filename(db_, "main") : nullptr;
        if (f == nullptr || *f == '\0') return {};
        const char* w = sqlite3_filename_wal(f);
        return w != nullptr ? std::string(w) : std::string();
    }

private:
    friend result<database> open(const std::string& path, const open_options& options);
    explicit database(sqlite3* db) noexcept : db_(db) {}

    void close() noexcept
    {
        // The connection may outlive this object (sqlite3_close_v2 waits for unfinalized statements): it must
        // not keep a handler that points into busy_.
        if (db_ != nullptr && busy_) sqlite3_busy_timeout(db_, detail::clamp_ms(busy_->timeout));
        sqlite3_close_v2(db_);
        db_ = nullptr;
        busy_.reset();
    }

    sqlite3* db_ = nullptr;
    std::unique_ptr<detail::busy_wait> busy_;
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
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw, flags, options.vfs.empty() ? nullptr : options.vfs.c_str());
    database db(raw);  // owns raw even on failure (sqlite3_open_v2 may allocate a handle anyway)
    if (rc != SQLITE_OK) {
        const int code = raw != nullptr ? sqlite3_extended_errcode(raw) : rc;
        return detail::make_error(raw, code, "sqlite open " + path);
    }
    sqlite3_extended_result_codes(raw, 1);
    db.set_busy_wait(options.busy_timeout, options.busy_poll);
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
        if (options.journal_size_limit >= -1) {
            if (auto r = db.exec("PRAGMA journal_size_limit=" + std::to_string(options.journal_size_limit));
                !r)
                return r.error();
        }
        if (options.wal_autocheckpoint) {
            if (auto r = db.exec("PRAGMA wal_autocheckpoint=" + std::to_string(*options.wal_autocheckpoint));
                !r)
                return r.error();
        }
    }
    return db;
}

/// The first corruption SQLite reported, through any connection of this process, for the database file
/// `filename` (as database::filename() spells it), or nullopt. A connection that meets a damaged page
/// gets SQLITE_CORRUPT on that statement only; this lets a health check see it (sqlite_state_maintenance).
[[nodiscard]] inline std::optional<std::string> corruption_reported(const std::string& filename)
{
    auto& log = detail::corruption_reports();
    const std::lock_guard lock(log.mutex);
    for (const auto& entry : log.files) {
        if (entry.first == filename) return entry.second;
    }
    return std::nullopt;
}

/// How check_integrity checks.
struct integrity_options {
    bool full = false;      ///< PRAGMA integrity_check (also cross-checks indexes); default quick_check
    int max_problems = 10;  ///< stop after this many problems (and report them)
    std::chrono::milliseconds time_budget{60'000};  ///< give up (not an error: report.complete = false)
};

/// What check_integrity did when it found nothing wrong.
struct integrity_report {
    bool complete = true;  ///< false: the time budget ran out before the check finished
    std::chrono::milliseconds took{};
};

/// Runs PRAGMA quick_check(N) (or integrity_check(N)) on `db`, bounded by the options' problem count and
/// time budget. A damaged file is errc::storage_error whose message starts with "database file is
/// corrupt" and carries SQLite's findings (e.g. "Page 5: btreeInitPage() returns error code 11") or
/// the corruption error itself. Run it at startup, before serving: SQLite only notices a damaged page
/// when a statement touches it, so without the check a corrupt file fails one request at a time.
[[nodiscard]] inline result<integrity_report> check_integrity(database& db,
                                                              const integrity_options& options = {})
{
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + options.time_budget;
    struct progress_state {
        clock::time_point deadline;
        bool expired = false;
    } progress{deadline};
    sqlite3_progress_handler(
        db.native_handle(), 10'000,
        [](void* p) -> int {
            auto* st = static_cast<progress_state*>(p);
            if (clock::now() < st->deadline) return 0;
            st->expired = true;
            return 1;  // interrupts the statement (SQLITE_INTERRUPT)
        },
        &progress);
    struct handler_reset {
        sqlite3* db;
        explicit handler_reset(sqlite3* d) noexcept : db(d) {}
        handler_reset(const handler_reset&) = delete;
        handler_reset& operator=(const handler_reset&) = delete;
        handler_reset(handler_reset&&) = delete;
        handler_reset& operator=(handler_reset&&) = delete;
        ~handler_reset() { sqlite3_progress_handler(db, 0, nullptr, nullptr); }
    } reset(db.native_handle());

    const int n = std::clamp(options.max_problems, 1, 1000);
    const std::string sql = std::string(options.full ? "PRAGMA integrity_check(" : "PRAGMA quick_check(") +
                            std::to_string(n) + ")";
    const std::string where = "sqlite integrity check " + db.filename();
    auto corrupt = [&](std::string findings) {
        error e{errc::storage_error, where, "database file is corrupt: " + std::move(findings)};
        detail::note_corruption(db.native_handle(), e.where + ": " + e.message);
        return e;
    };
    auto st = db.prepare(sql);
    if (!st) {
        if (detail::is_corruption(db.last_error_code())) return corrupt(st.error().message);
        return st.error();
    }
    std::string findings;
    std::size_t problems = 0;
    for (;;) {
        auto row = st->step();
        if (!row) {
            if (progress.expired) {
                return integrity_report{
                    false, std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start)};
            }
            // SQLite may list findings and then fail with SQLITE_CORRUPT: report both.
            if (detail::is_corruption(db.last_error_code()) || problems > 0) {
                if (!findings.empty()) findings += "; ";
                return corrupt(findings + row.error().message);
            }
            return row.error();
        }
        if (*row == step_result::done) break;
        std::string_view line = st->column_text(0);
        // The first finding may come as "*** in database main ***\nPage 5: ...".
        constexpr std::string_view banner = "*** in database main ***";
        if (line.substr(0, banner.size()) == banner) line.remove_prefix(banner.size());
        while (!line.empty() && (line.front() == '\n' || line.front() == ' ')) line.remove_prefix(1);
        if (line.empty() || line == "ok") continue;
        if (!findings.empty()) findings += "; ";
        findings += line.substr(0, 300);
        ++problems;
    }
    if (problems > 0) {
        if (problems >= static_cast<std::size_t>(n))
            findings += "; (stopped after " + std::to_string(n) + " problems)";
        return corrupt(std::move(findings));
    }
    return integrity_report{true,
                            std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start)};
}

}  // namespace meetingbaas::inline v0::sqlite
