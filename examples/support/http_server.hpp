// SPDX-License-Identifier: MIT
#pragma once

// A small hardened HTTP/1.1 server on Boost.Beast and Asio, for the example server (and for anyone who
// copies it). Its users never see Beast: they register routes whose handlers turn an http_request into an
// http_response, and say where each handler runs:
//   * run_on::handler_pool (the default): on a small pool of threads that may block (storage calls). The
//     I/O threads never wait for a handler, so accepting, timeouts and cheap routes keep going while
//     handlers are slow. A full pool queue, or a request that waited longer than handler_queue_timeout,
//     gets 503 with Retry-After.
//   * run_on::io_thread: on the I/O thread that read the request. Only for handlers that never block.
// A route may also have a fast path that runs on the I/O thread first and answers what it can from
// memory (e.g. a duplicate delivery), handing the rest to the handler pool: no thread hand-off for them.
//
// What it defends against (docs/calendar-sync.md, "The HTTP front end"):
//   * slow clients: an idle connection is closed after idle_timeout; once the first byte of a request has
//     arrived, the whole head must arrive within head_timeout, and the body within body_timeout (408);
//     a response that the client does not read is abandoned after write_timeout. One timer sweep checks
//     every connection four times a second, so the cost does not grow with the number of operations;
//   * large inputs, enforced while reading: at most max_header_count fields and max_header_bytes of head
//     (431), max_body_bytes of body (413, as soon as a Content-Length or a chunk size says so, never
//     buffered); a POST, PUT or PATCH with neither Content-Length nor chunked framing is refused (411)
//     instead of being read to EOF;
//   * ambiguous framing (RFC 9112 §6.3): Content-Length together with Transfer-Encoding, differing
//     Content-Length values, a Transfer-Encoding whose last coding is not chunked: 400, then close;
//   * connection floods: at most max_connections; at the cap the connection that has been idle (or
//     sending its head) the longest is closed to make room, so new clients are served at once;
//   * after an error reply the connection is half-closed and its input discarded for up to
//     linger_timeout (so the client reads the reply instead of a reset), then closed.
// Pipelined requests are answered in order (one at a time per connection). Binding never shares a port
// (no SO_REUSEPORT): a port in use is an error.

#include <meetingbaas/core/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace support {

/// Limits and deadlines of every connection.
struct http_limits {
    std::size_t max_connections = 10'000;
    std::size_t max_header_bytes = 16 * 1024;  ///< request line and fields
    std::size_t max_header_count = 100;
    std::size_t max_body_bytes = std::size_t{1} << 20;
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(15)};  ///< waiting for a request's first byte
    std::chrono::milliseconds head_timeout{std::chrono::seconds(10)};  ///< first byte to the end of the head
    std::chrono::milliseconds body_timeout{std::chrono::seconds(10)};  ///< end of the head to end of the body
    std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};  ///< one response
    std::chrono::milliseconds linger_timeout{std::chrono::seconds(2)};  ///< after an error reply
};

struct http_server_options {
    http_limits limits;
    std::size_t io_threads = 2;
    std::size_t handler_threads = 4;   ///< 0: every handler runs on the I/O threads
    std::size_t handler_queue = 1024;  ///< requests waiting for a handler thread; more get 503
    std::chrono::milliseconds handler_queue_timeout{std::chrono::seconds(2)};  ///< waited longer: 503
    std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};          ///< stop(): in-flight requests
    int backlog = 1024;
};

/// One request, complete (head and body). Header lookup is ASCII case-insensitive; the object satisfies
/// meetingbaas::header_source, so it can be handed to the webhook verifier directly.
class http_request {
public:
    [[nodiscard]] std::string_view method() const noexcept { return method_; }
    [[nodiscard]] std::string_view target() const noexcept { return target_; }
    /// The target without its query string.
    [[nodiscard]] std::string_view path() const noexcept;
    /// The value of `name` in the query string (not percent-decoded), if present.
    [[nodiscard]] std::optional<std::string_view> query(std::string_view name) const noexcept;
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
    [[nodiscard]] const std::string& body() const noexcept { return body_; }
    [[nodiscard]] bool from_loopback() const noexcept { return loopback_; }

private:
    friend class http_request_builder;
    std::string method_;
    std::string target_;
    std::vector<std::pair<std::string, std::string>> fields_;
    std::string body_;
    bool loopback_ = false;
};

struct http_response {
    http_response() = default;
    http_response(int status_code, std::string body_text, std::string type = "text/plain; charset=utf-8")
        : status(status_code), body(std::move(body_text)), content_type(std::move(type))
    {}

    int status = 200;
    std::string body;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;  ///< extra fields
};

enum class run_on { handler_pool, io_thread };

using http_handler = std::function<http_response(const http_request&)>;

/// A route's optional fast path: it runs first, on the I/O thread, and must never block; it returns a
/// response when it can answer from memory (a cached answer, a refusal), or nullopt to hand the request
/// to the route's handler as usual.
using http_fast_path = std::function<std::optional<http_response>(const http_request&)>;

/// Called on an I/O thread for each request refused by the HTTP layer itself (400, 408, 411, 413, 431,
/// 503 busy) once its method and target are known (empty when the request line never arrived).
using http_refusal_hook = std::function<void(std::string_view method, std::string_view path, int status)>;

class http_server {
public:
    explicit http_server(http_server_options options = {});
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Registers `handler` for `method` and `path`. A path ending in "/*" matches every path below it.
    /// Another method on a registered path gets 405; an unknown path 404. Call before start().
    void route(std::string method, std::string path, http_handler handler,
               run_on where = run_on::handler_pool, http_fast_path fast_path = {});
    void on_refusal(http_refusal_hook hook);

    /// Binds and listens (SO_REUSEADDR, never SO_REUSEPORT): the port actually bound (for port 0), or an
    /// error naming the address and the system's reason (e.g. "Address already in use").
    [[nodiscard]] meetingbaas::result<unsigned short, std::string> listen(const std::string& host,
                                                                          unsigned short port);

    /// Starts the I/O threads and the handler pool. Requires a successful listen().
    void start();

    /// Stops accepting, lets requests in flight finish (up to drain_timeout), closes every connection
    /// and joins the threads. Idempotent; also run by the destructor.
    void stop();

    /// Connection and request counters in the Prometheus text format (names start with `prefix`).
    [[nodiscard]] std::string metrics_text(std::string_view prefix = "meetingbaas_") const;
    [[nodiscard]] std::size_t open_connections() const noexcept;

    struct impl;  // the implementation's state (public only so that its connection class can name it)

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace support
