// SPDX-License-Identifier: MIT
#pragma once

// Structured logs: one JSON object per line, {"ts": "<RFC 3339 UTC, µs>", "event": "<name>", fields...}.
//
//   log.write("delivery", {{"status", 200}, {"result", "accepted"}, {"job", id}});
//
// Lines are formatted on the calling thread and appended to a bounded buffer; one writer thread hands
// the buffer to write(2), so a request thread never waits for the disk or a full pipe. The writer is
// woken by the first line of a batch and writes what has gathered 2 ms later (or at once past 64 KiB):
// a line reaches the output within a few milliseconds, and under load one write carries many lines. When the
// buffer is over its bound (the output is stuck), lines are dropped and counted instead of growing the memory
// or blocking. write_now() also waits until the line is written (start, stop, fatal errors). The destination
// is stdout or a file opened O_APPEND; reopen() (on SIGHUP) opens the file again under the same descriptor,
// for log rotation.
//
// Only what the caller passes is logged. Field values are JSON-escaped, invalid UTF-8 is replaced
// (U+FFFD) and each value is cut at 1,000 bytes: a line stays well-formed whatever a client sent.

#include <meetingbaas/core/result.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

namespace support {

/// One field's value: text, an integer or a boolean.
class log_value {
public:
    log_value(std::string_view s) noexcept : kind_(kind::text), text_(s) {}    // NOLINT: implicit on purpose
    log_value(const char* s) noexcept : kind_(kind::text), text_(s) {}         // NOLINT
    log_value(const std::string& s) noexcept : kind_(kind::text), text_(s) {}  // NOLINT
    log_value(bool b) noexcept : kind_(kind::boolean), unsigned_(b ? 1u : 0u) {}  // NOLINT
    template <std::integral I>
        requires(!std::same_as<I, bool> && !std::same_as<I, char>)
    log_value(I i) noexcept  // NOLINT
    {
        if constexpr (std::is_signed_v<I>) {
            kind_ = kind::signed_int;
            signed_ = i;
        } else {
            kind_ = kind::unsigned_int;
            unsigned_ = i;
        }
    }

    void append_to(std::string& out) const;
    [[nodiscard]] bool empty_text() const noexcept { return kind_ == kind::text && text_.empty(); }

private:
    enum class kind { text, signed_int, unsigned_int, boolean } kind_ = kind::text;
    std::string_view text_;
    std::int64_t signed_ = 0;
    std::uint64_t unsigned_ = 0;
};

struct log_field {
    std::string_view name;
    log_value value;
};

class json_log {
public:
    struct options {
        std::string path;  ///< "" = standard output
        std::size_t max_pending_bytes = std::size_t{8} << 20;
    };

    /// Opens the destination and starts the writer thread. Fails with the system's reason.
    [[nodiscard]] static meetingbaas::result<std::unique_ptr<json_log>, std::string> open(options o);
    ~json_log();
    json_log(const json_log&) = delete;
    json_log& operator=(const json_log&) = delete;

    /// Logs one line. Empty text values are left out. Never blocks on the output.
    void write(std::string_view event, std::initializer_list<log_field> fields);
    /// Logs one line and returns once it (and every line before it) has been written.
    void write_now(std::string_view event, std::initializer_list<log_field> fields);
    /// Reopens the file (log rotation). No-op for standard output.
    [[nodiscard]] meetingbaas::result<void, std::string> reopen();
    /// Writes everything pending.
    void flush();
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    [[nodiscard]] bool to_file() const noexcept { return !options_.path.empty(); }

    /// The line as write() would format it (without the newline); for tests.
    [[nodiscard]] static std::string format(std::string_view event, std::initializer_list<log_field> fields);

private:
    json_log(options o, int fd);
    void append(std::string line);
    void writer_loop();
    void write_out(const std::string& bytes);

    static constexpr std::size_t batch_bytes = 64 * 1024;
    static constexpr std::chrono::milliseconds batch_delay{2};

    options options_;
    int fd_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::string pending_;
    bool writer_idle_ = false;
    bool stopping_ = false;
    std::mutex write_mutex_;  // one write(2) sequence at a time (the writer thread, flush, reopen)
    std::atomic<std::uint64_t> dropped_{0};
    std::thread writer_;
};

/// Appends `s` to `out` as a JSON string (with quotes), escaped, invalid UTF-8 replaced, at most
/// `max_bytes` of input.
void append_json_string(std::string& out, std::string_view s, std::size_t max_bytes = 1000);

}  // namespace support
