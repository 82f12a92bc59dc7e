// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace meetingbaas::inline v0 {

/// Error codes of the library. Each fallible operation documents which codes it returns.
/// Start at 1: 0 is never an error. New codes are appended; existing values never change.
enum class errc {
    // --- payloads and parsing (event.hpp, timestamp.hpp, api responses) ---
    malformed_json = 1,  ///< the bytes are not JSON (syntax error, bad UTF-8, trailing garbage)
    not_an_object,       ///< the document or a nested value must be a JSON object
    missing_field,       ///< a required field is absent
    wrong_type,          ///< a field has the wrong JSON type
    invalid_timestamp,   ///< a timestamp does not follow RFC 3339 / ISO 8601 or is out of range
    invalid_value,       ///< a field has the right type but an unacceptable value
    too_large,           ///< input exceeds a configured size limit (body, string, header)
    too_deep,            ///< nesting exceeds the configured depth limit
    unexpected_event,    ///< a typed entry point got a delivery of another event type
    empty_input,         ///< nothing to parse

    // --- authenticity (authenticity.hpp) ---
    invalid_secret = 100,  ///< a configured key or secret is unusable (e.g. not whsec_<base64>)
    unauthenticated,       ///< a delivery failed verification; the verifier's reason says why

    // --- retries (retry.hpp) ---
    retries_exhausted = 200,  ///< the retry policy gave up; the last attempt's error is reported too
    deadline_exceeded,        ///< the deadline passed, or would pass before the next attempt
    budget_exhausted,         ///< a shared retry budget denied the retry

    // --- storage, idempotency, queues ---
    storage_error = 300,  ///< the backing store failed (I/O, SQL error, connection lost)
    fence_mismatch,       ///< a stale owner tried to complete or release a record it no longer holds
    not_found,            ///< the record, job or resource does not exist
    conflict,             ///< the operation conflicts with the current state

    // --- HTTP and the Meeting BaaS API (http.hpp, api_client.hpp) ---
    transport_error = 400,  ///< connect failed, timed out, connection dropped
    http_status,            ///< the server answered with a non-success HTTP status
    api_error,              ///< the API returned a structured error body
    malformed_response,     ///< the response body does not match the expected schema
    pagination_loop,        ///< a pagination cursor repeated, or a next URL left the configured host
    invalid_url,            ///< a URL could not be parsed or is not allowed

    // --- general ---
    invalid_argument = 900,  ///< a configuration or argument violates a documented precondition
    unsupported,             ///< the operation is not supported by this backend
    cancelled,               ///< the operation was cancelled (shutdown, stop token)
};

/// The enumerator's name, e.g. "missing_field". Never allocates.
constexpr std::string_view to_string(errc e) noexcept
{
    switch (e) {
        case errc::malformed_json: return "malformed_json";
        case errc::not_an_object: return "not_an_object";
        case errc::missing_field: return "missing_field";
        case errc::wrong_type: return "wrong_type";
        case errc::invalid_timestamp: return "invalid_timestamp";
        case errc::invalid_value: return "invalid_value";
        case errc::too_large: return "too_large";
        case errc::too_deep: return "too_deep";
        case errc::unexpected_event: return "unexpected_event";
        case errc::empty_input: return "empty_input";
        case errc::invalid_secret: return "invalid_secret";
        case errc::unauthenticated: return "unauthenticated";
        case errc::retries_exhausted: return "retries_exhausted";
        case errc::deadline_exceeded: return "deadline_exceeded";
        case errc::budget_exhausted: return "budget_exhausted";
        case errc::storage_error: return "storage_error";
        case errc::fence_mismatch: return "fence_mismatch";
        case errc::not_found: return "not_found";
        case errc::conflict: return "conflict";
        case errc::transport_error: return "transport_error";
        case errc::http_status: return "http_status";
        case errc::api_error: return "api_error";
        case errc::malformed_response: return "malformed_response";
        case errc::pagination_loop: return "pagination_loop";
        case errc::invalid_url: return "invalid_url";
        case errc::invalid_argument: return "invalid_argument";
        case errc::unsupported: return "unsupported";
        case errc::cancelled: return "cancelled";
    }
    return "unknown";
}

/// An error value: what went wrong (code), where (a JSON Pointer such as "/data/calendar_id", a header
/// name, or an operation name), and a short human-readable message. `where` and `message` are for logs
/// and humans; branch on `code`. Neither ever contains a secret or an API key.
struct error {
    errc code{};
    std::string where;
    std::string message;

    friend bool operator==(const error&, const error&) = default;
};

/// "missing_field at /data/calendar_id: required field is absent", for logs.
inline std::string to_string(const error& e)
{
    std::string out(to_string(e.code));
    if (!e.where.empty()) {
        out += " at ";
        out += e.where;
    }
    if (!e.message.empty()) {
        out += ": ";
        out += e.message;
    }
    return out;
}

}  // namespace meetingbaas::inline v0
