// SPDX-License-Identifier: MIT
#pragma once

// Idempotent processing: "run this unit of work at most once at a time, and at least once overall".
//
//   begin(key, fingerprint)  -> acquired (a claim with a fencing token)
//                             | completed (the stored outcome: replay it)
//                             | in_progress (another worker holds the lease until lease_until)
//                             | mismatch (same key, different payload)
//   complete(claim, outcome) -> the record becomes `completed` for the retention period
//   release(claim)           -> the record is removed: a failure that is safe to retry
//   renew(claim)             -> extends the lease (heartbeat for long work)
//
// A claim whose lease expired is taken over by the next begin(), which bumps the fence: the stale owner's
// complete/release/renew then fail with errc::fence_mismatch. The state lives in a store (the
// idempotency_store concept), so it survives restarts and works across processes with a durable store.
// See docs/idempotency.md.

#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/idempotency/key.hpp>
#include <meetingbaas/idempotency/store.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

// ---------------------------------------------------------------------------------------------------------
// Retention and lease defaults, derived from the senders' retry horizons.

/// The v2 (Svix) retry schedule after the first attempt: 5 s, 10 s, 5 min, 15 min, 30 min, 2 h (spec §3.2).
inline constexpr std::chrono::seconds v2_retry_delays[] = {
    std::chrono::seconds{5},  std::chrono::seconds{10}, std::chrono::minutes{5},
    std::chrono::minutes{15}, std::chrono::minutes{30}, std::chrono::hours{2},
};

/// The latest a v2 automatic retry can arrive after the first attempt: every delay at +20 % jitter and at
/// least 60 s (after a 429 or a timeout), plus the 30 s receiver timeout per attempt: 12,540 s (3 h 29 min).
constexpr std::chrono::seconds v2_retry_horizon() noexcept
{
    std::chrono::seconds total{0};
    for (const auto d : v2_retry_delays) {
        const auto jittered = d + d / 5;
        total += std::max(jittered, std::chrono::seconds{60}) + std::chrono::seconds{30};
    }
    return total;
}

/// Default retention for v2 delivery keys (svix-id) and v2 payload keys: 72 h. That is about 19 times the
/// automatic retry horizon, so clock skew and a slow queue never shorten protection; manual resends
/// (`resend-webhook`, unlimited) within three days are also absorbed. Later resends run the handler again,
/// which must reconcile (treat webhooks as hints) anyway.
inline constexpr std::chrono::hours default_v2_retention{72};

/// Default retention for v1 keys: 72 h. v1 documents retries but no schedule; three days matches the
/// longest common sender horizons (Stripe, Standard Webhooks' example schedule).
inline constexpr std::chrono::hours default_v1_retention{72};

/// Default lease: 2 min. Long enough for a webhook handler that calls the API a few times with retries;
/// short enough that a crashed worker's key is taken over before Svix's +5 min retry. Renew it for longer
/// work. Must be shorter than the retention.
inline constexpr std::chrono::minutes default_lease{2};

/// Options of an idempotency_guard.
struct idempotency_options {
    std::chrono::milliseconds lease = default_lease;
    std::chrono::milliseconds retention = default_v2_retention;  ///< default for complete()
    std::uint32_t max_attempts = 8;  ///< begin() retries after losing a race on the same key this often
};

/// Checks the options: lease > 0, retention >= lease (a completed record must outlive any lease, or a stale
/// owner could outlast the record that fences it), max_attempts >= 1. Errors: errc::invalid_argument.
[[nodiscard]] inline result<void> validate(const idempotency_options& o)
{
    if (o.lease <= std::chrono::milliseconds::zero()) {
        return error{errc::invalid_argument, "idempotency_options.lease", "the lease must be positive"};
    }
    if (o.retention < o.lease) {
        return error{errc::invalid_argument, "idempotency_options.retention",
                     "the retention must not be shorter than the lease"};
    }
    if (o.max_attempts == 0) {
        return error{errc::invalid_argument, "idempotency_options.max_attempts", "must be at least 1"};
    }
    return {};
}

// ---------------------------------------------------------------------------------------------------------
// The state machine

