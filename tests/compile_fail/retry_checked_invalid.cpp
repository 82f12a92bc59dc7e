// SPDX-License-Identifier: MIT
// Must not compile: checked() rejects a multiplier below 1 at compile time.
#include <meetingbaas/retry/retrier.hpp>

#include <chrono>

using namespace std::chrono_literals;

constexpr auto bad = meetingbaas::checked(meetingbaas::retry_policy<>{
    .backoff = {.initial = 100ms, .multiplier = 0.5, .maximum = 1s},
});

int main()
{
    return bad.stop.max_attempts == 0 ? 1 : 0;
}
