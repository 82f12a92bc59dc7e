// SPDX-License-Identifier: MIT
#include <meetingbaas/idempotency/key.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mb = meetingbaas;
using Catch::Matchers::StartsWith;

namespace {

mb::utc_time ts(std::string_view text)
{
    auto t = mb::parse_timestamp(text);
    REQUIRE(t);
    return t->time;
}

struct tenant_id {
    int value;
};

}  // namespace

template <>
struct meetingbaas::key_part_traits<tenant_id> {
    static void append(meetingbaas::key_builder& b, const tenant_id& t)
    {
        b.text("tenant-" + std::to_string(t.value));
    }
};

TEST_CASE("make_key encodes parts unambiguously", "[idempotency_key]")
{
    CHECK(mb::make_key("ns", std::string_view("a|b"), std::string_view("c")) !=
          mb::make_key("ns", std::string_view("a"), std::string_view("b|c")));
    CHECK(mb::make_key("ns", std::string_view("a\\"), std::string_view("|c")) !=
          mb::make_key("ns", std::string_view("a\\|"), std::string_view("c")));
    CHECK(mb::make_key("a|b", std::string_view("c")) != mb::make_key("a", std::string_view("b|c")));
    CHECK(mb::make_key("ns", std::string_view("")) != mb::make_key("ns"));
    CHECK(mb::make_key("ns", std::optional<std::string>()) != mb::make_key("ns", std::string_view("")));
    CHECK(mb::make_key("ns", std::optional<std::string>()) != mb::make_key("ns", std::string_view("\\~")));
    CHECK(mb::make_key("ns", std::string_view("a|b"), std::string_view("c")).str() == "ns|a\\|b|c");
}

TEST_CASE("make_key accepts typed parts", "[idempotency_key]")
{
    const std::string s = "str";
    const auto key = mb::make_key("orders", s, "lit", 42, -7, 7U, true, tenant_id{3}, std::optional<int>(5),
                                  ts("2023-09-01T15:30:45Z"));
    CHECK(key.str() == "orders|str|lit|42|-7|7|true|tenant-3|5|2023-09-01T15:30:45.000000Z");
    CHECK(mb::make_key("x", false).str() == "x|false");
}

TEST_CASE("make_key normalizes timestamps to UTC microseconds", "[idempotency_key]")
{
    const auto spelling = GENERATE(as<std::string>{}, "2023-09-01T15:30:45Z", "2023-09-01T15:30:45.000Z",
                                   "2023-09-01T15:30:45.000000Z", "2023-09-01T17:30:45+02:00",
                                   "2023-09-01t15:30:45z", "2023-09-01T15:30:45.0000001Z");
    CAPTURE(spelling);
    CHECK(mb::make_key("t", ts(spelling)) == mb::make_key("t", ts("2023-09-01T15:30:45Z")));
    CHECK(mb::make_key("t", ts("2023-09-01T15:30:45.001Z")) != mb::make_key("t", ts("2023-09-01T15:30:45Z")));
}

TEST_CASE("key_builder hashes long parts and bounds the key length", "[idempotency_key]")
{
    const std::string long_part(500, 'x');
    const auto key = mb::make_key("ns", std::string_view(long_part), std::string_view("tail"));
    CHECK(key.size() < 100);
    CHECK_THAT(key.str(), StartsWith("ns|\\#"));
    CHECK(key.str().ends_with("|tail"));
    CHECK(mb::make_key("ns", std::string_view(long_part)) !=
          mb::make_key("ns", std::string_view(long_part + "y")));
    CHECK(mb::make_key("ns", mb::hashed_part{long_part}) == mb::make_key("ns", std::string_view(long_part)));

    mb::key_builder b("ns", {.max_length = 100, .max_part_length = 40});
    for (int i = 0; i < 20; ++i) b.text("part-" + std::to_string(i));
    const auto bounded = b.build();
    CHECK(bounded.size() <= 100);
    CHECK_THAT(bounded.str(), StartsWith("ns|\\*"));
    mb::key_builder c("ns", {.max_length = 100, .max_part_length = 40});
    for (int i = 0; i < 20; ++i) c.text("part-" + std::to_string(i == 19 ? 91 : i));
    CHECK(c.build() != bounded);
    const std::string huge_namespace(300, 'n');
    CHECK(mb::make_key(huge_namespace, 1).size() < 60);
}

