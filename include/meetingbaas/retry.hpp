// SPDX-License-Identifier: MIT
#pragma once

// Module umbrella: retry (the one classification of outcomes, backoff and jitter, Retry-After, retry budgets,
// the effects, the step API and the blocking retry loop). No nlohmann.
#include <meetingbaas/retry/backoff.hpp>
#include <meetingbaas/retry/budget.hpp>
#include <meetingbaas/retry/classify.hpp>
#include <meetingbaas/retry/retrier.hpp>
#include <meetingbaas/retry/retry_after.hpp>
