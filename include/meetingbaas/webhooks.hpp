// SPDX-License-Identifier: MIT
#pragma once

// Umbrella header: every core module, nothing else. Adapters (meetingbaas/adapters/*: SQLite, libcurl,
// cpp-httplib, OpenSSL) need third-party libraries, so they are opt-in and never included here. A
// receiver that only verifies, parses and deduplicates includes just what it uses (docs/design.md):
//
//   core         version, error, result, timestamps, api_version, header collections    (no nlohmann)
//   events       typed events and the parser                                           (core)
//   auth         v1 API-key and v2 Svix verification, HMAC backends                    (core; no nlohmann)
//   idempotency  keys, event keys, store concept, memory store, guard                  (core, events' types)
//   retry        backoff, Retry-After, budgets, retrier and retry()                    (core; no nlohmann)
//   api          http_client concept, API models, api_client                           (core, events, retry)
//   sync         job queue, receiver, event state, calendar-sync processor, metrics    (all of the above)
#include <meetingbaas/api.hpp>
#include <meetingbaas/auth.hpp>
#include <meetingbaas/core.hpp>
#include <meetingbaas/events.hpp>
#include <meetingbaas/idempotency.hpp>
#include <meetingbaas/retry.hpp>
#include <meetingbaas/sync.hpp>
