// SPDX-License-Identifier: MIT
#pragma once

// Minimal absolute-URL handling for the API client: split an http(s) URL into origin and target, compare
// origins, percent-encode path segments and query components. Not a general URL library.

#include <meetingbaas/core/detail/ascii.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0::detail {

/// The parts of an absolute http(s) URL; views into the parsed string.
struct url_parts {
    std::string_view scheme;  ///< "http" or "https", as written
    std::string_view host;    ///< host name or IP literal (IPv6 keeps its brackets)
    std::string_view port;    ///< digits, or empty for the scheme's default
    std::string_view target;  ///< path plus query, starting with '/' (may be empty: means "/")
};

/// Splits `url` when it is "http://host[:port][/path][?query]" or the https equivalent (scheme
/// case-insensitive). Rejects user-info, fragments, control characters, spaces and empty hosts.
constexpr std::optional<url_parts> split_url(std::string_view url) noexcept
{
    url_parts parts;
    std::size_t pos = 0;
    if (url.size() >= 7 && ascii_iequals(url.substr(0, 7), "http://")) {
        parts.scheme = url.substr(0, 4);
        pos = 7;
    } else if (url.size() >= 8 && ascii_iequals(url.substr(0, 8), "https://")) {
        parts.scheme = url.substr(0, 5);
        pos = 8;
    } else {
        return std::nullopt;
    }
    for (const char c : url) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#') return std::nullopt;
    }
    const auto authority_end = url.find_first_of("/?", pos);
    const auto authority =
        url.substr(pos, authority_end == std::string_view::npos ? url.size() - pos : authority_end - pos);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    std::string_view host = authority;
    std::string_view port;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(0, close + 1);
        const auto rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port = rest.substr(1);
        }
    } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty() || host == "[]") return std::nullopt;
    if (port.size() > 5) return std::nullopt;
    unsigned port_value = 0;
    for (const char c : port) {
        if (!is_ascii_digit(c)) return std::nullopt;
        port_value = port_value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!port.empty() && (port_value == 0 || port_value > 65535)) return std::nullopt;
    parts.host = host;
    parts.port = port;
    parts.target = authority_end == std::string_view::npos ? std::string_view{} : url.substr(authority_end);
    if (!parts.target.empty() && parts.target.front() == '?') return std::nullopt;  // "http://h?x": no path
    return parts;
}

/// The port, with the scheme's default filled in ("80" / "443").
constexpr std::string_view effective_port(const url_parts& p) noexcept
{
    if (!p.port.empty()) return p.port;
    return ascii_iequals(p.scheme, "https") ? std::string_view("443") : std::string_view("80");
}

/// Same scheme, host (ASCII case-insensitive) and effective port.
constexpr bool same_origin(const url_parts& a, const url_parts& b) noexcept
{
    auto strip_zeros = [](std::string_view s) {
        while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
        return s;
    };
    return ascii_iequals(a.scheme, b.scheme) && ascii_iequals(a.host, b.host) &&
           strip_zeros(effective_port(a)) == strip_zeros(effective_port(b));
}

/// "scheme://host[:port]" of a split URL, as written.
inline std::string origin_of(const url_parts& p)
{
    std::string out(p.scheme);
    out += "://";
    out += p.host;
    if (!p.port.empty()) {
        out += ':';
        out += p.port;
    }
    return out;
}

constexpr bool is_unreserved(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_ascii_digit(c) || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/// Appends `s` percent-encoded (RFC 3986: everything but unreserved characters), suitable for a path
/// segment or a query key or value.
inline void append_percent_encoded(std::string& out, std::string_view s)
{
    constexpr std::string_view hex = "0123456789ABCDEF";
    for (const char c : s) {
        if (is_unreserved(c)) {
            out += c;
        } else {
            const auto b = static_cast<unsigned char>(c);
            out += '%';
            out += hex[b >> 4U];
            out += hex[b & 0x0FU];
        }
    }
}

inline std::string percent_encode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    append_percent_encoded(out, s);
    return out;
}

/// Builds a query string "?k=v&k2=v2" incrementally; keys and values are percent-encoded.
class query_builder {
public:
    void add(std::string_view key, std::string_view value)
    {
        query_ += query_.empty() ? '?' : '&';
        append_percent_encoded(query_, key);
        query_ += '=';
        append_percent_encoded(query_, value);
    }
    [[nodiscard]] const std::string& str() const noexcept { return query_; }

private:
    std::string query_;
};

}  // namespace meetingbaas::inline v0::detail
