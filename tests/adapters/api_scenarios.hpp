// SPDX-License-Identifier: MIT
#pragma once

// Scenarios run through every HTTP adapter against fake_meetingbaas_api (a real server on loopback).
// `make(base_url)` returns a fresh http_client for that origin.

#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/http.hpp>

#include "fake_meetingbaas_api.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cstdio>
#include <thread>

#include <chrono>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace meetingbaas_test::scenarios {

using namespace std::chrono_literals;
using api = fake_meetingbaas_api;

inline constexpr const char* calendar_uuid = "62cf1c20-6d72-4a52-9217-c391ec23d7bf";
inline constexpr const char* scheduled_uuid = "f9dc9fa7-9eb9-4b53-b193-2b6834706c78";

/// Retries for tests: quick backoff, Retry-After still honoured (up to 5 s).
inline constexpr meetingbaas::retry_policy<meetingbaas::exponential_backoff> fast_policy =
    meetingbaas::checked(meetingbaas::retry_policy<meetingbaas::exponential_backoff>{
        .backoff = {.initial = std::chrono::milliseconds(5),
                    .multiplier = 2.0,
                    .maximum = std::chrono::milliseconds(40)},
        .jitter = meetingbaas::full_jitter,
        .stop =
            meetingbaas::stop_after_attempts(8) | meetingbaas::stop_after_elapsed(std::chrono::seconds(20)),
        .max_retry_after = std::chrono::seconds(5),
        .attempt_reserve = std::chrono::milliseconds(0),
    });

inline meetingbaas::api_client_options client_options(const api& server,
                                                      std::chrono::milliseconds timeout = 5s,
                                                      meetingbaas::retry_policy<> policy = fast_policy)
{
    return {.api_key = server.settings().api_key,
            .base_url = server.base_url(),
            .timeout = timeout,
            .retry = policy};
}

template <class Client>
auto make_api_client(Client http, const api& server, std::chrono::milliseconds timeout = 5s)
{
    return meetingbaas::api_client<Client>(std::move(http), client_options(server, timeout),
                                           meetingbaas::retry_effects{.random = meetingbaas::splitmix64{3}});
}

inline meetingbaas::http_request request(meetingbaas::http_method method, std::string url,
                                         std::string body = {}, std::chrono::milliseconds timeout = 5s)
{
    meetingbaas::http_request r;
    r.method = method;
    r.url = std::move(url);
    r.body = std::move(body);
    r.timeout = timeout;
    r.headers.add("x-meeting-baas-api-key", "test-key");
    if (!r.body.empty()) r.headers.add("Content-Type", "application/json");
    return r;
}

inline void start(api& server)
{
    REQUIRE(server.load_fixtures(MEETINGBAAS_TEST_DATA_DIR));
    REQUIRE(server.start());
}

/// Adds `n` events to the fixture calendar, starting 2026-09-20, one per hour.
inline void add_events(api& server, int n)
{
    const auto templ = *server.event(scheduled_uuid);
    for (int i = 0; i < n; ++i) {
        char start[32];
        std::snprintf(start, sizeof start, "2026-09-%02dT%02d:00:00Z", 20 + i / 24, i % 24);
        char uuid[48];
        std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
        server.set_event(api::make_event(templ, uuid, start, "2026-09-14T09:00:00Z"));
    }
}

template <class Make>
void raw_get_and_delete_with_body(Make make)
{
    api server;
    start(server);
    auto http = make(server.base_url());
    STATIC_REQUIRE(meetingbaas::http_client<decltype(http)>);

    const auto got = http.send(
        request(meetingbaas::http_method::get, server.base_url() + "/calendar_events/" + scheduled_uuid));
    REQUIRE(got);
    CHECK(got->status == 200);
    CHECK(got->headers.find("content-type").value_or("").starts_with("application/json"));
    CHECK(nlohmann::json::parse(got->body)["uuid"] == scheduled_uuid);

    const auto missing =
        http.send(request(meetingbaas::http_method::get, server.base_url() + "/calendar_events/nope"));
    REQUIRE(missing);  // a 404 is a response, not a transport error
    CHECK(missing->status == 404);

    for (const auto method : {meetingbaas::http_method::delete_, meetingbaas::http_method::post,
                              meetingbaas::http_method::patch, meetingbaas::http_method::put}) {
        const auto echoed = http.send(request(method, server.base_url() + "/_echo?x=1",
                                              R"({"series_id":"s1","all_occurrences":true})"));
        REQUIRE(echoed);
        REQUIRE(echoed->status == 200);
        CHECK(echoed->headers.find("x-echo") == "yes");
        const auto e = nlohmann::json::parse(echoed->body);
        CHECK(e["method"] == std::string(meetingbaas::to_string(method)));
        CHECK(e["target"] == "/_echo?x=1");
        CHECK(e["body"] == R"({"series_id":"s1","all_occurrences":true})");
    }
    const auto bodiless = http.send(request(meetingbaas::http_method::delete_, server.base_url() + "/_echo"));
    REQUIRE(bodiless);
    CHECK(nlohmann::json::parse(bodiless->body)["body"] == "");

    // no Content-Type is invented (libcurl's default form type would upset the v2 API)
    auto bare = request(meetingbaas::http_method::post, server.base_url() + "/_echo", "{}");
    bare.headers.erase("Content-Type");
    const auto untyped = http.send(bare);
    REQUIRE(untyped);
    const auto echoed_headers = nlohmann::json::parse(untyped->body)["headers"];
    for (auto it = echoed_headers.begin(); it != echoed_headers.end(); ++it) {
        CAPTURE(it.key(), it.value());
        CHECK_FALSE((it.key() == "Content-Type" && it.value() == "application/x-www-form-urlencoded"));
    }
    CHECK(echoed_headers.value("x-meeting-baas-api-key", "") == "test-key");
}

