// SPDX-License-Identifier: MIT
#pragma once
// Runs calendar_sync_server as a child process for end-to-end tests and the demo: fork/exec with extra
// environment variables, stdout/stderr captured line by line, the port read from its JSON
// {"event":"listening",...,"port":N} line (or a plain "listening on HOST:PORT" line, for other programs),
// signals (SIGTERM, SIGKILL) and exit status with a timeout. The server's facts are read structurally:
// its JSON log lines (events()), its /metrics (metric()) and its memory (peak_rss_kib()).

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
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
        auto p = spawn(program, args, env);
        if (!p) return nullptr;
        const bool up = p->wait_for_line([](const std::string& l) { return listening_port(l) > 0; }, timeout);
        if (!up) {
            if (failure != nullptr) *failure = p->output();
            return nullptr;
        }
        for (const auto& l : p->lines()) {
            if (const int port = listening_port(l); port > 0) {
                p->port_ = port;
                break;
            }
        }
        return p;
    }

    /// Starts `program args...` without waiting for anything (e.g. to check how it refuses to start:
    /// wait_exit() then output()). nullptr if fork or pipe failed.
    static std::unique_ptr<server_process> spawn(const std::string& program,
                                                 const std::vector<std::string>& args,
                                                 const std::vector<std::string>& env = {})
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
        return std::unique_ptr<server_process>(new server_process(pid, out[0]));
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

    /// The JSON log lines whose "event" is `event` (lines that are not JSON objects are skipped).
    [[nodiscard]] std::vector<nlohmann::json> events(const std::string& event) const
    {
        std::vector<nlohmann::json> out;
        for (const auto& l : lines()) {
            if (l.empty() || l.front() != '{') continue;
            auto j = nlohmann::json::parse(l, nullptr, false);
            if (j.is_object() && j.value("event", "") == event) out.push_back(std::move(j));
        }
        return out;
    }
    /// How many JSON log lines of `event` satisfy `pred`.
    std::size_t count_events(const std::string& event,
                             const std::function<bool(const nlohmann::json&)>& pred = {}) const
    {
        std::size_t n = 0;
        for (const auto& e : events(event)) n += !pred || pred(e) ? std::size_t{1} : std::size_t{0};
        return n;
    }
    /// Waits until a JSON log line of `event` satisfies `pred`.
    bool wait_for_event(const std::string& event, const std::function<bool(const nlohmann::json&)>& pred,
                        std::chrono::milliseconds timeout) const
    {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (count_events(event, pred) > 0) return true;
            if (eof_ || std::chrono::steady_clock::now() >= until) return count_events(event, pred) > 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    /// A field of /proc/<pid>/status in KiB (e.g. "VmHWM", the peak resident set, or "VmRSS"); -1 when
    /// the process is gone.
    [[nodiscard]] long status_kib(const std::string& field) const
    {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
        }
        return -1;
    }
    [[nodiscard]] long peak_rss_kib() const { return status_kib("VmHWM"); }

    /// The port of a {"event":"listening",...,"port":N} line or of "listening on HOST:PORT"; 0 otherwise.
    static int listening_port(const std::string& l)
    {
        if (!l.empty() && l.front() == '{') {
            const auto j = nlohmann::json::parse(l, nullptr, false);
            if (j.is_object() && j.value("event", "") == "listening" && j.contains("port") &&
                j["port"].is_number_integer()) {
                return j["port"].get<int>();
            }
            return 0;
        }
        const auto at = l.find("listening on ");
        if (at == std::string::npos) return 0;
        const auto colon = l.find(':', at + 13);
        if (colon == std::string::npos) return 0;
        const auto space = l.find(' ', colon);
        return std::atoi(
            l.substr(colon + 1, space == std::string::npos ? std::string::npos : space - colon - 1).c_str());
    }

    /// The exit code, or -signal when killed by a signal; nullopt if still running after `timeout`. Once
    /// it has exited, its output has been read to the end (up to one more second).
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
                const auto eof_until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
                while (!eof_ && std::chrono::steady_clock::now() < eof_until) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
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

/// The value of one series of the server's /metrics, e.g. metric(port,
/// "meetingbaas_queue_jobs{state=\"dead\"}"); nullopt when the server does not answer or has no such series.
inline std::optional<double> metric(int port, const std::string& series)
{
    const auto text = get_path(port, "/metrics");
    if (!text) return std::nullopt;
    std::size_t at = 0;
    while ((at = text->find(series + " ", at)) != std::string::npos) {
        if (at == 0 || (*text)[at - 1] == '\n')
            return std::strtod(text->c_str() + at + series.size() + 1, nullptr);
        at += series.size();
    }
    return std::nullopt;
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
