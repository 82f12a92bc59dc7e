// SPDX-License-Identifier: MIT
// The hardened HTTP/1.1 server of http_server.hpp on Boost.Beast (parser) and Asio (one io_context on a
// few threads, a strand per connection).
//
// A connection goes through these phases, one request at a time (pipelined requests wait in its buffer):
//
//   idle ──first byte──► head ──► body ──► handling ──► writing ──► idle (keep-alive)
//     │                   │        │                       │
//     └─ idle_timeout     └─ head_timeout (408) ...        └─ close after the reply: linger, then close
//
// Each phase that waits for the client has a deadline, stored in the connection as an atomic; one timer
// (the sweep) checks every connection four times a second and cancels the overdue ones on their strand.
// The registry of connections is ordered by last activity, so at the connection cap the one idle (or
// sending its head) for the longest is found at the front and closed to make room.

#include "http_server.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

namespace support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
// Each connection's socket runs its handlers on its own strand; naming the executor type (rather than
// asio::any_io_executor) spares a type-erased call on every operation.
using strand_type = asio::strand<asio::io_context::executor_type>;
using socket_type = asio::basic_stream_socket<tcp, strand_type>;

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string_view sv(beast::string_view s) noexcept
{
    return {s.data(), s.size()};
}

std::int64_t ticks(steady::time_point t) noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::int64_t now_ticks() noexcept
{
    return ticks(steady::now());
}

std::string_view reason_phrase(int status) noexcept
{
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        default: return "Status";
    }
}

enum class phase : std::uint8_t { idle, head, body, handling, writing, linger, closed };

constexpr std::array<int, 8> refusal_statuses{400, 404, 405, 408, 411, 413, 431, 503};

}  // namespace

// -------------------------------------------------------------------------------------------------------
// http_request

std::string_view http_request::path() const noexcept
{
    const std::string_view t = target_;
    return t.substr(0, t.find('?'));
}

std::optional<std::string_view> http_request::query(std::string_view name) const noexcept
{
    const std::string_view t = target_;
    const auto q = t.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    std::string_view rest = t.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::optional<std::string_view> http_request::find(std::string_view name) const noexcept
{
    for (const auto& [n, v] : fields_) {
        if (iequals(n, name)) return std::string_view(v);
    }
    return std::nullopt;
}

/// Fills an http_request (whose members are private to keep the handler's view read-only).
class http_request_builder {
public:
    static void reset(http_request& r)
    {
        r.method_.clear();
        r.target_.clear();
        r.fields_.clear();
        r.body_.clear();
        if (r.body_.capacity() > 64 * 1024) r.body_.shrink_to_fit();
    }
    static void start_line(http_request& r, std::string_view method, std::string_view target)
    {
        r.method_.assign(method);
        r.target_.assign(target);
    }
    static void field(http_request& r, std::string_view name, std::string_view value)
    {
        r.fields_.emplace_back(std::string(name), std::string(value));
    }
    static std::string& body(http_request& r) { return r.body_; }
    static void loopback(http_request& r, bool v) { r.loopback_ = v; }
};

namespace {

/// Beast's parser, with the checks Beast leaves to its users: a field count limit, Transfer-Encoding
/// together with Content-Length in either order, and a Transfer-Encoding whose last coding is not
/// chunked (RFC 9112 §6.3: the length of such a request cannot be determined). The body goes into the
/// request as it arrives; Beast enforces body_limit from the Content-Length or each chunk size, before
/// the bytes are read.
class request_parser final : public http::basic_parser<true> {
public:
    request_parser(const http_limits& limits, http_request& request)
        : request_(&request), max_fields_(limits.max_header_count), max_body_(limits.max_body_bytes)
    {
        header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, 1u << 30)));
        body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));
    }

    [[nodiscard]] bool expects_continue() const noexcept { return expect_continue_; }
    [[nodiscard]] int version() const noexcept { return version_; }

