// SPDX-License-Identifier: MIT
#pragma once

// Claiming one webhook delivery in one call. A v2 (Svix) delivery has two keys (delivery_keys, key.hpp):
//  * the message key (`svix-id`): the same for every automatic retry of one message, and the body is
//    byte-identical, so a different body under the same message id is a conflict;
//  * the payload key (the event's canonical key): the same for a manual resend, which is a new message whose
//    body legitimately differs (v2 `sent_at`, fresh pre-signed URLs), so a different body under the payload
//    key of another message is a duplicate, not an error.
//
//   claim_delivery(guard, keys, fingerprint) -> acquired (both keys held) | duplicate | in_progress |
//   conflict complete_delivery(guard, claim)          -> both records completed release_delivery(guard,
//   claim)           -> both records removed (the next copy runs the work)
//
// claim_delivery holds either both keys or neither: when the second claim does not succeed, the first is
// rolled back (released, or completed when the delivery turned out to be a duplicate). A v1 delivery has only
// the payload key; the same calls work with one key. See docs/idempotency.md, "Claiming a delivery".

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>
#include <meetingbaas/idempotency/store.hpp>

#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// What a different body under the payload key of *another* message means.
enum class payload_mismatch {
    /// The default: a manual resend of the same event. Resends change `sent_at` and the pre-signed URLs, so
    /// their bodies differ; answering 422 would make Svix retry the resend for about three hours.
    duplicate,
    /// A conflict (answer 422). Only for payload keys that you built to cover everything that matters in
    /// the body, so that a different body under the same key is an error.
    conflict,
};

/// Options of claim_delivery.
struct delivery_claim_options {
    payload_mismatch on_payload_mismatch = payload_mismatch::duplicate;
    /// How long the keys are held while the work runs; nullopt = the guard's options().lease.
    std::optional<std::chrono::milliseconds> lease = std::nullopt;
};

/// What claim_delivery found.
enum class delivery_status {
    acquired,     ///< new: you hold both keys; do the work, then complete_delivery() or release_delivery()
    duplicate,    ///< seen before (this message, or the same event in another message): answer 200
    in_progress,  ///< another copy is being handled right now: answer 409, the sender retries later
    conflict,     ///< this message id with another body (or payload_mismatch::conflict): answer 422
};

constexpr std::string_view to_string(delivery_status s) noexcept
{
    switch (s) {
        case delivery_status::acquired: return "acquired";
        case delivery_status::duplicate: return "duplicate";
        case delivery_status::in_progress: return "in_progress";
        case delivery_status::conflict: return "conflict";
    }
    return "unknown";
}

/// The status a webhook receiver answers: 200 for a duplicate (the sender must stop), 409 while another copy
/// is in progress, 422 for a conflict. `acquired` has no fixed answer: 200 once the work is done or durably
/// queued (the status the receiver sends after completing), 503 if it failed and was released.
constexpr int suggested_http_status(delivery_status s) noexcept
{
    switch (s) {
        case delivery_status::acquired:
        case delivery_status::duplicate: return 200;
        case delivery_status::in_progress: return 409;
        case delivery_status::conflict: return 422;
    }
    return 500;
}

/// Which of a delivery's keys decided a status other than acquired.
enum class delivery_key_kind { message, payload };

constexpr std::string_view to_string(delivery_key_kind k) noexcept
{
    return k == delivery_key_kind::message ? "message" : "payload";
}

/// The keys held after an acquired claim_delivery. Plain data, like idempotency_claim: it may travel with
/// the work to another thread or process.
struct delivery_claim {
    std::optional<idempotency_claim> message;  ///< the message key's claim (v2), or nullopt (v1)
    idempotency_claim payload;                 ///< the payload key's claim
};

/// The result of claim_delivery.
struct delivery_claim_outcome {
    delivery_status status = delivery_status::acquired;
    delivery_claim claim;                                       ///< meaningful when acquired
    delivery_key_kind decided_by = delivery_key_kind::payload;  ///< the key behind any other status
    std::optional<idempotency_record> record;  ///< that key's stored record (not for acquired)

    [[nodiscard]] bool acquired() const noexcept { return status == delivery_status::acquired; }
};

namespace detail {

template <class Guard>
result<begin_outcome> begin_delivery_key(Guard& guard, idempotency_key key, const fingerprint& fp,
                                         const delivery_claim_options& options)
{
    if (options.lease) return guard.begin_for(std::move(key), fp, *options.lease);
    return guard.begin(std::move(key), fp);
}

inline delivery_claim_outcome delivery_not_acquired(delivery_status status, delivery_key_kind by,
                                                    std::optional<idempotency_record> record)
{
    delivery_claim_outcome out;
    out.status = status;
    out.decided_by = by;
    out.record = std::move(record);
    return out;
}

}  // namespace detail

