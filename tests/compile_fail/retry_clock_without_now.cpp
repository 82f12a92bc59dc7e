// SPDX-License-Identifier: MIT
// Must not compile: the retry effects' clock needs a now() member; the diagnostic names retry_clock.
#include <meetingbaas/retry/retrier.hpp>

#include <chrono>

struct clock_without_now {
    using duration = std::chrono::milliseconds;
    using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;
};

int main()
{
    meetingbaas::retrier<meetingbaas::exponential_backoff, meetingbaas::retry_effects<clock_without_now>> r(
        meetingbaas::meetingbaas_api_policy);
    return static_cast<int>(r.attempts());
}
