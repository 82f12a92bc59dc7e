// SPDX-License-Identifier: MIT
#pragma once

// The example server's webhook verifier: v1 deliveries carry the API key, v2 (Svix) deliveries are
// signed with one of the configured whsec_ secrets (several during a rotation).

#include "server_config.hpp"

#include <meetingbaas/auth/authenticity.hpp>

#include <string>

namespace support {

[[nodiscard]] inline meetingbaas::result<meetingbaas::webhook_verifier, std::string>
make_verifier(const server_config& cfg)
{
    namespace mb = meetingbaas;
    mb::webhook_verifier verifier;
    auto keys = mb::api_key_keyring::from_keys({cfg.api_key});
    if (!keys) return "unusable --api-key (" + std::string(mb::to_string(keys.error().code)) + ")";
    verifier.accept_v1(std::move(*keys));
    if (!cfg.webhook_secrets.empty()) {
        mb::svix_verifier svix;
        for (std::size_t i = 0; i < cfg.webhook_secrets.size(); ++i) {
            if (auto added = svix.add_secret(cfg.webhook_secrets[i]); !added) {
                return "unusable --webhook-secret #" + std::to_string(i) + " (" +
                       std::string(mb::to_string(added.error().code)) + ": " + added.error().message + ")";
            }
        }
        verifier.accept_v2(std::move(svix));
    }
    return verifier;
}

}  // namespace support
