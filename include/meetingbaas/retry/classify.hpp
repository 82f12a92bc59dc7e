// SPDX-License-Identifier: MIT
#pragma once

// The one classification of outcomes: what happened to an attempt (attempt_outcome), what that means for
// retrying (failure_class), and whether repeating a request is harmless (idempotence). The api_client's
// in-call retries, the calendar-sync processor's verdict and the sync worker all judge failures with
// http_classifier (or the classifier the application injects), so a failure is transient or permanent
// in the same way everywhere. See docs/retries.md, "Classification".
//
//   transient:  transport errors, timeouts, 408, 425, 500, 502, 504, a 2xx answer whose body is unusable,
//               shutdown (cancelled), a local storage failure
//   throttled:  429, 503 (honour the server's pushback)
//   permanent:  other 4xx, 501, 505, other statuses, the daily bot cap (429 FST_ERR_DAILY_BOT_CAP_REACHED),
//               a request the library refused to send (invalid argument), and a per-event error inside a
//               2xx partial-success answer (classify_item_error), unless it says the state already holds
//
// Nothing here allocates, throws or includes a third-party header.

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace meetingbaas::inline v0 {

// ---------------------------------------------------------------------------------------------------
// What happened: the input of a decision, independent of any HTTP library.

/// How an attempt ended, as far as retrying is concerned.
enum class outcome_kind : std::uint8_t {
    success,               ///< the operation succeeded (non-HTTP operations)
    transport_not_sent,    ///< failed before any byte of the request left (DNS, connect refused, TLS setup)
    transport_maybe_sent,  ///< failed after the request may have reached the server (timeout, reset)
    http_status,           ///< the server answered; `status` says how
    invalid_answer,        ///< a success status with an unusable answer (malformed body, a pagination loop):
                           ///< the request was processed, the answer cannot be used
    cancelled,             ///< not attempted, or abandoned between attempts: shutdown, stop requested
    local_failure,         ///< a local dependency failed (state store, idempotency store); or busy elsewhere
    invalid_request,  ///< the request was refused before sending (invalid argument): repeating cannot help
};

constexpr std::string_view to_string(outcome_kind k) noexcept
{
    switch (k) {
        case outcome_kind::success: return "success";
        case outcome_kind::transport_not_sent: return "transport_not_sent";
        case outcome_kind::transport_maybe_sent: return "transport_maybe_sent";
        case outcome_kind::http_status: return "http_status";
        case outcome_kind::invalid_answer: return "invalid_answer";
        case outcome_kind::cancelled: return "cancelled";
        case outcome_kind::local_failure: return "local_failure";
        case outcome_kind::invalid_request: return "invalid_request";
    }
    return "(invalid outcome_kind)";
}

/// The outcome of one attempt. An HTTP client adapter fills it from its response: status, the server's
/// pushback (Retry-After header and v2 body `retryAfter`, already combined; see retry_after.hpp) and the
/// v2 error body's `code`. `api_code` is a view: it must stay valid until the decision is made.
struct attempt_outcome {
    outcome_kind kind = outcome_kind::success;
    int status = 0;
    std::optional<std::chrono::milliseconds> retry_after{};
    std::string_view api_code{};

    static constexpr attempt_outcome succeeded() noexcept { return {}; }
    static constexpr attempt_outcome not_sent() noexcept
    {
        return {outcome_kind::transport_not_sent, 0, {}, {}};
    }
    static constexpr attempt_outcome maybe_sent() noexcept
    {
        return {outcome_kind::transport_maybe_sent, 0, {}, {}};
    }
    static constexpr attempt_outcome http(int status_code,
                                          std::optional<std::chrono::milliseconds> pushback = {},
                                          std::string_view code = {}) noexcept
    {
        return {outcome_kind::http_status, status_code, pushback, code};
    }
    /// A success status (`status_code`, 0 if unknown) whose answer could not be used.
    static constexpr attempt_outcome invalid_answer(int status_code = 0) noexcept
    {
        return {outcome_kind::invalid_answer, status_code, {}, {}};
    }
    static constexpr attempt_outcome cancelled() noexcept { return {outcome_kind::cancelled, 0, {}, {}}; }
    /// A local failure; `pushback` is when it is worth trying again (e.g. when another worker's claim ends).
    static constexpr attempt_outcome
    local_failure(std::optional<std::chrono::milliseconds> pushback = {}) noexcept
    {
        return {outcome_kind::local_failure, 0, pushback, {}};
    }
    static constexpr attempt_outcome invalid_request() noexcept
    {
        return {outcome_kind::invalid_request, 0, {}, {}};
    }
};

/// What a classifier concludes about an outcome.
enum class failure_class : std::uint8_t {
    success,    ///< done; do not retry
    transient,  ///< may succeed if repeated (timeouts, 5xx)
    throttled,  ///< the server asked us to slow down (429, 503); honour its pushback
    permanent,  ///< repeating cannot help (other 4xx, 501, 505, a daily quota)
};

constexpr std::string_view to_string(failure_class c) noexcept
{
    switch (c) {
        case failure_class::success: return "success";
        case failure_class::transient: return "transient";
        case failure_class::throttled: return "throttled";
        case failure_class::permanent: return "permanent";
    }
    return "(invalid failure_class)";
}

constexpr bool is_retryable(failure_class c) noexcept
{
    return c == failure_class::transient || c == failure_class::throttled;
}

/// The default status classification (spec section 4.3): 1xx-3xx succeed; 408, 425, 500, 502, 504 are
/// transient; 429 and 503 are throttling; everything else (other 4xx, 501, 505, unknown 5xx, nonsense
/// below 100 or above 599) is permanent.
constexpr failure_class classify_http_status(int status) noexcept
{
    if (status >= 100 && status < 400) return failure_class::success;
    switch (status) {
        case 408:
        case 425:
        case 500:
        case 502:
        case 504: return failure_class::transient;
        case 429:
        case 503: return failure_class::throttled;
        default: return failure_class::permanent;
    }
}

/// API error codes that are final even on a retryable status. FST_ERR_DAILY_BOT_CAP_REACHED is a 429
/// for a rolling 24 h quota: retrying within seconds cannot succeed (spec section 4.3).
inline constexpr std::array<std::string_view, 2> meetingbaas_final_codes{"FST_ERR_DAILY_BOT_CAP_REACHED",
                                                                         "DAILY_BOT_CAP_REACHED"};

/// Codes of a per-event error (in a 2xx partial-success answer of the v2 calendar-bot endpoints) that say
/// the desired state already holds: a bot already exists (when scheduling), no bot exists (when cancelling).
inline constexpr std::array<std::string_view, 2> meetingbaas_already_scheduled_codes{
    "BOT_ALREADY_EXISTS", "FST_ERR_BOT_ALREADY_EXISTS"};
inline constexpr std::array<std::string_view, 3> meetingbaas_no_bot_codes{
    "BOT_NOT_FOUND", "FST_ERR_CALENDAR_BOT_NOT_FOUND", "FST_ERR_BOT_NOT_FOUND_BY_ID"};

/// How a per-event error inside a 2xx partial-success answer is judged: success when its code says the
/// desired state already holds (a bot already exists when scheduling, none exists when cancelling),
/// otherwise permanent. Per-event errors are never retried: the server judged that event and refused.
constexpr failure_class classify_item_error(std::string_view code, bool cancelling) noexcept
{
    if (cancelling) {
        for (const std::string_view c : meetingbaas_no_bot_codes) {
            if (c == code) return failure_class::success;
        }
    } else {
        for (const std::string_view c : meetingbaas_already_scheduled_codes) {
            if (c == code) return failure_class::success;
        }
    }
    return failure_class::permanent;
}

/// The default classifier: transport errors, unusable success answers, cancellation and local failures
/// are transient; statuses follow classify_http_status; an outcome whose `api_code` is in `final_codes` is
/// permanent, and so is a request refused before sending. Replace it with any callable
/// `failure_class(const attempt_outcome&)`, or extend it by wrapping it (see docs/retries.md).
struct http_classifier {
    std::span<const std::string_view> final_codes = meetingbaas_final_codes;

    constexpr failure_class operator()(const attempt_outcome& o) const noexcept
    {
        switch (o.kind) {
            case outcome_kind::success: return failure_class::success;
            case outcome_kind::transport_not_sent:
            case outcome_kind::transport_maybe_sent:
            case outcome_kind::invalid_answer:
            case outcome_kind::cancelled:
            case outcome_kind::local_failure: return failure_class::transient;
            case outcome_kind::invalid_request: return failure_class::permanent;
            case outcome_kind::http_status: break;
        }
        const failure_class c = classify_http_status(o.status);
        if (c != failure_class::success && !o.api_code.empty()) {
            for (const std::string_view code : final_codes) {
                if (code == o.api_code) return failure_class::permanent;
            }
        }
        return c;
    }
};

/// A classifier: maps an attempt_outcome to a failure_class.
template <class C>
concept retry_classifier = std::invocable<C&, const attempt_outcome&> &&
                           std::same_as<std::invoke_result_t<C&, const attempt_outcome&>, failure_class>;
static_assert(retry_classifier<http_classifier>);

// ---------------------------------------------------------------------------------------------------
// Idempotence.

/// Whether repeating a request is harmless. GET, PUT, DELETE and requests carrying an idempotency key
/// are idempotent; declare a POST idempotent when the server deduplicates it (e.g. a deduplication_key).
/// (Named `idempotence` so as not to clash with the idempotency module; it was `idempotency` before 0.2.)
enum class idempotence : std::uint8_t { idempotent, non_idempotent };

constexpr std::string_view to_string(idempotence i) noexcept
{
    switch (i) {
        case idempotence::idempotent: return "idempotent";
        case idempotence::non_idempotent: return "non_idempotent";
    }
    return "(invalid idempotence)";
}

/// True when the outcome proves that the server did not act on the request: it never left (connect
/// refused, DNS, TLS setup, cancelled before sending), or the server refused it before processing (408
/// Request Timeout, 425 Too Early, 429 Too Many Requests, 503 Service Unavailable). A timeout, a reset
/// after sending, a 500/502/504 or an unusable 2xx prove nothing: the request may have been applied.
constexpr bool proves_not_applied(const attempt_outcome& o) noexcept
{
    switch (o.kind) {
        case outcome_kind::transport_not_sent:
        case outcome_kind::cancelled:
        case outcome_kind::invalid_request: return true;
        case outcome_kind::http_status:
            return o.status == 408 || o.status == 425 || o.status == 429 || o.status == 503;
        case outcome_kind::success:
        case outcome_kind::transport_maybe_sent:
        case outcome_kind::invalid_answer:
        case outcome_kind::local_failure: return false;
    }
    return false;
}

/// A retry is safe for idempotent requests, and for any request whose failure proves that it was not
/// applied (proves_not_applied).
constexpr bool retry_is_safe(const attempt_outcome& o, idempotence i) noexcept
{
    return i == idempotence::idempotent || proves_not_applied(o);
}

}  // namespace meetingbaas::inline v0
