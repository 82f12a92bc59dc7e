// SPDX-License-Identifier: MIT
#pragma once

// A framework-agnostic webhook receiver: given the method, headers and raw body of one request, it returns
// the reply to send (status and a short body) and, when the delivery is accepted, enqueues the work.
//
//   413  body over the limit (checked before anything else is read)
//   401  authenticity: missing or wrong x-meeting-baas-api-key (v1), bad signature or stale timestamp (v2)
//   400  not a valid event envelope
//   200  a calendar delivery (v1 calendar.sync_events; v2 calendar.event_created, _updated, _cancelled,
//        calendar.events_synced: job_kinds.hpp) enqueued once as a job whose kind is the wire event name and
//        whose payload is the verified body, deduplicated by the job's unique key (v1: the payload key; v2:
//        svix-id); a duplicate is also 200, with nothing enqueued
//   200  other well-formed events (v1 and v2 bot events, v2 connection events, unknown types): handed to
//        the application's callback once; v2 deliveries are claimed with claim_delivery (svix-id and the
//        payload key), v1 ones with their payload key
//   503  a copy of the same delivery is still being handled after waiting duplicate_wait (the sender retries)
//   422  the same svix-id with a different body (not a Svix retry)
//   405  not a POST; 500 the HMAC backend failed; 503 storage failed (the sender retries)
//
// It never calls the Meeting BaaS API: the reply depends only on local work (verify, parse, one idempotency
// claim or one enqueue), so a slow API never slows the acknowledgement. See docs/calendar-sync.md.

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/headers.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/delivery.hpp>
#include <meetingbaas/idempotency/event_keys.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>
#include <meetingbaas/sync/job_kinds.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
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

/// Whether a parsed delivery is queued as a calendar job (its event name is one of calendar_job_kinds in
/// job_kinds.hpp) rather than handed to the application's callback. An unknown event is never a job, even
/// under a calendar event's name: the processor could not decode it.
[[nodiscard]] inline bool is_calendar_job(const delivery& d) noexcept
{
    return !std::holds_alternative<unknown_event>(d.event) && is_calendar_job_kind(event_name(d.event));
}

/// Options of a webhook_receiver.
struct receiver_options {
    std::size_t max_body_bytes = std::size_t{1} << 20;  ///< 1 MiB: larger bodies get 413
    /// Events for the callback: how long a delivery's keys are held while the application's callback runs
    /// (a crash inside this window lets a redelivery claim them again once it ends).
    std::chrono::milliseconds claim_lease{std::chrono::seconds(10)};
    /// Events for the callback: how long a concurrent duplicate waits for the first copy's callback before
    /// answering 503 (0 in single-threaded servers).
    std::chrono::milliseconds duplicate_wait{std::chrono::milliseconds(500)};
    std::chrono::milliseconds duplicate_poll{std::chrono::milliseconds(2)};
    /// v2 events for the callback: what a different body under the payload key of another message means (a
    /// manual resend, by default: see payload_mismatch).
    payload_mismatch on_payload_mismatch = payload_mismatch::duplicate;
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
    std::string key;         ///< the key the delivery was deduplicated under, when parsed
    std::string job_id;      ///< when enqueued (or the earlier job, for a duplicate still pending)
    std::string detail;      ///< why it was rejected (an error's text), for logs
};

/// The key under which a delivery's payload is deduplicated: the event's canonical payload key
/// (event_keys.hpp), e.g. for v1 `calendar.sync_events` calendar_id | last_updated_ts (UTC, microseconds) |
/// digest of the sorted affected events (spec section 6).
[[nodiscard]] inline idempotency_key default_delivery_key(const delivery& d, const verified_body& v)
{
    return idempotency_key_for(d, v.bytes());
}

/// The unique key of the job a calendar delivery is enqueued under. v1: the payload key. v2: the message id
/// key (svix-id), so Svix's retries of one message enqueue one job. A v2 calendar event's payload key covers
/// only the instances' (event_id, start, end, status), so two distinct updates (a new meeting link, say)
/// could share it: they must both reach the processor, which reconciles each instance against the API and
/// acts once per state change. A v2 body without a message id (trusted unverified) falls back to its payload
/// key.
[[nodiscard]] inline idempotency_key calendar_job_key(const delivery& d, const verified_body& v)
{
    if (d.version == api_version::v2 && !v.delivery_id().empty()) return svix_delivery_key(v.delivery_id());
    return default_delivery_key(d, v);
}

/// A verifier: `v.verify(headers, body)` -> result<verified_body, verification_error>
/// (webhook_verifier, api_key_keyring and svix_verifier qualify).
template <class V, class H>
concept delivery_verifier = requires(const V& v, const H& h, std::string_view body) {
    { v.verify(h, body) } -> std::same_as<result<verified_body, verification_error>>;
};

/// Called once per accepted delivery that is not a calendar job (bot events, connection events, unknown
/// types), with the parsed delivery and the verified body. It should only hand the work on (queue it): it
/// runs on the request path.
struct ignore_other_events {
    void operator()(const delivery&, const verified_body&) const noexcept {}
};

