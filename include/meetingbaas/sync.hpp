// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: sync (the job queue concept, the webhook receiver, per-event state, the calendar-sync
// processor and worker, and metrics).
#include <meetingbaas/sync/calendar_sync.hpp>
#include <meetingbaas/sync/event_state.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>
#include <meetingbaas/sync/receiver.hpp>
