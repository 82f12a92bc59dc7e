// SPDX-License-Identifier: MIT
// Several processes sharing one Redis (MEETINGBAAS_TEST_REDIS_URL), as replicas do: N processes racing on
// one idempotency key acquire it once; N processes draining one queue lease each job once; a process killed
// with SIGKILL while holding a lease loses the job to another after the lease; N processes drawing from one
// rate-limit bucket never exceed the rate. Each child opens its own connection after fork().
#include <meetingbaas/adapters/redis.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>

#include "redis_support.hpp"

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
namespace redis = meetingbaas::redis;
using client_type = redis::hiredis_client;

namespace {

/// Children started by fork(): each runs `body(index, out_fd)` with its own pipe, after the start gate
/// opens, and exits with the code the body returns. The parent reads what each child wrote.
class children {
public:
    template <class Body>
    children(int n, Body body)
    {
        REQUIRE(::pipe(gate_.data()) == 0);
        for (int i = 0; i < n; ++i) {
            std::array<int, 2> out{};
            REQUIRE(::pipe(out.data()) == 0);
            const pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                ::close(gate_[1]);
                ::close(out[0]);
                char byte = 0;
                if (::read(gate_[0], &byte, 1) != 1) ::_exit(90);
                int code = 91;
                try {
                    code = body(i, out[1]);
                } catch (...) {
                    code = 92;
                }
                ::close(out[1]);
                ::_exit(code);
            }
            ::close(out[1]);
            pids_.push_back(pid);
            outputs_.push_back(out[0]);
        }
        ::close(gate_[0]);
    }
    children(const children&) = delete;
    children& operator=(const children&) = delete;
    ~children()
    {
        for (const pid_t p : pids_) {
            if (p > 0) {
                ::kill(p, SIGKILL);
                ::waitpid(p, nullptr, 0);
            }
        }
        for (const int fd : outputs_) ::close(fd);
    }

    /// Lets every child run at once.
    void open_gate()
    {
        const std::string go(pids_.size(), 'g');
        REQUIRE(::write(gate_[1], go.data(), go.size()) == static_cast<ssize_t>(go.size()));
        ::close(gate_[1]);
    }

