// SPDX-License-Identifier: MIT
#pragma once

// The webhook route's fast path (http_server's http_fast_path): on the I/O thread, without storage,
// answer the deliveries that need none:
//   * a duplicate of a delivery stored recently (recent_keys: the queue stored or found its key);
//   * a refusal: 401 (authenticity), 400 (not a valid envelope), 405, 413.
// Anything that needs storage (a new delivery, a key not in memory, an event type that takes an
// idempotency claim) declines, and the request goes to the handler pool, where the full receiver runs.
//
// It runs the library's own webhook_receiver, with a guard and a queue that only know memory: when the
// receiver asks them for storage they decline (and note it), so the receiver's decisions (statuses,
// bodies, keys) are the same code on both paths. The fast receiver counts nothing itself; this class
// adds to sync_metrics exactly what the full receiver would have counted for that receipt.

#include "delivery_counters.hpp"
#include "http_server.hpp"
#include "json_log.hpp"
#include "recent_keys.hpp"
#include "sync_log.hpp"

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <optional>
#include <string>
#include <vector>

namespace support {

template <class Verifier>
class webhook_fast_path {
public:
    webhook_fast_path(const Verifier& verifier, recent_keys& recent, meetingbaas::sync_metrics& metrics,
                      delivery_counters& counters, json_log& log, meetingbaas::receiver_options options = {})
        : guard_(), queue_{&recent},
          receiver_({.verifier = verifier, .guard = guard_, .queue = queue_}, options), metrics_(&metrics),
          counters_(&counters), log_(&log)
    {}

    std::optional<http_response> operator()(const http_request& req)
    {
        needed_storage() = false;
        const auto r = receiver_.handle(req.method(), req, req.body());
        if (needed_storage()) return std::nullopt;
        metrics_->deliveries_received.fetch_add(1, std::memory_order_relaxed);
        if (r.kind == meetingbaas::receipt_kind::duplicate) {
            metrics_->duplicates.fetch_add(1, std::memory_order_relaxed);
        } else if (r.reason) {
            metrics_->rejected(*r.reason);
        }
        record_delivery(*log_, *counters_, r, req);
        return http_response{r.status, r.body + "\n"};
    }

private:
    static bool& needed_storage() noexcept
    {
        thread_local bool flag = false;
        return flag;
    }
    static meetingbaas::error declined()
    {
        return {meetingbaas::errc::unsupported, "fast path", "needs storage"};
    }

    /// An idempotency guard without storage: every claim needs storage.
    /// (The receiver claims other v2 events through claim_delivery: begin/begin_for, complete, release.)
    struct memory_guard {
        meetingbaas::result<meetingbaas::begin_outcome> begin(meetingbaas::idempotency_key,
                                                              meetingbaas::fingerprint = {})
        {
            needed_storage() = true;
            return declined();
        }
        meetingbaas::result<meetingbaas::begin_outcome>
        begin_for(meetingbaas::idempotency_key, meetingbaas::fingerprint, std::chrono::milliseconds)
        {
            needed_storage() = true;
            return declined();
        }
        meetingbaas::result<void> complete(const meetingbaas::idempotency_claim&,
                                           meetingbaas::work_outcome = meetingbaas::work_outcome::applied,
                                           std::string_view = {})
        {
            needed_storage() = true;
            return declined();
        }
        meetingbaas::result<void> release(const meetingbaas::idempotency_claim&)
        {
            needed_storage() = true;
            return declined();
        }
    };

    /// A job queue that only knows the recent keys: a known key is a duplicate, anything else needs storage.
    struct memory_queue {
        recent_keys* recent;
        meetingbaas::result<meetingbaas::enqueue_outcome> enqueue(meetingbaas::job_spec spec)
        {
            if (!spec.unique_key.empty()) {
                if (auto id = recent->find(spec.unique_key))
                    return meetingbaas::enqueue_outcome{std::move(*id), false};
            }
            needed_storage() = true;
            return declined();
        }
        // The receiver only enqueues; the rest of the job_queue concept is never used here.
        meetingbaas::result<std::optional<meetingbaas::leased_job>> lease(std::chrono::milliseconds)
        {
            return declined();
        }
        meetingbaas::result<void> acknowledge(std::string_view, std::uint64_t) { return declined(); }
        meetingbaas::result<void> retry_later(std::string_view, std::uint64_t, meetingbaas::queue_time,
                                              std::string_view)
        {
            return declined();
        }
        meetingbaas::result<void> dead_letter(std::string_view, std::uint64_t, std::string_view)
        {
            return declined();
        }
        meetingbaas::result<void> extend_lease(std::string_view, std::uint64_t, std::chrono::milliseconds)
        {
            return declined();
        }
        meetingbaas::result<std::vector<meetingbaas::dead_letter_entry>> dead_letters(std::size_t)
        {
            return declined();
        }
        meetingbaas::result<void> requeue_dead_letter(std::string_view) { return declined(); }
        meetingbaas::result<meetingbaas::queue_stats> stats() { return declined(); }
        meetingbaas::result<std::optional<meetingbaas::queue_time>> next_due() { return declined(); }
    };

    memory_guard guard_;
    memory_queue queue_;
    meetingbaas::webhook_receiver<Verifier, memory_guard, memory_queue> receiver_;
    meetingbaas::sync_metrics* metrics_;
    delivery_counters* counters_;
    json_log* log_;
};

}  // namespace support