/// What begin() found.
enum class begin_status {
    acquired,     ///< you own the key: do the work, then complete() or release()
    completed,    ///< done before: replay `record` (its outcome kind and data)
    in_progress,  ///< another worker holds the lease until `record->expires_at`: answer 409 / retry later
    mismatch,     ///< the key was used with another payload fingerprint: answer 422
};

constexpr std::string_view to_string(begin_status s) noexcept
{
    switch (s) {
        case begin_status::acquired: return "acquired";
        case begin_status::completed: return "completed";
        case begin_status::in_progress: return "in_progress";
        case begin_status::mismatch: return "mismatch";
    }
    return "unknown";
}

/// The HTTP status a receiver answers with, after the IETF Idempotency-Key draft: completed 200 (the sender
/// stops retrying), in progress 409, mismatch 422. `acquired` answers 202 when you acknowledge first and
/// process asynchronously (the Meeting BaaS advice).
constexpr int suggested_http_status(begin_status s) noexcept
{
    switch (s) {
        case begin_status::acquired: return 202;
        case begin_status::completed: return 200;
        case begin_status::in_progress: return 409;
        case begin_status::mismatch: return 422;
    }
    return 500;
}

/// Proof of ownership of a key: pass it to complete(), release() or renew(). Plain data: it may be stored
/// (e.g. in a job) and used by another thread or process, as long as the fence is current.
struct idempotency_claim {
    idempotency_key key;
    fingerprint payload_fingerprint;
    std::uint64_t fence = 0;
    utc_time lease_until{};
    bool took_over = false;            ///< the key's previous lease had expired (a worker crashed or stalled)
    std::uint64_t previous_fence = 0;  ///< the fence taken over, when took_over
};

/// The result of begin(): the status, the claim (meaningful when acquired; key and fingerprint always set),
/// and the stored record for completed, in_progress and mismatch.
struct begin_outcome {
    begin_status status = begin_status::acquired;
    idempotency_claim claim;
    std::optional<idempotency_record> record;

    [[nodiscard]] bool acquired() const noexcept { return status == begin_status::acquired; }
};

/// The idempotency state machine over a store. Holds a reference to the store (which must outlive it) and
/// a copy of the clock. Thread-safe when the store is (every store of this library is): one guard may be
/// shared by all workers. Construct it from a store (default options), or with create() /
/// make_idempotency_guard(store, options) to choose the lease and retention.
template <idempotency_store Store, wall_clock Clock = std::chrono::system_clock>
class idempotency_guard {
public:
    /// A guard with the default options (lease 2 min, retention 72 h, 8 attempts): they are valid, so this
    /// cannot fail. With CTAD: `meetingbaas::idempotency_guard guard{store};`.
    explicit idempotency_guard(Store& store, Clock clock = Clock{})
        : idempotency_guard(store, idempotency_options{}, std::move(clock))
    {}

    /// A guard with your options. Errors: errc::invalid_argument when validate(options) fails.
    [[nodiscard]] static result<idempotency_guard> create(Store& store, idempotency_options options,
                                                          Clock clock = Clock{})
    {
        if (auto ok = validate(options); !ok) return std::move(ok).error();
        return idempotency_guard(store, options, std::move(clock));
    }

    /// Claims `key` for `options().lease`, or reports why not. An empty fingerprint skips the payload
    /// check (for keys that already hash the payload). Errors: the store's, and errc::conflict when the key
    /// changed under us max_attempts times in a row (heavy contention; retry later).
    result<begin_outcome> begin(idempotency_key key, fingerprint payload_fingerprint = {})
    {
        return begin_for(std::move(key), std::move(payload_fingerprint), options_.lease);
    }

