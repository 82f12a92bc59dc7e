// SPDX-License-Identifier: MIT
#pragma once

// Whether deliveries can be stored right now, for /healthz: the outcome of the latest enqueue (seen
// through health_tracking_queue, a forwarding job_queue) together with a write probe of the state.
//
// A delivery that could not be stored makes /healthz fail with its reason for `window` (unless a later
// delivery was stored); after that the probe alone decides, so a load balancer that stops sending
// deliveries to an unhealthy server still sees it recover.

#include "http_server.hpp"
#include "recent_keys.hpp"

#include <meetingbaas/sync/job_queue.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace support {

class storage_health {
public:
    void stored() noexcept { last_ok_.store(now(), std::memory_order_relaxed); }
    void failed(std::string reason)
    {
        std::lock_guard lock(mutex_);
        last_failure_ = now();
        reason_ = std::move(reason);
    }
    /// Why the latest delivery could not be stored, when that was within `window` and no delivery was
    /// stored since.
    [[nodiscard]] std::optional<std::string> recent_failure(std::chrono::seconds window) const
    {
        std::lock_guard lock(mutex_);
        if (last_failure_ == 0 || last_ok_.load(std::memory_order_relaxed) > last_failure_)
            return std::nullopt;
        if (now() - last_failure_ > std::chrono::duration_cast<std::chrono::nanoseconds>(window).count()) {
            return std::nullopt;
        }
        return reason_;
    }

    /// The /healthz answer: 503 with the reason when a delivery failed to be stored within `window` or
    /// when `probe()` (-> result<void, std::string>) fails, else 200. Remembers the outcome for writable().
    template <class Probe>
    http_response check(Probe&& probe, std::chrono::seconds window = std::chrono::seconds(10))
    {
        auto problem = recent_failure(window);
        if (!problem) {
            if (auto r = probe(); !r) problem = r.error();
        }
        writable_.store(!problem, std::memory_order_relaxed);
        return problem ? http_response{503, "cannot store deliveries: " + *problem + "\n"}
                       : http_response{200, "ok\n"};
    }
    /// Whether the last check found the state writable.
    [[nodiscard]] bool writable() const noexcept { return writable_.load(std::memory_order_relaxed); }

private:
    static std::int64_t now() noexcept
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    std::atomic<std::int64_t> last_ok_{0};
    std::atomic<bool> writable_{true};
    mutable std::mutex mutex_;
    std::int64_t last_failure_ = 0;
    std::string reason_;
};

/// A job_queue that forwards to `Q`, tells `storage_health` how each enqueue went, and answers a
/// duplicate from `recent_keys` (when given) without asking `Q`.
template <meetingbaas::job_queue Q>
class health_tracking_queue {
public:
    health_tracking_queue(Q& queue, storage_health& health, recent_keys* recent = nullptr) noexcept
        : q_(&queue), health_(&health), recent_(recent)
    {}

    meetingbaas::result<meetingbaas::enqueue_outcome> enqueue(meetingbaas::job_spec spec)
    {
        if (recent_ != nullptr && !spec.unique_key.empty()) {
            if (auto id = recent_->find(spec.unique_key))
                return meetingbaas::enqueue_outcome{std::move(*id), false};
        }
        auto r = q_->enqueue(spec);
        if (r) {
            health_->stored();
            if (recent_ != nullptr && !spec.unique_key.empty()) recent_->remember(spec.unique_key, r->id);
        } else {
            health_->failed(meetingbaas::to_string(r.error()));
        }
        return r;
    }
    auto lease(std::chrono::milliseconds d) { return q_->lease(d); }
    auto acknowledge(std::string_view id, std::uint64_t token) { return q_->acknowledge(id, token); }
    auto retry_later(std::string_view id, std::uint64_t token, meetingbaas::queue_time at,
                     std::string_view reason)
    {
        return q_->retry_later(id, token, at, reason);
    }
    auto dead_letter(std::string_view id, std::uint64_t token, std::string_view reason)
    {
        return q_->dead_letter(id, token, reason);
    }
    auto extend_lease(std::string_view id, std::uint64_t token, std::chrono::milliseconds d)
    {
        return q_->extend_lease(id, token, d);
    }
    auto dead_letters(std::size_t limit) { return q_->dead_letters(limit); }
    auto requeue_dead_letter(std::string_view id) { return q_->requeue_dead_letter(id); }
    auto stats() { return q_->stats(); }
    auto next_due() { return q_->next_due(); }

private:
    Q* q_;
    storage_health* health_;
    recent_keys* recent_;
};

}  // namespace support
