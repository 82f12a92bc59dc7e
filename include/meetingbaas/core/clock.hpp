// SPDX-License-Identifier: MIT
#pragma once

// The wall clock concept shared by every component that stores or compares times across processes and
// restarts: idempotency records, job queues and Svix timestamps.

#include <chrono>
#include <concepts>

namespace meetingbaas::inline v0 {

/// A wall clock: `c.now()` returns a time point convertible to std::chrono::system_clock::time_point (time
/// since the Unix epoch). Records must expire at the same instant for every process that shares a store,
/// and a Svix timestamp is Unix time, so std::chrono::steady_clock (whose epoch is per boot) does not
/// qualify. std::chrono::system_clock does; tests pass a manual clock.
template <class C>
concept wall_clock = requires(const C& c) {
    { c.now() } -> std::convertible_to<std::chrono::system_clock::time_point>;
};

/// The clock's reading as a system_clock time point.
template <wall_clock C>
[[nodiscard]] std::chrono::system_clock::time_point wall_now(const C& clock)
{
    return std::chrono::system_clock::time_point(clock.now());
}

}  // namespace meetingbaas::inline v0
