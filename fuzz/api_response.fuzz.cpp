// SPDX-License-Identifier: MIT
// Untrusted API answers: the first byte picks the HTTP status, the second a Retry-After header, the rest
// is the body. Every typed call must return a value or an api_error: no crash, no exception, no hang.

#include <meetingbaas/api_client.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

struct replay_client {
    int status = 200;
    std::string retry_after;
    std::string body;

    meetingbaas::http_result send(const meetingbaas::http_request&)
    {
        meetingbaas::http_response r;
        r.status = status;
        if (!retry_after.empty()) r.headers.add("Retry-After", retry_after);
        r.body = body;
        return r;
    }
};

constexpr int statuses[] = {200, 201, 204, 301, 400, 401, 404, 409, 422, 429, 500, 503};
constexpr const char* retry_afters[] = {
    "", "1", "0", "86400", "Sun, 06 Nov 1994 08:49:37 GMT", "x", "-1", "99999999999999999999"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) return 0;
    replay_client http;
    http.status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])];
    http.retry_after = retry_afters[data[1] % (sizeof retry_afters / sizeof retry_afters[0])];
    http.body.assign(reinterpret_cast<const char*>(data + 2), size - 2);

    meetingbaas::api_client<replay_client&> client(
        http, {.api_key = "k", .base_url = "https://api.example.test", .max_pages = 4},
        meetingbaas::api_retry<>{.policy = meetingbaas::no_retry_policy});
    auto check = [](const auto& r) {
        if (!r) {
            const auto text = meetingbaas::to_string(r.error());
            if (text.find("k\r") != std::string::npos) __builtin_trap();
        }
    };
    check(client.v1_get_event("e1"));
    check(client.v1_list_events({.calendar_id = "c1", .status = meetingbaas::v1_event_status::all}));
    check(client.v1_list_calendars());
    check(client.v1_resync_all(30));
    check(client.v1_unschedule_bot("e1", true));
    check(client.v2_get_event("c1", "e1"));
    check(client.v2_list_events("c1", {}));
    check(client.v2_delete_bots("c1", {.series_id = "s1", .all_occurrences = true}));
    (void)meetingbaas::api_error_from_response({http.status, {}, http.body}, "fuzz",
                                               std::chrono::sys_seconds{});
    return 0;
}
