// SPDX-License-Identifier: MIT
#pragma once

// Redis URLs: redis://[[user]:password@]host[:port][/db] (the IANA "redis" scheme). No third-party library.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0::redis {

/// Where a Redis server is, and how to log in.
struct endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string
        username;  ///< ACL user (Redis 6+); empty with a password = AUTH <password> (the default user)
    std::string password;  ///< empty = no AUTH
    std::uint32_t db = 0;  ///< SELECT <db> after connecting when not 0

    /// "redis://host:port/db", with the user name but never the password (for logs and error messages).
    [[nodiscard]] std::string describe() const
    {
        std::string out = "redis://";
        if (!username.empty()) {
            out += username;
            out += '@';
        }
        const bool v6 = host.find(':') != std::string::npos;
        if (v6) out += '[';
        out += host;
        if (v6) out += ']';
        out += ':';
        out += std::to_string(port);
        out += '/';
        out += std::to_string(db);
        return out;
    }
};

namespace detail {

inline error url_error(std::string_view message)
{
    return error{errc::invalid_url, "redis url", std::string(message)};
}

inline std::optional<int> hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return std::nullopt;
}

/// Percent-decodes a URL component.
inline std::optional<std::string> percent_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const auto hi = hex_value(s[i + 1]);
        const auto lo = hex_value(s[i + 2]);
        if (!hi || !lo) return std::nullopt;
        out += static_cast<char>((*hi << 4) | *lo);
        i += 2;
    }
    return out;
}

inline std::optional<std::uint64_t> small_decimal(std::string_view s, std::uint64_t max) noexcept
{
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return std::nullopt;
    return v;
}

}  // namespace detail

/// True when `text` starts with "redis://" or "rediss://" (so a --state value is meant for Redis).
[[nodiscard]] inline bool is_redis_url(std::string_view text) noexcept
{
    return text.starts_with("redis://") || text.starts_with("rediss://");
}

/// Parses `redis://[[user]:password@]host[:port][/db]`. The host may be a name, an IPv4 address or a
/// bracketed IPv6 address; user and password are percent-decoded; the port defaults to 6379 and the db
/// to 0. Errors: errc::invalid_url (where = "redis url"; the message never repeats the password), and
/// errc::unsupported for rediss:// (TLS: the hiredis 0.14 adapter has none; terminate TLS in a sidecar).
[[nodiscard]] inline result<endpoint> parse_url(std::string_view url)
{
    if (url.starts_with("rediss://")) {
        return error{errc::unsupported, "redis url",
                     "rediss:// (TLS) is not supported by the hiredis adapter; use a TLS sidecar or your "
                     "own redis::connection"};
    }
    if (!url.starts_with("redis://")) return detail::url_error("must start with redis://");
    std::string_view rest = url.substr(8);
    endpoint ep;

    // authority [/db]
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return detail::url_error("query strings and fragments are not supported");
    }

    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        const auto colon = userinfo.find(':');
        auto user = detail::percent_decode(userinfo.substr(0, colon));
        if (!user) return detail::url_error("bad percent-encoding in the user name");
        ep.username = std::move(*user);
        if (colon != std::string_view::npos) {
            auto password = detail::percent_decode(userinfo.substr(colon + 1));
            if (!password) return detail::url_error("bad percent-encoding in the password");
            ep.password = std::move(*password);
        } else if (!ep.username.empty()) {
            // redis://secret@host: a lone userinfo is the password (the redis-cli and redis-py reading).
            ep.password = std::move(ep.username);
            ep.username.clear();
        }
    }

    std::string_view host;
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return detail::url_error("unterminated [IPv6] host");
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return detail::url_error("unexpected text after the [IPv6] host");
            port = after.substr(1);
            if (port.empty()) return detail::url_error("empty port");
        }
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            if (port.empty()) return detail::url_error("empty port");
        }
    }
    if (host.empty()) return detail::url_error("missing host");
    for (const char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '-' || c == '_' || c == ':';
        if (!ok) return detail::url_error("invalid character in the host");
    }
    ep.host = std::string(host);
    if (!port.empty()) {
        const auto p = detail::small_decimal(port, 65535);
        if (!p || *p == 0) return detail::url_error("the port must be a number from 1 to 65535");
        ep.port = static_cast<std::uint16_t>(*p);
    }
    if (!path.empty()) {
        const auto db = detail::small_decimal(path, 1'000'000);
        if (!db) return detail::url_error("the path must be a database number, e.g. /0");
        ep.db = static_cast<std::uint32_t>(*db);
    }
    return ep;
}

}  // namespace meetingbaas::inline v0::redis