template <class Make>
void raw_reuses_the_connection(Make make)
{
    api server;
    start(server);
    auto http = make(server.base_url());
    for (int i = 0; i < 5; ++i) {
        const auto r = http.send(
            request(meetingbaas::http_method::get, server.base_url() + "/calendar_events/" + scheduled_uuid));
        REQUIRE(r);
        REQUIRE(r->status == 200);
    }
    std::set<int> ports;
    for (const auto& c : server.calls()) ports.insert(c.remote_port);
    CHECK(ports.size() == 1);  // one TCP connection for five requests
}

template <class Make>
void raw_connect_failure_is_not_sent(Make make)
{
    std::string base;
    {
        api server;
        REQUIRE(server.start());
        base = server.base_url();
    }  // stopped: nothing listens on that port any more
    auto http = make(base);
    const auto r = http.send(request(meetingbaas::http_method::get, base + "/calendar_events/x", {}, 2s));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == meetingbaas::transport_errc::connect_failed);
    CHECK_FALSE(r.error().may_have_been_sent);
    CHECK_FALSE(r.error().message.empty());
}

template <class Make>
void raw_refuses_an_invalid_method(Make make)
{
    api server;
    start(server);
    auto http = make(server.base_url());
    // An out-of-range value must never be sent as some plausible method (it used to go out as "GET").
    const auto bogus = static_cast<meetingbaas::http_method>(77);
    CHECK_FALSE(meetingbaas::is_valid(bogus));
    CHECK(meetingbaas::to_string(bogus) == "(invalid http_method)");
    const auto r = http.send(request(bogus, server.base_url() + "/_echo", "{}"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == meetingbaas::transport_errc::invalid_request);
    CHECK_FALSE(r.error().may_have_been_sent);
    CHECK(server.calls().empty());  // nothing reached the server
    // and the client still works
    const auto again = http.send(request(meetingbaas::http_method::get, server.base_url() + "/_echo"));
    REQUIRE(again);
    CHECK(again->status == 200);
}

template <class Make>
void raw_slow_reply_times_out(Make make)
{
    api server;
    start(server);
    server.set_faults({.slow_delay = 1500ms});
    server.inject(api::fault::slow);
    auto http = make(server.base_url());
    const auto started = std::chrono::steady_clock::now();
    const auto r = http.send(request(meetingbaas::http_method::get,
                                     server.base_url() + "/calendar_events/" + scheduled_uuid, {}, 300ms));
    const auto elapsed = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == meetingbaas::transport_errc::timed_out);
    CHECK(r.error().may_have_been_sent);
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 1400ms);
    // and the client recovers on the next request
    const auto again = http.send(
        request(meetingbaas::http_method::get, server.base_url() + "/calendar_events/" + scheduled_uuid));
    REQUIRE(again);
    CHECK(again->status == 200);
}

template <class Make>
void raw_dropped_connection(Make make)
{
    api server;
    start(server);
    server.inject(api::fault::drop);
    auto http = make(server.base_url());
    const auto r = http.send(
        request(meetingbaas::http_method::get, server.base_url() + "/calendar_events/" + scheduled_uuid));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == meetingbaas::transport_errc::connection_dropped);
    CHECK(r.error().may_have_been_sent);
    const auto again = http.send(
        request(meetingbaas::http_method::get, server.base_url() + "/calendar_events/" + scheduled_uuid));
    REQUIRE(again);
    CHECK(again->status == 200);
}

template <class Make>
void client_paginates_over_several_pages(Make make)
{
    const auto style =
        GENERATE(api::next_style::cursor, api::next_style::absolute_url, api::next_style::relative_url);
    CAPTURE(static_cast<int>(style));
    api server({.page_size = 3, .next = style, .now = "2026-09-17T00:00:00Z"});
    start(server);
    add_events(server, 8);  // 3 fixture events + 8 = 11 events: pages of 3, 3, 3, 2
    auto client = make_api_client(make(server.base_url()), server);
    const auto all =
        client.v1_list_events({.calendar_id = calendar_uuid, .status = meetingbaas::v1_event_status::all});
    REQUIRE(all);
    CHECK(all->size() == 11);
    std::set<std::string> uuids;
    for (const auto& e : *all) uuids.insert(e.uuid);
    CHECK(uuids.size() == 11);
    CHECK(server.calls().size() == 4);

    // the filters reach the server: only the 8 added events were updated at or after 09:00
    const auto recent = client.v1_list_events({.calendar_id = calendar_uuid,
                                               .updated_at_gte = "2026-09-14T10:30:00+01:30",
                                               .status = meetingbaas::v1_event_status::all});
    REQUIRE(recent);
    CHECK(recent->size() == 8);
    // default status (upcoming, relative to 2026-09-17): the event of the 16th is past
    const auto upcoming = client.v1_list_events({.calendar_id = calendar_uuid});
    REQUIRE(upcoming);
    CHECK(upcoming->size() == 10);  // 8 added + the fixtures of the 17th and 18th
}

