// SPDX-License-Identifier: MIT
#pragma once
// Test support for the scale-out tests (issue 15): a PostgreSQL database of their own on the server that
// .ci/run starts, and stopping that server for a while (MEETINGBAAS_TEST_POSTGRES_CTL).

#include "adapters/postgres_test_env.hpp"

#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <random>
#include <string>

#include <unistd.h>

namespace scale_test {

namespace mb = meetingbaas;

/// A fresh database "mb_scale_<pid>_<n>" on the server of `server_url`, dropped (WITH (FORCE)) at the end.
class scratch_database {
public:
    explicit scratch_database(const std::string& server_url) : server_url_(server_url)
    {
        static int counter = 0;
        name_ = "mb_scale_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
        auto admin = pg_test::admin(server_url_);
        REQUIRE(admin.exec("CREATE DATABASE " + name_));
        // Replace the path's database name ("postgresql://user@host:port/db?query").
        const auto scheme = server_url_.find("://");
        REQUIRE(scheme != std::string::npos);
        const auto slash = server_url_.find('/', scheme + 3);
        const auto query = server_url_.find('?', scheme + 3);
        url_ = server_url_.substr(0, slash == std::string::npos ? query : slash) + "/" + name_ +
               (query == std::string::npos ? "" : server_url_.substr(query));
    }
    scratch_database(const scratch_database&) = delete;
    scratch_database& operator=(const scratch_database&) = delete;
    ~scratch_database()
    {
        auto c = mb::pg::connection::open(server_url_);
        if (c) (void)c->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
    [[nodiscard]] const std::string& url() const noexcept { return url_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    std::string server_url_;
    std::string name_;
    std::string url_;
};

/// Stops the shared PostgreSQL server (ctl.sh stop); starts it again on restart() or destruction.
class postgres_stopped {
public:
    explicit postgres_stopped(std::string ctl) : ctl_(std::move(ctl))
    {
        REQUIRE(std::system((ctl_ + " stop").c_str()) == 0);  // NOLINT(concurrency-mt-unsafe)
        stopped_ = true;
    }
    postgres_stopped(const postgres_stopped&) = delete;
    postgres_stopped& operator=(const postgres_stopped&) = delete;
    ~postgres_stopped()
    {
        if (stopped_) (void)std::system((ctl_ + " start").c_str());  // NOLINT(concurrency-mt-unsafe)
    }
    void restart()
    {
        REQUIRE(std::system((ctl_ + " start").c_str()) == 0);  // NOLINT(concurrency-mt-unsafe)
        stopped_ = false;
    }

private:
    std::string ctl_;
    bool stopped_ = false;
};

}  // namespace scale_test

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace scale_test {

/// A loopback proxy in front of the fake API that enforces the v2 write limit as the real API does:
/// POST, PUT, PATCH and DELETE beyond `per_second` (a token bucket holding `burst` permits, so that the
/// loopback jitter of one request is tolerated) are answered 429 with Retry-After and x-ratelimit-*
/// headers, without reaching the API. GETs pass. Every write is logged with its arrival time and status.
class rate_limited_proxy {
public:
    struct write {
        std::chrono::steady_clock::time_point at;
        std::string method;
        std::string target;
        int status = 0;
    };

    rate_limited_proxy(std::string upstream_host, int upstream_port, double per_second, double burst)
        : host_(std::move(upstream_host)), upstream_port_(upstream_port), per_second_(per_second),
          burst_(burst), tokens_(burst), refilled_(std::chrono::steady_clock::now())
    {
        const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            forward(req, res);
        };
        server_.Get(".*", handler);
        server_.Post(".*", handler);
        server_.Put(".*", handler);
        server_.Patch(".*", handler);
        server_.Delete(".*", handler);
        server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
        port_ = server_.bind_to_any_port("127.0.0.1");
        REQUIRE(port_ > 0);
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 500 && !server_.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        REQUIRE(server_.is_running());
    }
    rate_limited_proxy(const rate_limited_proxy&) = delete;
    rate_limited_proxy& operator=(const rate_limited_proxy&) = delete;
    ~rate_limited_proxy()
    {
        server_.stop();
        if (thread_.joinable()) thread_.join();
    }

    [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::vector<write> writes() const
    {
        std::lock_guard lock(mutex_);
        return writes_;
    }
    [[nodiscard]] std::size_t throttled() const
    {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(
            std::count_if(writes_.begin(), writes_.end(), [](const write& w) { return w.status == 429; }));
    }
    /// The most writes that reached the API (not 429) within any `window`.
    [[nodiscard]] std::size_t max_in_window(std::chrono::milliseconds window) const
    {
        std::vector<std::chrono::steady_clock::time_point> at;
        for (const auto& w : writes())
            if (w.status != 429) at.push_back(w.at);
        std::size_t best = 0;
        std::size_t lo = 0;
        for (std::size_t hi = 0; hi < at.size(); ++hi) {
            while (at[hi] - at[lo] >= window) ++lo;
            best = std::max(best, hi - lo + 1);
        }
        return best;
    }

private:
    static std::string lower(std::string s)
    {
        for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        return s;
    }

    void forward(const httplib::Request& req, httplib::Response& res)
    {
        const bool write_method = req.method != "GET" && req.method != "HEAD";
        const auto now = std::chrono::steady_clock::now();
        if (write_method) {
            std::lock_guard lock(mutex_);
            tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - refilled_).count() *
                                                     per_second_);
            refilled_ = now;
            if (tokens_ < 1.0) {
                writes_.push_back({now, req.method, req.target, 429});
                res.status = 429;
                res.set_header("Retry-After", "1");
                res.set_header("x-ratelimit-limit", std::to_string(static_cast<int>(per_second_)));
                res.set_header("x-ratelimit-remaining", "0");
                res.set_header("x-ratelimit-reset", "1");
                res.set_content("{\"error\":\"TooManyRequests\"}", "application/json");
                return;
            }
            tokens_ -= 1.0;
        }
        httplib::Client client(host_, upstream_port_);
        client.set_url_encode(false);
        client.set_read_timeout(std::chrono::seconds(10));
        httplib::Request out;
        out.method = req.method;
        out.path = req.target;
        out.body = req.body;
        for (const auto& [name, value] : req.headers) {
            const auto n = lower(name);
            if (n == "content-type" || n == "x-meeting-baas-api-key" || n == "authorization")
                out.headers.emplace(name, value);
        }
        auto answer = client.send(out);
        if (!answer) {
            res.status = 502;
        } else {
            res.status = answer->status;
            res.body = answer->body;
            for (const auto& [name, value] : answer->headers) {
                const auto n = lower(name);
                if (n == "content-type" || n.starts_with("x-ratelimit") || n == "retry-after")
                    res.set_header(name, value);
            }
        }
        if (write_method) {
            std::lock_guard lock(mutex_);
            writes_.push_back({now, req.method, req.target, res.status});
        }
    }

    std::string host_;
    int upstream_port_;
    double per_second_;
    double burst_;
    mutable std::mutex mutex_;
    double tokens_;
    std::chrono::steady_clock::time_point refilled_;
    std::vector<write> writes_;
    httplib::Server server_;
    int port_ = -1;
    std::thread thread_;
};

}  // namespace scale_test