TEST_CASE("sorted_set_part ignores order and duplicates", "[idempotency_key]")
{
    const std::vector<std::string> a{"u1", "u2", "u3"};
    const std::vector<std::string> b{"u3", "u1", "u2", "u1"};
    const std::vector<std::string> c{"u1", "u2"};
    const std::array<std::string, 2> d{"u1u", "2"};
    const std::array<std::string, 2> e{"u1", "u2"};
    CHECK(mb::make_key("s", mb::sorted_set_part{a}) == mb::make_key("s", mb::sorted_set_part{b}));
    CHECK(mb::make_key("s", mb::sorted_set_part{a}) != mb::make_key("s", mb::sorted_set_part{c}));
    CHECK(mb::make_key("s", mb::sorted_set_part{c}) == mb::make_key("s", mb::sorted_set_part{e}));
    CHECK(mb::make_key("s", mb::sorted_set_part{c}) != mb::make_key("s", mb::sorted_set_part{d}));
}

TEST_CASE("calendar_sync_events_key separates syncs that share a timestamp", "[idempotency_key]")
{
    const std::vector<std::string> first{"e1", "e2"};
    const std::vector<std::string> second{"e3"};
    const std::vector<std::string> first_reordered{"e2", "e1"};
    const std::vector<std::string> none;
    const auto t = ts("2023-09-01T15:30:45Z");
    const auto k1 = mb::calendar_sync_events_key("cal", t, std::span<const std::string>(first));
    CHECK(k1 != mb::calendar_sync_events_key("cal", t, std::span<const std::string>(second)));
    CHECK(k1 == mb::calendar_sync_events_key("cal", t, std::span<const std::string>(first_reordered)));
    CHECK(k1 != mb::calendar_sync_events_key("cal2", t, std::span<const std::string>(first)));
    // Unknown set (field missing or null) differs from an empty set.
    CHECK(mb::calendar_sync_events_key("cal", t, std::nullopt) !=
          mb::calendar_sync_events_key("cal", t, std::span<const std::string>(none)));
    CHECK_THAT(k1.str(), StartsWith("mb1|calendar.sync_events|cal|2023-09-01T15:30:45.000000Z|\\#"));

    auto parsed =
        mb::calendar_sync_events_key("cal", "2023-09-01T15:30:45.000Z", std::span<const std::string>(first));
    REQUIRE(parsed);
    CHECK(*parsed == k1);
    auto bad = mb::calendar_sync_events_key("cal", "yesterday", std::span<const std::string>(first));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == mb::errc::invalid_timestamp);
    CHECK(bad.error().where == "/data/last_updated_ts");
}

