// SPDX-License-Identifier: MIT
#pragma once

// Adapter umbrella: SQLite (link meetingbaas::sqlite): the RAII database wrapper, the durable idempotency
// store, job queue and calendar event state; all may share one file, which sqlite_state_maintenance keeps
// bounded and healthy.
#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/adapters/sqlite/event_state.hpp>
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>
#include <meetingbaas/adapters/sqlite/maintenance.hpp>
