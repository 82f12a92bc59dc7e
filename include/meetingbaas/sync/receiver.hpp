// SPDX-License-Identifier: MIT
#pragma once

// A framework-agnostic webhook receiver: given the method, headers and raw body of one request, it returns
// the reply to send (status and a short body) and, when the delivery is accepted, enqueues the work.
//
//   413  body over the limit (checked before anything else is read)
//   401  authenticity: missing or wrong x-meeting-baas-api-key (v1), bad signature or stale timestamp (v2)
//   400  not a valid event envelope
//   200  accepted: a calendar delivery (v1 calendar.sync_events; v2 calendar.event_created, _updated,
//        _cancelled, calendar.events_synced: job_kinds.hpp) enqueued once as a job whose kind is the wire
//        event name, deduplicated by the job's unique key (a duplicate is also 200, with nothing enqueued)
//   200  well-formed other events: handed to the application's callback once (an idempotency claim)
//   405  not a POST; 500 the HMAC backend failed; 503 storage failed (the sender retries)
//
// It never calls the Meeting BaaS API: the reply depends only on local work (verify, parse, one idempotency
// claim and one enqueue), so a slow API never slows the acknowledgement. See docs/calendar-sync.md.

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/headers.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/event_keys.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>
#include <meetingbaas/sync/job_kinds.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>

namespace meetingbaas::inline v0 {

/// The job kind the receiver enqueues for `calendar.sync_events` (the v2 calendar kinds are in
/// job_kinds.hpp).
inline constexpr std::string_view calendar_sync_job_kind = v1_calendar_job_kind;

/// Options of a webhook_receiver.
struct receiver_options {
    std::size_t max_body_bytes = std::size_t{1} << 20;  ///< 1 MiB: larger bodies get 413
    /// Other event types: how long a delivery's key is held while the application's callback runs (a crash
    /// inside this window lets a redelivery claim it again once it ends).
    std::chrono::milliseconds claim_lease{std::chrono::seconds(10)};
    /// Other event types: how long a concurrent duplicate waits for the first copy's callback before
    /// answering 503 (0 in single-threaded servers).
    std::chrono::milliseconds duplicate_wait{std::chrono::milliseconds(500)};
    std::chrono::milliseconds duplicate_poll{std::chrono::milliseconds(2)};
    parse_options parse{};
};

/// What the receiver did with a request.
enum class receipt_kind {
    accepted,     ///< a new calendar delivery (a calendar job kind, job_kinds.hpp): enqueued
    duplicate,    ///< seen before: nothing new
    other_event,  ///< a well-formed event of another type: handed to the application
    rejected,     ///< 4xx / 5xx: see reason
};

constexpr std::string_view to_string(receipt_kind k) noexcept
{
    switch (k) {
        case receipt_kind::accepted: return "accepted";
        case receipt_kind::duplicate: return "duplicate";
        case receipt_kind::other_event: return "other_event";
        case receipt_kind::rejected: return "rejected";
    }
    return "rejected";
}

/// The reply, plus what happened (for one log line per delivery). Never contains a key or a secret.
struct receipt {
    int status = 200;
    std::string body;  ///< short, plain text
    receipt_kind kind = receipt_kind::rejected;
    std::optional<reject_reason> reason;  ///< set when rejected
    api_version version = api_version::unknown;
    std::string event_type;  ///< the envelope's `event`, when parsed
    std::string key;         ///< the idempotency key of the delivery, when parsed
    std::string job_id;      ///< when enqueued (or the earlier job, for a duplicate still pending)
    std::string detail;      ///< why it was rejected (an error's text), for logs
};

/// The key under which a delivery is deduplicated: the event's canonical payload key (event_keys.hpp),
/// e.g. for v1 `calendar.sync_events` calendar_id | last_updated_ts (UTC, microseconds) | digest of the
/// sorted affected events (spec section 6). Svix retries carry the same body, and a manual resend (a new
/// svix-id) the same event, so both are recognised.
[[nodiscard]] inline idempotency_key default_delivery_key(const delivery& d, const verified_body& v)
{
    return idempotency_key_for(d, v.bytes());
}

/// A verifier: `v.verify(headers, body)` -> result<verified_body, verification_error>
/// (webhook_verifier, api_key_keyring and svix_verifier qualify).
template <class V, class H>
concept delivery_verifier = requires(const V& v, const H& h, std::string_view body) {
    { v.verify(h, body) } -> std::same_as<result<verified_body, verification_error>>;
};

/// Called once per accepted delivery that is not a calendar job (unknown types included), with
/// the parsed delivery and the verified body. It should only hand the work on (queue it): it runs on the
/// request path.
struct ignore_other_events {
    void operator()(const delivery&, const verified_body&) const noexcept {}
};

/// Called to wake in-process workers after an enqueue.
struct no_notify {
    void operator()() const noexcept {}
};

/// The receiver. Thread-safe when its parts are (the library's verifiers, guards, stores and queues are):
/// one instance may serve every request thread. Holds references to the verifier, guard and queue.
template <class Verifier, class Guard, job_queue Queue, class OnOther = ignore_other_events,
          class Notify = no_notify>
class webhook_receiver {
public:
    webhook_receiver(const Verifier& verifier, Guard& guard, Queue& queue, receiver_options options = {},
                     OnOther on_other = OnOther{}, Notify notify = Notify{}, sync_metrics* metrics = nullptr)
        : verifier_(&verifier), guard_(&guard), queue_(&queue), options_(options),
          on_other_(std::move(on_other)), notify_(std::move(notify)), metrics_(metrics)
    {}

