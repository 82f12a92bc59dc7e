// SPDX-License-Identifier: MIT
#pragma once

// A clock that only moves when told to. Satisfies meetingbaas::retry_clock (a `now()` member) and the
// std::chrono clock member types. Copies share one time line, so a test keeps a copy and hands
// another to the code under test. Thread-safe (the time is an atomic). No global state.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace meetingbaas::test {

class manual_clock {
public:
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<manual_clock, duration>;
    static constexpr bool is_steady = true;

    /// Starts at `start` (default: 1,000 s after the epoch, so that "before the start" is representable).
    explicit manual_clock(time_point start = time_point(std::chrono::seconds(1000)))
        : now_(std::make_shared<std::atomic<rep>>(start.time_since_epoch().count()))
    {}

    [[nodiscard]] time_point now() const noexcept
    {
        return time_point(duration(now_->load(std::memory_order_acquire)));
    }

    template <class Rep, class Period>
    void advance(std::chrono::duration<Rep, Period> d) noexcept
    {
        now_->fetch_add(std::chrono::duration_cast<duration>(d).count(), std::memory_order_acq_rel);
    }

    void set(time_point t) noexcept { now_->store(t.time_since_epoch().count(), std::memory_order_release); }

private:
    std::shared_ptr<std::atomic<rep>> now_;
};

}  // namespace meetingbaas::test
