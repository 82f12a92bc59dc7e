// SPDX-License-Identifier: MIT
#pragma once

// Periodic maintenance on one background thread: each task runs at its own period (the first run one
// period after start; a task may ask for its next run sooner or later), and stop() wakes the thread at
// once. A task returns how many things it did (rows purged, pages checkpointed, ...) or why it failed;
// both are logged ({"event":"housekeeping",...} when it did something, {"event":"housekeeping_error",...}
// when its error changes or once a minute while it persists). Tasks must not throw.

#include "json_log.hpp"

#include <meetingbaas/core/result.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace support {

/// What one run of a task did: how many things (logged when not 0), and when it wants to run again
/// (nullopt: after its period).
struct maintenance_outcome {
    std::uint64_t count = 0;
    std::optional<std::chrono::milliseconds> next_in{};
};

/// One maintenance task: what it is called in logs, how often it runs, and whether it also runs once
/// at stop (e.g. a final checkpoint).
struct maintenance_task {
    std::string name;
    std::chrono::milliseconds period;
    std::function<meetingbaas::result<maintenance_outcome, std::string>()> run;
    bool at_stop = false;
};

class housekeeping {
public:
    explicit housekeeping(json_log& log) : log_(&log) {}
    housekeeping(const housekeeping&) = delete;
    housekeeping& operator=(const housekeeping&) = delete;
    ~housekeeping() { stop(); }

    /// Adds tasks. Call before start().
    void add(std::vector<maintenance_task> tasks)
    {
        for (auto& t : tasks) {
            auto shared = std::make_shared<maintenance_task>(std::move(t));
            auto run = [this, shared, last_error = std::string(),
                        last_logged = std::chrono::steady_clock::time_point()]() mutable
                -> std::optional<std::chrono::milliseconds> {
                auto r = shared->run();
                if (r) {
                    last_error.clear();
                    if (r->count > 0)
                        log_->write("housekeeping", {{"task", shared->name}, {"count", r->count}});
                    return r->next_in;
                }
                const auto now = std::chrono::steady_clock::now();
                if (r.error() != last_error || now - last_logged >= std::chrono::minutes(1)) {
                    log_->write("housekeeping_error", {{"task", shared->name}, {"error", r.error()}});
                    last_error = r.error();
                    last_logged = now;
                }
                return std::nullopt;
            };
            if (shared->at_stop) final_.push_back([run]() mutable { (void)run(); });
            tasks_.push_back({shared->period, std::move(run), {}});
        }
    }

    void start()
    {
        thread_ = std::jthread([this](std::stop_token stop) {
            const auto start = std::chrono::steady_clock::now();
            for (auto& t : tasks_) t.next = start + t.period;
            std::mutex m;
            std::condition_variable_any cv;
            while (!stop.stop_requested()) {
                auto next = std::chrono::steady_clock::time_point::max();
                for (auto& t : tasks_) {
                    if (std::chrono::steady_clock::now() >= t.next) {
                        const auto asked = t.run();
                        const auto now = std::chrono::steady_clock::now();
                        t.next = asked ? now + *asked : t.next + t.period;
                        if (t.next < now) t.next = now + t.period;
                    }
                    next = std::min(next, t.next);
                }
                std::unique_lock lock(m);
                if (next == std::chrono::steady_clock::time_point::max()) {
                    cv.wait(lock, stop, [] { return false; });
                } else {
                    cv.wait_until(lock, stop, next, [] { return false; });
                }
            }
        });
    }

    /// Stops the periodic tasks, then runs the at_stop tasks. Idempotent.
    void stop()
    {
        if (!thread_.joinable()) return;
        thread_.request_stop();
        thread_.join();
        for (auto& f : final_) f();
        final_.clear();
    }

private:
    struct task {
        std::chrono::milliseconds period;
        std::function<std::optional<std::chrono::milliseconds>()> run;
        std::chrono::steady_clock::time_point next;
    };
    json_log* log_;
    std::vector<task> tasks_;
    std::vector<std::function<void()>> final_;
    std::jthread thread_;
};

}  // namespace support