    /// Handles one request. `method` is the HTTP method token ("POST").
    template <header_source H>
        requires delivery_verifier<Verifier, H>
    receipt handle(std::string_view method, const H& headers, std::string_view body)
    {
        bump(metrics_ ? &metrics_->deliveries_received : nullptr);
        receipt r;
        if (method != "POST")
            return reject(std::move(r), 405, reject_reason::method_not_allowed, "POST only");
        if (body.size() > options_.max_body_bytes) {
            return reject(std::move(r), 413, reject_reason::too_large,
                          "body over " + std::to_string(options_.max_body_bytes) + " bytes");
        }

        auto verified = verifier_->verify(headers, body);
        if (!verified) {
            const int status = recommended_http_status(verified.error().reason);
            return reject(std::move(r), status,
                          status == 413   ? reject_reason::too_large
                          : status == 401 ? reject_reason::unauthenticated
                                          : reject_reason::unavailable,
                          to_string(verified.error()));
        }
        r.version = verified->version();

        parse_options parse = options_.parse;
        parse.version = verified->version();
        if (parse.max_body_bytes < options_.max_body_bytes) parse.max_body_bytes = options_.max_body_bytes;
        auto parsed = parse_delivery(verified->bytes(), parse);
        if (!parsed) return reject(std::move(r), 400, reject_reason::malformed, to_string(parsed.error()));
        // Calendar deliveries of both generations are queued as jobs named after their wire event
        // (job_kinds.hpp); the calendar-sync processor dispatches on that kind.
        const std::string_view job_kind = meetingbaas::event_name(parsed->event);
        const bool is_sync = is_calendar_job_kind(job_kind);
        r.event_type = std::string(job_kind);

        auto key = default_delivery_key(*parsed, *verified);
        r.key = key.str();

        if (is_sync) {
            // The job's unique key is the deduplication: one atomic insert-if-absent, so concurrent copies
            // and a crash at any point can never enqueue twice, and a redelivery finds the job (pending, or
            // completed and kept until purge_completed).
            auto job = queue_->enqueue(
                job_spec{std::string(job_kind), std::string(verified->bytes()), r.key, std::nullopt});
            if (!job) return reject(std::move(r), 503, reject_reason::unavailable, to_string(job.error()));
            r.job_id = job->id;
            r.status = 200;
            if (!job->inserted) return duplicate(std::move(r));
            notify_();
            bump(metrics_ ? &metrics_->deliveries_accepted : nullptr);
            r.kind = receipt_kind::accepted;
            r.body = "accepted";
            return r;
        }

        // Other events go to the application once: the idempotency guard claims the key around the callback.
        auto begun =
            guard_->begin_for(std::move(key), fingerprint_body(verified->bytes()), options_.claim_lease);
        if (!begun) return reject(std::move(r), 503, reject_reason::unavailable, to_string(begun.error()));
        // A concurrent copy holds the claim while its callback runs: wait for it, briefly.
        const auto give_up = std::chrono::steady_clock::now() + options_.duplicate_wait;
        while (begun->status == begin_status::in_progress && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(options_.duplicate_poll);
            begun = guard_->begin_for(std::move(begun->claim.key),
                                      std::move(begun->claim.payload_fingerprint), options_.claim_lease);
            if (!begun)
                return reject(std::move(r), 503, reject_reason::unavailable, to_string(begun.error()));
        }
        switch (begun->status) {
            case begin_status::completed:
            case begin_status::mismatch:  // same key, other bytes: still the same delivery for us
                if (begun->status == begin_status::mismatch) r.detail = "same key, different body";
                r.status = 200;
                return duplicate(std::move(r));
            case begin_status::in_progress:
                return reject(std::move(r), 503, reject_reason::unavailable,
                              "a copy of this delivery is still being handled");
            case begin_status::acquired: break;
        }
        on_other_(*parsed, *verified);
        if (auto done = guard_->complete(begun->claim); !done) {
            r.detail = "handled, but the idempotency record was not completed: " + to_string(done.error());
        }
        bump(metrics_ ? &metrics_->unknown_events : nullptr);
        r.kind = receipt_kind::other_event;
        r.body = "ok";
        r.status = 200;
        return r;
    }

    [[nodiscard]] const receiver_options& options() const noexcept { return options_; }

private:
    receipt duplicate(receipt r)
    {
        bump(metrics_ ? &metrics_->duplicates : nullptr);
        r.kind = receipt_kind::duplicate;
        r.body = "duplicate";
        return r;
    }

    receipt reject(receipt r, int status, reject_reason reason, std::string detail)
    {
        if (metrics_ != nullptr) metrics_->rejected(reason);
        r.status = status;
        r.kind = receipt_kind::rejected;
        r.reason = reason;
        r.detail = std::move(detail);
        switch (status) {
            case 400: r.body = "malformed delivery"; break;
            case 401: r.body = "unauthenticated"; break;
            case 405: r.body = "method not allowed"; break;
            case 413: r.body = "payload too large"; break;
            default: r.body = "temporarily unavailable"; break;
        }
        return r;
    }

    static void bump(std::atomic<std::uint64_t>* c) noexcept
    {
        if (c != nullptr) c->fetch_add(1, std::memory_order_relaxed);
    }

    const Verifier* verifier_;
    Guard* guard_;
    Queue* queue_;
    receiver_options options_;
    OnOther on_other_;
    Notify notify_;
    sync_metrics* metrics_;
};

}  // namespace meetingbaas::inline v0
