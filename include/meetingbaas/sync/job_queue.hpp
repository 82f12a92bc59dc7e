// SPDX-License-Identifier: MIT
#pragma once

// A small durable-work abstraction for "acknowledge now, process later":
//  * job_queue: the concept (enqueue, lease, acknowledge, retry later, dead-letter, inspect and re-queue
//    dead letters), built from named sub-concepts so a failing adapter is named in the diagnostic;
//  * in_memory_job_queue: a thread-safe implementation for tests and for servers that accept losing work
//    on a crash. The durable default is adapters/sqlite/job_queue.hpp (sqlite_job_queue).
//
// Semantics shared by every implementation (docs/calendar-sync.md, "Operating the queue"):
//  * enqueue with a non-empty unique_key inserts at most once per key: a second enqueue returns the
//    first job's id with inserted == false (until that job is purged after completion);
//  * lease hands a due job to exactly one worker for lease_duration and bumps its attempt count and its
//    lease token (a fencing token: strictly increasing across the queue). A job whose lease expired
//    (its worker died) is due again;
//  * acknowledge / retry_later / dead_letter / extend_lease take the token and fail with
//    errc::fence_mismatch when the job was leased again since (the caller lost its lease), and with
//    errc::not_found when the job does not exist;
//  * times are wall-clock (they must survive restarts), millisecond precision, from an injected clock.

#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

/// Queue times: UTC wall clock, milliseconds (what every backend can store exactly).
using queue_time = std::chrono::sys_time<std::chrono::milliseconds>;

/// The current time of `clock` (a wall_clock, core/clock.hpp), truncated to queue_time.
template <wall_clock C>
[[nodiscard]] queue_time queue_now(const C& clock)
{
    return std::chrono::time_point_cast<std::chrono::milliseconds>(wall_now(clock));
}

/// What to enqueue.
struct job_spec {
    std::string kind;        ///< routes the job to a handler, e.g. "calendar.sync_events"
    std::string payload;     ///< opaque to the queue (the calendar processor stores the verified body)
    std::string unique_key;  ///< "" = none; otherwise at most one job per key is ever enqueued
    std::optional<queue_time> not_before;  ///< first time the job may be leased; nullopt = now
};

/// The outcome of enqueue.
struct enqueue_outcome {
    std::string id;
    bool inserted = false;  ///< false: a job with the same unique_key already existed (id is that job)
};

/// A job handed to one worker until leased_until.
struct leased_job {
    std::string id;
    std::string kind;
    std::string payload;
    std::string unique_key;
    std::uint32_t attempt = 0;      ///< 1 on the first lease; counts leases since enqueue or re-queue
    std::uint64_t lease_token = 0;  ///< fencing token: pass it back to acknowledge, retry_later, ...
    queue_time leased_until{};
    queue_time enqueued_at{};
    std::string last_error;  ///< the reason given by the previous retry_later, or ""
};

/// A job that failed permanently (4xx, exhausted retries) and waits for an operator.
struct dead_letter_entry {
    std::string id;
    std::string kind;
    std::string payload;
    std::string unique_key;
    std::string reason;
    std::uint32_t attempts = 0;
    queue_time enqueued_at{};
    queue_time failed_at{};
};

/// Counts per state, for /metrics and health checks.
struct queue_stats {
    std::size_t ready = 0;      ///< due now
    std::size_t scheduled = 0;  ///< waiting for a later time (retry later, not_before)
    std::size_t leased = 0;     ///< held by a worker whose lease has not expired
    std::size_t dead = 0;
    std::size_t completed = 0;  ///< acknowledged and not yet purged (they keep their unique_key)
};

template <class Q>
concept can_enqueue_jobs = requires(Q& q, job_spec spec) {
    { q.enqueue(std::move(spec)) } -> std::same_as<result<enqueue_outcome>>;
};

template <class Q>
concept can_lease_jobs = requires(Q& q, std::chrono::milliseconds lease_duration) {
    { q.lease(lease_duration) } -> std::same_as<result<std::optional<leased_job>>>;
};

