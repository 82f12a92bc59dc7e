// SPDX-License-Identifier: MIT
#pragma once

// meetingbaas::httplib_http_client: an http_client over cpp-httplib's Client (0.11 or later).
// CMake: link meetingbaas::httplib (Debian: the compiled libcpp-httplib found through pkg-config, whose
// -DCPPHTTPLIB_* flags must match the library: the target carries them). See docs/api-client.md.
//
// * One origin per client: cpp-httplib's Client talks to one scheme://host:port. A request for another
//   origin fails with transport_errc::invalid_request (not sent). The api_client only ever calls its
//   configured base URL, so one adapter per api_client is enough.
// * Connection reuse: keep-alive is switched on; the connection is reused between requests.
// * Timeouts: cpp-httplib bounds each phase separately: connect by min(connect_timeout, request
//   timeout), and each socket read and write by the request timeout. A slow trickle can therefore last
//   longer than the request timeout; a server that sends nothing cannot.
// * Thread safety: NOT internally synchronized; use one httplib_http_client per thread.
// * Exceptions: cpp-httplib itself may throw (std::regex in its URL handling, std::bad_alloc); this
//   adapter throws nothing of its own. Build its users with exceptions enabled.

#include <meetingbaas/api/detail/url.hpp>
#include <meetingbaas/api/http.hpp>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace meetingbaas::inline v0 {

/// Options of httplib_http_client (a plain aggregate).
struct httplib_options {
    std::chrono::milliseconds connect_timeout{10'000};
    std::size_t max_response_bytes = std::size_t{32} * 1024 * 1024;
    bool verify_tls = true;  ///< https only (needs CPPHTTPLIB_OPENSSL_SUPPORT)
};

namespace detail {

/// Maps cpp-httplib's error to a transport_error. `elapsed` and `timeout` tell a read timeout from a
/// dropped connection, which cpp-httplib 0.11 reports alike (Error::Read).
inline transport_error httplib_transport_error(httplib::Error error,
                                               std::chrono::steady_clock::duration elapsed,
                                               std::chrono::milliseconds timeout)
{
    transport_error e;
    e.message = "cpp-httplib: " + httplib::to_string(error);
    switch (error) {
        case httplib::Error::Connection:
        case httplib::Error::BindIPAddress:
            e.kind = transport_errc::connect_failed;
            e.may_have_been_sent = false;
            break;
        case httplib::Error::ConnectionTimeout:
            e.kind = transport_errc::timed_out;
            e.may_have_been_sent = false;
            break;
        case httplib::Error::Read:
            e.kind = elapsed + std::chrono::milliseconds(50) >= timeout ? transport_errc::timed_out
                                                                        : transport_errc::connection_dropped;
            e.may_have_been_sent = true;
            break;
        case httplib::Error::Write:
            e.kind = transport_errc::connection_dropped;
            e.may_have_been_sent = true;
            break;
        case httplib::Error::SSLConnection:
        case httplib::Error::SSLLoadingCerts:
        case httplib::Error::SSLServerVerification:
            e.kind = transport_errc::tls_failed;
            e.may_have_been_sent = false;
            break;
        default:
            e.kind = transport_errc::other;
            e.may_have_been_sent = true;
            break;
    }
    return e;
}

}  // namespace detail

/// An http_client over cpp-httplib for one origin ("https://api.meetingbaas.com"). Move-only.
class httplib_http_client {
public:
    /// `origin` is "scheme://host[:port]" (a path is ignored). An unusable origin makes every send()
    /// fail with transport_errc::invalid_request.
    explicit httplib_http_client(const std::string& origin, httplib_options options = {}) : options_(options)
    {
        const auto parts = detail::split_url(origin);
        if (!parts) return;
        origin_ = detail::origin_of(*parts);
        client_ = std::make_unique<httplib::Client>(origin_);
        client_->set_keep_alive(true);
        client_->set_follow_location(false);
        client_->set_tcp_nodelay(true);  // headers and body are separate writes: no Nagle delay
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        client_->enable_server_certificate_verification(options_.verify_tls);
#endif
    }

    [[nodiscard]] bool valid() const noexcept { return client_ != nullptr && client_->is_valid(); }
    [[nodiscard]] const std::string& origin() const noexcept { return origin_; }

    /// Sends `request` (whose URL must have this client's origin) and waits for the answer.
    http_result send(const http_request& request)
    {
        if (!valid()) {
            return transport_error{transport_errc::invalid_request, false,
                                   "cpp-httplib: the client's origin is not a usable http(s) URL"};
        }
        if (!is_valid(request.method)) {
            return transport_error{transport_errc::invalid_request, false,
                                   "cpp-httplib: the request's method is not an http_method value"};
        }
        const auto target = detail::split_url(request.url);
        const auto own = detail::split_url(origin_);  // not cached: views into origin_ would dangle on move
        if (!target || !own || !detail::same_origin(*target, *own)) {
            return transport_error{transport_errc::invalid_request, false,
                                   "cpp-httplib: the URL is not on this client's origin " + origin_};
        }
        const auto timeout = std::max(request.timeout, std::chrono::milliseconds(1));
        client_->set_connection_timeout(
            std::min(timeout, std::max(options_.connect_timeout, std::chrono::milliseconds(1))));
        client_->set_read_timeout(timeout);
        client_->set_write_timeout(timeout);

        httplib::Request req;
        req.method = std::string(to_string(request.method));
        req.path = target->target.empty() ? std::string("/") : std::string(target->target);
        for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
        req.body = request.body;

        std::string body;
        bool too_large = false;
        const std::size_t limit = options_.max_response_bytes;
        req.content_receiver = [&body, &too_large, limit](const char* data, std::size_t n, std::uint64_t,
                                                          std::uint64_t) {
            if (body.size() + n > limit) {
                too_large = true;
                return false;
            }
            body.append(data, n);
            return true;
        };

        const auto started = std::chrono::steady_clock::now();
        auto res = client_->send(req);
        const auto elapsed = std::chrono::steady_clock::now() - started;
        if (too_large) {
            client_->stop();  // the connection is mid-body: do not reuse it
            return transport_error{transport_errc::response_too_large, true,
                                   "cpp-httplib: response body larger than max_response_bytes"};
        }
        if (!res) return detail::httplib_transport_error(res.error(), elapsed, timeout);

        http_response out;
        out.status = res->status;
        out.headers.reserve(res->headers.size());
        for (const auto& [name, value] : res->headers) out.headers.add(name, value);
        out.body = body.empty() ? std::move(res->body) : std::move(body);
        return out;
    }

private:
    httplib_options options_;
    std::string origin_;
    std::unique_ptr<httplib::Client> client_;
};

static_assert(http_client<httplib_http_client>);

}  // namespace meetingbaas::inline v0
