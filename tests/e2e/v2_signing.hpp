// SPDX-License-Identifier: MIT
#pragma once
// Signed v2 deliveries for the end-to-end tests and the demo: the svix-* headers of a body, as Meeting BaaS
// (Svix) sends them, made with the library's public signer.

#include <meetingbaas/auth/signer.hpp>

#include <httplib.h>

#include <chrono>
#include <cstdint>
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
    const auto signer = meetingbaas::svix_signer::from_secret(whsec_secret);
    if (!signer) return {};
    const auto signed_headers = signer->sign(id, unix_seconds, body,
                                             webhook_names ? meetingbaas::signature_header_style::webhook
                                                           : meetingbaas::signature_header_style::svix);
    if (!signed_headers) return {};
    httplib::Headers h{{"Content-Type", "application/json"}};
    signed_headers->for_each([&](std::string_view name, std::string_view value) {
        h.emplace(std::string(name), std::string(value));
    });
    return h;
}

}  // namespace sync_e2e
