// SPDX-License-Identifier: MIT
// Fails to compile on purpose, but not for the reason the self-check asks about (can_lease_jobs): the
// checker must fail it, because the diagnostic does not match.
#include <meetingbaas/sync/job_queue.hpp>

static_assert(sizeof(meetingbaas::job_spec) == 0, "not the diagnostic the self-check expects");

int main() {}
