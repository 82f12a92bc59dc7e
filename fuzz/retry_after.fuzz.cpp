// SPDX-License-Identifier: MIT
// libFuzzer target for the Retry-After parsers (retry_after.hpp). Checks, beyond "no crash, no UB":
// * results are within [0, max_pushback] and errors carry a code and a `where`;
// * a parsed HTTP-date formats back to an IMF-fixdate that parses to the same instant (years <= 9999);
// * a successful Retry-After feeds a retrier decision that respects the policy's cap;
// * numbers: a string of digits is exactly its value (saturated at max_pushback), in seconds for
//   Retry-After and milliseconds for the pushback headers; a sign, fraction or exponent is an error.

#include <meetingbaas/retry/retrier.hpp>
#include <meetingbaas/retry/retry_after.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace {
void check(bool ok)
{
    if (!ok) std::abort();
}

/// Numbers (issue 12 section 4): the value of a string of ASCII digits, saturating at `cap`; nullopt for
/// anything else. The reference for delta-seconds and millisecond pushbacks.
std::optional<std::int64_t> digits_value(std::string_view s, std::int64_t cap)
{
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v > cap / 10 ? cap : std::min(cap, v * 10 + (c - '0'));
    }
    return v;
}

std::string_view trim_ows(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace std::chrono;
    namespace mb = meetingbaas;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    constexpr sys_seconds now = sys_days{year{2026} / November / 27} + hours(3);

    const auto r = mb::parse_retry_after(text, now);
    if (r) {
        check(*r >= milliseconds(0) && *r <= mb::max_pushback);
        // Feed it to a decision: the delay must honour the cap and the floor.
        struct fixed_clock {
            using duration = milliseconds;
            using rep = duration::rep;
            using period = duration::period;
            using time_point = std::chrono::time_point<fixed_clock, duration>;
            time_point now() const noexcept { return time_point(seconds(1)); }
        };
        constexpr auto policy = mb::checked(mb::retry_policy<>{.max_retry_after = seconds(30)});
        mb::retrier retrier(policy,
                            mb::retry_effects{.clock = fixed_clock{}, .random = mb::splitmix64(size)});
        retrier.start();
        (void)retrier.begin_attempt();
        const auto d = retrier.next(mb::attempt_outcome::http(429, *r));
        check(d.retry);
        check(d.delay <= seconds(30));
        check(d.delay >= (*r < seconds(30) ? *r : milliseconds(seconds(30))));
    } else {
        check(r.error().code == mb::errc::invalid_value || r.error().code == mb::errc::empty_input);
        check(r.error().where == "Retry-After");
    }

    const auto date = mb::parse_http_date(text, now);
    if (date) {
        // A leap second on 9999-12-31 lands in year 10000, which IMF-fixdate cannot spell.
        const auto formatted = mb::format_http_date(*date);
        check(!formatted.view().empty() || *date >= sys_days{year{10000} / January / 1});
        if (!formatted.view().empty()) {
            const auto again = mb::parse_http_date(formatted.view(), now);
            check(again.has_value() && *again == *date);
        }
    }

    const auto ms = mb::parse_pushback_ms(text);
    if (ms) check(*ms >= milliseconds(0) && *ms <= mb::max_pushback);

    // Digits only: exactly their value, saturated; a sign, a fraction or an exponent is never a number here
    // (and none of those characters can make an HTTP-date).
    const std::string_view trimmed = trim_ows(text);
    constexpr auto cap_s = std::chrono::duration_cast<seconds>(mb::max_pushback).count();
    if (const auto v = digits_value(trimmed, cap_s)) {
        check(r.has_value() && *r == milliseconds(seconds(*v)));
    } else if (!trimmed.empty() && trimmed.find_first_not_of("0123456789+-.eE") == std::string_view::npos) {
        check(!r.has_value());
    }
    if (const auto v = digits_value(trimmed, mb::max_pushback.count())) {
        check(ms.has_value() && *ms == milliseconds(*v));
    } else if (!trimmed.empty() && trimmed.find_first_not_of("0123456789+-.eE") == std::string_view::npos) {
        check(!ms.has_value());
    }
    return 0;
}
