// SPDX-License-Identifier: MIT
// Untrusted API answers: the first byte picks the HTTP status, the second a Retry-After header, the rest
// is the body. Every typed call must return a value or an api_error: no crash, no exception, no hang.
// Differential: the streaming v1 decoders (parse_v1_event_text, ..._page_text, ..._list_text) must
// accept and reject exactly what the DOM path does, with the same error code and JSON Pointer.

#include <meetingbaas/api/client.hpp>

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

/// Traps when the streaming decoder and the DOM path disagree.
template <class Text, class Dom>
void same_outcome(const Text& text, const Dom& dom)
{
    if (text.has_value() != dom.has_value()) __builtin_trap();
    if (!dom && (text.error().code != dom.error().code || text.error().where != dom.error().where))
        __builtin_trap();
}

void differential(std::string_view body)
{
    auto doc = meetingbaas::detail::parse_json_body(body);
    if (!doc) {
        const meetingbaas::error& e = doc.error();
        same_outcome(meetingbaas::parse_v1_event_text(body), meetingbaas::result<int>(e));
        same_outcome(meetingbaas::parse_v1_event_page_text(body), meetingbaas::result<int>(e));
        same_outcome(meetingbaas::parse_v1_event_list_text(body), meetingbaas::result<int>(e));
        return;
    }
    const auto list = meetingbaas::parse_v1_event_list_text(body);
    const auto dom_list = meetingbaas::parse_v1_event_list(*doc);
    same_outcome(list, dom_list);
    if (list && list->size() != dom_list->size()) __builtin_trap();
    same_outcome(meetingbaas::parse_v1_event_page_text(body), meetingbaas::parse_v1_event_page(*doc));
    const auto event = meetingbaas::parse_v1_event_text(body);
    const auto dom_event = meetingbaas::parse_v1_event(std::move(*doc));
    same_outcome(event, dom_event);
    if (event && (event->uuid != dom_event->uuid || event->start_time != dom_event->start_time ||
                  event->attendees != dom_event->attendees))
        __builtin_trap();
}

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
    differential(http.body);

    meetingbaas::api_client<replay_client&> client(http, {.api_key = "k",
                                                          .base_url = "https://api.example.test",
                                                          .max_pages = 4,
                                                          .retry = meetingbaas::no_retry_policy});
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
