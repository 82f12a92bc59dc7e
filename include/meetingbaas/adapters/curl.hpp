// SPDX-License-Identifier: MIT
#pragma once

// meetingbaas::curl_http_client: an http_client over libcurl's easy interface.
// CMake: link meetingbaas::curl (brings CURL::libcurl). See docs/api-client.md, "The libcurl adapter".
//
// * Connection reuse: each client owns one easy handle, whose connection cache keeps the TCP/TLS
//   connection to the API open between requests (curl_easy_reset keeps the cache).
// * Timeouts: http_request::timeout bounds the whole exchange (CURLOPT_TIMEOUT_MS); the connect phase is
//   additionally bounded by curl_options::connect_timeout.
// * Thread safety: NOT internally synchronized. Use one curl_http_client (and so one api_client) per
//   thread; distinct clients may run concurrently. libcurl's global initialisation is the
//   application's job: call curl_global_init(CURL_GLOBAL_DEFAULT) once at start-up, before any thread
//   creates a client (curl_easy_init would otherwise do it implicitly, which is not thread-safe on
//   every libcurl build). This header keeps no global state.
// * Exceptions: none are thrown by the adapter. A std::bad_alloc raised inside a libcurl callback is
//   carried across the C frames and rethrown from send() (when exceptions are enabled).

#include <meetingbaas/api/http.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace meetingbaas::inline v0 {

/// Options of curl_http_client (a plain aggregate).
struct curl_options {
    std::chrono::milliseconds connect_timeout{10'000};  ///< capped by each request's own timeout
    std::size_t max_response_bytes =
        std::size_t{32} * 1024 * 1024;  ///< larger bodies: transport_errc::response_too_large
    bool verify_tls = true;             ///< peer and host verification (keep it on)
    std::string ca_file{};              ///< CURLOPT_CAINFO when non-empty
    bool accept_compressed =
        false;  ///< send Accept-Encoding (gzip, br, ...) and decode: smaller bodies, more CPU
    /// CURLOPT_SHARE when non-null: a share handle (curl_share_init) through which this client shares
    /// libcurl's connection cache, DNS cache or TLS sessions with other easy handles, e.g. several
    /// clients on one connection pool. The application owns it, keeps it alive longer than every client
    /// using it and, when those clients run on different threads, installs CURLSHOPT_LOCKFUNC /
    /// CURLSHOPT_UNLOCKFUNC (libcurl's rule for share handles).
    CURLSH* share = nullptr;
};

namespace detail {

/// Maps a libcurl error to a transport_error. `request_bytes` is CURLINFO_REQUEST_SIZE: zero means no
/// byte of the request was written, so the server cannot have seen it.
inline transport_error curl_transport_error(CURLcode code, long request_bytes, const char* detail_message)
{
    transport_error e;
    e.message = "libcurl: ";
    e.message += curl_easy_strerror(code);
    if (detail_message != nullptr && detail_message[0] != '\0') {
        e.message += " (";
        e.message += detail_message;
        e.message += ')';
    }
    const bool sent = request_bytes > 0;
    switch (code) {
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
            e.kind = transport_errc::connect_failed;
            e.may_have_been_sent = false;
            break;
        case CURLE_OPERATION_TIMEDOUT:
            e.kind = transport_errc::timed_out;
            e.may_have_been_sent = sent;
            break;
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_WEIRD_SERVER_REPLY:
            e.kind = transport_errc::connection_dropped;
            e.may_have_been_sent = sent || code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE;
            break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
            e.kind = transport_errc::tls_failed;
            e.may_have_been_sent = false;
            break;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            e.kind = transport_errc::invalid_request;
            e.may_have_been_sent = false;
            break;
        case CURLE_FILESIZE_EXCEEDED:
            e.kind = transport_errc::response_too_large;
            e.may_have_been_sent = true;
            break;
        default:
            e.kind = transport_errc::other;
            e.may_have_been_sent = sent;
            break;
    }
    return e;
}

/// Owns a curl_slist.
class curl_header_list {
public:
    curl_header_list() = default;
    curl_header_list(const curl_header_list&) = delete;
    curl_header_list& operator=(const curl_header_list&) = delete;
    curl_header_list(curl_header_list&& other) noexcept : list_(std::exchange(other.list_, nullptr)) {}
    curl_header_list& operator=(curl_header_list&& other) noexcept
    {
        curl_header_list(std::move(other)).swap(*this);
        return *this;
    }
    ~curl_header_list() { curl_slist_free_all(list_); }