private:
    void on_request_impl(http::verb, beast::string_view method, beast::string_view target, int version,
                         beast::error_code&) override
    {
        http_request_builder::start_line(*request_, sv(method), sv(target));
        version_ = version;
    }
    void on_response_impl(int, beast::string_view, int, beast::error_code& ec) override
    {
        ec = http::error::bad_version;  // never a response: this parser reads requests
    }
    void on_field_impl(http::field name, beast::string_view name_text, beast::string_view value,
                       beast::error_code& ec) override
    {
        if (++fields_ > max_fields_) {
            ec = http::error::header_limit;
            return;
        }
        if (name == http::field::transfer_encoding) {
            if (seen_content_length_) {
                ec = http::error::bad_transfer_encoding;
                return;
            }
            seen_transfer_encoding_ = true;
            std::string_view codings = trim(sv(value));
            const auto comma = codings.rfind(',');
            if (!iequals(trim(comma == std::string_view::npos ? codings : codings.substr(comma + 1)),
                         "chunked")) {
                ec = http::error::bad_transfer_encoding;
                return;
            }
        } else if (name == http::field::content_length) {
            if (seen_transfer_encoding_) {
                ec = http::error::bad_content_length;
                return;
            }
            seen_content_length_ = true;
        } else if (name == http::field::expect) {
            expect_continue_ = iequals(trim(sv(value)), "100-continue");
        }
        http_request_builder::field(*request_, sv(name_text), sv(value));
    }
    void on_header_impl(beast::error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, beast::error_code&) override
    {
        if (length) {
            http_request_builder::body(*request_).reserve(
                static_cast<std::size_t>(std::min<std::uint64_t>(*length, max_body_)));
        }
    }
    std::size_t on_body_impl(beast::string_view body, beast::error_code&) override
    {
        http_request_builder::body(*request_).append(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override
    {
        http_request_builder::body(*request_).append(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(beast::error_code&) override {}

    http_request* request_;
    std::size_t max_fields_;
    std::size_t max_body_;
    std::size_t fields_ = 0;
    int version_ = 11;
    bool seen_transfer_encoding_ = false;
    bool seen_content_length_ = false;
    bool expect_continue_ = false;
};

struct route_entry {
    std::string method;
    std::string path;  ///< without the trailing "*" of a prefix route
    bool prefix = false;
    http_handler handler;
    run_on where = run_on::handler_pool;
    http_fast_path fast_path;
};

class session;

}  // namespace

// -------------------------------------------------------------------------------------------------------
// The server's state (declared so that the io_context is destroyed first: handlers it still holds may own
// sessions, whose destructors use the registry and the counters).

struct http_server::impl {
    explicit impl(http_server_options o)
        : options(std::move(o)), io(static_cast<int>(std::max<std::size_t>(options.io_threads, 1)))
    {}

    http_server_options options;
    std::vector<route_entry> routes;
    http_refusal_hook refusal;

    // Registry of open connections, least recently active first.
    std::mutex registry_mutex;
    std::list<session*> registry;  // a session erases itself in its destructor, under the mutex
    std::atomic<std::size_t> open{0};

    // Counters.
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> evicted{0};
    std::atomic<std::uint64_t> refused_at_cap{0};
    std::atomic<std::uint64_t> requests{0};
    std::array<std::atomic<std::uint64_t>, 5> timeouts{};  // idle, head, body, write, linger
    std::array<std::atomic<std::uint64_t>, refusal_statuses.size()> refused{};
    std::atomic<std::uint64_t> handler_busy{0};

    // Handler pool.
    struct task {
        std::shared_ptr<session> s;
        const route_entry* route;
        steady::time_point queued;
    };
    std::mutex pool_mutex;
    std::condition_variable pool_ready;
    std::deque<task> pool_queue;
    std::vector<std::thread> pool_threads;
    bool pool_stopping = false;

    std::atomic<bool> stopping{false};
    bool started = false;
    bool stopped = false;
    std::vector<std::thread> io_threads;

    asio::io_context io;
    tcp::acceptor acceptor{io};
    asio::steady_timer sweep_timer{io};
    asio::steady_timer accept_retry{io};

    void count_refusal(int status) noexcept
    {
        for (std::size_t i = 0; i < refusal_statuses.size(); ++i) {
            if (refusal_statuses[i] == status) refused[i].fetch_add(1, std::memory_order_relaxed);
        }
    }
    const route_entry* match(std::string_view method, std::string_view path, bool& path_known) const
    {
        path_known = false;
        for (const auto& r : routes) {
            const bool hit = r.prefix ? path.substr(0, r.path.size()) == r.path : path == r.path;
            if (!hit) continue;
            path_known = true;
            if (r.method == method) return &r;
        }
        return nullptr;
    }

    void accept_next();
    void on_accept(const beast::error_code& ec, socket_type socket);
    void sweep();
    bool evict_one();
    bool submit(task t);
    void pool_loop();
};

namespace {

// -------------------------------------------------------------------------------------------------------
// One connection

class session : public std::enable_shared_from_this<session> {
public:
    session(http_server::impl& server, socket_type socket)
        : server_(server), socket_(std::move(socket)),
          buffer_(server.options.limits.max_header_bytes + 64 * 1024)
    {
        beast::error_code ec;
        const auto remote = socket_.remote_endpoint(ec);
        loopback_ = !ec && remote.address().is_loopback();
        socket_.set_option(tcp::no_delay(true), ec);  // small replies: no Nagle delay
    }
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    ~session()
    {
        std::lock_guard lock(server_.registry_mutex);
        server_.registry.erase(registry_position_);
        server_.open.fetch_sub(1, std::memory_order_relaxed);
    }

    void register_self()
    {
        std::lock_guard lock(server_.registry_mutex);
        registry_position_ = server_.registry.insert(server_.registry.end(), this);
        server_.open.fetch_add(1, std::memory_order_relaxed);
    }

    void start()
    {
        asio::post(socket_.get_executor(), [self = shared_from_this()] { self->wait_request(); });
    }

    // --- called from other threads (read atomics only) ---
    [[nodiscard]] phase current_phase() const noexcept { return phase_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::int64_t deadline() const noexcept { return deadline_.load(std::memory_order_relaxed); }

    // --- posted onto the strand ---
    void expire(std::int64_t now)
    {
        const std::int64_t d = deadline();
        if (d == 0 || now < d) return;  // the deadline moved since the sweep saw it
        const phase p = current_phase();
        const auto index = p == phase::idle     ? 0
                           : p == phase::head   ? 1
                           : p == phase::body   ? 2
                           : p == phase::linger ? 4
                                                : 3;
        server_.timeouts[static_cast<std::size_t>(index)].fetch_add(1, std::memory_order_relaxed);
        if (p == phase::head || p == phase::body) {
            timed_out_ = true;  // the read completes with operation_aborted; a 408 follows
            beast::error_code ec;
            socket_.cancel(ec);
            return;
        }
        close();
    }
    /// Whether an accept already chose this connection to close (read and set under the registry lock,
    /// so that a burst of accepts at the cap picks distinct victims).
    [[nodiscard]] bool chosen_for_eviction() const noexcept
    {
        return evicting_.load(std::memory_order_relaxed);
    }
    void choose_for_eviction() noexcept { evicting_.store(true, std::memory_order_relaxed); }

    void evict()
    {
        const phase p = current_phase();
        if (p != phase::idle && p != phase::head) {  // a request got going meanwhile: let it live
            evicting_.store(false, std::memory_order_relaxed);
            return;
        }
        server_.evicted.fetch_add(1, std::memory_order_relaxed);
        close();
    }
    void server_stopping()
    {
        const phase p = current_phase();
        if (p == phase::idle || p == phase::head) close();
        // Other phases finish the request in hand and close after the reply (keep_alive_ is ignored).
    }
    void force_close() { close(); }

    /// A handler's response, from a pool thread or inline.
    void send(http_response response)
    {
        const bool keep = keep_alive_ && !server_.stopping.load(std::memory_order_relaxed);
        write_response(std::move(response), !keep, false);
    }
    /// Every handler thread stayed busy: 503 (the request was read whole, so the connection may stay).
    void send_busy()
    {
        server_.handler_busy.fetch_add(1, std::memory_order_relaxed);
        server_.count_refusal(503);
        notify_refusal(503);
        http_response r{503, "server busy, retry later\n"};
        r.headers.emplace_back("Retry-After", "1");
        send(std::move(r));
    }

    [[nodiscard]] const http_request& request() const noexcept { return request_; }
    [[nodiscard]] strand_type executor() { return socket_.get_executor(); }

    /// Runs `route`'s handler on the calling thread, turning an exception into a 500.
    http_response invoke(const route_entry& route) const
    {
        try {
            return route.handler(request_);
        } catch (...) {  // a handler's failure is this request's 500, never the server's end
            return http_response{500, "internal error\n"};
        }
    }

    std::optional<http_response> invoke_fast_path(const route_entry& route) const
    {
        try {
            return route.fast_path(request_);
        } catch (...) {
            return std::nullopt;  // the handler will answer
        }
    }

private:
    void set_phase(phase p, std::chrono::milliseconds timeout)
    {
        const std::int64_t now = now_ticks();
        phase_.store(p, std::memory_order_relaxed);
        deadline_.store(timeout.count() > 0
                            ? now + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count()
                            : 0,
                        std::memory_order_relaxed);
        timed_out_ = false;
    }

    /// Moves this connection to the back of the registry (most recently active).
    void touch()
    {
        std::lock_guard lock(server_.registry_mutex);
        server_.registry.splice(server_.registry.end(), server_.registry, registry_position_);
    }

    void wait_request()
    {
        if (server_.stopping.load(std::memory_order_relaxed)) return close();
        http_request_builder::reset(request_);
        http_request_builder::loopback(request_, loopback_);
        parser_.emplace(server_.options.limits, request_);
        keep_alive_ = false;
        touch();
        if (buffer_.size() > 0) return start_head();  // a pipelined request is already here
        if (buffer_.capacity() > 16 * 1024) buffer_.shrink_to_fit();
        set_phase(phase::idle, server_.options.limits.idle_timeout);
        // One read both waits for the next request and takes its first bytes (usually all of it).
        auto space = buffer_.prepare(beast::read_size(buffer_, 65536));
        socket_.async_read_some(space,
                                [self = shared_from_this()](const beast::error_code& ec, std::size_t n) {
                                    if (ec) return self->close();
                                    self->buffer_.commit(n);
                                    self->start_head();
                                });
    }

    /// The head's deadline starts with its first byte; what is already buffered is parsed here, and the
    /// rest is read asynchronously.
    void start_head()
    {
        set_phase(phase::head, server_.options.limits.head_timeout);
        beast::error_code ec;
        if (parse_buffered(ec, [this] { return parser_->is_header_done(); })) return on_head(ec);
        read_head();
    }

    /// Feeds the buffered bytes to the parser until `done()`, an error (true, with `ec`), or more bytes
    /// are needed (false).
    template <class Done>
    bool parse_buffered(beast::error_code& ec, Done done)
    {
        while (buffer_.size() > 0) {
            const auto n = parser_->put(buffer_.data(), ec);
            buffer_.consume(n);
            if (ec == http::error::need_more) {
                ec = {};
                return false;
            }
            if (ec || done()) return true;
            if (n == 0) return false;
        }
        return false;
    }

    void read_head()
    {
        http::async_read_header(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->on_head(ec); });
    }

    void on_head(const beast::error_code& ec)
    {
        if (ec) return on_read_error(ec);
        const std::string_view method = request_.method();
        if (!parser_->chunked() && !parser_->content_length() &&
            (method == "POST" || method == "PUT" || method == "PATCH")) {
            return refuse(411, "Content-Length or chunked Transfer-Encoding required\n");
        }
        if (parser_->is_done()) return dispatch();
        if (parser_->expects_continue() && parser_->version() >= 11 && buffer_.size() == 0) {
            out_ = "HTTP/1.1 100 Continue\r\n\r\n";
            set_phase(phase::writing, server_.options.limits.write_timeout);
            asio::async_write(socket_, asio::buffer(out_),
                              [self = shared_from_this()](const beast::error_code& e, std::size_t) {
                                  if (e) return self->close();
                                  self->read_body();
                              });
            return;
        }
        // The body often came with the head: parse it here, without another round through the reactor.
        parser_->eager(true);
        beast::error_code body_ec;
        if (parse_buffered(body_ec, [this] { return parser_->is_done(); })) {
            if (body_ec) return on_read_error(body_ec);
            return dispatch();
        }
        read_body();
    }

    void read_body()
    {
        set_phase(phase::body, server_.options.limits.body_timeout);
        http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                             if (ec) return self->on_read_error(ec);
                             self->dispatch();
                         });
    }

    void on_read_error(const beast::error_code& ec)
    {
        if (timed_out_) return refuse(408, "request timeout\n");
        if (current_phase() == phase::closed) return;
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            return refuse(431, "request header fields too large\n");
        }
        if (ec == http::error::body_limit) return refuse(413, "payload too large\n");
        if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
            ec.category() != http::make_error_code(http::error::end_of_stream).category()) {
            return close();  // the client went away (or the socket failed): nobody to answer
        }
        refuse(400, "malformed request\n");  // bad framing, bad syntax
    }

    void dispatch()
    {
        server_.requests.fetch_add(1, std::memory_order_relaxed);
        keep_alive_ = parser_->keep_alive();
        set_phase(phase::handling, std::chrono::milliseconds(0));
        bool path_known = false;
        const route_entry* route = server_.match(request_.method(), request_.path(), path_known);
        if (route == nullptr) {
            const int status = path_known ? 405 : 404;
            server_.count_refusal(status);
            return send({status, path_known ? "method not allowed\n" : "not found\n"});
        }
        if (route->fast_path) {
            if (auto answered = invoke_fast_path(*route)) return send(std::move(*answered));
        }
        if (route->where == run_on::io_thread || server_.options.handler_threads == 0) {
            return send(invoke(*route));
        }
        if (!server_.submit({shared_from_this(), route, steady::now()})) send_busy();
    }

    /// Answers with `status` and closes (after lingering): used when the request cannot be read on.
    void refuse(int status, std::string_view body)
    {
        server_.count_refusal(status);
        notify_refusal(status);
        write_response({status, std::string(body)}, true, true);
    }

    void notify_refusal(int status) const
    {
        if (!server_.refusal) return;
        try {
            server_.refusal(request_.method(), request_.path(), status);
        } catch (...) {  // NOLINT(bugprone-empty-catch): a hook's failure must not break the connection
        }
    }

    void write_response(http_response response, bool close_after, bool linger)
    {
        close_after_ = close_after;
        linger_ = linger || close_after;
        const int version = parser_ ? parser_->version() : 11;
        out_.clear();
        out_ += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
        out_ += std::to_string(response.status);
        out_ += ' ';
        out_ += reason_phrase(response.status);
        out_ += "\r\nContent-Type: ";
        out_ += response.content_type;
        out_ += "\r\nContent-Length: ";
        out_ += std::to_string(response.body.size());
        out_ += "\r\n";
        for (const auto& [name, value] : response.headers) {
            out_ += name;
            out_ += ": ";
            out_ += value;
            out_ += "\r\n";
        }
        if (close_after) {
            out_ += "Connection: close\r\n";
        } else if (version == 10) {
            out_ += "Connection: keep-alive\r\n";
        }
        out_ += "\r\n";
        if (request_.method() != "HEAD") out_ += response.body;
        set_phase(phase::writing, server_.options.limits.write_timeout);
        asio::async_write(
            socket_, asio::buffer(out_),
            [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->on_written(ec); });
    }

    void on_written(const beast::error_code& ec)
    {
        if (out_.capacity() > 64 * 1024) {
            out_.clear();
            out_.shrink_to_fit();
        }
        if (ec) return close();
        if (!close_after_) return wait_request();
        if (!linger_) return close();
        // Half-close and discard what the client still sends, so that it reads our reply rather than a
        // reset; bounded by linger_timeout, in constant memory.
        beast::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        buffer_.clear();
        set_phase(phase::linger, server_.options.limits.linger_timeout);
        discard();
    }

    void discard()
    {
        auto space = buffer_.prepare(4096);
        socket_.async_read_some(space, [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
            if (ec) return self->close();
            self->discard();
        });
    }

    void close()
    {
        phase_.store(phase::closed, std::memory_order_relaxed);
        deadline_.store(0, std::memory_order_relaxed);
        beast::error_code ec;
        socket_.close(ec);
    }

    http_server::impl& server_;
    socket_type socket_;
    beast::flat_buffer buffer_;
    http_request request_;
    std::optional<request_parser> parser_;
    std::string out_;
    std::list<session*>::iterator registry_position_;
    std::atomic<phase> phase_{phase::idle};
    std::atomic<std::int64_t> deadline_{0};
    std::atomic<bool> evicting_{false};
    bool loopback_ = false;
    bool keep_alive_ = false;
    bool close_after_ = false;
    bool linger_ = false;
    bool timed_out_ = false;
};

}  // namespace

