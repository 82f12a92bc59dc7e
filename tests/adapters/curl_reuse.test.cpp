// SPDX-License-Identifier: MIT
// curl_http_client reuses its handle's configuration between bodiless GETs and its header list between
// requests with the same fields: whatever the sequence, each request must reach the server exactly as
// described (method, body, headers), and a share handle must put several clients on one connection.

#include <meetingbaas/adapters/curl.hpp>

#include "fake_meetingbaas_api.hpp"

#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using meetingbaas::http_method;

struct step {
    http_method method;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

meetingbaas::http_request make_request(const std::string& url, const step& s)
{
    meetingbaas::http_request r;
    r.method = s.method;
    r.url = url;
    r.body = s.body;
    r.headers.add("x-meeting-baas-api-key", "test-key");  // the fake server checks it on every route
    for (const auto& [name, value] : s.headers) r.headers.add(name, value);
    r.timeout = std::chrono::seconds(5);
    return r;
}

/// The echoed header value, lower-cased name; nullopt when the server did not get the field.
std::optional<std::string> echoed_header(const nlohmann::json& echo, const std::string& lower_name)
{
    for (const auto& [name, value] : echo["headers"].items()) {
        std::string n = name;
        for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (n == lower_name) return value.get<std::string>();
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("curl_http_client sends every request of a mixed sequence exactly as described", "[adapters][curl]")
{
    meetingbaas_test::fake_meetingbaas_api server;
    REQUIRE(server.start());
    meetingbaas::curl_http_client http;
    const std::string url = server.base_url() + "/_echo";
    const std::vector<std::pair<std::string, std::string>> json_type{{"Content-Type", "application/json"}};

    // GETs in a row (the reused configuration), changes of header fields between GETs, and every other
    // method in between, so that each transition away from and back to a plain GET happens.
    const std::vector<step> steps{
        {http_method::get, "", {{"X-A", "1"}}},
        {http_method::get, "", {{"X-A", "1"}}},
        {http_method::get, "", {{"X-B", "2"}}},
        {http_method::post, R"({"p":1})", json_type},
        {http_method::get, "", {}},
        {http_method::delete_, R"({"d":1})", json_type},
        {http_method::get, "", {{"X-A", "3"}}},
        {http_method::put, "", {}},
        {http_method::get, "", {}},
        {http_method::patch, R"({"q":2})", json_type},
        {http_method::delete_, "", {}},
        {http_method::get, "", {{"X-C", "c"}}},
        {http_method::post, "", {}},
        {http_method::get, "", {}},
    };
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& s = steps[i];
        INFO("step " << i << ": " << meetingbaas::to_string(s.method));
        const auto r = http.send(make_request(url, s));
        REQUIRE(r);
        REQUIRE(r->status == 200);
        const auto echo = nlohmann::json::parse(r->body);
        CHECK(echo["method"] == std::string(meetingbaas::to_string(s.method)));
        CHECK(echo["body"] == s.body);
        for (const auto& [name, value] : s.headers) {
            std::string lower = name;
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            CHECK(echoed_header(echo, lower) == value);
        }
        // Fields of earlier requests do not linger.
        for (const char* other : {"x-a", "x-b", "x-c"}) {
            bool asked = false;
            for (const auto& h : s.headers) {
                std::string lower = h.first;
                for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                asked = asked || lower == other;
            }
            if (!asked) CHECK_FALSE(echoed_header(echo, other).has_value());
        }
        CHECK_FALSE(echoed_header(echo, "expect").has_value());
        const bool typed = !s.headers.empty() && s.headers.front().first == "Content-Type";
        CHECK(echoed_header(echo, "content-type").has_value() == typed);
    }

    // HEAD between GETs: no body read, and the next GET has its body again.
    const auto head = http.send(make_request(url, {http_method::head, "", {}}));
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->body.empty());
    const auto after = http.send(make_request(url, {http_method::get, "", {}}));
    REQUIRE(after);
    CHECK(nlohmann::json::parse(after->body)["method"] == "GET");

    // One connection throughout.
    std::set<int> ports;
    for (const auto& c : server.calls()) ports.insert(c.remote_port);
    CHECK(ports.size() == 1);
}

TEST_CASE("curl_http_client reports a timeout after reusing the GET configuration, then recovers",
          "[adapters][curl]")
{
    meetingbaas_test::fake_meetingbaas_api server;
    REQUIRE(server.start());
    meetingbaas::curl_http_client http;
    const std::string url = server.base_url() + "/_echo";
    REQUIRE(http.send(make_request(url, {http_method::get, "", {}})));
    auto slow = make_request(url, {http_method::get, "", {}});
    slow.timeout = std::chrono::milliseconds(150);
    auto faults = server.faults();
    faults.slow_delay = std::chrono::milliseconds(600);
    server.set_faults(faults);
    server.inject(meetingbaas_test::fake_api_fault::slow);
    const auto timed_out = http.send(slow);
    REQUIRE_FALSE(timed_out);
    CHECK(timed_out.error().kind == meetingbaas::transport_errc::timed_out);
    const auto again = http.send(make_request(url, {http_method::get, "", {}}));
    REQUIRE(again);
    CHECK(again->status == 200);
}

TEST_CASE("curl_http_client clients with one share handle use one connection", "[adapters][curl]")
{
    meetingbaas_test::fake_meetingbaas_api server;
    REQUIRE(server.start());
    const std::string url = server.base_url() + "/_echo";
    auto ports_after_alternating = [&](CURLSH* share) {
        server.clear_calls();
        meetingbaas::curl_http_client a({.share = share});
        meetingbaas::curl_http_client b({.share = share});
        for (int i = 0; i < 3; ++i) {
            REQUIRE(a.send(make_request(url, {http_method::get, "", {}})));
            REQUIRE(b.send(make_request(url, {http_method::get, "", {}})));
        }
        std::set<int> ports;
        for (const auto& c : server.calls()) ports.insert(c.remote_port);
        return ports.size();
    };
    CURLSH* share = curl_share_init();
    REQUIRE(share != nullptr);
    REQUIRE(curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) == CURLSHE_OK);
    CHECK(ports_after_alternating(share) == 1);
    CHECK(ports_after_alternating(nullptr) == 2);  // the contrast: a connection each
    curl_share_cleanup(share);
}
