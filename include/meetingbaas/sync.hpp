// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: sync (the job queue concept, the webhook receiver, the job kinds, per-event state, the
// calendar-sync policy, processor (v1 and v2) and worker, and metrics).
#include <meetingbaas/sync/calendar_sync.hpp>
#include <meetingbaas/sync/event_state.hpp>
#include <meetingbaas/sync/job_kinds.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>
#include <meetingbaas/sync/receiver.hpp>
#include <meetingbaas/sync/sync_policy.hpp>
#include <meetingbaas/sync/sync_report.hpp>
#include <meetingbaas/sync/sync_worker.hpp>
