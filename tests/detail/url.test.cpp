// SPDX-License-Identifier: MIT
#include <meetingbaas/api/detail/url.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <string>

using meetingbaas::detail::split_url;

TEST_CASE("split_url splits http and https URLs", "[url]")
{
    constexpr auto p = split_url("https://api.meetingbaas.com/calendar_events/?calendar_id=x");
    STATIC_REQUIRE(p.has_value());
    STATIC_REQUIRE(p->scheme == "https");
    STATIC_REQUIRE(p->host == "api.meetingbaas.com");
    STATIC_REQUIRE(p->port.empty());
    STATIC_REQUIRE(p->target == "/calendar_events/?calendar_id=x");

    const auto q = split_url("HTTP://127.0.0.1:8080");
    REQUIRE(q);
    CHECK(q->host == "127.0.0.1");
    CHECK(q->port == "8080");
    CHECK(q->target.empty());

    const auto v6 = split_url("http://[::1]:9000/x");
    REQUIRE(v6);
    CHECK(v6->host == "[::1]");
    CHECK(v6->port == "9000");
}

TEST_CASE("split_url rejects what it cannot route safely", "[url]")
{
    const auto url =
        GENERATE(as<std::string>{}, "", "ftp://h/", "https://", "https://:80/", "https://user@h/",
                 "https://h:0/", "https://h:65536/", "https://h:8x/", "https://h/a b", "https://h/#frag",
                 "https://h?x", "https://[::1/", "https://[::1]x/", "//h/x", "/relative");
    CAPTURE(url);
    CHECK_FALSE(split_url(url));
}

TEST_CASE("same_origin compares scheme, host case-insensitively and the effective port", "[url]")
{
    using meetingbaas::detail::same_origin;
    const auto a = *split_url("https://api.meetingbaas.com/x");
    CHECK(same_origin(a, *split_url("https://API.MeetingBaas.com:443/y?z")));
    CHECK(same_origin(a, *split_url("HTTPS://api.meetingbaas.com:0443")));
    CHECK_FALSE(same_origin(a, *split_url("http://api.meetingbaas.com/x")));
    CHECK_FALSE(same_origin(a, *split_url("https://api.meetingbaas.com:8443/x")));
    CHECK_FALSE(same_origin(a, *split_url("https://api.meetingbaas.com.evil.example/x")));
    CHECK(same_origin(*split_url("http://h"), *split_url("http://h:80/")));
}

TEST_CASE("percent_encode keeps unreserved characters only", "[url]")
{
    using meetingbaas::detail::percent_encode;
    CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(percent_encode("2026-09-14T08:00:00+02:00") == "2026-09-14T08%3A00%3A00%2B02%3A00");
    CHECK(percent_encode("a/b?c=d&e f#") == "a%2Fb%3Fc%3Dd%26e%20f%23");
    CHECK(percent_encode("\xC3\xA9") == "%C3%A9");
    CHECK(percent_encode(std::string("\0", 1)) == "%00");

    meetingbaas::detail::query_builder q;
    CHECK(q.str().empty());
    q.add("calendar_id", "c 1");
    q.add("status", "all");
    CHECK(q.str() == "?calendar_id=c%201&status=all");
}
