// SPDX-License-Identifier: MIT
#include "process.hpp"

#include "json_log.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

namespace support {

std::string errno_text(int error_number)
{
    return std::string(std::strerror(error_number)) + " (errno " + std::to_string(error_number) + ")";
}

meetingbaas::result<lock_file, std::string> lock_file::acquire(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot lock " + path + ": " + errno_text(errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        if (e == EWOULDBLOCK) return "another server uses it (" + path + " is locked)";
        return "cannot lock " + path + ": " + errno_text(e);
    }
    return lock_file(fd);
}

lock_file::lock_file(lock_file&& other) noexcept : fd_(other.fd_)
{
    other.fd_ = -1;
}

lock_file::~lock_file()
{
    if (fd_ >= 0) ::close(fd_);
}

namespace {

sigset_t handled_signals() noexcept
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

signal_set::signal_set()
{
    const sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

int signal_set::wait() const
{
    const sigset_t set = handled_signals();
    for (;;) {
        int received = 0;
        if (sigwait(&set, &received) == 0) return received;
    }
}

void signal_set::request_stop()
{
    ::kill(::getpid(), SIGTERM);
}

const char* signal_set::name(int signal) noexcept
{
    switch (signal) {
        case SIGTERM: return "SIGTERM";
        case SIGINT: return "SIGINT";
        case SIGHUP: return "SIGHUP";
        default: return "signal";
    }
}

int wait_for_stop_signal(const signal_set& signals, json_log& log)
{
    for (;;) {
        const int received = signals.wait();
        if (received != SIGHUP) return received;
        const auto reopened = log.reopen();
        log.write_now("sighup",
                      {{"action", log.to_file() ? "reopened the log file" : "ignored (logging to stdout)"},
                       {"error", reopened ? std::string() : reopened.error()}});
    }
}

std::uint64_t raise_open_files_limit() noexcept
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace support
