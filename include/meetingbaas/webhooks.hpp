// SPDX-License-Identifier: MIT
#pragma once

// Umbrella header: every core public header, nothing else. Adapters (meetingbaas/adapters/*) are opt-in
// and never included here.
#include <meetingbaas/error.hpp>
#include <meetingbaas/result.hpp>
#include <meetingbaas/version.hpp>