template <class Make>
void client_retries_503_and_429_honouring_retry_after(Make make)
{
    api server;
    start(server);
    server.set_faults({.retry_after = 1s});
    auto client = make_api_client(make(server.base_url()), server);

    server.inject(api::fault::status_503, 2);
    auto r = client.v1_get_event(scheduled_uuid);
    REQUIRE(r);
    CHECK(server.calls().size() == 3);

    server.clear_calls();
    server.inject(api::fault::status_429);
    const auto started = std::chrono::steady_clock::now();
    r = client.v1_get_event(scheduled_uuid);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    REQUIRE(r);
    const auto calls = server.calls();
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].status == 429);
    CHECK(calls[1].at - calls[0].at >= 950ms);  // Retry-After: 1, not the 5 ms backoff
    CHECK(elapsed >= 1s);
}

template <class Make>
void client_retries_timeouts_and_drops(Make make)
{
    api server;
    start(server);
    server.set_faults({.slow_delay = 1200ms});
    auto client = make_api_client(make(server.base_url()), server, 300ms);
    server.inject(api::fault::slow);
    server.inject(api::fault::drop);
    const auto r = client.v1_get_event(scheduled_uuid);
    REQUIRE(r);
    CHECK(r->uuid == scheduled_uuid);
    // slow (timed out), dropped, then the answer; the slow call is logged when it ends
    for (int i = 0; i < 200 && server.calls().size() < 3; ++i) std::this_thread::sleep_for(10ms);
    CHECK(server.calls().size() == 3);
}

template <class Make>
void client_gives_up_after_persistent_faults(Make make)
{
    api server;
    start(server);
    server.set_faults({.p_503 = 1.0});
    auto client = make_api_client(make(server.base_url()), server);
    const auto r = client.v1_get_event(scheduled_uuid);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == meetingbaas::errc::retries_exhausted);
    CHECK(r.error().http_status == 503);
    CHECK(r.error().provider_code.empty());
    CHECK(r.error().message == "Service Unavailable");
    CHECK(r.error().attempts == 8);
    CHECK(server.calls().size() == 8);
}

template <class Make>
void client_survives_random_faults(Make make)
{
    api server({.page_size = 2});
    start(server);
    add_events(server, 7);
    server.set_faults({.p_503 = 0.2, .p_429 = 0.05, .p_drop = 0.1, .retry_after = 1s, .seed = 20260916});
    auto client = make_api_client(make(server.base_url()), server);
    const auto all =
        client.v1_list_events({.calendar_id = calendar_uuid, .status = meetingbaas::v1_event_status::all});
    REQUIRE(all);
    CHECK(all->size() == 10);
    std::size_t faults = 0;
    for (const auto& c : server.calls()) faults += c.injected != api::fault::none ? 1U : 0U;
    CHECK(server.calls().size() == 5 + faults);  // 5 pages, each fault retried once more
}

template <class Make>
void client_schedules_and_unschedules(Make make)
{
    api server;
    start(server);
    auto client = make_api_client(make(server.base_url()), server);
    const std::string recurring = "bf23a894-e787-4629-8947-43f4bea4ccd8";
    meetingbaas::v1_bot_config config;
    config.bot_name = "Notetaker";
    config.speech_to_text_provider = "Gladia";
    config.extra = {{"tenant", "acme"}};
    const auto scheduled = client.v1_schedule_bot(recurring, config);
    REQUIRE(scheduled);
    REQUIRE(scheduled->size() == 1);
    REQUIRE((*scheduled)[0].bot_param);
    CHECK((*scheduled)[0].bot_param->bot_name == "Notetaker");
    CHECK((*scheduled)[0].bot_param->speech_to_text_provider == "Gladia");
    CHECK(server.post_count(recurring) == 1);
    CHECK((*server.event(recurring))["bot_param"]["extra"]["tenant"] == "acme");

    meetingbaas::v1_bot_config change;
    change.enter_message = "hello";
    const auto updated = client.v1_update_bot(recurring, change);
    REQUIRE(updated);
    CHECK((*updated)[0].bot_param->enter_message == "hello");
    CHECK((*updated)[0].bot_param->bot_name == "Notetaker");
    CHECK(server.patch_count(recurring) == 1);

    REQUIRE(client.v1_unschedule_bot(recurring));
    REQUIRE(client.v1_unschedule_bot(recurring));  // idempotent
    CHECK(server.delete_count(recurring) == 2);
    CHECK((*server.event(recurring))["bot_param"].is_null());

    // a schedule POST whose first attempt failed with a 503 is repeated: safe, it overwrites
    server.inject(api::fault::status_503);
    REQUIRE(client.v1_schedule_bot(scheduled_uuid, config));
    CHECK(server.post_count(scheduled_uuid) == 1);  // the 503 never reached the handler

    const auto calendars = client.v1_list_calendars();
    REQUIRE(calendars);
    REQUIRE(calendars->size() == 1);
    CHECK((*calendars)[0].uuid == calendar_uuid);
    const auto resync = client.v1_resync_all(30);
    REQUIRE(resync);
    CHECK(resync->synced_calendars == std::vector<std::string>{calendar_uuid});
}

template <class Make>
void client_reports_api_errors(Make make)
{
    api server;
    start(server);
    {
        auto client = make_api_client(make(server.base_url()), server);
        const auto missing = client.v1_get_event("00000000-0000-0000-0000-000000000000");
        REQUIRE_FALSE(missing);
        CHECK(missing.error().code == meetingbaas::errc::api_error);
        CHECK(missing.error().is_not_found());
        CHECK(missing.error().message == "Event not found");
        CHECK(missing.error().attempts == 1);
    }
    {
        auto opts = client_options(server);
        opts.api_key = "wrong";
        meetingbaas::api_client<decltype(make(server.base_url()))> client(make(server.base_url()), opts);
        const auto denied = client.v1_get_event(scheduled_uuid);
        REQUIRE_FALSE(denied);
        CHECK(denied.error().http_status == 401);
        CHECK(denied.error().provider_code == "InvalidApiKey");
        CHECK(denied.error().attempts == 1);
    }
}