    /// False when libcurl could not allocate.
    bool append(const char* line)
    {
        curl_slist* next = curl_slist_append(list_, line);
        if (next == nullptr) return false;
        list_ = next;
        return true;
    }
    bool append(const std::string& line) { return append(line.c_str()); }
    void swap(curl_header_list& other) noexcept { std::swap(list_, other.list_); }
    [[nodiscard]] curl_slist* get() const noexcept { return list_; }

private:
    curl_slist* list_ = nullptr;
};

/// State shared with libcurl's callbacks during one perform.
struct curl_exchange {
    http_response response;
    std::size_t max_body = 0;
    bool too_large = false;
    std::exception_ptr failure;  // an exception thrown inside a callback, rethrown after perform
};

inline std::size_t curl_write_body(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* ex = static_cast<curl_exchange*>(user);
    const std::size_t n = size * count;
    if (ex->response.body.size() + n > ex->max_body) {
        ex->too_large = true;
        return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
#if defined(__cpp_exceptions)
    try {
        ex->response.body.append(data, n);
    } catch (...) {  // not translated: carried over the C frames and rethrown unchanged by send()
        ex->failure = std::current_exception();
        return 0;
    }
#else
    ex->response.body.append(data, n);
#endif
    return n;
}

inline void curl_add_header_line(curl_exchange& ex, std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) return;  // end of a header block
    if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
        ex.response.headers.clear();  // a new response starts (after 100 Continue or a redirect)
        return;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return;  // obsolete folding or junk: ignored
    const auto name = line.substr(0, colon);
    const auto value = trim_ows(line.substr(colon + 1));
    if (detail::ascii_iequals(name, "Content-Length")) {
        // One allocation for the body instead of a growing string; capped so that a large announced
        // length costs nothing before the bytes arrive.
        std::size_t announced = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), announced);
        if (ec == std::errc{} && end == value.data() + value.size()) {
            ex.response.body.reserve(std::min({announced, ex.max_body, std::size_t{1} << 20}));
        }
    }
    ex.response.headers.add(std::string(name), std::string(value));
}

inline std::size_t curl_write_header(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* ex = static_cast<curl_exchange*>(user);
    const std::size_t n = size * count;
#if defined(__cpp_exceptions)
    try {
        curl_add_header_line(*ex, std::string_view(data, n));
    } catch (...) {
        ex->failure = std::current_exception();
        return 0;
    }
#else
    curl_add_header_line(*ex, std::string_view(data, n));
#endif
    return n;
}

}  // namespace detail

/// An http_client over one libcurl easy handle. Move-only. See the file comment for threading.
class curl_http_client {
public:
    explicit curl_http_client(curl_options options = {})
        : options_(std::move(options)), handle_(curl_easy_init())
    {
        // Attached once: curl_easy_reset keeps a handle's share (libcurl documents this).
        if (handle_ != nullptr && options_.share != nullptr &&
            curl_easy_setopt(handle_, CURLOPT_SHARE, options_.share) != CURLE_OK) {
            share_failed_ = true;
        }
    }