// -------------------------------------------------------------------------------------------------------
// Accepting, the sweep, the handler pool

void http_server::impl::accept_next()
{
    acceptor.async_accept(asio::make_strand(io), [this](const beast::error_code& ec, socket_type socket) {
        on_accept(ec, std::move(socket));
    });
}

void http_server::impl::on_accept(const beast::error_code& ec, socket_type socket)
{
    if (ec == asio::error::operation_aborted || stopping.load(std::memory_order_relaxed)) return;
    if (ec) {
        // Out of descriptors or memory: make room, and try again shortly (an immediate retry would spin).
        if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
            ec == asio::error::no_memory) {
            refused_at_cap.fetch_add(1, std::memory_order_relaxed);
            (void)evict_one();
            accept_retry.expires_after(std::chrono::milliseconds(50));
            accept_retry.async_wait([this](const beast::error_code& e) {
                if (!e) accept_next();
            });
            return;
        }
        return accept_next();  // e.g. ECONNABORTED: that client is gone
    }
    accepted.fetch_add(1, std::memory_order_relaxed);
    if (open.load(std::memory_order_relaxed) >= options.limits.max_connections && !evict_one()) {
        refused_at_cap.fetch_add(1, std::memory_order_relaxed);
        beast::error_code ignored;
        socket.close(ignored);
        return accept_next();
    }
    auto s = std::make_shared<session>(*this, std::move(socket));
    s->register_self();
    s->start();
    accept_next();
}

