// SPDX-License-Identifier: MIT
// Must not compile: a queue without lease() is not a job_queue, and the diagnostic names can_lease_jobs.
#include <meetingbaas/sync/job_queue.hpp>

struct queue_without_lease {
    meetingbaas::result<meetingbaas::enqueue_outcome> enqueue(meetingbaas::job_spec);
    meetingbaas::result<void> acknowledge(std::string_view, std::uint64_t);
    meetingbaas::result<void> retry_later(std::string_view, std::uint64_t, meetingbaas::queue_time,
                                          std::string_view);
    meetingbaas::result<void> dead_letter(std::string_view, std::uint64_t, std::string_view);
    meetingbaas::result<void> extend_lease(std::string_view, std::uint64_t, std::chrono::milliseconds);
    meetingbaas::result<std::vector<meetingbaas::dead_letter_entry>> dead_letters(std::size_t);
    meetingbaas::result<void> requeue_dead_letter(std::string_view);
    meetingbaas::result<meetingbaas::queue_stats> stats();
    meetingbaas::result<std::optional<meetingbaas::queue_time>> next_due();
};

static_assert(meetingbaas::job_queue<queue_without_lease>);

int main() {}
