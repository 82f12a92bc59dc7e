// SPDX-License-Identifier: MIT
#pragma once

// Lua scripts on any redis::connection: every primitive of the Redis stores is one script, so it is atomic
// on the server and costs one round trip. A script is sent by its SHA-1 (EVALSHA); when the server does not
// know it (NOSCRIPT: first use, a restart, SCRIPT FLUSH, a fail-over to a replica that never saw it) it is
// sent again in full with EVAL, which also caches it. NOSCRIPT means the script did not run, so resending
// cannot apply it twice.

#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/detail/sha1.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace meetingbaas::inline v0::redis {

/// A Lua script with its name (for error messages) and its SHA-1, computed at compile time.
struct script {
    std::string_view name;
    std::string_view source;
    std::array<char, 40> sha1{};

    [[nodiscard]] constexpr std::string_view sha1_view() const noexcept { return {sha1.data(), sha1.size()}; }
};

/// Makes a script; constexpr, so `inline constexpr script s = make_script("name", R"lua(...)lua");`
/// hashes the source once, at compile time.
[[nodiscard]] constexpr script make_script(std::string_view name, std::string_view source) noexcept
{
    return script{name, source, detail::sha1_hex(source)};
}

/// The decimal text of an integer, without allocating (for command arguments).
class decimal {
public:
    explicit decimal(std::int64_t v) noexcept { set(v); }
    explicit decimal(std::uint64_t v) noexcept { set(v); }
    explicit decimal(std::uint32_t v) noexcept { set(std::uint64_t{v}); }
    [[nodiscard]] std::string_view view() const noexcept { return {buffer_.data(), size_}; }

private:
    template <class T>
    void set(T v) noexcept
    {
        const auto r = std::to_chars(buffer_.data(), buffer_.data() + buffer_.size(), v);
        size_ = r.ec == std::errc() ? static_cast<std::size_t>(r.ptr - buffer_.data()) : 0;
    }
    std::array<char, 24> buffer_{};
    std::size_t size_ = 0;
};

/// Parses a whole decimal integer (an optional '-' then digits). nullopt on anything else or overflow.
[[nodiscard]] inline std::optional<std::int64_t> parse_int64(std::string_view s) noexcept
{
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

/// Parses a whole unsigned decimal integer (digits only). nullopt on anything else or overflow.
[[nodiscard]] inline std::optional<std::uint64_t> parse_uint64(std::string_view s) noexcept
{
    if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
    std::uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

/// Runs `s` with `keys` and `args`: EVALSHA, then EVAL once on NOSCRIPT. Returns the script's reply;
/// an error reply becomes errc::storage_error naming `where` and the script (the server rejected or
/// aborted it: our scripts check everything before their first write, so nothing was applied). A failure
/// without a reply is reported with redis::to_error (see outcome_unknown()).
template <connection C>
[[nodiscard]] result<reply> run_script(C& c, const script& s, std::span<const std::string_view> keys,
                                       std::span<const std::string_view> args, std::string_view where)
{
    const decimal numkeys(static_cast<std::uint64_t>(keys.size()));
    constexpr std::size_t inline_capacity = 24;
    std::array<std::string_view, inline_capacity> fixed{};
    std::vector<std::string_view> heap;
    const std::size_t argc = 3 + keys.size() + args.size();
    std::span<std::string_view> argv;
    if (argc <= inline_capacity) {
        argv = std::span<std::string_view>(fixed.data(), argc);
    } else {
        heap.resize(argc);
        argv = std::span<std::string_view>(heap);
    }
    argv[0] = "EVALSHA";
    argv[1] = s.sha1_view();
    argv[2] = numkeys.view();
    std::size_t i = 3;
    for (const auto k : keys) argv[i++] = k;
    for (const auto a : args) argv[i++] = a;

    const auto label = [&s](std::string_view command) {
        std::string out(command);
        out += ' ';
        out += s.name;
        return out;
    };
    auto r = c.command(std::span<const std::string_view>(argv.data(), argv.size()));
    if (!r) return to_error(r.error(), where, label("EVALSHA"));
    if (r->is_error() && std::string_view(r->str).starts_with("NOSCRIPT")) {
        argv[0] = "EVAL";
        argv[1] = s.source;
        r = c.command(std::span<const std::string_view>(argv.data(), argv.size()));
        if (!r) return to_error(r.error(), where, label("EVAL"));
        if (r->is_error()) return reply_error(*r, where, label("EVAL"));
    }
    if (r->is_error()) return reply_error(*r, where, label("EVALSHA"));
    return std::move(*r);
}

}  // namespace meetingbaas::inline v0::redis