// -------------------------------------------------------------------------------------------------
// v2 calendar API (spec §4.2), over the v2 fixtures: one Google calendar, a weekly series of three
// (16, 23 and 30 Sep), a one-off Zoom call (17 Sep) and an all-day event without a link (18 Sep).
// -------------------------------------------------------------------------------------------------

inline constexpr const char* v2_calendar = "aff72226-7c8f-46fc-864d-f349ad89eb06";
inline constexpr const char* v2_weekly_series = "3a9e51dd-a5a6-4745-97c0-446738af1da9";
inline constexpr const char* v2_weekly_1 = "a64a3df5-0814-440a-b618-c84f6cd9503a";  // 2026-09-16T14:00:00Z
inline constexpr const char* v2_weekly_2 = "6c093e09-7cca-490d-96d9-ef28a8bf8b34";  // 2026-09-23T14:00:00Z
inline constexpr const char* v2_weekly_3 = "6c78a9f3-59c4-4e84-bd0c-b9c956db724a";  // 2026-09-30T14:00:00Z
inline constexpr const char* v2_zoom_series = "f8527fef-e29a-437c-823d-86412da74ad6";
inline constexpr const char* v2_zoom = "a0af11a0-63cf-410d-b826-c0667a1a2a2b";  // 2026-09-17T16:30:00Z
inline constexpr const char* v2_offsite_series = "beb12715-6e51-44c6-bb55-10a06ae895bb";
inline constexpr const char* v2_offsite = "4d2ea0e4-3a9f-48c5-bb01-d4d99e809af5";  // 2026-09-18, all day
inline constexpr const char* v2_unknown = "00000000-0000-4000-8000-000000000000";

/// base64("2026-09-17T16:30:00Z::<v2_zoom>"): the cursor after the Zoom call (spec §4.2's form).
inline constexpr const char* v2_cursor_after_zoom =
    "MjAyNi0wOS0xN1QxNjozMDowMFo6OmEwYWYxMWEwLTYzY2YtNDEwZC1iODI2LWMwNjY3YTFhMmEyYg==";
/// base64("2026-09-23T14:00:00Z::<v2_weekly_2>")
inline constexpr const char* v2_cursor_after_weekly_2 =
    "MjAyNi0wOS0yM1QxNDowMDowMFo6OjZjMDkzZTA5LTdjY2EtNDkwZC05NmQ5LWVmMjhhOGJmOGIzNA==";
/// "-" + base64("2026-09-18T00:00:00Z::<v2_offsite>"): the page before the offsite
inline constexpr const char* v2_cursor_before_offsite =
    "-MjAyNi0wOS0xOFQwMDowMDowMFo6OjRkMmVhMGU0LTNhOWYtNDhjNS1iYjAxLWQ0ZDk5ZTgwOWFmNQ==";

inline void start_v2(api& server)
{
    REQUIRE(server.load_v2_fixtures(MEETINGBAAS_TEST_DATA_DIR));
    REQUIRE(server.start());
}

inline std::string v2_events_path()
{
    return std::string("/v2/calendars/") + v2_calendar + "/events";
}

inline std::vector<std::string> event_ids(const std::vector<meetingbaas::v2_event_summary>& events)
{
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.event_id);
    return out;
}

inline std::vector<std::string> ids(std::initializer_list<const char*> list)
{
    return {list.begin(), list.end()};
}

inline meetingbaas::v2_bot_config notetaker()
{
    meetingbaas::v2_bot_config config;
    config.bot_name = "Notetaker";
    config.entry_message = "Recording for Acme";
    config.extra = {{"tenant", "acme"}};
    return config;
}

/// The requests other than GETs, in order.
inline std::vector<api::call> writes(const api& server)
{
    std::vector<api::call> out;
    for (const auto& c : server.calls()) {
        if (c.method != "GET") out.push_back(c);
    }
    return out;
}