    curl_http_client(const curl_http_client&) = delete;
    curl_http_client& operator=(const curl_http_client&) = delete;
    curl_http_client(curl_http_client&& other) noexcept
        : options_(std::move(other.options_)), handle_(std::exchange(other.handle_, nullptr)),
          share_failed_(other.share_failed_), get_configured_(std::exchange(other.get_configured_, false)),
          headers_current_(std::exchange(other.headers_current_, false)),
          header_list_for_body_(other.header_list_for_body_), header_fields_(std::move(other.header_fields_)),
          header_list_(std::move(other.header_list_))
    {}
    curl_http_client& operator=(curl_http_client&& other) noexcept
    {
        if (this != &other) {
            if (handle_ != nullptr) curl_easy_cleanup(handle_);
            options_ = std::move(other.options_);
            handle_ = std::exchange(other.handle_, nullptr);
            share_failed_ = other.share_failed_;
            get_configured_ = std::exchange(other.get_configured_, false);
            headers_current_ = std::exchange(other.headers_current_, false);
            header_list_for_body_ = other.header_list_for_body_;
            header_fields_ = std::move(other.header_fields_);
            header_list_ = std::move(other.header_list_);  // after the cleanup: the old list is unused
        }
        return *this;
    }
    ~curl_http_client()
    {
        if (handle_ != nullptr) curl_easy_cleanup(handle_);
    }

    /// False when libcurl could not create the easy handle (every send() then fails with `other`).
    [[nodiscard]] bool valid() const noexcept { return handle_ != nullptr; }

    [[nodiscard]] const curl_options& options() const noexcept { return options_; }

    /// Sends `request` and waits for the complete answer. Any HTTP status is a response; failures to get
    /// one are transport errors (see detail::curl_transport_error for the mapping).
    ///
    /// Per-call cost: the header list is rebuilt only when the request's fields differ from the previous
    /// request's, and a bodiless GET that follows a bodiless GET keeps the handle's configuration
    /// (URL, timeouts, headers and callbacks are set again; nothing else can differ). Every other
    /// request starts from curl_easy_reset, which keeps the connection cache.
    http_result send(const http_request& request)
    {
        if (handle_ == nullptr) {
            return transport_error{transport_errc::other, false, "libcurl: curl_easy_init failed"};
        }
        if (share_failed_) {
            return transport_error{transport_errc::invalid_request, false,
                                   "libcurl: curl_options::share was rejected (CURLOPT_SHARE)"};
        }
        if (!is_valid(request.method)) {
            return transport_error{transport_errc::invalid_request, false,
                                   "libcurl: the request's method is not an http_method value"};
        }
        CURL* h = handle_;
        const bool with_body = sends_body(request);
        if (!headers_current_ || with_body != header_list_for_body_ || request.headers != header_fields_) {
            if (!rebuild_header_list(request.headers, with_body)) return out_of_memory();
        }

        const bool plain_get = request.method == http_method::get && request.body.empty();
        bool ok = true;
        if (!(plain_get && get_configured_)) {
            get_configured_ = false;
            curl_easy_reset(h);  // keeps the connection cache: the next request reuses the connection
            ok = configure_handle(request);
        }

        detail::curl_exchange ex;
        ex.max_body = options_.max_response_bytes;
        ex.response.headers.reserve(12);
        char error_buffer[CURL_ERROR_SIZE] = {};
        const auto timeout_ms = std::max<long long>(1, request.timeout.count());
        const auto connect_ms =
            std::min<long long>(timeout_ms, std::max<long long>(1, options_.connect_timeout.count()));
        ok = ok && curl_easy_setopt(h, CURLOPT_URL, request.url.c_str()) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms)) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_ms)) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list_.get()) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex) == CURLE_OK;
        if (!ok) {
            get_configured_ = false;
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
            return transport_error{transport_errc::invalid_request, false, "libcurl: an option was rejected"};
        }
        get_configured_ = plain_get;

        const CURLcode rc = curl_easy_perform(h);
        // `error_buffer` and `ex` die with this call: no pointer to them stays in the handle.
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
        curl_easy_setopt(h, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
        curl_easy_setopt(h, CURLOPT_HEADERDATA, static_cast<void*>(nullptr));
#if defined(__cpp_exceptions)
        if (ex.failure) std::rethrow_exception(ex.failure);
#endif
        if (rc != CURLE_OK) {
            long request_bytes = 0;
            curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_bytes);
            if (rc == CURLE_WRITE_ERROR && ex.too_large) {
                return transport_error{transport_errc::response_too_large, true,
                                       "libcurl: response body larger than max_response_bytes"};
            }
            return detail::curl_transport_error(rc, request_bytes, error_buffer);
        }
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        ex.response.status = static_cast<int>(status);
        return std::move(ex.response);
    }

