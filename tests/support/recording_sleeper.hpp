// SPDX-License-Identifier: MIT
#pragma once

// A sleeper that records the requested delays instead of sleeping, and optionally advances a
// manual_clock by each delay (google-cloud-cpp's sleeper injection). Copies share the record, so a
// test keeps one copy and gives another to the code under test. Recording does not allocate until
// more than `capacity` delays were recorded. Not thread-safe.

#include "manual_clock.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace meetingbaas::test {

class recording_sleeper {
public:
    explicit recording_sleeper(std::size_t capacity = 1024) : state_(std::make_shared<state>())
    {
        state_->delays.reserve(capacity);
    }
    explicit recording_sleeper(manual_clock clock, std::size_t capacity = 1024) : recording_sleeper(capacity)
    {
        state_->clock.emplace(std::move(clock));
    }

    template <class Rep, class Period>
    void operator()(std::chrono::duration<Rep, Period> d) const
    {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d);
        state_->delays.push_back(ms);
        state_->total += ms;
        if (state_->clock) state_->clock->advance(d);
    }

    [[nodiscard]] const std::vector<std::chrono::milliseconds>& delays() const noexcept
    {
        return state_->delays;
    }
    [[nodiscard]] std::chrono::milliseconds total() const noexcept { return state_->total; }
    [[nodiscard]] std::size_t count() const noexcept { return state_->delays.size(); }
    void clear() noexcept
    {
        state_->delays.clear();
        state_->total = std::chrono::milliseconds(0);
    }

private:
    struct state {
        std::vector<std::chrono::milliseconds> delays;
        std::chrono::milliseconds total{0};
        std::optional<manual_clock> clock;
    };
    std::shared_ptr<state> state_;
};

}  // namespace meetingbaas::test
