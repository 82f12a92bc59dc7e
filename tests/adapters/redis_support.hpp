// SPDX-License-Identifier: MIT
#pragma once
// Test support for the Redis adapter: the shared server that .ci/run starts (MEETINGBAAS_TEST_REDIS_URL),
// private key prefixes, and private redis-server processes for restart, kill and AUTH tests.
//
// Without MEETINGBAAS_TEST_REDIS_URL (or without a redis-server binary for the private servers) a test is
// skipped with a line saying so, except under CI=true, where that is a failure.

#include <meetingbaas/adapters/redis/hiredis.hpp>

#include <catch2/catch_test_macros.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX

namespace redis_test {

namespace mb = meetingbaas;
using namespace std::chrono_literals;

inline bool in_ci()
{
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string_view(ci) == "true";
}

/// Skips the current test (or fails it under CI=true) with `why`.
#define REDIS_TEST_UNAVAILABLE(why)                                                                          \
    do {                                                                                                     \
        if (redis_test::in_ci()) FAIL("Redis test cannot run under CI=true: " << (why));                     \
        SKIP("skipped: " << (why));                                                                          \
    } while (false)

/// The shared server's URL, from MEETINGBAAS_TEST_REDIS_URL.
inline std::optional<std::string> shared_url()
{
    const char* url = std::getenv("MEETINGBAAS_TEST_REDIS_URL");
    if (url == nullptr || *url == '\0') return std::nullopt;
    return std::string(url);
}

/// A client of the shared server; skips (or fails under CI) when there is none.
#define REDIS_TEST_CLIENT(var, ...)                                                                          \
    auto var##_url = redis_test::shared_url();                                                               \
    if (!var##_url)                                                                                          \
        REDIS_TEST_UNAVAILABLE("no Redis (set MEETINGBAAS_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379)");    \
    auto var##_made = mb::redis::hiredis_client::connect(*var##_url __VA_OPT__(, ) __VA_ARGS__);             \
    if (!var##_made) FAIL("cannot connect to " << *var##_url << ": " << mb::to_string(var##_made.error()));  \
    mb::redis::hiredis_client var = std::move(*var##_made)

/// A key prefix no other test (or test process) uses.
inline std::string unique_prefix(std::string_view what)
{
    static std::atomic<int> counter{0};
    return "mbtest:" + std::to_string(::getpid()) + ":" + std::to_string(counter++) + ":" +
           std::string(what) + ":";
}

/// Sends a command and requires a reply (test helper).
inline mb::redis::reply must(mb::redis::hiredis_client& c, std::initializer_list<std::string_view> args)
{
    const std::vector<std::string_view> argv(args);
    auto r = c.command(argv);
    INFO("command " << *args.begin());
    REQUIRE(r);
    return std::move(*r);
}

/// Deletes every key under `prefix` (tests only: SCAN is never used by the library).
inline void delete_prefix(mb::redis::hiredis_client& c, const std::string& prefix)
{
    std::string cursor = "0";
    const std::string pattern = prefix + "*";
    do {
        const std::array<std::string_view, 6> scan{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
        auto r = c.command(scan);
        if (!r || !r->is_array() || r->elements.size() != 2) return;
        cursor = r->elements[0].str;
        for (const auto& k : r->elements[1].elements) {
            const std::array<std::string_view, 2> del{"DEL", k.str};
            (void)c.command(del);
        }
    } while (cursor != "0");
}

/// Counts the keys under `prefix` (tests only).
inline std::size_t count_prefix(mb::redis::hiredis_client& c, const std::string& prefix)
{
    std::size_t n = 0;
    std::string cursor = "0";
    const std::string pattern = prefix + "*";
    do {
        const std::array<std::string_view, 6> scan{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
        auto r = c.command(scan);
        REQUIRE(r);
        REQUIRE(r->is_array());
        cursor = r->elements[0].str;
        n += r->elements[1].elements.size();
    } while (cursor != "0");
    return n;
}

/// Deletes a prefix's keys when the test ends.
class prefix_guard {
public:
    prefix_guard(mb::redis::hiredis_client c, std::string prefix)
        : c_(std::move(c)), prefix_(std::move(prefix))
    {}
    prefix_guard(const prefix_guard&) = delete;
    prefix_guard& operator=(const prefix_guard&) = delete;
    ~prefix_guard() { delete_prefix(c_, prefix_); }

private:
    mb::redis::hiredis_client c_;
    std::string prefix_;
};

/// A loopback TCP port that was free a moment ago.
inline std::uint16_t free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

/// The redis-server binary: MEETINGBAAS_TEST_REDIS_SERVER, else redis-server from PATH (nullopt if none).
inline std::optional<std::string> server_binary()
{
    if (const char* p = std::getenv("MEETINGBAAS_TEST_REDIS_SERVER"); p != nullptr && *p != '\0')
        return std::string(p);
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / "redis-server";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    return std::nullopt;
}

/// A private redis-server child process in its own temporary folder, on a free loopback port. Stopped
/// (SIGKILL) and cleaned up by the destructor.
class private_server {
public:
    /// `extra`: more server arguments, e.g. {"--appendonly", "yes", "--appendfsync", "always"}.
    explicit private_server(std::vector<std::string> extra = {}) : extra_(std::move(extra))
    {
        auto bin = server_binary();
        if (!bin) REDIS_TEST_UNAVAILABLE("no redis-server binary (install redis-server)");
        binary_ = *bin;
        std::string tmpl = (std::filesystem::temp_directory_path() / "mb-redis-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir_ = tmpl;
        for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
            port_ = free_port();
            if (!start()) stop_kill();
        }
        REQUIRE(pid_ > 0);
    }
    private_server(const private_server&) = delete;
    private_server& operator=(const private_server&) = delete;
    ~private_server()
    {
        stop_kill();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    /// kill -9, and wait until the process is gone.
    void stop_kill()
    {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    /// Starts the server again on the same port and folder (after stop_kill()). True when it answers PING.
    bool start()
    {
        const std::string port = std::to_string(port_);
        const std::string log = (dir_ / "redis.log").string();
        std::vector<std::string> args{
            binary_, "--port",      port,        "--bind", "127.0.0.1",   "--save", "",
            "--dir", dir_.string(), "--logfile", log,      "--daemonize", "no",     "--enable-debug-command",
            "yes"};
        bool has_aof = false;
        for (const auto& e : extra_) has_aof = has_aof || e == "--appendonly";
        if (!has_aof) {
            args.emplace_back("--appendonly");
            args.emplace_back("no");
        }
        args.insert(args.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = -1;
        if (::posix_spawn(&pid, binary_.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return false;
        pid_ = pid;
        const auto give_up = std::chrono::steady_clock::now() + 15s;
        while (std::chrono::steady_clock::now() < give_up) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited (port taken?)
                pid_ = -1;
                return false;
            }
            auto c =
                mb::redis::hiredis_client::connect(url(), {.connect_timeout = 200ms, .command_timeout = 1s});
            if (c) {
                const std::array<std::string_view, 1> ping{"PING"};
                auto r = c->command(ping);
                if (r && r->type == mb::redis::reply_type::status) return true;  // LOADING is an error reply
            } else if (c.error().message.find("NOAUTH") != std::string::npos) {
                return true;  // up, and wants a password
            }
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }

    /// The server's log, for failure messages.
    [[nodiscard]] std::string log() const
    {
        std::ifstream in(dir_ / "redis.log");
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    std::vector<std::string> extra_;
    std::string binary_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace redis_test
