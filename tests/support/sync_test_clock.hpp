// SPDX-License-Identifier: MIT
#pragma once
// A manual wall clock for queue and processor tests: copies share one time, which moves only on advance().

#include <atomic>
#include <chrono>
#include <memory>

namespace sync_test {

class manual_clock {
public:
    using time_point = std::chrono::system_clock::time_point;
    using duration = std::chrono::system_clock::duration;

    manual_clock() : now_(std::make_shared<std::atomic<std::int64_t>>(1'789'000'000'000)) {}  // 2026-09-10
    /// Starts at `start` (e.g. the real time, for tests against a loopback API that checks "now" itself).
    explicit manual_clock(std::chrono::system_clock::time_point start)
        : now_(std::make_shared<std::atomic<std::int64_t>>(
              std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count()))
    {}

    [[nodiscard]] time_point now() const
    {
        return time_point(
            std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds(now_->load())));
    }
    void advance(std::chrono::milliseconds d) const { now_->fetch_add(d.count()); }

private:
    std::shared_ptr<std::atomic<std::int64_t>> now_;
};

}  // namespace sync_test
