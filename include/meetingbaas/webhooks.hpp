// SPDX-License-Identifier: MIT
#pragma once

// Umbrella header: every core public header, nothing else. Adapters (meetingbaas/adapters/*: SQLite, libcurl,
// cpp-httplib, OpenSSL) need third-party libraries, so they are opt-in and never included here.
#include <meetingbaas/api_client.hpp>
#include <meetingbaas/api_models.hpp>
#include <meetingbaas/api_version.hpp>
#include <meetingbaas/authenticity.hpp>
#include <meetingbaas/backoff.hpp>
#include <meetingbaas/calendar_sync.hpp>
#include <meetingbaas/enums.hpp>
#include <meetingbaas/error.hpp>
#include <meetingbaas/event.hpp>
#include <meetingbaas/event_keys.hpp>
#include <meetingbaas/event_types.hpp>
#include <meetingbaas/headers.hpp>
#include <meetingbaas/http.hpp>
#include <meetingbaas/idempotency.hpp>
#include <meetingbaas/idempotency_key.hpp>
#include <meetingbaas/idempotency_store.hpp>
#include <meetingbaas/job_queue.hpp>
#include <meetingbaas/memory_store.hpp>
#include <meetingbaas/metrics.hpp>
#include <meetingbaas/receiver.hpp>
#include <meetingbaas/result.hpp>
#include <meetingbaas/retry.hpp>
#include <meetingbaas/retry_after.hpp>
#include <meetingbaas/retry_budget.hpp>
#include <meetingbaas/timestamp.hpp>
#include <meetingbaas/version.hpp>