/// Called to wake in-process workers after an enqueue.
struct no_notify {
    void operator()() const noexcept {}
};

/// What a webhook_receiver works with. An aggregate: name what you pass, leave the rest to its default, and
/// let class template argument deduction find the types:
///
///     meetingbaas::webhook_receiver receiver{meetingbaas::receiver_deps{
///         .verifier = verifier, .guard = guard, .queue = queue, .on_other = hand_on, .metrics = &metrics}};
///
/// The receiver keeps references to the verifier, guard and queue (they must outlive it) and copies of the
/// callbacks.
template <class Verifier, class Guard, class Queue, class OnOther = ignore_other_events,
          class Notify = no_notify>
struct receiver_deps {
    const Verifier& verifier;  ///< webhook_verifier (v1 keys and v2 secrets), or any delivery_verifier
    Guard& guard;              ///< an idempotency_guard: deduplicates the events handed to on_other
    Queue& queue;              ///< a job_queue: calendar deliveries are enqueued here
    OnOther on_other{};        ///< called once per other accepted event
    Notify notify{};           ///< called after each enqueue (wake the workers)
    sync_metrics* metrics = nullptr;
};

/// The receiver. Thread-safe when its parts are (the library's verifiers, guards, stores and queues are):
/// one instance may serve every request thread.
template <class Verifier, class Guard, job_queue Queue, class OnOther = ignore_other_events,
          class Notify = no_notify>
class webhook_receiver {
public:
    using deps_type = receiver_deps<Verifier, Guard, Queue, OnOther, Notify>;

    explicit webhook_receiver(deps_type deps, receiver_options options = {})
        : verifier_(&deps.verifier), guard_(&deps.guard), queue_(&deps.queue), options_(options),
          on_other_(std::move(deps.on_other)), notify_(std::move(deps.notify)), metrics_(deps.metrics)
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
        r.event_type = std::string(event_name(parsed->event));
        if (is_calendar_job(*parsed)) return enqueue(std::move(r), *parsed, *verified);
        return hand_on(std::move(r), *parsed, *verified);
    }

    [[nodiscard]] const receiver_options& options() const noexcept { return options_; }

private:
    // Calendar deliveries: the job's unique key is the deduplication, one atomic insert-if-absent, so
    // concurrent copies and a crash at any point can never enqueue twice, and a redelivery finds the job
    // (pending, or completed and kept until purge_completed).
    receipt enqueue(receipt r, const delivery& d, const verified_body& v)
    {
        r.key = calendar_job_key(d, v).str();
        const std::string_view kind = event_name(d.event);  // a calendar job kind (job_kinds.hpp)
        auto job = queue_->enqueue(job_spec{std::string(kind), std::string(v.bytes()), r.key, std::nullopt});
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

    // Other events go to the application once: claim_delivery holds the delivery's keys around the callback
    // (v2: svix-id and the payload key; v1: the payload key).
    receipt hand_on(receipt r, const delivery& d, const verified_body& v)
    {
        delivery_keys keys = delivery_keys_for(d, v.bytes(), v.delivery_id());
        r.key = keys.payload.str();
        const fingerprint fp = fingerprint_body(v.bytes());
        const delivery_claim_options claim_options{options_.on_payload_mismatch, options_.claim_lease};
        auto claimed = claim_delivery(*guard_, keys, fp, claim_options);
        // A concurrent copy holds the keys while its callback runs: wait for it, briefly.
        const auto give_up = std::chrono::steady_clock::now() + options_.duplicate_wait;
        while (claimed && claimed->status == delivery_status::in_progress &&
               std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(options_.duplicate_poll);
            claimed = claim_delivery(*guard_, keys, fp, claim_options);
        }
        if (!claimed)
            return reject(std::move(r), 503, reject_reason::unavailable, to_string(claimed.error()));
        switch (claimed->status) {
            case delivery_status::acquired: break;
            case delivery_status::duplicate:
                if (claimed->decided_by == delivery_key_kind::payload && claimed->record &&
                    claimed->record->fingerprint != fp) {
                    r.detail = "same event, different body (a resend)";
                }
                r.status = 200;
                return duplicate(std::move(r));
            case delivery_status::in_progress:
                return reject(std::move(r), 503, reject_reason::unavailable,
                              "a copy of this delivery is still being handled");
            case delivery_status::conflict:
                return reject(std::move(r), 422, reject_reason::malformed,
                              claimed->decided_by == delivery_key_kind::message
                                  ? "the message id was delivered before with a different body"
                                  : "the payload key was used before with a different body");
        }
        on_other_(d, v);
        if (auto done = complete_delivery(*guard_, claimed->claim); !done) {
            r.detail = "handled, but the idempotency record was not completed: " + to_string(done.error());
        }
        bump(metrics_ ? &metrics_->unknown_events : nullptr);
        r.kind = receipt_kind::other_event;
        r.body = "ok";
        r.status = 200;
        return r;
    }

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
            case 422: r.body = "conflicting delivery"; break;
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
