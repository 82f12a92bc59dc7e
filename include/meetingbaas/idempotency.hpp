// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: idempotency (keys and fingerprints, the canonical key of every event, the store concept,
// the in-memory store, the guard state machine with leases and fences, and claim_delivery for the two keys of
// a webhook delivery). No nlohmann.
#include <meetingbaas/idempotency/delivery.hpp>
#include <meetingbaas/idempotency/event_keys.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/idempotency/store.hpp>