    /// begin() with an explicit lease. Errors: errc::invalid_argument when lease <= 0 or > retention.
    result<begin_outcome> begin_for(idempotency_key key, fingerprint payload_fingerprint,
                                    std::chrono::milliseconds lease)
    {
        if (lease <= std::chrono::milliseconds::zero() || lease > options_.retention) {
            return error{errc::invalid_argument, "idempotency_guard::begin",
                         "the lease must be positive and not longer than the retention"};
        }
        begin_outcome out;
        out.claim.key = std::move(key);
        out.claim.payload_fingerprint = std::move(payload_fingerprint);
        const std::string_view k = out.claim.key.view();
        for (std::uint32_t attempt = 0; attempt < options_.max_attempts; ++attempt) {
            const utc_time now = current_time();
            const utc_time until = now + std::chrono::duration_cast<std::chrono::microseconds>(lease);
            const std::uint64_t fresh = fresh_fence(k, now);
            const record_view claim_record{record_state::in_progress,
                                           work_outcome::none,
                                           fresh,
                                           until,
                                           out.claim.payload_fingerprint,
                                           {}};
            auto inserted = store_->insert_if_absent(k, claim_record, now);
            if (!inserted) return std::move(inserted).error();
            if (*inserted) {
                out.claim.fence = fresh;
                out.claim.lease_until = until;
                return out;
            }
            auto existing = store_->load(k, now);
            if (!existing) return std::move(existing).error();
            if (!existing->has_value()) continue;  // removed in between: try to insert again
            idempotency_record& rec = **existing;
            if (rec.expired_at(now)) {
                // Take over: bump the fence past the old one, so its owner can no longer write.
                const std::uint64_t bumped = std::max(rec.fence + 1, fresh);
                record_view takeover = claim_record;
                takeover.fence = bumped;
                auto swapped = store_->compare_and_set(k, rec.fence, takeover, now);
                if (!swapped) return std::move(swapped).error();
                if (!*swapped) continue;  // someone else changed it first
                out.claim.fence = bumped;
                out.claim.lease_until = until;
                out.claim.took_over = rec.state == record_state::in_progress;
                out.claim.previous_fence = rec.fence;
                return out;
            }
            if (!out.claim.payload_fingerprint.empty() && !rec.fingerprint.empty() &&
                rec.fingerprint != out.claim.payload_fingerprint) {
                out.status = begin_status::mismatch;
            } else if (rec.state == record_state::completed) {
                out.status = begin_status::completed;
            } else {
                out.status = begin_status::in_progress;
            }
            out.record = std::move(rec);
            return out;
        }
        return error{errc::conflict, std::string(k), "the record kept changing during begin(); retry later"};
    }

    /// Records the outcome and keeps it for options().retention. This consumes the claim: afterwards the
    /// claim is stale. Errors: errc::fence_mismatch when the claim is stale (the lease expired and another
    /// worker took over, the record expired and was removed, or the claim was already completed).
    result<void> complete(const idempotency_claim& claim, work_outcome kind = work_outcome::applied,
                          std::string_view outcome_data = {})
    {
        return complete_for(claim, kind, outcome_data, options_.retention);
    }

    /// complete() with an explicit retention. Errors: also errc::invalid_argument when retention is shorter
    /// than the lease, or kind is work_outcome::none.
    result<void> complete_for(const idempotency_claim& claim, work_outcome kind,
                              std::string_view outcome_data, std::chrono::milliseconds retention)
    {
        if (retention < options_.lease) {
            return error{errc::invalid_argument, "idempotency_guard::complete",
                         "the retention must not be shorter than the lease"};
        }
        if (kind == work_outcome::none) {
            return error{errc::invalid_argument, "idempotency_guard::complete", "work_outcome::none"};
        }
        const utc_time now = current_time();
        // The completed record gets fence + 1: completion consumes the claim, so a second complete(), a
        // release() (which would delete the outcome) or a renew() (which would reopen it) with the same
        // claim fails with fence_mismatch instead of corrupting the record.
        const record_view done{
            record_state::completed,   kind,
            claim.fence + 1,           now + std::chrono::duration_cast<std::chrono::microseconds>(retention),
            claim.payload_fingerprint, outcome_data};
        auto swapped = store_->compare_and_set(claim.key.view(), claim.fence, done, now);
        if (!swapped) return std::move(swapped).error();
        if (!*swapped) return stale(claim, "complete");
        return {};
    }

    /// Removes the record, so that the next delivery runs the work again. Use it after a failure that left
    /// no effects (definitely not applied) and is worth retrying. Errors: errc::fence_mismatch when stale.
    result<void> release(const idempotency_claim& claim)
    {
        auto erased = store_->erase_if_fence(claim.key.view(), claim.fence);
        if (!erased) return std::move(erased).error();
        if (!*erased) return stale(claim, "release");
        return {};
    }

