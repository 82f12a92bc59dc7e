// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: api (the HTTP-client concept the application satisfies, the typed v1 and v2 calendar API
// models, api_client, and the shared write-rate limiter).
#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/http.hpp>
#include <meetingbaas/api/models.hpp>
#include <meetingbaas/api/rate_limit.hpp>
