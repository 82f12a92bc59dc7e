// SPDX-License-Identifier: MIT
// Error handling with the libcurl adapter: nothing listens on 127.0.0.1:9, so every attempt fails to
// connect. Connect failures are retried (the request surely did not leave), with a short custom policy,
// until the policy gives up. Builds and runs with -fno-exceptions -DJSON_NOEXCEPTION.

#include <meetingbaas/adapters/curl.hpp>
#include <meetingbaas/api/client.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstdio>

int main()
{
    using namespace std::chrono_literals;
    curl_global_init(CURL_GLOBAL_DEFAULT);

    constexpr auto quick = meetingbaas::checked(meetingbaas::retry_policy<meetingbaas::exponential_backoff>{
        .backoff = {.initial = 10ms, .multiplier = 2.0, .maximum = 100ms},
        .stop = meetingbaas::stop_after_attempts(3) | meetingbaas::stop_after_elapsed(5s),
    });
    meetingbaas::api_client client(
        meetingbaas::curl_http_client({.connect_timeout = 2s}),
        {.api_key = "YOUR_API_KEY", .base_url = "http://127.0.0.1:9", .timeout = 3s, .retry = quick});

    const auto event = client.v1_get_event("f9dc9fa7-9eb9-4b53-b193-2b6834706c78");
    int rc = 1;
    if (!event) {
        const meetingbaas::api_error& e = event.error();
        std::printf("%s\n", meetingbaas::to_string(e).c_str());
        // gave up after 3 attempts; the last one failed to connect, so the request never left
        if (e.code == meetingbaas::errc::retries_exhausted &&
            e.last_attempt_code == meetingbaas::errc::transport_error &&
            e.transport == meetingbaas::transport_errc::connect_failed && !e.may_have_been_sent &&
            e.attempts == 3) {
            rc = 0;
        }
    }
    curl_global_cleanup();
    return rc;
}
