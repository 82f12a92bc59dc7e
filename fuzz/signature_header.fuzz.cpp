// SPDX-License-Identifier: MIT
// Fuzzes the v2 verifier with attacker-controlled headers: the input is split at '\n' into
// svix-id, svix-timestamp, svix-signature and the body. Checks that nothing crashes, that the header
// summary is self-consistent, that success only ever happens when an entry really carries the HMAC, and
// that the timestamp is read as exactly its digits.
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/detail/base64.hpp>
#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/core/headers.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace {

constexpr std::string_view secret = "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f";

const meetingbaas::svix_verifier& verifier()
{
    static const meetingbaas::svix_verifier v = [] {
        meetingbaas::svix_options o;
        o.past_tolerance = std::chrono::seconds(4'000'000'000LL);  // accept any plausible timestamp ...
        o.future_tolerance = std::chrono::seconds(4'000'000'000LL);
        auto r = meetingbaas::svix_verifier::from_secrets({secret}, o);
        if (!r) std::abort();
        return std::move(*r);
    }();
    return v;
}

std::string_view next_line(std::string_view& rest)
{
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    const std::string_view id = next_line(rest);
    const std::string_view ts = next_line(rest);
    const std::string_view sig = next_line(rest);
    const std::string_view body = rest;

    // Numbers (issue 12 section 4): the timestamp is 1+ ASCII digits that fit an int64, exactly their value
    // (strtoll is the reference; no sign, space, fraction or exponent).
    {
        const std::string z(ts);
        errno = 0;
        char* end = nullptr;
        const long long reference = std::strtoll(z.c_str(), &end, 10);
        const bool digits_only = !ts.empty() && ts.find_first_not_of("0123456789") == std::string_view::npos;
        const bool fits = digits_only && errno != ERANGE && end == z.c_str() + z.size();
        const auto parsed = meetingbaas::detail::parse_unix_seconds(ts);
        if (parsed.has_value() != fits) std::abort();
        if (parsed && *parsed != reference) std::abort();
    }

    // The parser alone, at the default caps and at tiny ones.
    for (const std::size_t cap : {std::size_t{4}, std::size_t{64}}) {
        const auto s = meetingbaas::detail::summarize_signature_header(sig, 4096, cap);
        if (s.v1_valid > s.v1_entries || s.v1_entries > s.entries) std::abort();
        if (!s.failure && (s.v1_valid == 0 || s.entries > cap)) std::abort();
    }
    std::size_t visited = 0;
    meetingbaas::detail::for_each_signature_entry(sig, [&](const meetingbaas::detail::signature_entry& e) {
        ++visited;
        // Entries never contain the separator, and the version never contains the comma.
        if (e.version.find_first_of(" ,") != std::string_view::npos) std::abort();
        if (e.payload.find(' ') != std::string_view::npos) std::abort();
        return true;
    });

    // The whole verifier, under both header families.
    const meetingbaas::http_headers svix{{"svix-id", std::string(id)},
                                         {"svix-timestamp", std::string(ts)},
                                         {"svix-signature", std::string(sig)}};
    const meetingbaas::http_headers standard{{"webhook-id", std::string(id)},
                                             {"webhook-timestamp", std::string(ts)},
                                             {"webhook-signature", std::string(sig)}};
    for (const auto* headers : {&svix, &standard}) {
        const auto r = verifier().verify_at(*headers, body, 1'789'571'529);
        if (r) {
            // Success must be genuine: recompute the MAC and find it among the entries.
            const auto key = meetingbaas::detail::base64_decode(secret.substr(6));
            std::string content(meetingbaas::detail::trim_ows(id));
            content += '.';
            content += meetingbaas::detail::trim_ows(ts);
            content += '.';
            content += body;
            const auto mac = meetingbaas::detail::hmac_sha256(*key, content);
            const std::string expected =
                "v1," + meetingbaas::detail::base64_encode(std::span<const std::uint8_t>(*mac));
            if (sig.find(expected) == std::string_view::npos) std::abort();
            if (r->bytes().data() != body.data()) std::abort();
        } else if (meetingbaas::to_string(r.error().reason) == "unknown") {
            std::abort();
        }
    }
    return 0;
}
