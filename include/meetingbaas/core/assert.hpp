// SPDX-License-Identifier: MIT
#pragma once

// MEETINGBAAS_ASSERT(cond) checks preconditions (programmer errors, never untrusted input).
// A server may define it before including any meetingbaas header to route it to its own handler.
// It never changes a type or a signature.
#ifndef MEETINGBAAS_ASSERT
#include <cassert>
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): on the allowed list (STYLE.md 3.10)
#define MEETINGBAAS_ASSERT(cond) assert(cond)
#endif