    /// Waits for every child; returns each one's exit code, and each one's output.
    std::vector<int> wait(std::vector<std::string>* outputs = nullptr)
    {
        std::vector<int> codes;
        for (std::size_t i = 0; i < pids_.size(); ++i) {
            std::string text;
            std::array<char, 4096> buf{};
            for (ssize_t n = 0; (n = ::read(outputs_[i], buf.data(), buf.size())) > 0;) {
                text.append(buf.data(), static_cast<std::size_t>(n));
            }
            if (outputs != nullptr) outputs->push_back(std::move(text));
            int status = 0;
            REQUIRE(::waitpid(pids_[i], &status, 0) == pids_[i]);
            pids_[i] = -1;
            codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        return codes;
    }

    [[nodiscard]] pid_t pid(std::size_t i) const { return pids_.at(i); }
    void forget(std::size_t i) { pids_.at(i) = -1; }

private:
    std::array<int, 2> gate_{};
    std::vector<pid_t> pids_;
    std::vector<int> outputs_;
};

void write_line(int fd, const std::string& line)
{
    const std::string text = line + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

std::size_t max_in_window(std::vector<std::int64_t> times, std::int64_t window)
{
    std::sort(times.begin(), times.end());
    std::size_t best = 0;
    std::size_t lo = 0;
    for (std::size_t hi = 0; hi < times.size(); ++hi) {
        while (times[hi] - times[lo] >= window) ++lo;
        best = std::max(best, hi - lo + 1);
    }
    return best;
}

}  // namespace

TEST_CASE("N processes racing on one idempotency key: exactly one acquires", "[redis_processes]")
{
    REDIS_TEST_CLIENT(client);
    const auto url = *redis_test::shared_url();
    const auto prefix = redis_test::unique_prefix("proc-idem");
    const redis_test::prefix_guard cleanup(client, prefix);
    constexpr int processes = 6;
    for (int round = 0; round < 5; ++round) {
        const auto key = mb::make_key("race", round);
        children kids(processes, [&](int, int) {
            auto c = client_type::connect(url);
            if (!c) return 3;
            mb::redis_idempotency_store<client_type> store(*c, {.prefix = prefix});
            auto guard =
                mb::make_idempotency_guard(store, {.lease = 30s, .retention = 1h}, redis::server_clock(*c));
            if (!guard) return 4;
            auto r = guard->begin(key, "same payload");
            if (!r) return 5;
            return r->status == mb::begin_status::acquired      ? 10
                   : r->status == mb::begin_status::in_progress ? 11
                                                                : 6;
        });
        kids.open_gate();
        const auto codes = kids.wait();
        CAPTURE(round);
        CHECK(std::count(codes.begin(), codes.end(), 10) == 1);
        CHECK(std::count(codes.begin(), codes.end(), 11) == processes - 1);
    }
}

TEST_CASE("N processes draining one queue lease every job exactly once", "[redis_processes]")
{
    REDIS_TEST_CLIENT(client);
    const auto url = *redis_test::shared_url();
    const auto prefix = redis_test::unique_prefix("proc-queue");
    const redis_test::prefix_guard cleanup(client, prefix);
    mb::redis_job_queue<client_type> q(client, {.prefix = prefix});
    constexpr int jobs = 400;
    for (int i = 0; i < jobs; ++i) REQUIRE(q.enqueue({"k", std::to_string(i), "", std::nullopt}));
    children kids(4, [&](int, int out) {
        auto c = client_type::connect(url);
        if (!c) return 3;
        mb::redis_job_queue<client_type> mine(*c, {.prefix = prefix});
        for (;;) {
            auto j = mine.lease(1min);
            if (!j) return 4;
            if (!j->has_value()) return 0;
            write_line(out, (*j)->payload);
            if (!mine.acknowledge((*j)->id, (*j)->lease_token)) return 5;
        }
    });
    kids.open_gate();
    std::vector<std::string> outputs;
    const auto codes = kids.wait(&outputs);
    CHECK(codes == std::vector<int>(4, 0));
    std::multiset<std::string> all;
    std::size_t busiest = 0;
    for (const auto& o : outputs) {
        const auto l = lines(o);
        busiest = std::max(busiest, l.size());
        all.insert(l.begin(), l.end());
    }
    CHECK(all.size() == static_cast<std::size_t>(jobs));
    CHECK(std::set<std::string>(all.begin(), all.end()).size() == static_cast<std::size_t>(jobs));
    CHECK(busiest < static_cast<std::size_t>(jobs));  // the work was shared
}

TEST_CASE("a process killed with SIGKILL while holding a lease loses the job to another after the lease",
          "[redis_processes]")
{
    REDIS_TEST_CLIENT(client);
    const auto url = *redis_test::shared_url();
    const auto prefix = redis_test::unique_prefix("proc-takeover");
    const redis_test::prefix_guard cleanup(client, prefix);
    mb::redis_job_queue<client_type> q(client, {.prefix = prefix});
    REQUIRE(q.enqueue({"k", "in flight", "delivery-1", std::nullopt}));
    children kids(1, [&](int, int out) {
        auto c = client_type::connect(url);
        if (!c) return 3;
        mb::redis_job_queue<client_type> mine(*c, {.prefix = prefix});
        auto j = mine.lease(700ms);
        if (!j || !j->has_value()) return 4;
        write_line(out, std::to_string((*j)->lease_token));
        ::pause();  // "working" until killed
        return 0;
    });
    kids.open_gate();
    // Wait until the child holds the lease, then kill it.
    for (int i = 0; i < 200; ++i) {
        auto s = q.stats();
        REQUIRE(s);
        if (s->leased == 1) break;
        std::this_thread::sleep_for(10ms);
    }
    ::kill(kids.pid(0), SIGKILL);
    std::vector<std::string> outputs;
    const auto codes = kids.wait(&outputs);
    CHECK(codes[0] == 128 + SIGKILL);
    const auto dead_token = std::stoull(lines(outputs[0]).at(0));

    auto early = q.lease(30s);
    REQUIRE(early);
    CHECK_FALSE(early->has_value());  // the lease still holds
    std::this_thread::sleep_for(800ms);
    auto taken = q.lease(30s);
    REQUIRE(taken);
    REQUIRE(taken->has_value());
    CHECK((*taken)->payload == "in flight");
    CHECK((*taken)->attempt == 2);
    CHECK((*taken)->lease_token > dead_token);
    CHECK(q.acknowledge((*taken)->id, (*taken)->lease_token));
}

TEST_CASE("N processes drawing from one Redis bucket never exceed the rate", "[redis_processes]")
{
    REDIS_TEST_CLIENT(client);
    const auto url = *redis_test::shared_url();
    const auto prefix = redis_test::unique_prefix("proc-rate");
    const redis_test::prefix_guard cleanup(client, prefix);
    constexpr double rate = 20;
    const auto key = prefix + "{bucket}";
    children kids(4, [&](int, int out) {
        auto c = client_type::connect(url);
        if (!c) return 3;
        auto limiter =
            mb::redis_rate_limiter<client_type>::create(*c, {.key = key, .rate = {.per_second = rate}});
        if (!limiter) return 4;
        const auto end = std::chrono::steady_clock::now() + 1500ms;
        while (std::chrono::steady_clock::now() < end) {
            auto p = limiter->try_acquire_timed();
            if (!p) return 5;
            if (p->permit.granted) {
                write_line(out, std::to_string(p->at.time_since_epoch().count()));
            } else {
                std::this_thread::sleep_for(std::min(p->permit.retry_in, 10ms));
            }
        }
        return 0;
    });
    kids.open_gate();
    std::vector<std::string> outputs;
    const auto codes = kids.wait(&outputs);
    CHECK(codes == std::vector<int>(4, 0));
    std::vector<std::int64_t> granted;
    for (const auto& o : outputs) {
        for (const auto& l : lines(o)) granted.push_back(std::stoll(l));
    }
    // Server times of the grants: no one-second window holds more than 20, and the rate was used.
    CHECK(max_in_window(granted, 1'000'000) <= 20);
    CHECK(granted.size() >= 20);
    CHECK(granted.size() <= 31);  // 1.5 s at 20/s, plus the first
}