bool http_server::impl::evict_one()
{
    std::shared_ptr<session> victim;
    {
        std::lock_guard lock(registry_mutex);
        // Least recently active first: the first idle connection, else the first still sending its head.
        // A session in the list is alive at least until it takes this mutex in its destructor.
        session* idle = nullptr;
        session* slow = nullptr;
        std::size_t looked = 0;
        for (session* s : registry) {
            if (++looked > 4096) break;  // bounded: the front is where the candidates are
            if (s->chosen_for_eviction()) continue;
            const phase p = s->current_phase();
            if (p == phase::idle) {
                idle = s;
                break;
            }
            if (p == phase::head && slow == nullptr) slow = s;
        }
        if (session* pick = idle != nullptr ? idle : slow; pick != nullptr) {
            pick->choose_for_eviction();
            victim = pick->weak_from_this().lock();
        }
    }
    // A shared_ptr taken under the lock is released outside it (the destructor takes the lock).
    if (!victim) return false;
    asio::post(victim->executor(), [victim] { victim->evict(); });
    return true;
}

void http_server::impl::sweep()
{
    const std::int64_t now = now_ticks();
    std::vector<std::shared_ptr<session>> due;
    {
        std::lock_guard lock(registry_mutex);
        for (session* s : registry) {
            const auto d = s->deadline();
            if (d == 0 || now < d) continue;
            if (auto p = s->weak_from_this().lock()) due.push_back(std::move(p));
        }
    }
    for (auto& s : due) {
        asio::post(s->executor(), [s, now] { s->expire(now); });
    }
    due.clear();  // released outside the registry lock (a destructor takes it)
    sweep_timer.expires_after(std::chrono::milliseconds(250));
    sweep_timer.async_wait([this](const beast::error_code& ec) {
        if (!ec) sweep();
    });
}