template <class Make>
void client_v2_lists_events_over_all_pages(Make make)
{
    api server;
    start_v2(server);
    auto client = make_api_client(make(server.base_url()), server);
    const auto first_query = v2_events_path() + "?limit=2&show_cancelled=true";

    server.inject(api::fault::status_503);  // the first page needs a retry
    meetingbaas::v2_event_query q;
    q.limit = 2;
    const auto all = client.v2_list_events(v2_calendar, q);
    REQUIRE(all);
    REQUIRE(event_ids(*all) == ids({v2_weekly_1, v2_zoom, v2_offsite, v2_weekly_2, v2_weekly_3}));
    const auto& zoom = (*all)[1];
    CHECK(zoom.series_id == v2_zoom_series);
    CHECK(zoom.event_type == "one_off");
    CHECK(zoom.title == "Acme x Northwind pricing review");
    CHECK(zoom.start_time.text == "2026-09-17T16:30:00Z");
    CHECK(zoom.end_time.text == "2026-09-17T17:15:00Z");
    CHECK(zoom.status == "confirmed");
    CHECK(zoom.meeting_platform == "zoom");
    CHECK(zoom.calendar_id == v2_calendar);
    CHECK_FALSE(zoom.bot_scheduled);
    CHECK_FALSE((*all)[2].meeting_url);  // the all-day offsite has no link
    CHECK((*all)[0].event_type == "recurring");
    CHECK((*all)[0].series_id == v2_weekly_series);

    const auto calls = server.calls();
    REQUIRE(calls.size() == 4);  // the 503, then pages of 2, 2 and 1
    CHECK(calls[0].status == 503);
    CHECK(calls[0].injected == api::fault::status_503);
    CHECK(calls[0].target == first_query);
    CHECK(calls[1].target == first_query);
    CHECK(calls[2].target ==
          first_query + "&cursor=" + meetingbaas::detail::percent_encode(v2_cursor_after_zoom));
    CHECK(calls[3].target ==
          first_query + "&cursor=" + meetingbaas::detail::percent_encode(v2_cursor_after_weekly_2));
    for (const auto& c : calls) {
        CHECK(c.method == "GET");
        CHECK(c.body.empty());
    }

    // page by page: cursors forward, prev_cursor backwards
    const auto first = client.v2_list_events_page(v2_calendar, q);
    REQUIRE(first);
    CHECK(event_ids(first->data) == ids({v2_weekly_1, v2_zoom}));
    CHECK(first->cursor == v2_cursor_after_zoom);
    CHECK_FALSE(first->prev_cursor);
    q.cursor = first->cursor;
    const auto second = client.v2_list_events_page(v2_calendar, q);
    REQUIRE(second);
    CHECK(event_ids(second->data) == ids({v2_offsite, v2_weekly_2}));
    CHECK(second->cursor == v2_cursor_after_weekly_2);
    CHECK(second->prev_cursor == v2_cursor_before_offsite);
    q.cursor = second->prev_cursor;
    const auto back = client.v2_list_events_page(v2_calendar, q);
    REQUIRE(back);
    CHECK(event_ids(back->data) == ids({v2_weekly_1, v2_zoom}));
    CHECK(back->cursor == v2_cursor_after_zoom);
    CHECK_FALSE(back->prev_cursor);
    q.cursor = second->cursor;
    const auto last = client.v2_list_events_page(v2_calendar, q);
    REQUIRE(last);
    CHECK(event_ids(last->data) == ids({v2_weekly_3}));
    CHECK_FALSE(last->cursor);
    CHECK(last->prev_cursor.has_value());

    // filters reach the server: start_date, and show_cancelled hides a cancelled event
    auto cancelled = api::make_v2_event(*server.v2_event(v2_zoom), "0c0c0c0c-0000-4000-8000-000000000001",
                                        "0c0c0c0c-0000-4000-8000-0000000000aa", "2026-09-21T10:00:00Z");
    cancelled["status"] = "cancelled";
    server.set_v2_event(cancelled);
    meetingbaas::v2_event_query later;
    later.start_date = "2026-09-20T00:00:00Z";
    const auto with_cancelled = client.v2_list_events(v2_calendar, later);
    REQUIRE(with_cancelled);
    CHECK(event_ids(*with_cancelled) ==
          ids({"0c0c0c0c-0000-4000-8000-000000000001", v2_weekly_2, v2_weekly_3}));
    CHECK((*with_cancelled)[0].status == "cancelled");
    CHECK(server.calls().back().target ==
          v2_events_path() + "?limit=50&show_cancelled=true&start_date=2026-09-20T00%3A00%3A00Z");
    later.show_cancelled = false;
    const auto without_cancelled = client.v2_list_events(v2_calendar, later);
    REQUIRE(without_cancelled);
    CHECK(event_ids(*without_cancelled) == ids({v2_weekly_2, v2_weekly_3}));

    // and the calendar itself
    const auto calendars = client.v2_list_calendars_page(10);
    REQUIRE(calendars);
    REQUIRE(calendars->data.size() == 1);
    const auto& calendar = calendars->data[0];
    CHECK(calendar.calendar_id == v2_calendar);
    CHECK(calendar.calendar_platform == "google");
    CHECK(calendar.account_email == "priya.raman@acme-robotics.example");
    CHECK(calendar.status == "active");
    CHECK_FALSE(calendar.synced_at);
    REQUIRE(calendar.created_at);
    CHECK(calendar.created_at->text == "2026-09-14T08:30:02.118Z");
    CHECK_FALSE(calendars->cursor);
    CHECK(server.calls().back().target == "/v2/calendars?limit=10");
}

