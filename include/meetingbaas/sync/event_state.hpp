// SPDX-License-Identifier: MIT
#pragma once

// Per-event state of calendar sync: the newest version of each event that was acted on (so that an older
// view is never acted on: reconcile, don't replay), and per-event locks that serialize the workers of one
// process. Backends: in_memory_event_state here, sqlite_event_state in adapters/sqlite/event_state.hpp.

#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>

#include <array>
#include <concepts>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace meetingbaas::inline v0 {

// ---------------------------------------------------------------------------------------------------------
// Applied state per event

template <class S>
concept can_read_applied_version = requires(S& s, std::string_view uuid) {
    { s.applied_version(uuid) } -> std::same_as<result<std::optional<utc_time>>>;
};

template <class S>
concept can_record_applied_version = requires(S& s, std::string_view uuid, utc_time t) {
    { s.record_applied(uuid, t) } -> std::same_as<result<void>>;
};

/// Where the processor remembers the newest `last_updated_at` it has applied for each event.
/// Requirements:
///   1. applied_version(uuid) -> result<optional<utc_time>>; nullopt when never applied;
///   2. record_applied(uuid, t) -> result<void>; keeps max(stored, t) (never goes back).
/// Thread safety: both may be called concurrently.
template <class S>
concept event_state_store = can_read_applied_version<S> && can_record_applied_version<S>;

/// An in-process event_state_store (lost on exit; sqlite_event_state in adapters/sqlite/event_state.hpp
/// persists).
class in_memory_event_state {
public:
    result<std::optional<utc_time>> applied_version(std::string_view uuid)
    {
        std::lock_guard lock(mutex_);
        const auto it = applied_.find(std::string(uuid));
        if (it == applied_.end()) return std::optional<utc_time>{};
        return std::optional<utc_time>{it->second};
    }
    result<void> record_applied(std::string_view uuid, utc_time t)
    {
        std::lock_guard lock(mutex_);
        auto [it, inserted] = applied_.try_emplace(std::string(uuid), t);
        if (!inserted && it->second < t) it->second = t;
        return {};
    }

private:
    std::mutex mutex_;
    std::unordered_map<std::string, utc_time> applied_;
};

static_assert(event_state_store<in_memory_event_state>);

/// Serializes the processing of one event across the workers of a process (check, act, record happen
/// under the event's stripe), so that two jobs about the same event cannot interleave their decisions.
/// Across processes, the applied-version check and the action keys keep the outcome right.
class event_locks {
public:
    [[nodiscard]] std::unique_lock<std::mutex> lock(std::string_view uuid)
    {
        return std::unique_lock<std::mutex>(stripes_[std::hash<std::string_view>{}(uuid) % stripes_.size()]);
    }

private:
    std::array<std::mutex, 64> stripes_;
};

}  // namespace meetingbaas::inline v0