/// Claims a delivery under its message key (if any) and its payload key, in that order, with one fingerprint
/// of the body for both (fingerprint_body(raw)). On `acquired` both keys are held; on any other status and
/// on an error none is: a message key claimed before the payload key turned out to be taken is released
/// (in_progress, conflict, storage error) or completed with the payload record's outcome (duplicate, so
/// that Svix's retries of this message stop at the message key).
///
/// Errors: the store's (errc::storage_error, ...), errc::conflict under heavy contention, and
/// errc::invalid_argument for a bad options.lease. Thread-safe when the guard is.
template <class Guard>
[[nodiscard]] result<delivery_claim_outcome> claim_delivery(Guard& guard, delivery_keys keys,
                                                            const fingerprint& body_fingerprint,
                                                            const delivery_claim_options& options = {})
{
    using st = delivery_status;
    using by = delivery_key_kind;
    delivery_claim_outcome out;
    if (keys.delivery) {
        auto m = detail::begin_delivery_key(guard, std::move(*keys.delivery), body_fingerprint, options);
        if (!m) return std::move(m).error();
        switch (m->status) {
            case begin_status::acquired: break;
            case begin_status::completed:
                return detail::delivery_not_acquired(st::duplicate, by::message, std::move(m->record));
            case begin_status::in_progress:
                return detail::delivery_not_acquired(st::in_progress, by::message, std::move(m->record));
            case begin_status::mismatch:  // one message id, two bodies: not a retry
                return detail::delivery_not_acquired(st::conflict, by::message, std::move(m->record));
        }
        out.claim.message = std::move(m->claim);
    }

    auto p = detail::begin_delivery_key(guard, std::move(keys.payload), body_fingerprint, options);
    if (!p) {
        if (out.claim.message) static_cast<void>(guard.release(*out.claim.message));  // its lease ends anyway
        return std::move(p).error();
    }
    const auto hand_back = [&](bool completed, const std::optional<idempotency_record>& record) {
        if (!out.claim.message) return;
        if (completed) {
            // The message was handled: as a duplicate. Keep the payload record's outcome for replays.
            const work_outcome kind =
                record && record->outcome != work_outcome::none ? record->outcome : work_outcome::applied;
            const std::string_view data =
                record ? std::string_view(record->outcome_data) : std::string_view{};
            if (!guard.complete(*out.claim.message, kind, data))
                static_cast<void>(guard.release(*out.claim.message));
        } else {
            static_cast<void>(guard.release(*out.claim.message));
        }
        out.claim.message.reset();
    };
    switch (p->status) {
        case begin_status::acquired: out.claim.payload = std::move(p->claim); return out;
        case begin_status::completed:
            hand_back(true, p->record);
            return detail::delivery_not_acquired(st::duplicate, by::payload, std::move(p->record));
        case begin_status::in_progress:
            hand_back(false, p->record);
            return detail::delivery_not_acquired(st::in_progress, by::payload, std::move(p->record));
        case begin_status::mismatch:
            if (options.on_payload_mismatch == payload_mismatch::conflict) {
                hand_back(false, p->record);
                return detail::delivery_not_acquired(st::conflict, by::payload, std::move(p->record));
            }
            hand_back(true, p->record);
            return detail::delivery_not_acquired(st::duplicate, by::payload, std::move(p->record));
    }
    return out;
}

/// Completes both keys (payload first), recording `kind` and `outcome_data` for replays. Both are attempted;
/// the first error is returned (errc::fence_mismatch when a lease expired and another worker took over).
template <class Guard>
result<void> complete_delivery(Guard& guard, const delivery_claim& claim,
                               work_outcome kind = work_outcome::applied, std::string_view outcome_data = {})
{
    auto payload = guard.complete(claim.payload, kind, outcome_data);
    if (claim.message) {
        auto message = guard.complete(*claim.message, kind, outcome_data);
        if (payload && !message) return message;
    }
    return payload;
}

/// Releases both keys (payload first), so that the next copy of the delivery runs the work again: after a
/// failure that left no effects. Both are attempted; the first error is returned.
template <class Guard>
result<void> release_delivery(Guard& guard, const delivery_claim& claim)
{
    auto payload = guard.release(claim.payload);
    if (claim.message) {
        auto message = guard.release(*claim.message);
        if (payload && !message) return message;
    }
    return payload;
}

}  // namespace meetingbaas::inline v0