template <class Q>
concept can_settle_jobs = requires(Q& q, std::string_view id, std::uint64_t token, queue_time at,
                                   std::string_view reason, std::chrono::milliseconds d) {
    { q.acknowledge(id, token) } -> std::same_as<result<void>>;
    { q.retry_later(id, token, at, reason) } -> std::same_as<result<void>>;
    { q.dead_letter(id, token, reason) } -> std::same_as<result<void>>;
    { q.extend_lease(id, token, d) } -> std::same_as<result<void>>;
};

template <class Q>
concept can_manage_dead_letters = requires(Q& q, std::string_view id, std::size_t limit) {
    { q.dead_letters(limit) } -> std::same_as<result<std::vector<dead_letter_entry>>>;
    { q.requeue_dead_letter(id) } -> std::same_as<result<void>>;
};

template <class Q>
concept can_inspect_queue = requires(Q& q) {
    { q.stats() } -> std::same_as<result<queue_stats>>;
    { q.next_due() } -> std::same_as<result<std::optional<queue_time>>>;
};

/// A job queue with leases, fenced settlement and a dead-letter store.
/// Requirements:
///   1. enqueue(job_spec) -> result<enqueue_outcome>; insert-once per non-empty unique_key.
///   2. lease(duration) -> result<optional<leased_job>>; nullopt when nothing is due. The earliest due
///      job first (by due time, then by insertion order).
///   3. acknowledge(id, token), retry_later(id, token, at, reason), dead_letter(id, token, reason),
///      extend_lease(id, token, duration) -> result<void>; errc::fence_mismatch when token is stale.
///   4. dead_letters(limit) -> result<vector<dead_letter_entry>> (oldest failure first);
///      requeue_dead_letter(id) -> result<void> (due now, attempt count reset, enqueued_at = now: the
///      job gets a whole new retry horizon, as a new delivery would).
///   5. stats() -> result<queue_stats>; next_due() -> result<optional<queue_time>>, the earliest time a
///      job becomes leasable (an expired lease counts), nullopt when there is none.
/// Thread safety: every member may be called concurrently (workers race on lease()).
template <class Q>
concept job_queue = can_enqueue_jobs<Q> && can_lease_jobs<Q> && can_settle_jobs<Q> &&
                    can_manage_dead_letters<Q> && can_inspect_queue<Q>;

/// An in-process job_queue: a mutex, a map of jobs and two time-ordered indexes. Work is lost when the
/// process exits; use sqlite_job_queue (adapters/sqlite/job_queue.hpp) to survive crashes.
template <wall_clock Clock = std::chrono::system_clock>
class in_memory_job_queue {
public:
    in_memory_job_queue() = default;
    explicit in_memory_job_queue(Clock clock) : clock_(std::move(clock)) {}

    result<enqueue_outcome> enqueue(job_spec spec)
    {
        std::lock_guard lock(mutex_);
        if (!spec.unique_key.empty()) {
            if (const auto it = by_key_.find(spec.unique_key); it != by_key_.end()) {
                return enqueue_outcome{std::to_string(it->second), false};
            }
        }
        const auto now = queue_now(clock_);
        const std::uint64_t seq = ++last_seq_;
        record r;
        r.kind = std::move(spec.kind);
        r.payload = std::move(spec.payload);
        r.unique_key = std::move(spec.unique_key);
        r.enqueued_at = now;
        r.due = spec.not_before.value_or(now);
        ready_.emplace(r.due, seq);
        if (!r.unique_key.empty()) by_key_.emplace(r.unique_key, seq);
        jobs_.emplace(seq, std::move(r));
        return enqueue_outcome{std::to_string(seq), true};
    }

