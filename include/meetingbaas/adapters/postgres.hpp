// SPDX-License-Identifier: MIT
#pragma once

// Adapter umbrella: PostgreSQL through libpq (link meetingbaas::postgres): the connection and pool, schema
// versioning and the server clock, the durable idempotency store, job queue (with LISTEN/NOTIFY wake-ups),
// calendar event state and the shared write-rate limiter, all sharable by many instances. See
// docs/scale-out.md.
#include <meetingbaas/adapters/postgres/connection.hpp>
#include <meetingbaas/adapters/postgres/event_state.hpp>
#include <meetingbaas/adapters/postgres/idempotency_store.hpp>
#include <meetingbaas/adapters/postgres/job_queue.hpp>
#include <meetingbaas/adapters/postgres/listener.hpp>
#include <meetingbaas/adapters/postgres/pool.hpp>
#include <meetingbaas/adapters/postgres/rate_limiter.hpp>
#include <meetingbaas/adapters/postgres/schema.hpp>