template <class Make>
void client_v2_gets_an_event(Make make)
{
    api server;
    start_v2(server);
    auto client = make_api_client(make(server.base_url()), server);

    const auto zoom = client.v2_get_event(v2_calendar, v2_zoom);
    REQUIRE(zoom);
    CHECK(zoom->event_id == v2_zoom);
    CHECK(zoom->series_id == v2_zoom_series);
    CHECK(zoom->event_type == "one_off");
    CHECK(zoom->title == "Acme x Northwind pricing review");
    CHECK(zoom->start_time.text == "2026-09-17T16:30:00Z");
    CHECK(zoom->end_time.text == "2026-09-17T17:15:00Z");
    CHECK(zoom->status == "confirmed");
    CHECK_FALSE(zoom->is_all_day);
    CHECK(zoom->meeting_url == "https://us06web.zoom.us/j/84512397760?pwd=Qm9vc3RlckNsdWJTeW5jMjAyNg.1");
    CHECK(zoom->meeting_platform == "zoom");
    CHECK(zoom->calendar_id == v2_calendar);
    CHECK(zoom->calendar_platform == "google");
    CHECK(zoom->organizer_email == "priya.raman@acme-robotics.example");
    CHECK_FALSE(zoom->organizer_name);
    CHECK_FALSE(zoom->description);
    CHECK_FALSE(zoom->timezone);
    REQUIRE(zoom->attendees.size() == 1);
    CHECK(zoom->attendees[0].email == "priya.raman@acme-robotics.example");
    CHECK(zoom->attendees[0].response_status == "accepted");
    CHECK(zoom->attendees[0].organizer == true);
    CHECK(zoom->attendees[0].self == true);
    CHECK_FALSE(zoom->bot_scheduled);
    CHECK(zoom->raw_payload.is_null());
    REQUIRE(zoom->updated_at);
    CHECK(zoom->updated_at->text == "2026-09-14T08:30:02.118Z");

    const auto calls = server.calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "GET");
    CHECK(calls[0].target == v2_events_path() + "/" + v2_zoom);
    CHECK(calls[0].status == 200);

    const auto offsite = client.v2_get_event(v2_calendar, v2_offsite);
    REQUIRE(offsite);
    CHECK(offsite->title == "Team offsite (travel)");
    CHECK(offsite->is_all_day);
    CHECK(offsite->start_time.text == "2026-09-18T00:00:00Z");
    CHECK(offsite->end_time.text == "2026-09-19T00:00:00Z");
    CHECK_FALSE(offsite->meeting_url);
    CHECK_FALSE(offsite->meeting_platform);
}

template <class Make>
void client_v2_schedules_updates_and_deletes_a_bot(Make make)
{
    api server;
    start_v2(server);
    auto client = make_api_client(make(server.base_url()), server);
    const meetingbaas::v2_bot_target target{.series_id = v2_zoom_series, .event_id = std::string(v2_zoom)};

    const auto scheduled = client.v2_schedule_bots(v2_calendar, target, notetaker());
    REQUIRE(scheduled);
    CHECK(scheduled->success);
    CHECK(scheduled->succeeded == ids({v2_zoom}));
    CHECK(scheduled->complete());
    const auto with_bot = client.v2_get_event(v2_calendar, v2_zoom);
    REQUIRE(with_bot);
    CHECK(with_bot->bot_scheduled);
    REQUIRE(server.v2_bot(v2_zoom));
    CHECK(*server.v2_bot(v2_zoom) ==
          nlohmann::json::parse(R"({"bot_name":"Notetaker","entry_message":"Recording for Acme",
                                    "extra":{"tenant":"acme"}})"));
    const auto listed = client.v2_list_events(v2_calendar, {});
    REQUIRE(listed);
    REQUIRE(listed->size() == 5);
    for (const auto& e : *listed) CHECK(e.bot_scheduled == (e.event_id == v2_zoom));

    meetingbaas::v2_bot_config change;
    change.recording_mode = "audio_only";
    const auto updated = client.v2_update_bots(v2_calendar, target, change);
    REQUIRE(updated);
    CHECK(updated->succeeded == ids({v2_zoom}));
    CHECK(updated->complete());
    CHECK(*server.v2_bot(v2_zoom) ==
          nlohmann::json::parse(R"({"bot_name":"Notetaker","entry_message":"Recording for Acme",
                                    "extra":{"tenant":"acme"},"recording_mode":"audio_only"})"));

    // The first DELETE loses its answer: it may have been applied, so it is not repeated blindly (a second
    // DELETE of the same event would answer 404). The caller reads the event again: the bot is still
    // there (the fake dropped the request before handling it), so the DELETE is sent again, body included.
    server.inject(api::fault::drop);
    const auto lost = client.v2_delete_bots(v2_calendar, target);
    REQUIRE_FALSE(lost);
    CHECK(lost.error().code == meetingbaas::errc::transport_error);
    CHECK(meetingbaas::may_have_been_applied(lost.error()));
    const auto reread = client.v2_get_event(v2_calendar, v2_zoom);
    REQUIRE(reread);
    CHECK(reread->bot_scheduled);
    const auto deleted = client.v2_delete_bots(v2_calendar, target);
    REQUIRE(deleted);
    CHECK(deleted->succeeded == ids({v2_zoom}));
    CHECK(deleted->complete());
    CHECK_FALSE(server.v2_bot(v2_zoom));
    const auto without_bot = client.v2_get_event(v2_calendar, v2_zoom);
    REQUIRE(without_bot);
    CHECK_FALSE(without_bot->bot_scheduled);

    // what the server received
    const auto w = writes(server);
    REQUIRE(w.size() == 4);
    const std::string bots_path = std::string("/v2/calendars/") + v2_calendar + "/bots";
    CHECK(w[0].method == "POST");
    CHECK(w[0].target == bots_path);
    CHECK(w[0].status == 201);
    CHECK(nlohmann::json::parse(w[0].body) == nlohmann::json{{"bot_name", "Notetaker"},
                                                             {"entry_message", "Recording for Acme"},
                                                             {"extra", {{"tenant", "acme"}}},
                                                             {"series_id", v2_zoom_series},
                                                             {"all_occurrences", false},
                                                             {"event_id", v2_zoom}});
    CHECK(w[1].method == "PATCH");
    CHECK(w[1].target == bots_path);
    CHECK(w[1].status == 200);
    CHECK(nlohmann::json::parse(w[1].body) == nlohmann::json{{"recording_mode", "audio_only"},
                                                             {"series_id", v2_zoom_series},
                                                             {"all_occurrences", false},
                                                             {"event_id", v2_zoom}});
    const nlohmann::json delete_body{
        {"series_id", v2_zoom_series}, {"all_occurrences", false}, {"event_id", v2_zoom}};
    for (const std::size_t i : {2U, 3U}) {
        CAPTURE(i);
        CHECK(w[i].method == "DELETE");
        CHECK(w[i].target == bots_path);
        REQUIRE_FALSE(w[i].body.empty());
        CHECK(nlohmann::json::parse(w[i].body) == delete_body);
    }
    CHECK(w[2].injected == api::fault::drop);
    CHECK(w[2].status == 0);
    CHECK(w[3].status == 200);

    // nothing left to delete: a 404, not retried
    const auto again = client.v2_delete_bots(v2_calendar, target);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == meetingbaas::errc::api_error);
    CHECK(again.error().http_status == 404);
    CHECK(again.error().provider_code == "FST_ERR_CALENDAR_BOT_NOT_FOUND");
    CHECK(again.error().message == "Calendar bot not found");
    CHECK(again.error().attempts == 1);

    // the fake reads the DELETE body as Fastify does: JSON only
    auto http = make(server.base_url());
    auto untyped =
        request(meetingbaas::http_method::delete_, server.base_url() + bots_path, delete_body.dump());
    untyped.headers.erase("Content-Type");
    const auto unsupported = http.send(untyped);
    REQUIRE(unsupported);
    CHECK(unsupported->status == 415);
    CHECK(nlohmann::json::parse(unsupported->body)["code"] == "FST_ERR_CTP_INVALID_MEDIA_TYPE");
    const auto bodiless =
        http.send(request(meetingbaas::http_method::delete_, server.base_url() + bots_path));
    REQUIRE(bodiless);
    CHECK(bodiless->status == 400);
    CHECK(nlohmann::json::parse(bodiless->body)["code"] == "FST_ERR_VALIDATION");
}

