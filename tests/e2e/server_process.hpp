// SPDX-License-Identifier: MIT
#pragma once
// Runs calendar_sync_server as a child process for end-to-end tests and the demo: fork/exec with extra
// environment variables, stdout/stderr captured line by line, the port read from its "listening on" line,
// signals (SIGTERM, SIGKILL) and exit status with a timeout.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sync_e2e {

class server_process {
public:
    /// Starts `program args...` with `env` added to the environment; waits up to `timeout` for its
    /// "listening on HOST:PORT" line. nullptr if it did not start (its output is then in `failure`).
    static std::unique_ptr<server_process> start(const std::string& program,
                                                 const std::vector<std::string>& args,
                                                 const std::vector<std::string>& env = {},
                                                 std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                                 std::string* failure = nullptr)
    {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) return nullptr;
        std::vector<std::string> argv_storage{program};
        argv_storage.insert(argv_storage.end(), args.begin(), args.end());
        std::vector<std::string> env_storage;
        for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
        env_storage.insert(env_storage.end(), env.begin(), env.end());
        std::vector<char*> argv;
        for (auto& a : argv_storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& e : env_storage) envp.push_back(e.data());
        envp.push_back(nullptr);

        const pid_t pid = ::fork();
        if (pid < 0) return nullptr;
        if (pid == 0) {
            ::dup2(out[1], 1);
            ::dup2(out[1], 2);
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::execve(program.c_str(), argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(out[1]);
        auto p = std::unique_ptr<server_process>(new server_process(pid, out[0]));
        const bool up = p->wait_for_line(
            [](const std::string& l) { return l.find("listening on ") != std::string::npos; }, timeout);
        if (!up) {
            if (failure != nullptr) *failure = p->output();
            return nullptr;
        }
        for (const auto& l : p->lines()) {
            const auto at = l.find("listening on ");
            if (at == std::string::npos) continue;
            const auto colon = l.find(':', at + 13);
            const auto space = l.find(' ', colon);
            p->port_ = std::atoi(l.substr(colon + 1, space - colon - 1).c_str());
            break;
        }
        return p;
    }

    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;
    ~server_process()
    {
        if (!exited_) {
            ::kill(pid_, SIGKILL);
            (void)wait_exit(std::chrono::seconds(5));
        }
        if (reader_.joinable()) reader_.join();
        ::close(fd_);
    }

    [[nodiscard]] int port() const noexcept { return port_; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    [[nodiscard]] std::vector<std::string> lines() const
    {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    [[nodiscard]] std::string output() const
    {
        std::string all;
        for (const auto& l : lines()) all += l + "\n";
        return all;
    }
    std::size_t count_lines(const std::function<bool(const std::string&)>& pred) const
    {
        std::size_t n = 0;
        for (const auto& l : lines()) n += pred(l) ? std::size_t{1} : std::size_t{0};
        return n;
    }
    bool wait_for_line(const std::function<bool(const std::string&)>& pred,
                       std::chrono::milliseconds timeout) const
    {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            if (count_lines(pred) > 0) return true;
            if (eof_) return count_lines(pred) > 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    void send_signal(int sig) const { ::kill(pid_, sig); }

    /// The exit code, or -signal when killed by a signal; nullopt if still running after `timeout`.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout)
    {
        if (exited_) return status_;
        const auto until = std::chrono::steady_clock::now() + timeout;
        do {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
                return status_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } while (std::chrono::steady_clock::now() < until);
        return std::nullopt;
    }

private:
    server_process(pid_t pid, int fd) : pid_(pid), fd_(fd)
    {
        reader_ = std::thread([this] {
            std::string partial;
            char buf[4096];
            for (;;) {
                const auto n = ::read(fd_, buf, sizeof buf);
                if (n <= 0) break;
                partial.append(buf, static_cast<std::size_t>(n));
                std::size_t nl = 0;
                while ((nl = partial.find('\n')) != std::string::npos) {
                    std::lock_guard lock(mutex_);
                    lines_.push_back(partial.substr(0, nl));
                    partial.erase(0, nl + 1);
                }
            }
            std::lock_guard lock(mutex_);
            if (!partial.empty()) lines_.push_back(partial);
            eof_ = true;
        });
    }

    pid_t pid_;
    int fd_;
    int port_ = -1;
    bool exited_ = false;
    int status_ = 0;
    std::thread reader_;
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
    std::atomic<bool> eof_{false};
};

/// POSTs a webhook to the server; returns the status (0 when no answer).
inline int post_webhook(int port, const std::string& body, const httplib::Headers& headers)
{
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(10));
    auto res = client.Post("/webhooks/meeting-baas", headers, body, "application/json");
    return res ? res->status : 0;
}

inline std::optional<std::string> get_path(int port, const std::string& path, int* status = nullptr)
{
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(std::chrono::seconds(10));
    auto res = client.Get(path.c_str());
    if (!res) return std::nullopt;
    if (status != nullptr) *status = res->status;
    return res->body;
}

/// Polls `pred` every 20 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout)
{
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

}  // namespace sync_e2e