bool http_server::impl::submit(task t)
{
    {
        std::lock_guard lock(pool_mutex);
        if (pool_stopping || pool_queue.size() >= options.handler_queue) return false;
        pool_queue.push_back(std::move(t));
    }
    pool_ready.notify_one();
    return true;
}

void http_server::impl::pool_loop()
{
    for (;;) {
        task t;
        {
            std::unique_lock lock(pool_mutex);
            pool_ready.wait(lock, [this] { return pool_stopping || !pool_queue.empty(); });
            if (pool_queue.empty()) return;
            t = std::move(pool_queue.front());
            pool_queue.pop_front();
        }
        auto s = t.s;
        if (steady::now() - t.queued > options.handler_queue_timeout) {
            asio::post(s->executor(), [s] { s->send_busy(); });
            continue;
        }
        auto response = s->invoke(*t.route);
        asio::post(s->executor(), [s, r = std::move(response)]() mutable { s->send(std::move(r)); });
    }
}

// -------------------------------------------------------------------------------------------------------
// http_server

http_server::http_server(http_server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

http_server::~http_server()
{
    stop();
}

void http_server::route(std::string method, std::string path, http_handler handler, run_on where,
                        http_fast_path fast_path)
{
    route_entry r;
    r.method = std::move(method);
    r.prefix = path.size() >= 2 && path.compare(path.size() - 2, 2, "/*") == 0;
    if (r.prefix) path.pop_back();  // keep the '/'
    r.path = std::move(path);
    r.handler = std::move(handler);
    r.where = where;
    r.fast_path = std::move(fast_path);
    impl_->routes.push_back(std::move(r));
}

void http_server::on_refusal(http_refusal_hook hook)
{
    impl_->refusal = std::move(hook);
}

meetingbaas::result<unsigned short, std::string> http_server::listen(const std::string& host,
                                                                     unsigned short port)
{
    const std::string where = host + ":" + std::to_string(port);
    beast::error_code ec;
    tcp::endpoint endpoint;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, port);
    } else {
        tcp::resolver resolver(impl_->io);
        const auto found = resolver.resolve(host, std::to_string(port), ec);
        if (ec || found.empty()) {
            return "cannot listen on " + where + ": cannot resolve the host (" + ec.message() + ")";
        }
        endpoint = found.begin()->endpoint();
    }
    auto& acceptor = impl_->acceptor;
    if (acceptor.open(endpoint.protocol(), ec); ec) return "cannot listen on " + where + ": " + ec.message();
    // SO_REUSEADDR only lets a restarted server bind while old connections sit in TIME_WAIT; on Linux it
    // never lets two listening sockets share a port (that would need SO_REUSEPORT, which is not set).
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (acceptor.bind(endpoint, ec); ec) {
        acceptor.close();
        return "cannot listen on " + where + ": " + ec.message() + " (errno " + std::to_string(ec.value()) +
               ")";
    }
    if (acceptor.listen(impl_->options.backlog, ec); ec) {
        acceptor.close();
        return "cannot listen on " + where + ": " + ec.message() + " (errno " + std::to_string(ec.value()) +
               ")";
    }
    return acceptor.local_endpoint().port();
}

