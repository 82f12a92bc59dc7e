// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: auth (proving that a delivery came from Meeting BaaS: v1 API-key header, v2 Svix
// signatures, HMAC backends; and signing deliveries the same way, for tests and relays). No nlohmann.
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/auth/signer.hpp>
