// SPDX-License-Identifier: MIT
#pragma once

// The HTTP-client concept the application satisfies, and the request / response / transport-error values
// that cross it. No JSON, no third-party HTTP library: adapters live in meetingbaas/adapters/.
// See docs/api-client.md, "Writing an adapter".

#include <meetingbaas/core/headers.hpp>
#include <meetingbaas/core/result.hpp>

#include <chrono>
#include <concepts>
#include <string>
#include <string_view>
#include <utility>

namespace meetingbaas::inline v0 {

/// HTTP request methods the Meeting BaaS API uses.
enum class http_method {
    get = 1,
    head,
    post,
    put,
    patch,
    delete_,  ///< DELETE (may carry a body: v2 calendar bots need it)
};

/// True for the enumerators above; false for any other value (a cast from an integer).
constexpr bool is_valid(http_method m) noexcept
{
    switch (m) {
        case http_method::get:
        case http_method::head:
        case http_method::post:
        case http_method::put:
        case http_method::patch:
        case http_method::delete_: return true;
    }
    return false;
}

/// The method token as sent on the wire, e.g. "DELETE". Any other value gives "(invalid http_method)",
/// which is not a method token: adapters refuse to send it (transport_errc::invalid_request).
constexpr std::string_view to_string(http_method m) noexcept
{
    switch (m) {
        case http_method::get: return "GET";
        case http_method::head: return "HEAD";
        case http_method::post: return "POST";
        case http_method::put: return "PUT";
        case http_method::patch: return "PATCH";
        case http_method::delete_: return "DELETE";
    }
    return "(invalid http_method)";
}

/// One HTTP request. The adapter sends exactly this: no header is added except what the HTTP library
/// must add itself (Host, Content-Length, ...).
struct http_request {
    http_method method = http_method::get;
    std::string url{};       ///< absolute URL: scheme, host, optional port, path and query (already encoded)
    http_headers headers{};  ///< request fields, in order
    std::string body{};      ///< sent when non-empty, whatever the method (DELETE included)
    std::chrono::milliseconds timeout{30'000};  ///< whole exchange: connect, send, wait, read
};

/// One HTTP response, whatever its status: a 404 or a 503 is a response, not a transport error.
struct http_response {
    int status = 0;
    http_headers headers{};
    std::string body{};
};

/// Why no response arrived.
enum class transport_errc {
    connect_failed = 1,  ///< DNS, TCP or proxy connect failed: the request was not sent
    timed_out,           ///< the timeout passed (during connect, send or while waiting for the answer)
    connection_dropped,  ///< the peer closed or reset the connection before the response was complete
    tls_failed,          ///< TLS handshake or certificate verification failed
    invalid_request,     ///< the adapter could not send this request (bad URL, unsupported scheme or host)
    response_too_large,  ///< the response exceeded the adapter's configured limit
    other,               ///< anything else the HTTP library reported
};

constexpr std::string_view to_string(transport_errc e) noexcept
{
    switch (e) {
        case transport_errc::connect_failed: return "connect_failed";
        case transport_errc::timed_out: return "timed_out";
        case transport_errc::connection_dropped: return "connection_dropped";
        case transport_errc::tls_failed: return "tls_failed";
        case transport_errc::invalid_request: return "invalid_request";
        case transport_errc::response_too_large: return "response_too_large";
        case transport_errc::other: return "other";
    }
    return "(invalid transport_errc)";
}

/// A failed exchange. `may_have_been_sent` decides whether retrying a non-idempotent request is safe:
/// false only when the adapter knows no byte of the request reached the network (e.g. connect failed).
struct transport_error {
    transport_errc kind = transport_errc::other;
    bool may_have_been_sent = true;
    std::string message{};  ///< the HTTP library's own description, for logs

    friend bool operator==(const transport_error&, const transport_error&) = default;
};

/// What an http_client returns.
using http_result = result<http_response, transport_error>;

/// Requirement 1 of http_client: `client.send(request)` is callable on a non-const lvalue with a
/// `const http_request&`.
template <class C>
concept can_send_http = requires(C& client, const http_request& request) { client.send(request); };

/// Requirement 2 of http_client: that call returns exactly `meetingbaas::http_result`
/// (`result<http_response, transport_error>`).
template <class C>
concept has_http_result = requires(C& client, const http_request& request) {
    { client.send(request) } -> std::same_as<http_result>;
};

/// Requirement 3 of http_client: the client can be moved into the api_client that owns it. Use
/// `api_client<MyClient&>` to keep an application-owned client by reference instead.
template <class C>
concept can_hold_http_client = std::move_constructible<C>;

/// An HTTP client the library can drive.
/// Requirements:
///   1. can_send_http: `client.send(request)` with `const http_request& request`;
///   2. has_http_result: it returns `http_result`: an http_response for every answer the server gave
///      (any status), or a transport_error when no complete answer arrived. It never throws for those;
///   3. can_hold_http_client: move-constructible (or an lvalue reference type).
/// Thread safety: the api_client calls send() from the thread that calls the api_client; an adapter is
/// only required to support that. Start an adapter with `static_assert(meetingbaas::http_client<X>);`.
template <class C>
concept http_client = can_send_http<C> && has_http_result<C> && can_hold_http_client<C>;

}  // namespace meetingbaas::inline v0
