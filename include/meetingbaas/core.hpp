// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: core (version, errors, result, assertions, the wall clock concept, timestamps, API
// generations, HTTP header collections). No nlohmann.
#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/assert.hpp>
#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/headers.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/core/version.hpp>
