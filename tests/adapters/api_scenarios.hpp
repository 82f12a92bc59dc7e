// SPDX-License-Identifier: MIT
#pragma once

// Scenarios run through every HTTP adapter against fake_meetingbaas_api (a real server on loopback).
// `make(base_url)` returns a fresh http_client for that origin.

#include <meetingbaas/api_client.hpp>
#include <meetingbaas/http.hpp>

#include "fake_meetingbaas_api.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cstdio>
#include <thread>

#include <chrono>
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
                                                      std::chrono::milliseconds timeout = 5s)
{
    return {.api_key = server.settings().api_key, .base_url = server.base_url(), .timeout = timeout};
}

template <class Client>
auto make_api_client(Client http, const api& server, std::chrono::milliseconds timeout = 5s)
{
    return meetingbaas::api_client<Client>(
        std::move(http), client_options(server, timeout),
        meetingbaas::api_retry<>{.policy = fast_policy, .random = meetingbaas::splitmix64{3}});
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

}  // namespace meetingbaas_test::scenarios
