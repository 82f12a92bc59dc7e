// SPDX-License-Identifier: MIT
#include <meetingbaas/adapters/curl.hpp>

#include "api_scenarios.hpp"

#include <catch2/catch_test_macros.hpp>

#include <string>

namespace scenarios = meetingbaas_test::scenarios;

namespace {
const auto make = [](const std::string&) { return meetingbaas::curl_http_client{}; };
}  // namespace

TEST_CASE("curl_http_client sends every method, DELETE with a body included", "[adapters][curl]")
{
    scenarios::raw_get_and_delete_with_body(make);
}

TEST_CASE("curl_http_client reuses one connection for successive requests", "[adapters][curl]")
{
    scenarios::raw_reuses_the_connection(make);
}

TEST_CASE("curl_http_client reports a refused connection as connect_failed, not sent", "[adapters][curl]")
{
    scenarios::raw_connect_failure_is_not_sent(make);
}

TEST_CASE("curl_http_client refuses a method that is not an http_method value", "[adapters][curl]")
{
    scenarios::raw_refuses_an_invalid_method(make);
}

TEST_CASE("curl_http_client times out a slow reply and recovers", "[adapters][curl]")
{
    scenarios::raw_slow_reply_times_out(make);
}

TEST_CASE("curl_http_client reports a dropped connection and recovers", "[adapters][curl]")
{
    scenarios::raw_dropped_connection(make);
}

TEST_CASE("api_client over curl_http_client paginates over several pages, whatever next looks like",
          "[adapters][curl]")
{
    scenarios::client_paginates_over_several_pages(make);
}

TEST_CASE("api_client over curl_http_client retries 503 and waits for Retry-After on 429", "[adapters][curl]")
{
    scenarios::client_retries_503_and_429_honouring_retry_after(make);
}

TEST_CASE("api_client over curl_http_client retries a timed-out and a dropped attempt", "[adapters][curl]")
{
    scenarios::client_retries_timeouts_and_drops(make);
}

TEST_CASE("api_client over curl_http_client gives up on persistent 503s", "[adapters][curl]")
{
    scenarios::client_gives_up_after_persistent_faults(make);
}

TEST_CASE("api_client over curl_http_client lists every event despite seeded random faults",
          "[adapters][curl]")
{
    scenarios::client_survives_random_faults(make);
}

TEST_CASE("api_client over curl_http_client schedules, updates and unschedules bots", "[adapters][curl]")
{
    scenarios::client_schedules_and_unschedules(make);
}

TEST_CASE("api_client over curl_http_client maps 404 and 401 to api_error values", "[adapters][curl]")
{
    scenarios::client_reports_api_errors(make);
}

TEST_CASE("api_client over curl_http_client lists v2 events over every page, forwards and back",
          "[adapters][curl][v2]")
{
    scenarios::client_v2_lists_events_over_all_pages(make);
}

TEST_CASE("api_client over curl_http_client gets one v2 event", "[adapters][curl][v2]")
{
    scenarios::client_v2_gets_an_event(make);
}

TEST_CASE("api_client over curl_http_client schedules, updates and deletes a v2 bot, DELETE with its body",
          "[adapters][curl][v2]")
{
    scenarios::client_v2_schedules_updates_and_deletes_a_bot(make);
}

TEST_CASE("api_client over curl_http_client reports v2 partial success per event", "[adapters][curl][v2]")
{
    scenarios::client_v2_reports_partial_success(make);
}

TEST_CASE("api_client over curl_http_client waits for the v2 body's retryAfter on 429",
          "[adapters][curl][v2]")
{
    scenarios::client_v2_honours_retry_after_in_the_body(make);
}

TEST_CASE("api_client over curl_http_client maps v2 404, 409 and 401 to api_error values",
          "[adapters][curl][v2]")
{
    scenarios::client_v2_reports_api_errors(make);
}
