// SPDX-License-Identifier: MIT
#pragma once

// The storage concept behind the idempotency state machine (idempotency.hpp): a record per key, and four
// atomic primitives. See docs/idempotency.md, "Writing a store", for the Redis and PostgreSQL mappings.

#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0 {

/// The state of a stored record.
enum class record_state : std::uint8_t {
    in_progress = 1,  ///< claimed by a worker until expires_at (the lease)
    completed = 2,    ///< finished; kept until expires_at (the retention)
};

/// How a completed unit of work ended (what the stored outcome means).
enum class work_outcome : std::uint8_t {
    none = 0,      ///< in-progress records carry no outcome
    applied = 1,   ///< the effects happened: replay the stored outcome, never run again
    rejected = 2,  ///< definitely not applied, and retrying cannot help (e.g. a 4xx): replay the rejection
    ambiguous =
        3,  ///< may or may not have been applied (timeout after sending): reconcile, do not re-run blindly
};

constexpr std::string_view to_string(record_state s) noexcept
{
    switch (s) {
        case record_state::in_progress: return "in_progress";
        case record_state::completed: return "completed";
    }
    return "unknown";
}

constexpr std::string_view to_string(work_outcome k) noexcept
{
    switch (k) {
        case work_outcome::none: return "none";
        case work_outcome::applied: return "applied";
        case work_outcome::rejected: return "rejected";
        case work_outcome::ambiguous: return "ambiguous";
    }
    return "unknown";
}

/// A record as written to a store: views, so that writing allocates nothing on the caller's side.
struct record_view {
    record_state state = record_state::in_progress;
    work_outcome outcome = work_outcome::none;
    std::uint64_t fence = 0;  ///< fencing token; only the holder of the current fence may change the record
    utc_time expires_at{};    ///< lease end (in_progress) or retention end (completed), UTC
    std::string_view fingerprint{};  ///< payload fingerprint; empty = not checked
    /// Application bytes (e.g. the HTTP response to replay); empty while in progress.
    std::string_view outcome_data{};
};

/// A record as read from a store.
struct idempotency_record {
    record_state state = record_state::in_progress;
    work_outcome outcome = work_outcome::none;
    std::uint64_t fence = 0;
    utc_time expires_at{};
    std::string fingerprint;
    std::string outcome_data;

    [[nodiscard]] bool expired_at(utc_time now) const noexcept { return expires_at <= now; }
    [[nodiscard]] record_view view() const noexcept
    {
        return {state, outcome, fence, expires_at, fingerprint, outcome_data};
    }
    friend bool operator==(const idempotency_record&, const idempotency_record&) = default;
};

template <class S>
concept can_insert_if_absent = requires(S& s, std::string_view key, const record_view& r, utc_time now) {
    { s.insert_if_absent(key, r, now) } -> std::same_as<result<bool>>;
};

template <class S>
concept can_load_record = requires(S& s, std::string_view key, utc_time now) {
    { s.load(key, now) } -> std::same_as<result<std::optional<idempotency_record>>>;
};

template <class S>
concept can_compare_and_set_fence =
    requires(S& s, std::string_view key, std::uint64_t expected_fence, const record_view& r, utc_time now) {
        { s.compare_and_set(key, expected_fence, r, now) } -> std::same_as<result<bool>>;
    };

template <class S>
concept can_erase_if_fence = requires(S& s, std::string_view key, std::uint64_t fence) {
    { s.erase_if_fence(key, fence) } -> std::same_as<result<bool>>;
};

/// A store for idempotency records.
///
/// Requirements (each primitive is one atomic step; `now` is the caller's UTC clock reading):
///   1. insert_if_absent(key, record, now) -> result<bool>: stores `record` iff the store holds no record
///      for `key`; true when stored, false when a record exists (expired or not).
///   2. load(key, now) -> result<optional<idempotency_record>>: the record, or nullopt. May return a record
///      whose expires_at <= now (the state machine then takes it over).
///   3. compare_and_set(key, expected_fence, record, now) -> result<bool>: replaces the record iff one exists
///      and its fence equals expected_fence (expired or not); false otherwise.
///   4. erase_if_fence(key, fence) -> result<bool>: removes the record iff its fence equals `fence`.
///   5. Expiry: a store may forget a record once expires_at <= now (TTL, sweeping), never earlier.
///   6. Consistency: linearizable per key. Every primitive acts on the latest value of its key, as one
///      indivisible step, for all clients of the store (threads, processes, hosts). No cross-key atomicity
///      is needed.
///   7. Errors: failures of the backend are result errors (errc::storage_error), never exceptions of the
///      store's own; a failed write must not have been applied partially.
/// Thread safety: every member may be called concurrently from several threads.
template <class S>
concept idempotency_store =
    can_insert_if_absent<S> && can_load_record<S> && can_compare_and_set_fence<S> && can_erase_if_fence<S>;

}  // namespace meetingbaas::inline v0
