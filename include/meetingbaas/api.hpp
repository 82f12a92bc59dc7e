// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: api (the HTTP-client concept the application satisfies, the typed v1 and v2 calendar API
// models, and api_client).
#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/http.hpp>
#include <meetingbaas/api/models.hpp>
