// SPDX-License-Identifier: MIT
#pragma once
// Signed v2 deliveries for the end-to-end tests and the demo: the svix-* headers of a body, as Meeting BaaS
// (Svix) sends them, made with the library's HMAC (until svix_signer lands).

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/detail/base64.hpp>
#include <meetingbaas/auth/hmac.hpp>

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

namespace sync_e2e {

inline std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// The headers of `body` sent as message `id` at `unix_seconds`, signed with `whsec_secret` (svix-* names,
/// or the Standard Webhooks webhook-* names). Empty when the secret is unusable.
inline httplib::Headers v2_headers(const std::string& body, const std::string& id,
                                   const std::string& whsec_secret, std::int64_t unix_seconds = unix_now(),
                                   bool webhook_names = false)
{
    namespace mb = meetingbaas;
    const auto key = mb::detail::decode_whsec_secret(whsec_secret);
    if (!key) return {};
    const std::string ts = std::to_string(unix_seconds);
    const auto mac = mb::detail::hmac_sha256(std::span<const std::uint8_t>(*key), id + "." + ts + "." + body);
    if (!mac) return {};
    const std::string sig = "v1," + mb::detail::base64_encode(std::span<const std::uint8_t>(*mac));
    const std::string prefix = webhook_names ? "webhook-" : "svix-";
    httplib::Headers h{{"Content-Type", "application/json"}};
    h.emplace(prefix + "id", id);
    h.emplace(prefix + "timestamp", ts);
    h.emplace(prefix + "signature", sig);
    return h;
}

}  // namespace sync_e2e