    /// Extends the lease to now + lease (default options().lease): a heartbeat for long work.
    /// Errors: errc::fence_mismatch when stale; errc::invalid_argument for a lease <= 0 or > retention.
    result<void> renew(idempotency_claim& claim,
                       std::optional<std::chrono::milliseconds> lease = std::nullopt)
    {
        const auto d = lease.value_or(options_.lease);
        if (d <= std::chrono::milliseconds::zero() || d > options_.retention) {
            return error{errc::invalid_argument, "idempotency_guard::renew",
                         "the lease must be positive and not longer than the retention"};
        }
        const utc_time now = current_time();
        const utc_time until = now + std::chrono::duration_cast<std::chrono::microseconds>(d);
        const record_view rec{
            record_state::in_progress, work_outcome::none, claim.fence, until, claim.payload_fingerprint, {}};
        auto swapped = store_->compare_and_set(claim.key.view(), claim.fence, rec, now);
        if (!swapped) return std::move(swapped).error();
        if (!*swapped) return stale(claim, "renew");
        claim.lease_until = until;
        return {};
    }

    [[nodiscard]] const idempotency_options& options() const noexcept { return options_; }
    [[nodiscard]] Store& store() const noexcept { return *store_; }
    [[nodiscard]] const Clock& clock() const noexcept { return clock_; }

    /// The clock's reading, truncated to microseconds.
    [[nodiscard]] utc_time current_time() const
    {
        return std::chrono::time_point_cast<std::chrono::microseconds>(
            std::chrono::system_clock::time_point(clock_.now()));
    }

private:
    idempotency_guard(Store& store, idempotency_options options, Clock clock)
        : store_(&store), options_(options), clock_(std::move(clock)),
          counters_(std::make_unique<fence_counter[]>(fence_counters))
    {}

    // A fresh record's fence is the current time in microseconds, and more than any fresh fence this guard
    // gave the same key before (a key released and claimed again within one clock tick gets a new fence).
    // So fences do not repeat for a key, even after its record expired and was forgotten (Redis TTL), as
    // long as the clock does not step back by more than the retention. Takeovers use max(old + 1, this), so
    // fences strictly increase while a record exists. Counters are spread over cache lines by key hash, so
    // that threads working on different keys do not contend.
    std::uint64_t fresh_fence(std::string_view key, utc_time now) noexcept
    {
        const auto us = now.time_since_epoch().count();
        const std::uint64_t candidate = us > 0 ? static_cast<std::uint64_t>(us) : 1U;
        auto& last = counters_[std::hash<std::string_view>{}(key) % fence_counters].last;
        std::uint64_t seen = last.load(std::memory_order_relaxed);
        for (;;) {
            const std::uint64_t next = candidate > seen ? candidate : seen + 1;
            if (last.compare_exchange_weak(seen, next, std::memory_order_relaxed)) return next;
        }
    }

    static constexpr std::size_t fence_counters = 64;
    struct alignas(64) fence_counter {
        std::atomic<std::uint64_t> last{0};
    };

    static error stale(const idempotency_claim& claim, std::string_view what)
    {
        std::string message = "the claim (fence ";
        message += std::to_string(claim.fence);
        message += ") is no longer current: the lease expired and the key was taken over or removed";
        return error{errc::fence_mismatch,
                     std::string("idempotency_guard::") + std::string(what) + " " + claim.key.str(),
                     std::move(message)};
    }

    Store* store_;
    idempotency_options options_;
    [[no_unique_address]] Clock clock_;
    std::unique_ptr<fence_counter[]> counters_;
};

/// A guard with the default options, deducing the store and clock types. Cannot fail (the same as
/// `idempotency_guard guard{store, clock};`).
template <idempotency_store Store, wall_clock Clock = std::chrono::system_clock>
[[nodiscard]] idempotency_guard<Store, Clock> make_idempotency_guard(Store& store, Clock clock = Clock{})
{
    return idempotency_guard<Store, Clock>(store, std::move(clock));
}

/// A guard with your options, deducing the store and clock types. Errors: errc::invalid_argument (see
/// validate()): only options can be wrong, so only this overload returns a result.
template <idempotency_store Store, wall_clock Clock = std::chrono::system_clock>
[[nodiscard]] result<idempotency_guard<Store, Clock>>
make_idempotency_guard(Store& store, idempotency_options options, Clock clock = Clock{})
{
    return idempotency_guard<Store, Clock>::create(store, options, std::move(clock));
}

}  // namespace meetingbaas::inline v0