private:
    /// Builds the libcurl header list for `fields` (plus the two suppressions below) and remembers
    /// `fields`, so that the next request with the same fields reuses the list.
    bool rebuild_header_list(const http_headers& fields, bool with_body)
    {
        headers_current_ = false;
        detail::curl_header_list list;
        std::string line;
        for (const auto& [name, value] : fields) {
            line.assign(name);
            line += value.empty() ? ";" : ": ";  // "Name;" is libcurl's spelling of an empty value
            line += value;
            if (!list.append(line)) return false;
        }
        if (with_body) {  // libcurl adds neither field to a request without a body
            // No "Expect: 100-continue" round trip for bodies over 1 KiB: the API answers quickly.
            if (!fields.contains("Expect") && !list.append("Expect:")) return false;
            // libcurl would label a body application/x-www-form-urlencoded, which Fastify (the v2 API)
            // rejects (FST_ERR_CTP_INVALID_MEDIA_TYPE): send only the Content-Type the request carries.
            if (!fields.contains("Content-Type") && !list.append("Content-Type:")) return false;
        }
        // The handle may still point at the old list: point it at the new one before the old one dies.
        curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, list.get());
        header_list_.swap(list);
        header_fields_ = fields;
        header_list_for_body_ = with_body;
        headers_current_ = true;
        return true;
    }

    /// Everything but the per-request options set in send(), on a freshly reset handle.
    bool configure_handle(const http_request& request)
    {
        CURL* h = handle_;
        bool ok = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &detail::curl_write_body) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &detail::curl_write_header) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L) == CURLE_OK;
        if (!options_.ca_file.empty())
            ok = ok && curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str()) == CURLE_OK;
        if (options_.accept_compressed)
            ok = ok && curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;

        const auto method = to_string(request.method);
        switch (request.method) {
            case http_method::get: ok = ok && curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) == CURLE_OK; break;
            case http_method::head: ok = ok && curl_easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK; break;
            case http_method::post: ok = ok && curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK; break;
            case http_method::put:
            case http_method::patch:
            case http_method::delete_:
                // to_string(http_method) views a string literal, so data() is NUL-terminated.
                // NOLINTNEXTLINE(bugprone-suspicious-stringview-data-usage): a literal, see above
                ok = ok && curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.data()) == CURLE_OK;
                break;
        }
        if (sends_body(request)) {
            // POSTFIELDS with CUSTOMREQUEST sends the body with any method, DELETE included.
            ok = ok && curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                        static_cast<curl_off_t>(request.body.size())) == CURLE_OK;
            ok = ok && curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data()) == CURLE_OK;
        }
        return ok;
    }

    /// Whether libcurl is told to send a body (POSTFIELDS), possibly empty.
    static bool sends_body(const http_request& request) noexcept
    {
        return !request.body.empty() || request.method == http_method::post ||
               request.method == http_method::put || request.method == http_method::patch;
    }

    static transport_error out_of_memory()
    {
        return transport_error{transport_errc::other, false,
                               "libcurl: out of memory building the header list"};
    }

    curl_options options_;
    CURL* handle_ = nullptr;
    bool share_failed_ = false;
    bool get_configured_ = false;        ///< the handle is set up for a bodiless GET (see send())
    bool headers_current_ = false;       ///< header_list_ was built from header_fields_ ...
    bool header_list_for_body_ = false;  ///< ... for a request with a body (with the two suppressions)
    http_headers header_fields_{};
    detail::curl_header_list header_list_{};  ///< in use by handle_; freed after curl_easy_cleanup
};

static_assert(http_client<curl_http_client>);

}  // namespace meetingbaas::inline v0
