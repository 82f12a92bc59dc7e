// SPDX-License-Identifier: MIT
// Compiles on purpose: the compile-fail self-check proves that the checker fails a source like this one,
// although the regular expression it is given ("compiles") matches the source's own name.
#include <meetingbaas/sync/job_queue.hpp>

static_assert(meetingbaas::job_queue<meetingbaas::in_memory_job_queue<>>);

int main() {}
