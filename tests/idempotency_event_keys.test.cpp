// SPDX-License-Identifier: MIT
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/event_keys.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

namespace mb = meetingbaas;
using Catch::Matchers::StartsWith;

namespace {

std::string read_fixture(const std::string& name)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string replace_once(std::string s, std::string_view from, std::string_view to)
{
    const auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    s.replace(pos, from.size(), to);
    return s;
}

mb::idempotency_key key_of(const std::string& body)
{
    auto d = mb::parse_delivery(body);
    REQUIRE(d);
    return mb::idempotency_key_for(*d, body);
}

}  // namespace

TEST_CASE("idempotency_key_for gives every fixture its own bounded key", "[event_keys]")
{
    const std::vector<std::string> fixtures{"v1.bot.status_change.json",
                                            "v1.calendar.sync_events.json",
                                            "v1.calendar.sync_events.microseconds.json",
                                            "v1.complete.json",
                                            "v1.failed.json",
                                            "v1.transcription_complete.json",
                                            "v2.bot.chat_message.json",
                                            "v2.bot.completed.json",
                                            "v2.bot.failed.json",
                                            "v2.bot.status_change.json",
                                            "v2.calendar.connection_created.json",
                                            "v2.calendar.event_cancelled.json",
                                            "v2.calendar.event_created.json",
                                            "v2.calendar.event_updated.json",
                                            "v2.calendar.events_synced.json"};
    std::set<mb::idempotency_key> keys;
    for (const auto& name : fixtures) {
        CAPTURE(name);
        const auto key = key_of(read_fixture(name));
        CHECK(key.size() <= 200);
        CHECK((key.str().starts_with("mb1|") || key.str().starts_with("mb2|")));
        keys.insert(key);
    }
    CHECK(keys.size() == fixtures.size());
}

TEST_CASE("idempotency_key_for matches the spec's calendar.sync_events key", "[event_keys]")
{
    const auto key = key_of(read_fixture("v1.calendar.sync_events.json"));
    CHECK_THAT(key.str(), StartsWith("mb1|calendar.sync_events|62cf1c20-6d72-4a52-9217-c391ec23d7bf|"
                                     "2026-09-14T08:42:17.000000Z|\\#"));
}

TEST_CASE("idempotency_key_for ignores timestamp spelling and uuid order", "[event_keys]")
{
    const auto body = read_fixture("v1.calendar.sync_events.json");
    const auto spelling = GENERATE(as<std::string>{}, "2026-09-14T08:42:17.000Z",
                                   "2026-09-14T08:42:17.000000Z", "2026-09-14T10:42:17+02:00");
    CAPTURE(spelling);
    CHECK(key_of(replace_once(body, "2026-09-14T08:42:17Z", spelling)) == key_of(body));
    const auto reordered =
        replace_once(replace_once(body, "bf23a894-e787-4629-8947-43f4bea4ccd8", "TMP"),
                     "672ea9c0-d974-417e-9c70-cd8b71d3a3d5", "bf23a894-e787-4629-8947-43f4bea4ccd8");
    CHECK(key_of(replace_once(reordered, "TMP", "672ea9c0-d974-417e-9c70-cd8b71d3a3d5")) == key_of(body));
}

TEST_CASE("idempotency_key_for separates syncs that share a timestamp", "[event_keys]")
{
    const auto body = read_fixture("v1.calendar.sync_events.json");
    CHECK(key_of(replace_once(body, "672ea9c0-d974-417e-9c70-cd8b71d3a3d5",
                              "00000000-0000-0000-0000-000000000000")) != key_of(body));
    const auto unknown =
        R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2026-09-14T08:42:17Z"}})";
    const auto empty =
        R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":[]}})";
    CHECK(key_of(unknown) != key_of(empty));
}

TEST_CASE("idempotency_key_for keeps a v2 resend with new sent_at and URLs on the same key", "[event_keys]")
{
    const auto body = read_fixture("v2.bot.completed.json");
    const auto resent = replace_once(body, "2026-09-16T14:31:52.907Z", "2026-09-17T09:00:00.000Z");
    CHECK(key_of(resent) == key_of(body));
    auto d = mb::parse_delivery(body);
    REQUIRE(d);
    const auto keys = mb::delivery_keys_for(*d, body, "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA");
    REQUIRE(keys.delivery.has_value());
    CHECK(keys.delivery->str() == "mb2.delivery|msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA");
    CHECK_THAT(keys.payload.str(), StartsWith("mb2|bot.completed|"));
    CHECK_FALSE(mb::delivery_keys_for(*d, body).delivery.has_value());
}

TEST_CASE("idempotency_key_for hashes the body of transcription_complete and unknown events", "[event_keys]")
{
    const auto a = R"({"event":"transcription_complete","data":{"bot_id":"b1"}})";
    const auto b = R"({"event":"transcription_complete","data":{"bot_id":"b1"} })";
    CHECK(key_of(a) != key_of(b));  // a retranscription is a new unit of work
    const auto u1 = R"({"event":"calendar.connection_error","data":{"calendar_id":"c","error":"x"}})";
    const auto u2 = R"({"event":"calendar.connection_error","data":{"calendar_id":"c","error":"y"}})";
    CHECK(key_of(u1) != key_of(u2));
    CHECK_THAT(key_of(u1).str(), Catch::Matchers::ContainsSubstring("calendar.connection_error"));
}

TEST_CASE("idempotency_key_for status changes differ by code and time", "[event_keys]")
{
    const auto body = read_fixture("v2.bot.status_change.json");
    auto d = mb::parse_delivery(body);
    REQUIRE(d);
    const auto* e = std::get_if<mb::bot_status_change_v2>(&d->event);
    REQUIRE(e != nullptr);
    auto later = *e;
    later.status.created_at.time += std::chrono::milliseconds(1);
    auto other_code = *e;
    other_code.status.code.raw = "call_ended";
    CHECK(mb::idempotency_key_for(*e) != mb::idempotency_key_for(later));
    CHECK(mb::idempotency_key_for(*e) != mb::idempotency_key_for(other_code));
}
