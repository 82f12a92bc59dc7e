// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: events (the typed v1 and v2 webhook events, open enumerations, and the parser from raw
// bytes).
#include <meetingbaas/events/enums.hpp>
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/events/event_types.hpp>
