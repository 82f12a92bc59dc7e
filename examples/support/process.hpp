// SPDX-License-Identifier: MIT
#pragma once

// Process plumbing for a long-running server: an exclusive lock file, signal handling on the main
// thread, the open-files limit, and errno text for error messages.

#include <meetingbaas/core/result.hpp>

#include <cstdint>
#include <string>

namespace support {

/// "No such file or directory (errno 2)".
[[nodiscard]] std::string errno_text(int error_number);

/// An exclusive advisory lock (flock) on a file, held until destruction or process exit (also kill -9:
/// the kernel releases it).
class lock_file {
public:
    /// Locks `path` (created when missing). Fails with "another server uses it (<path> is locked)" when
    /// another process holds it, or with the system's reason (permissions, missing directory, ...).
    [[nodiscard]] static meetingbaas::result<lock_file, std::string> acquire(const std::string& path);
    lock_file(lock_file&& other) noexcept;
    lock_file& operator=(lock_file&&) = delete;
    lock_file(const lock_file&) = delete;
    lock_file& operator=(const lock_file&) = delete;
    ~lock_file();

private:
    explicit lock_file(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
};

/// The signals a server handles: SIGTERM and SIGINT (stop), SIGHUP (reopen logs). Construct it in main
/// before any thread starts: it blocks them in the calling thread, so every thread started later inherits
/// the mask and only wait() receives them. SIGPIPE is ignored (a client that hangs up is an error code,
/// not a signal).
class signal_set {
public:
    signal_set();
    /// Blocks until one of the signals arrives; returns its number.
    [[nodiscard]] int wait() const;
    /// Makes wait() return SIGTERM (e.g. when a component fails on its own).
    static void request_stop();
    [[nodiscard]] static const char* name(int signal) noexcept;
};

class json_log;

/// Waits for SIGTERM or SIGINT and returns it. SIGHUP in the meantime reopens the log file (log rotation;
/// logged, and otherwise ignored when logging to standard output): it never stops the server.
int wait_for_stop_signal(const signal_set& signals, json_log& log);

/// Raises the soft RLIMIT_NOFILE to the hard limit (each connection is a descriptor); the new soft limit.
std::uint64_t raise_open_files_limit() noexcept;

}  // namespace support