void http_server::start()
{
    auto& s = *impl_;
    if (s.started || !s.acceptor.is_open()) return;
    s.started = true;
    for (std::size_t i = 0; i < s.options.handler_threads; ++i)
        s.pool_threads.emplace_back([&s] { s.pool_loop(); });
    s.accept_next();
    s.sweep();
    for (std::size_t i = 0; i < std::max<std::size_t>(s.options.io_threads, 1); ++i) {
        s.io_threads.emplace_back([&s] { s.io.run(); });
    }
}

void http_server::stop()
{
    auto& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    if (!s.started) return;
    s.stopping.store(true);
    asio::post(s.io, [&s] {
        beast::error_code ignored;
        s.acceptor.close(ignored);
        s.accept_retry.cancel();
    });
    const auto for_each_session = [&s](auto&& fn) {
        std::vector<std::shared_ptr<session>> all;
        {
            std::lock_guard lock(s.registry_mutex);
            for (session* x : s.registry) {
                if (auto p = x->weak_from_this().lock()) all.push_back(std::move(p));
            }
        }
        for (auto& p : all) asio::post(p->executor(), [p, fn] { fn(*p); });
    };
    for_each_session([](session& x) { x.server_stopping(); });
    // Requests in flight finish (their replies close the connection), up to drain_timeout.
    const auto until = steady::now() + s.options.drain_timeout;
    while (s.open.load() > 0 && steady::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::deque<impl::task> dropped;  // released outside the pool's lock
    {
        std::lock_guard lock(s.pool_mutex);
        s.pool_stopping = true;
        dropped.swap(s.pool_queue);
    }
    s.pool_ready.notify_all();
    for (auto& t : s.pool_threads) t.join();
    s.pool_threads.clear();
    for_each_session([](session& x) { x.force_close(); });
    const auto closing = steady::now() + std::chrono::seconds(1);
    while (s.open.load() > 0 && steady::now() < closing)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s.io.stop();
    for (auto& t : s.io_threads) t.join();
    s.io_threads.clear();
}

std::size_t http_server::open_connections() const noexcept
{
    return impl_->open.load(std::memory_order_relaxed);
}

std::string http_server::metrics_text(std::string_view prefix) const
{
    const auto& s = *impl_;
    std::string out;
    out.reserve(2048);
    const auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
        out += "# HELP ";
        out += prefix;
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE ";
        out += prefix;
        out += name;
        out += ' ';
        out += type;
        out += '\n';
    };
    const auto value = [&](std::string_view name, std::string_view labels, std::uint64_t v) {
        out += prefix;
        out += name;
        out += labels;
        out += ' ';
        out += std::to_string(v);
        out += '\n';
    };
    const auto load = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    metric("http_connections_open", "gauge", "Open client connections.");
    value("http_connections_open", "", s.open.load(std::memory_order_relaxed));
    metric("http_connections_accepted_total", "counter", "Client connections accepted.");
    value("http_connections_accepted_total", "", load(s.accepted));
    metric("http_connections_evicted_total", "counter",
           "Idle or slow connections closed to make room at the connection cap.");
    value("http_connections_evicted_total", "", load(s.evicted));
    metric("http_connections_refused_total", "counter",
           "Connections closed at once: at the cap with nothing to evict, or out of descriptors.");
    value("http_connections_refused_total", "", load(s.refused_at_cap));
    metric("http_requests_total", "counter", "Complete requests read.");
    value("http_requests_total", "", load(s.requests));
    metric("http_timeouts_total", "counter", "Connections that missed a deadline, by phase.");
    constexpr std::array<std::string_view, 5> phases{"idle", "head", "body", "write", "linger"};
    for (std::size_t i = 0; i < phases.size(); ++i) {
        value("http_timeouts_total", "{phase=\"" + std::string(phases[i]) + "\"}", load(s.timeouts[i]));
    }
    metric("http_refused_total", "counter", "Requests answered by the HTTP layer itself, by status.");
    for (std::size_t i = 0; i < refusal_statuses.size(); ++i) {
        value("http_refused_total", "{status=\"" + std::to_string(refusal_statuses[i]) + "\"}",
              load(s.refused[i]));
    }
    metric("http_handler_busy_total", "counter",
           "Requests answered 503 because every handler thread was busy for too long.");
    value("http_handler_busy_total", "", load(s.handler_busy));
    return out;
}

}  // namespace support
