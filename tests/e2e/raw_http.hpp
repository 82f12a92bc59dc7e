// SPDX-License-Identifier: MIT
#pragma once
// Raw HTTP/1.1 over loopback TCP for the abuse tests: connect, send exactly the bytes a hostile client
// would, read replies with deadlines. Nothing here interprets more than a status line, headers and a
// Content-Length body.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace raw_http {

/// Raises the soft open-files limit to at least `wanted` (up to the hard limit); the new soft limit.
inline rlim_t raise_nofile(rlim_t wanted)
{
    rlimit l{};
    ::getrlimit(RLIMIT_NOFILE, &l);
    if (l.rlim_cur < wanted) {
        l.rlim_cur = std::min(wanted, l.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &l);
        ::getrlimit(RLIMIT_NOFILE, &l);
    }
    return l.rlim_cur;
}

/// An owned socket.
class socket_fd {
public:
    socket_fd() = default;
    explicit socket_fd(int fd) noexcept : fd_(fd) {}
    socket_fd(socket_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    socket_fd& operator=(socket_fd&& o) noexcept
    {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    ~socket_fd() { reset(); }
    void reset() noexcept
    {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

/// A blocking connection to 127.0.0.1:port (invalid on failure).
inline socket_fd connect_loopback(int port)
{
    socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) return s;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return socket_fd{};
    const int one = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

/// Sends all of `data` (blocking, with a 10 s send timeout); false when the peer closed or it timed out.
inline bool send_all(const socket_fd& s, std::string_view data)
{
    timeval tv{10, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (!data.empty()) {
        const auto n = ::send(s.get(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// True when the peer has closed the connection (EOF or reset) within `timeout`, reading and discarding
/// whatever it sent first.
inline bool closed_by_peer(const socket_fd& s, std::chrono::milliseconds timeout,
                           std::string* received = nullptr)
{
    const auto until = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{s.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        const auto n = ::recv(s.get(), buf, sizeof buf, 0);
        if (n <= 0) return true;
        if (received != nullptr) received->append(buf, static_cast<std::size_t>(n));
    }
}

/// One parsed reply.
struct reply {
    int status = 0;
    std::string head;  ///< status line and fields
    std::string body;
    [[nodiscard]] bool has_field(std::string_view field_line) const
    {
        return head.find(std::string(field_line) + "\r\n") != std::string::npos;
    }
};

/// Reads replies from a connection, keeping what it has read beyond the current one (pipelining).
class reader {
public:
    explicit reader(const socket_fd& s) : fd_(s.get()) {}

    /// The next complete reply (status line, fields, Content-Length body), or nullopt when the connection
    /// ends or `timeout` passes first. 1xx replies are returned like the others.
    std::optional<reply> next(std::chrono::milliseconds timeout)
    {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto r = take()) return r;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0 || eof_) return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[16384];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                eof_ = true;
                continue;
            }
            data_.append(buf, static_cast<std::size_t>(n));
        }
    }
    /// Whether bytes are waiting (without blocking).
    bool poll_readable(std::chrono::milliseconds timeout) const
    {
        if (!data_.empty()) return true;
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
    }

private:
    std::optional<reply> take()
    {
        const auto end = data_.find("\r\n\r\n");
        if (end == std::string::npos) return std::nullopt;
        reply r;
        r.head = data_.substr(0, end + 2);
        if (r.head.rfind("HTTP/1.", 0) != 0 || r.head.size() < 12) return std::nullopt;
        r.status = std::atoi(r.head.c_str() + 9);
        std::size_t length = 0;
        for (std::size_t at = 0; (at = r.head.find("\r\n", at)) != std::string::npos;) {
            at += 2;
            constexpr std::string_view cl = "content-length:";
            if (r.head.size() - at > cl.size()) {
                std::string name = r.head.substr(at, cl.size());
                for (auto& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
                if (name == cl) length = std::strtoul(r.head.c_str() + at + cl.size(), nullptr, 10);
            }
        }
        if (data_.size() < end + 4 + length) return std::nullopt;
        r.body = data_.substr(end + 4, length);
        data_.erase(0, end + 4 + length);
        return r;
    }

    int fd_;
    std::string data_;
    bool eof_ = false;
};

/// Sends `request` on a new connection and reads one reply.
inline std::optional<reply> exchange(int port, std::string_view request,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
    auto s = connect_loopback(port);
    if (!s.valid() || !send_all(s, request)) return std::nullopt;
    reader r(s);
    return r.next(timeout);
}

/// "POST <target> HTTP/1.1" with a Content-Length body and `fields` (each "Name: value").
inline std::string post(std::string_view target, std::string_view body,
                        const std::vector<std::string>& fields = {})
{
    std::string out = "POST " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& f : fields) out += f + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return out;
}

inline std::string get(std::string_view target, bool close = false)
{
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
           (close ? "Connection: close\r\n" : "") + "\r\n";
}

/// Streams `head` then up to `total` bytes produced by `next_piece` while watching for a reply, as a
/// hostile client does: stops sending once a reply has arrived. Returns the reply (nullopt if none within
/// `timeout`) and, in `sent_before_reply`, how many bytes had been sent when it arrived.
template <class NextPiece>
std::optional<reply> stream_until_reply(int port, std::string_view head, std::size_t total,
                                        NextPiece next_piece, std::size_t& sent_before_reply,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(20))
{
    auto s = connect_loopback(port);
    if (!s.valid()) return std::nullopt;
    ::fcntl(s.get(), F_SETFL, ::fcntl(s.get(), F_GETFL) | O_NONBLOCK);
    std::string pending(head);
    std::size_t sent = 0;
    std::size_t produced = 0;
    std::string data;
    const auto until = std::chrono::steady_clock::now() + timeout;
    bool can_send = true;
    while (std::chrono::steady_clock::now() < until) {
        if (pending.empty() && produced < total) {
            std::string piece = next_piece(produced);
            produced += piece.size();
            pending = std::move(piece);
        }
        pollfd p{s.get(), static_cast<short>(POLLIN | (can_send && !pending.empty() ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            char buf[16384];
            const auto n = ::recv(s.get(), buf, sizeof buf, 0);
            if (n > 0) data.append(buf, static_cast<std::size_t>(n));
            if (data.find("\r\n\r\n") != std::string::npos || n <= 0) break;
        }
        if ((p.revents & POLLOUT) != 0) {
            const auto n = ::send(s.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                pending.erase(0, static_cast<std::size_t>(n));
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                can_send = false;  // the server closed its side: read what it said
            }
        }
    }
    sent_before_reply = sent;
    const auto end = data.find("\r\n\r\n");
    if (end == std::string::npos || data.rfind("HTTP/1.", 0) != 0) return std::nullopt;
    reply out;
    out.head = data.substr(0, end + 2);
    out.status = data.size() >= 12 ? std::atoi(data.c_str() + 9) : 0;
    out.body = data.substr(end + 4);
    return out;
}

}  // namespace raw_http
