// SPDX-License-Identifier: MIT
#include <meetingbaas/api/http.hpp>

#include "fake_http_client.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

namespace {

struct no_send {
    meetingbaas::http_result get(const meetingbaas::http_request&) { return meetingbaas::http_response{}; }
};
struct bare_response {
    meetingbaas::http_response send(const meetingbaas::http_request&) { return {}; }
};
struct mutating_request {
    meetingbaas::http_result send(meetingbaas::http_request&) { return meetingbaas::http_response{}; }
};
struct pinned {
    pinned() = default;
    pinned(const pinned&) = delete;
    pinned(pinned&&) = delete;
    meetingbaas::http_result send(const meetingbaas::http_request&) { return meetingbaas::http_response{}; }
};

}  // namespace

TEST_CASE("http_client accepts the scripted fake, by value and by reference", "[http]")
{
    STATIC_REQUIRE(meetingbaas::http_client<meetingbaas_test::fake_http_client>);
    STATIC_REQUIRE(meetingbaas::http_client<meetingbaas_test::fake_http_client&>);
}

TEST_CASE("http_client names the failing requirement", "[http]")
{
    STATIC_REQUIRE_FALSE(meetingbaas::can_send_http<no_send>);
    STATIC_REQUIRE_FALSE(meetingbaas::http_client<no_send>);

    STATIC_REQUIRE(meetingbaas::can_send_http<bare_response>);
    STATIC_REQUIRE_FALSE(meetingbaas::has_http_result<bare_response>);
    STATIC_REQUIRE_FALSE(meetingbaas::http_client<bare_response>);

    STATIC_REQUIRE_FALSE(meetingbaas::can_send_http<mutating_request>);  // must accept a const request

    STATIC_REQUIRE(meetingbaas::can_send_http<pinned>);
    STATIC_REQUIRE(meetingbaas::has_http_result<pinned>);
    STATIC_REQUIRE_FALSE(meetingbaas::can_hold_http_client<pinned>);
    STATIC_REQUIRE_FALSE(meetingbaas::http_client<pinned>);
    STATIC_REQUIRE(meetingbaas::http_client<pinned&>);  // held by reference instead
}

TEST_CASE("to_string(http_method) gives the wire token", "[http]")
{
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::http_method::get) == "GET");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::http_method::head) == "HEAD");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::http_method::post) == "POST");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::http_method::put) == "PUT");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::http_method::patch) == "PATCH");
    STATIC_REQUIRE(meetingbaas::to_string(meetingbaas::http_method::delete_) == "DELETE");
    STATIC_REQUIRE(noexcept(meetingbaas::to_string(meetingbaas::http_method::get)));
}

TEST_CASE("out-of-range enum values never look like valid ones", "[http]")
{
    constexpr auto bogus_method = static_cast<meetingbaas::http_method>(0);
    STATIC_REQUIRE(!meetingbaas::is_valid(bogus_method));
    STATIC_REQUIRE(meetingbaas::is_valid(meetingbaas::http_method::delete_));
    STATIC_REQUIRE(meetingbaas::to_string(bogus_method) == "(invalid http_method)");
    STATIC_REQUIRE(meetingbaas::to_string(static_cast<meetingbaas::transport_errc>(99)) ==
                   "(invalid transport_errc)");
}

TEST_CASE("to_string(transport_errc) names every kind", "[http]")
{
    using meetingbaas::transport_errc;
    STATIC_REQUIRE(meetingbaas::to_string(transport_errc::connect_failed) == "connect_failed");
    STATIC_REQUIRE(meetingbaas::to_string(transport_errc::timed_out) == "timed_out");
    STATIC_REQUIRE(meetingbaas::to_string(transport_errc::connection_dropped) == "connection_dropped");
    STATIC_REQUIRE(meetingbaas::to_string(transport_errc::tls_failed) == "tls_failed");
    STATIC_REQUIRE(meetingbaas::to_string(transport_errc::invalid_request) == "invalid_request");
    STATIC_REQUIRE(meetingbaas::to_string(transport_errc::response_too_large) == "response_too_large");
    STATIC_REQUIRE(meetingbaas::to_string(transport_errc::other) == "other");
}

TEST_CASE("http_request expresses a DELETE with a JSON body and a timeout", "[http]")
{
    meetingbaas::http_request r{.method = meetingbaas::http_method::delete_,
                                .url = "https://api.meetingbaas.com/v2/calendars/c/bots",
                                .headers = {{"Content-Type", "application/json"}},
                                .body = R"({"series_id":"s","all_occurrences":true})",
                                .timeout = 5s};
    CHECK(r.method == meetingbaas::http_method::delete_);
    CHECK(r.headers.find("content-type") == "application/json");
    CHECK_FALSE(r.body.empty());
    CHECK(meetingbaas::http_request{}.timeout == 30s);
}

TEST_CASE("transport_error assumes the request may have been sent unless told otherwise", "[http]")
{
    const meetingbaas::transport_error e;
    CHECK(e.may_have_been_sent);
    CHECK(e.kind == meetingbaas::transport_errc::other);
    const meetingbaas::http_result r =
        meetingbaas::transport_error{meetingbaas::transport_errc::connect_failed, false, "refused"};
    REQUIRE_FALSE(r);
    CHECK_FALSE(r.error().may_have_been_sent);
}

TEST_CASE("fake_http_client replays its script and records requests", "[http]")
{
    meetingbaas_test::fake_http_client fake;
    fake.respond(503, "busy", {{"Retry-After", "2"}}).fail(meetingbaas::transport_errc::timed_out, true);
    auto copy = fake;  // shares the script
    const auto first = copy.send({.url = "http://x/1"});
    REQUIRE(first);
    CHECK(first->status == 503);
    CHECK(first->headers.find("retry-after") == "2");
    const auto second = fake.send({.url = "http://x/2"});
    REQUIRE_FALSE(second);
    CHECK(second.error().kind == meetingbaas::transport_errc::timed_out);
    const auto third = fake.send({.url = "http://x/3"});
    REQUIRE_FALSE(third);  // script exhausted
    CHECK(fake.requests().size() == 3);
    CHECK(fake.requests()[2].url == "http://x/3");
    CHECK(fake.remaining() == 0);
}
