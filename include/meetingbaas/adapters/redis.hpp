// SPDX-License-Identifier: MIT
#pragma once

// Adapter umbrella: Redis (link meetingbaas::redis): the hiredis client, and the idempotency store, job
// queue, calendar event state and write-rate limiter that several server instances can share.
// Without hiredis, include the store headers alone and pass your own redis::connection.
#include <meetingbaas/adapters/redis/clock.hpp>
#include <meetingbaas/adapters/redis/connection.hpp>
#include <meetingbaas/adapters/redis/event_state.hpp>
#include <meetingbaas/adapters/redis/hiredis.hpp>
#include <meetingbaas/adapters/redis/idempotency_store.hpp>
#include <meetingbaas/adapters/redis/job_queue.hpp>
#include <meetingbaas/adapters/redis/rate_limiter.hpp>
#include <meetingbaas/adapters/redis/script.hpp>
#include <meetingbaas/adapters/redis/url.hpp>