    result<std::optional<leased_job>> lease(std::chrono::milliseconds lease_duration)
    {
        if (lease_duration <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "lease", "lease duration must be positive"};
        }
        std::lock_guard lock(mutex_);
        const auto now = queue_now(clock_);
        reclaim_expired(now);
        if (ready_.empty() || ready_.begin()->first > now) return std::optional<leased_job>{};
        const std::uint64_t seq = ready_.begin()->second;
        ready_.erase(ready_.begin());
        record& r = jobs_.find(seq)->second;
        r.state = job_state::leased;
        r.attempt += 1;
        r.token = ++last_token_;
        r.due = now + lease_duration;
        leased_.emplace(r.due, seq);
        return std::optional<leased_job>{leased_job{std::to_string(seq), r.kind, r.payload, r.unique_key,
                                                    r.attempt, r.token, r.due, r.enqueued_at, r.last_error}};
    }

    result<void> acknowledge(std::string_view id, std::uint64_t token)
    {
        std::lock_guard lock(mutex_);
        auto found = find_leased(id, token, "acknowledge");
        if (!found) return found.error();
        record& r = (*found)->second;
        leased_.erase({r.due, (*found)->first});
        r.state = job_state::completed;
        r.due = queue_now(clock_);
        r.payload.clear();
        r.payload.shrink_to_fit();
        if (r.unique_key.empty()) jobs_.erase(*found);  // nothing to remember it by
        return {};
    }

    result<void> retry_later(std::string_view id, std::uint64_t token, queue_time at, std::string_view reason)
    {
        std::lock_guard lock(mutex_);
        auto found = find_leased(id, token, "retry_later");
        if (!found) return found.error();
        record& r = (*found)->second;
        leased_.erase({r.due, (*found)->first});
        r.state = job_state::ready;
        r.due = at;
        r.last_error = std::string(reason);
        ready_.emplace(r.due, (*found)->first);
        return {};
    }

    result<void> dead_letter(std::string_view id, std::uint64_t token, std::string_view reason)
    {
        std::lock_guard lock(mutex_);
        auto found = find_leased(id, token, "dead_letter");
        if (!found) return found.error();
        record& r = (*found)->second;
        leased_.erase({r.due, (*found)->first});
        r.state = job_state::dead;
        r.due = queue_now(clock_);
        r.last_error = std::string(reason);
        return {};
    }

    result<void> extend_lease(std::string_view id, std::uint64_t token, std::chrono::milliseconds d)
    {
        if (d <= std::chrono::milliseconds::zero()) {
            return error{errc::invalid_argument, "extend_lease", "lease duration must be positive"};
        }
        std::lock_guard lock(mutex_);
        auto found = find_leased(id, token, "extend_lease");
        if (!found) return found.error();
        record& r = (*found)->second;
        leased_.erase({r.due, (*found)->first});
        r.due = queue_now(clock_) + d;
        leased_.emplace(r.due, (*found)->first);
        return {};
    }

    result<std::vector<dead_letter_entry>> dead_letters(std::size_t limit)
    {
        std::lock_guard lock(mutex_);
        std::vector<std::pair<std::uint64_t, const record*>> dead;
        for (const auto& [seq, r] : jobs_) {
            if (r.state == job_state::dead) dead.emplace_back(seq, &r);
        }
        // std::sort with the id as tie-breaker (stable_sort warns on Clang 19 with libstdc++ 12).
        std::sort(dead.begin(), dead.end(), [](const auto& a, const auto& b) {
            return a.second->due != b.second->due ? a.second->due < b.second->due : a.first < b.first;
        });
        std::vector<dead_letter_entry> out;
        for (const auto& [seq, r] : dead) {
            if (out.size() >= limit) break;
            out.push_back(dead_letter_entry{std::to_string(seq), r->kind, r->payload, r->unique_key,
                                            r->last_error, r->attempt, r->enqueued_at, r->due});
        }
        return out;
    }

    result<void> requeue_dead_letter(std::string_view id)
    {
        std::lock_guard lock(mutex_);
        const auto seq = parse_id(id);
        const auto it = seq ? jobs_.find(*seq) : jobs_.end();
        if (it == jobs_.end() || it->second.state != job_state::dead) {
            return error{errc::not_found, "requeue_dead_letter", "no dead letter with id " + std::string(id)};
        }
        record& r = it->second;
        r.state = job_state::ready;
        r.attempt = 0;
        r.due = queue_now(clock_);
        r.enqueued_at = r.due;  // a fresh retry horizon (sync_worker_options::horizon counts from here)
        ready_.emplace(r.due, it->first);
        return {};
    }

    result<queue_stats> stats()
    {
        std::lock_guard lock(mutex_);
        const auto now = queue_now(clock_);
        queue_stats s;
        for (const auto& [seq, r] : jobs_) {
            switch (r.state) {
                case job_state::ready: (r.due <= now ? s.ready : s.scheduled) += 1; break;
                case job_state::leased: (r.due <= now ? s.ready : s.leased) += 1; break;
                case job_state::dead: s.dead += 1; break;
                case job_state::completed: s.completed += 1; break;
            }
        }
        return s;
    }

    result<std::optional<queue_time>> next_due()
    {
        std::lock_guard lock(mutex_);
        std::optional<queue_time> next;
        if (!ready_.empty()) next = ready_.begin()->first;
        if (!leased_.empty() && (!next || leased_.begin()->first < *next)) next = leased_.begin()->first;
        return next;
    }

    /// Makes every leased job due now. Only for a single owner restarting (its old leases are orphans).
    result<std::size_t> requeue_leased()
    {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& [due, seq] : leased_) {
            record& r = jobs_.find(seq)->second;
            r.state = job_state::ready;
            r.due = queue_now(clock_);
            ready_.emplace(r.due, seq);
            ++n;
        }
        leased_.clear();
        return n;
    }

    /// Forgets completed jobs acknowledged before `before` (their unique_key can be enqueued again).
    result<std::size_t> purge_completed(queue_time before)
    {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (auto it = jobs_.begin(); it != jobs_.end();) {
            if (it->second.state == job_state::completed && it->second.due < before) {
                if (!it->second.unique_key.empty()) by_key_.erase(it->second.unique_key);
                it = jobs_.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
        return n;
    }

private:
    enum class job_state { ready, leased, completed, dead };
    struct record {
        std::string kind;
        std::string payload;
        std::string unique_key;
        std::string last_error;
        job_state state = job_state::ready;
        std::uint32_t attempt = 0;
        std::uint64_t token = 0;
        queue_time enqueued_at{};
        queue_time due{};  // ready: run at; leased: lease end; completed/dead: when it got there
    };
    using job_map = std::map<std::uint64_t, record>;

    static std::optional<std::uint64_t> parse_id(std::string_view id)
    {
        if (id.empty() || id.size() > 19) return std::nullopt;
        std::uint64_t v = 0;
        for (const char c : id) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        return v;
    }

    result<typename job_map::iterator> find_leased(std::string_view id, std::uint64_t token,
                                                   const char* where)
    {
        const auto seq = parse_id(id);
        const auto it = seq ? jobs_.find(*seq) : jobs_.end();
        if (it == jobs_.end() || it->second.state == job_state::completed) {
            return error{errc::not_found, where, "no job with id " + std::string(id)};
        }
        if (it->second.state != job_state::leased || it->second.token != token) {
            return error{errc::fence_mismatch, where, "the lease on job " + std::string(id) + " was lost"};
        }
        return it;
    }

    void reclaim_expired(queue_time now)
    {
        while (!leased_.empty() && leased_.begin()->first <= now) {
            const auto [due, seq] = *leased_.begin();
            leased_.erase(leased_.begin());
            jobs_.find(seq)->second.state =
                job_state::ready;      // keeps its token: the old holder fails with fence_mismatch
            ready_.emplace(due, seq);  // once someone else leases it
        }
    }

    [[no_unique_address]] Clock clock_{};
    std::mutex mutex_;
    job_map jobs_;
    std::set<std::pair<queue_time, std::uint64_t>> ready_;   // (due, seq)
    std::set<std::pair<queue_time, std::uint64_t>> leased_;  // (lease end, seq)
    std::unordered_map<std::string, std::uint64_t> by_key_;
    std::uint64_t last_seq_ = 0;
    std::uint64_t last_token_ = 0;
};

static_assert(job_queue<in_memory_job_queue<>>);

}  // namespace meetingbaas::inline v0
