// SPDX-License-Identifier: MIT
// api_client reuses one http_request between calls (its URL buffer and prepared headers). These cases
// check that nothing of one call leaks into the next, and that a call made from inside another call
// (re-entered from the HTTP client) gets a request of its own. Also: the bot endpoints' answers take
// the streaming decoder.

#include <meetingbaas/api/client.hpp>

#include "fake_http_client.hpp"

#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

using meetingbaas::http_method;
using meetingbaas_test::fake_http_client;

namespace {

constexpr const char* event_json = R"({"uuid":"e1","calendar_uuid":"c1","google_id":null,"name":null,
  "start_time":"2026-09-17T14:30:00Z","end_time":"2026-09-17T15:15:00Z","deleted":false,
  "is_organizer":null,"is_recurring":null,"recurring_event_id":null,
  "last_updated_at":"2026-09-14T08:42:17Z","meeting_url":null,"attendees":[],"bot_param":null,"raw":{}})";

/// Forwards to a fake_http_client; runs `during_send` (once) inside the first send().
struct reentering_client {
    fake_http_client fake;
    std::function<void()>* during_send = nullptr;

    meetingbaas::http_result send(const meetingbaas::http_request& request)
    {
        if (during_send != nullptr && *during_send) {
            auto f = std::move(*during_send);
            *during_send = nullptr;
            f();
        }
        return fake.send(request);
    }
};

struct no_sleep {
    void operator()(std::chrono::milliseconds) const noexcept {}
};
using quick_retry = meetingbaas::retry_effects<std::chrono::steady_clock, no_sleep>;

std::string header(const meetingbaas::http_request& r, std::string_view name)
{
    return std::string(r.headers.find(name).value_or("<absent>"));
}

}  // namespace

TEST_CASE("api_client: a body, its Content-Type and the URL do not leak into the next call", "[api_client]")
{
    fake_http_client fake;
    meetingbaas::api_client<fake_http_client&, quick_retry> client(
        fake, {.api_key = "k", .base_url = "https://api.example.test/", .user_agent = "ua/1"});
    fake.respond(200, std::string("[") + event_json + "]");  // schedule
    fake.respond(200, event_json);                           // get
    fake.respond(200, std::string("[") + event_json + "]");  // unschedule (DELETE, no body)
    fake.respond(200, event_json);                           // get

    REQUIRE(client.v1_schedule_bot("e1", {.bot_name = "Notetaker"}));
    REQUIRE(client.v1_get_event("e2"));
    REQUIRE(client.v1_unschedule_bot("e3"));
    REQUIRE(client.v1_get_event("e4"));

    const auto& sent = fake.requests();
    REQUIRE(sent.size() == 4);
    CHECK(sent[0].method == http_method::post);
    CHECK(sent[0].url == "https://api.example.test/calendar_events/e1/bot?all_occurrences=false");
    CHECK_FALSE(sent[0].body.empty());
    CHECK(header(sent[0], "Content-Type") == "application/json");

    for (const std::size_t i : {1U, 3U}) {
        CAPTURE(i);
        CHECK(sent[i].method == http_method::get);
        CHECK(sent[i].body.empty());
        CHECK(header(sent[i], "Content-Type") == "<absent>");
    }
    CHECK(sent[1].url == "https://api.example.test/calendar_events/e2");
    CHECK(sent[3].url == "https://api.example.test/calendar_events/e4");
    CHECK(sent[2].method == http_method::delete_);
    CHECK(sent[2].url == "https://api.example.test/calendar_events/e3/bot?all_occurrences=false");
    CHECK(header(sent[2], "Content-Type") == "<absent>");

    for (const auto& r : sent) {  // the prepared fields on every request, once each
        CHECK(header(r, "x-meeting-baas-api-key") == "k");
        CHECK(header(r, "Accept") == "application/json");
        CHECK(header(r, "User-Agent") == "ua/1");
        CHECK(r.headers.count("x-meeting-baas-api-key") == 1);
        CHECK(r.headers.count("Content-Type") <= 1);
    }
}

TEST_CASE("api_client called again from inside a call: each keeps its own request", "[api_client]")
{
    std::function<void()> hook;
    reentering_client http;
    http.during_send = &hook;
    fake_http_client fake = http.fake;  // copies share the script and the record
    meetingbaas::api_client<reentering_client&, quick_retry> client(
        http, {.api_key = "k", .base_url = "https://api.example.test"});

    // Outer GET e1: its first attempt runs the inner GET e2 first, then gets a 503 and is retried.
    fake.respond(200, event_json);                            // inner GET e2
    fake.respond(503, R"({"error":"Service Unavailable"})");  // outer GET e1, attempt 1
    fake.respond(200, event_json);                            // outer GET e1, attempt 2
    bool inner_ok = false;
    hook = [&] { inner_ok = client.v1_get_event("e2").has_value(); };

    const auto outer = client.v1_get_event("e1");
    REQUIRE(outer);
    CHECK(inner_ok);
    const auto& sent = fake.requests();
    REQUIRE(sent.size() == 3);
    CHECK(sent[0].url == "https://api.example.test/calendar_events/e2");
    CHECK(sent[1].url == "https://api.example.test/calendar_events/e1");
    CHECK(sent[2].url == "https://api.example.test/calendar_events/e1");  // the retry is still e1's

    // And afterwards the reused request is in order.
    fake.respond(200, event_json);
    REQUIRE(client.v1_get_event("e5"));
    CHECK(fake.requests().back().url == "https://api.example.test/calendar_events/e5");
}

TEST_CASE("parse_v1_event_list_text takes the streaming path for ordinary answers", "[api_client]")
{
    const std::string one = event_json;
    for (const std::string& body : {"[" + one + "]", "[" + one + "," + one + "]", std::string("[]")}) {
        CAPTURE(body.substr(0, 40));
        const auto fast = meetingbaas::detail::v1_fast::decode<std::vector<meetingbaas::v1_event>>(
            body, [](meetingbaas::detail::json_reader& r, std::vector<meetingbaas::v1_event>& events) {
                return meetingbaas::detail::v1_fast::read_event_list(r, events);
            });
        CHECK(fast.has_value());
    }
}