template <class Make>
void client_v2_reports_partial_success(Make make)
{
    api server;
    start_v2(server);
    auto client = make_api_client(make(server.base_url()), server);
    const auto config = notetaker();

    // one occurrence of the weekly series already has its bot
    REQUIRE(client.v2_schedule_bots(
        v2_calendar, {.series_id = v2_weekly_series, .event_id = std::string(v2_weekly_2)}, config));
    const meetingbaas::v2_bot_target series{.series_id = v2_weekly_series, .all_occurrences = true};
    const auto scheduled = client.v2_schedule_bots(v2_calendar, series, config);
    REQUIRE(scheduled);
    CHECK(server.calls().back().status == 201);
    CHECK(scheduled->success);
    CHECK(scheduled->succeeded == ids({v2_weekly_1, v2_weekly_3}));
    REQUIRE(scheduled->errors.size() == 1);
    CHECK(scheduled->errors[0].event_id == v2_weekly_2);
    CHECK(scheduled->errors[0].code == "BOT_ALREADY_EXISTS");
    CHECK(scheduled->errors[0].message == "A bot is already scheduled for this event");
    CHECK_FALSE(scheduled->errors[0].details);
    CHECK_FALSE(scheduled->complete());
    for (const char* id : {v2_weekly_1, v2_weekly_2, v2_weekly_3}) CHECK(server.v2_bot(id));

    // an event without a meeting link: a 201 whose only entry is an error
    const auto no_link = client.v2_schedule_bots(
        v2_calendar, {.series_id = v2_offsite_series, .event_id = std::string(v2_offsite)}, config);
    REQUIRE(no_link);
    CHECK(no_link->succeeded.empty());
    REQUIRE(no_link->errors.size() == 1);
    CHECK(no_link->errors[0].event_id == v2_offsite);
    CHECK(no_link->errors[0].code == "NO_MEETING_URL");
    CHECK_FALSE(no_link->complete());
    CHECK_FALSE(server.v2_bot(v2_offsite));

    // an unknown event id is not an entry of `errors`: the API documents a 404 for it
    const auto unknown = client.v2_schedule_bots(
        v2_calendar, {.series_id = v2_weekly_series, .event_id = std::string(v2_unknown)}, config);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == meetingbaas::errc::api_error);
    CHECK(unknown.error().http_status == 404);
    CHECK(unknown.error().provider_code == "FST_ERR_CALENDAR_EVENT_NOT_FOUND");
    CHECK(unknown.error().attempts == 1);

    // cancelling the series once one occurrence has lost its bot
    REQUIRE(client.v2_delete_bots(v2_calendar,
                                  {.series_id = v2_weekly_series, .event_id = std::string(v2_weekly_1)}));
    const auto cancelled = client.v2_delete_bots(v2_calendar, series);
    REQUIRE(cancelled);
    CHECK(server.calls().back().status == 200);
    CHECK(nlohmann::json::parse(server.calls().back().body) ==
          nlohmann::json{{"series_id", v2_weekly_series}, {"all_occurrences", true}});
    CHECK(cancelled->succeeded == ids({v2_weekly_2, v2_weekly_3}));
    REQUIRE(cancelled->errors.size() == 1);
    CHECK(cancelled->errors[0].event_id == v2_weekly_1);
    CHECK(cancelled->errors[0].code == "BOT_NOT_FOUND");
    for (const char* id : {v2_weekly_1, v2_weekly_2, v2_weekly_3}) CHECK_FALSE(server.v2_bot(id));
}