TEST_CASE("canonical event keys are distinct across event types and versions", "[idempotency_key]")
{
    const auto t = ts("2026-09-16T15:12:09.331Z");
    const std::array<mb::calendar_instance_ref, 2> inst{
        mb::calendar_instance_ref{"ev1", t, t + std::chrono::hours(1), "confirmed"},
        mb::calendar_instance_ref{"ev2", t, t + std::chrono::hours(2), "confirmed"}};
    const std::array<mb::calendar_instance_ref, 2> inst_swapped{inst[1], inst[0]};
    const std::array<mb::calendar_instance_ref, 1> inst_cancelled{
        mb::calendar_instance_ref{"ev1", t, t + std::chrono::hours(1), "cancelled"}};
    const std::vector<mb::idempotency_key> keys{
        mb::svix_delivery_key("msg_1"),
        mb::bot_terminal_key(mb::api_version::v1, "complete", "bot"),
        mb::bot_terminal_key(mb::api_version::v1, "failed", "bot"),
        mb::bot_terminal_key(mb::api_version::v2, "bot.completed", "bot"),
        mb::transcription_complete_key("bot", "{\"a\":1}"),
        mb::transcription_complete_key("bot", "{\"a\":2}"),
        mb::bot_status_change_key(mb::api_version::v1, "bot", "joining_call", t),
        mb::bot_status_change_key(mb::api_version::v2, "bot", "joining_call", t),
        mb::bot_status_change_key(mb::api_version::v2, "bot", "in_call_recording", t),
        mb::chat_message_key("bot", "m1"),
        mb::calendar_event_key("calendar.event_created", "cal", std::string_view("series"), inst),
        mb::calendar_event_key("calendar.event_updated", "cal", std::string_view("series"), inst),
        mb::calendar_event_key("calendar.event_cancelled", "cal", std::string_view("series"), inst_cancelled),
        mb::calendar_event_key("calendar.event_created", "cal", std::nullopt, inst),
        mb::calendar_events_synced_key("cal"),
        mb::calendar_connection_key("calendar.connection_created", "cal", t),
        mb::calendar_connection_key("calendar.connection_updated", "cal", t),
        mb::raw_payload_key(mb::api_version::v2, "bot.unknown", "{}"),
        mb::schedule_recording_key("ev1", t, false),
        mb::schedule_recording_key("ev1", t, true),
        mb::schedule_recording_key("ev1", t + std::chrono::seconds(1), false),
        mb::schedule_recording_key("ev1", t, false, mb::fingerprint_fields(std::string_view("bot config"))),
        mb::cancel_recording_key("ev1", t, false),
    };
    const std::set<mb::idempotency_key> unique(keys.begin(), keys.end());
    CHECK(unique.size() == keys.size());
    CHECK(mb::calendar_event_key("calendar.event_created", "cal", std::string_view("series"), inst) ==
          mb::calendar_event_key("calendar.event_created", "cal", std::string_view("series"), inst_swapped));
    CHECK(mb::svix_delivery_key("msg_1").str() == "mb2.delivery|msg_1");
    CHECK(mb::bot_terminal_key(mb::api_version::v2, "bot.failed", "b").str() == "mb2|bot.failed|b");
    for (const auto& k : keys) CHECK(k.size() <= 200);
}

TEST_CASE("fingerprints detect changed payloads", "[idempotency_key]")
{
    CHECK(mb::fingerprint_body("{\"a\":1}") == mb::fingerprint_body("{\"a\":1}"));
    CHECK(mb::fingerprint_body("{\"a\":1}") != mb::fingerprint_body("{\"a\": 1}"));
    CHECK(mb::fingerprint_body("").size() == 32);
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223..., truncated to 128 bits.
    CHECK(mb::fingerprint_body("abc") == "ba7816bf8f01cfea414140de5dae2223");
    CHECK(mb::fingerprint_fields(std::string_view("a|b"), std::string_view("c")) !=
          mb::fingerprint_fields(std::string_view("a"), std::string_view("b|c")));
    CHECK(mb::fingerprint_fields(1, std::string_view("x")) ==
          mb::fingerprint_fields(1, std::string_view("x")));
}

TEST_CASE("idempotency_key wraps application keys verbatim", "[idempotency_key]")
{
    const auto k = mb::idempotency_key::from_string("my|own key");
    CHECK(k.view() == "my|own key");
    CHECK_FALSE(k.empty());
    CHECK(mb::idempotency_key().empty());
    CHECK(mb::idempotency_key::from_string("a") < mb::idempotency_key::from_string("b"));
    STATIC_REQUIRE(mb::key_part<std::string>);
    STATIC_REQUIRE(mb::key_part<int>);
    STATIC_REQUIRE(mb::key_part<tenant_id>);
    STATIC_REQUIRE_FALSE(mb::key_part<std::vector<int>>);
}
