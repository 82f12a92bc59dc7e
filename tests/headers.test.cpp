// SPDX-License-Identifier: MIT
#include <meetingbaas/core/headers.hpp>

#include <catch2/catch_test_macros.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using meetingbaas::header_lookup;
using meetingbaas::header_range_view;
using meetingbaas::header_source;
using meetingbaas::header_view;
using meetingbaas::http_headers;

TEST_CASE("http_headers finds fields ASCII case-insensitively", "[headers]")
{
    const http_headers h{{"Content-Type", "application/json"}, {"X-Meeting-BaaS-Api-Key", "k"}};
    CHECK(h.find("content-type") == std::optional<std::string_view>("application/json"));
    CHECK(h.find("CONTENT-TYPE") == std::optional<std::string_view>("application/json"));
    CHECK(h.find("x-meeting-baas-api-key") == std::optional<std::string_view>("k"));
    CHECK_FALSE(h.find("content-length").has_value());
    CHECK_FALSE(h.find("content-typ").has_value());
    CHECK(h.contains("Content-type"));
    CHECK_FALSE(h.contains(""));
    CHECK(h.size() == 2);
    CHECK_FALSE(h.empty());
    CHECK(http_headers{}.empty());
}

TEST_CASE("http_headers does not fold non-ASCII bytes", "[headers]")
{
    const http_headers h{{"X-\xC3\x84", "1"}};  // "X-Ä" in UTF-8
    CHECK(h.find("x-\xC3\x84").has_value());
    CHECK_FALSE(h.find("x-\xC3\xA4").has_value());  // "ä": no Unicode case folding
}

TEST_CASE("http_headers add keeps duplicates in order and find returns the first", "[headers]")
{
    http_headers h;
    h.add("Set-Cookie", "a=1");
    h.add("set-cookie", "b=2");
    h.add("Other", "x");
    CHECK(h.size() == 3);
    CHECK(h.find("SET-COOKIE") == std::optional<std::string_view>("a=1"));
    CHECK(h.count("set-cookie") == 2);
    const auto all = h.find_all("Set-Cookie");
    REQUIRE(all.size() == 2);
    CHECK(all[0] == "a=1");
    CHECK(all[1] == "b=2");
    std::vector<std::pair<std::string, std::string>> seen(h.begin(), h.end());
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].first == "Set-Cookie");
    CHECK(seen[1].first == "set-cookie");
    CHECK(seen[2].first == "Other");
}

TEST_CASE("http_headers set replaces every field of that name at the first position", "[headers]")
{
    http_headers h{{"A", "1"}, {"B", "2"}, {"a", "3"}, {"C", "4"}};
    h.set("A", "9");
    REQUIRE(h.size() == 3);
    std::vector<std::pair<std::string, std::string>> seen(h.begin(), h.end());
    CHECK(seen[0] == std::pair<std::string, std::string>{"A", "9"});
    CHECK(seen[1].first == "B");
    CHECK(seen[2].first == "C");
    h.set("D", "5");  // absent: appended
    CHECK(h.size() == 4);
    CHECK(h.find("d") == std::optional<std::string_view>("5"));
    CHECK(h.erase("b") == 1);
    CHECK(h.erase("b") == 0);
    CHECK(h.size() == 3);
    h.clear();
    CHECK(h.empty());
}

TEST_CASE("http_headers compare names case-insensitively and values exactly", "[headers]")
{
    CHECK(http_headers{{"A", "x"}} == http_headers{{"a", "x"}});
    CHECK_FALSE(http_headers{{"A", "x"}} == http_headers{{"a", "X"}});
    CHECK_FALSE(http_headers{{"A", "x"}} == http_headers{{"A", "x"}, {"B", "y"}});
}

TEST_CASE("header_lookup adapts a framework callable without copying", "[headers]")
{
    // Stands in for a framework request object with its own case-insensitive lookup.
    const std::map<std::string, std::string> framework{{"svix-id", "msg_1"}};
    int calls = 0;
    const header_lookup lookup([&](std::string_view name) -> std::optional<std::string_view> {
        ++calls;
        const auto it = framework.find(std::string(name));
        if (it == framework.end()) return std::nullopt;
        return std::string_view(it->second);
    });
    static_assert(header_source<decltype(lookup)>);
    CHECK(lookup.find("svix-id") == std::optional<std::string_view>("msg_1"));
    CHECK_FALSE(lookup.find("svix-timestamp").has_value());
    CHECK(calls == 2);
    // The view points into the framework's storage: no copy was made.
    CHECK(lookup.find("svix-id")->data() == framework.at("svix-id").data());
}

TEST_CASE("header_range_view scans pair ranges case-insensitively", "[headers]")
{
    const std::vector<std::pair<std::string_view, std::string_view>> raw{{"Svix-Id", "msg_1"},
                                                                         {"svix-id", "msg_2"}};
    const header_range_view view(raw);
    static_assert(header_source<decltype(view)>);
    CHECK(view.find("SVIX-ID") == std::optional<std::string_view>("msg_1"));
    CHECK_FALSE(view.find("svix-signature").has_value());

    const std::multimap<std::string, std::string> httplib_like{{"X-Mb-Secret", "s"}};
    const header_range_view mm(httplib_like);
    CHECK(mm.find("x-mb-secret") == std::optional<std::string_view>("s"));
    CHECK(mm.find("x-mb-secret")->data() == httplib_like.begin()->second.data());
}

TEST_CASE("header_view type-erases any header_source by reference", "[headers]")
{
    http_headers h{{"A", "1"}};
    const header_view view = h;
    CHECK(view.find("a") == std::optional<std::string_view>("1"));
    h.set("A", "2");  // a view, not a copy: sees the change
    CHECK(view.find("a") == std::optional<std::string_view>("2"));
    CHECK_FALSE(view.contains("b"));
    const header_view copy = view;  // copying a view does not wrap the view again
    CHECK(copy.find("A") == std::optional<std::string_view>("2"));
    static_assert(sizeof(header_view) == 2 * sizeof(void*));
}

TEST_CASE("header_source rejects types without a suitable find", "[headers]")
{
    struct no_find {};
    struct wrong_result {
        int find(std::string_view) const { return 0; }
    };
    struct string_result {
        std::optional<std::string> find(std::string_view) const { return std::nullopt; }  // would dangle
    };
    static_assert(!header_source<no_find>);
    static_assert(!header_source<wrong_result>);
    static_assert(!header_source<string_result>);
    static_assert(header_source<http_headers>);
    SUCCEED("checked at compile time");
}