template <class Make>
void client_v2_honours_retry_after_in_the_body(Make make)
{
    api server;
    start_v2(server);
    server.set_faults({.retry_after = 1s, .retry_after_header = false});  // only the body says how long
    auto client = make_api_client(make(server.base_url()), server);
    const meetingbaas::v2_bot_target target{.series_id = v2_zoom_series, .event_id = std::string(v2_zoom)};

    server.inject(api::fault::status_429);
    const auto started = std::chrono::steady_clock::now();
    const auto r = client.v2_schedule_bots(v2_calendar, target, notetaker());
    const auto elapsed = std::chrono::steady_clock::now() - started;
    REQUIRE(r);
    CHECK(r->succeeded == ids({v2_zoom}));
    const auto calls = server.calls();
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].method == "POST");
    CHECK(calls[0].status == 429);
    CHECK(calls[0].injected == api::fault::status_429);
    CHECK(calls[1].status == 201);
    CHECK(calls[1].body == calls[0].body);
    CHECK(calls[1].at - calls[0].at >= 950ms);  // retryAfter: 1 from the body, not the 5 ms backoff
    CHECK(calls[1].at - calls[0].at < 3s);
    CHECK(elapsed >= 1s);

    // what a client without retries sees: the body of api.v2.error.429.json
    std::ifstream in(MEETINGBAAS_TEST_DATA_DIR "/api.v2.error.429.json", std::ios::binary);
    const auto fixture = nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
    meetingbaas::api_client<decltype(make(server.base_url()))> once(
        make(server.base_url()), client_options(server, 5s, meetingbaas::no_retry_policy));
    server.inject(api::fault::status_429);
    const auto refused = once.v2_schedule_bots(
        v2_calendar, {.series_id = v2_weekly_series, .event_id = std::string(v2_weekly_1)}, notetaker());
    REQUIRE_FALSE(refused);
    const auto& e = refused.error();
    CHECK(e.code == meetingbaas::errc::retries_exhausted);  // a retryable failure, and one attempt allowed
    CHECK(e.last_attempt_code == meetingbaas::errc::api_error);
    CHECK(e.http_status == 429);
    CHECK(e.provider_code == fixture["code"].get<std::string>());
    CHECK(e.message == fixture["message"].get<std::string>());
    CHECK(e.retry_after == std::chrono::milliseconds(1000));
    CHECK_FALSE(e.is_daily_bot_cap());
    CHECK(e.attempts == 1);
    CHECK_FALSE(server.v2_bot(v2_weekly_1));
}

template <class Make>
void client_v2_reports_api_errors(Make make)
{
    api server;
    start_v2(server);
    {
        auto client = make_api_client(make(server.base_url()), server);
        const auto missing = client.v2_get_event(v2_calendar, v2_unknown);
        REQUIRE_FALSE(missing);
        CHECK(missing.error().code == meetingbaas::errc::api_error);
        CHECK(missing.error().is_not_found());
        CHECK(missing.error().provider_code == "FST_ERR_CALENDAR_EVENT_NOT_FOUND");
        CHECK(missing.error().message == "Calendar event not found");
        CHECK(missing.error().operation == "GET /v2/calendars/{calendar_id}/events/{event_id}");
        CHECK(missing.error().attempts == 1);
        CHECK(server.calls().size() == 1);

        const auto other_calendar = client.v2_list_events(v2_unknown, {});
        REQUIRE_FALSE(other_calendar);
        CHECK(other_calendar.error().http_status == 404);
        CHECK(other_calendar.error().provider_code == "FST_ERR_CALENDAR_NOT_FOUND");
        CHECK(other_calendar.error().message == "Calendar not found");

        // 409: a bot that joins in less than 4 minutes can no longer be changed; final, not retried
        const std::string soon = "5005e5e5-0000-4000-8000-000000000001";
        const std::string soon_series = "5005e5e5-0000-4000-8000-0000000000aa";
        server.set_v2_event(api::make_v2_event(*server.v2_event(v2_zoom), soon, soon_series,
                                               "2026-09-15T00:02:00Z"));  // options.now + 2 min
        const meetingbaas::v2_bot_target target{.series_id = soon_series, .event_id = soon};
        REQUIRE(client.v2_schedule_bots(v2_calendar, target, notetaker()));
        server.clear_calls();
        meetingbaas::v2_bot_config change;
        change.bot_name = "Renamed";
        const auto late = client.v2_update_bots(v2_calendar, target, change);
        REQUIRE_FALSE(late);
        CHECK(late.error().code == meetingbaas::errc::api_error);
        CHECK(late.error().http_status == 409);
        CHECK(late.error().provider_code == "FST_ERR_BOT_STATUS");
        CHECK(late.error().attempts == 1);
        CHECK(server.calls().size() == 1);
        CHECK((*server.v2_bot(soon))["bot_name"] == "Notetaker");
    }
    {
        auto opts = client_options(server);
        opts.api_key = "wrong";
        meetingbaas::api_client<decltype(make(server.base_url()))> client(make(server.base_url()), opts);
        const auto denied = client.v2_list_events(v2_calendar, {});
        REQUIRE_FALSE(denied);
        CHECK(denied.error().code == meetingbaas::errc::api_error);
        CHECK(denied.error().http_status == 401);
        CHECK(denied.error().provider_code == "FST_ERR_FORBIDDEN");
        CHECK(denied.error().message == "Invalid or missing API key");
        CHECK(denied.error().attempts == 1);
    }
}

}  // namespace meetingbaas_test::scenarios
