// SPDX-License-Identifier: MIT
#include <meetingbaas/events/event.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <cstddef>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

std::string read_data(std::string_view name)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/" + std::string(name), std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

template <class E>
E parse_fixture(std::string_view name, mb::api_version expected_version)
{
    const std::string body = read_data(name);
    auto d = mb::parse_delivery(body);
    if (!d) FAIL(mb::to_string(d.error()));
    CHECK(d->version == expected_version);
    const E* e = std::get_if<E>(&d->event);
    REQUIRE(e != nullptr);
    // The typed entry point agrees with the sum type.
    auto typed = mb::parse_event<E>(body);
    REQUIRE(typed.has_value());
    CHECK(*typed == *e);
    return *e;
}

std::string iso(const mb::timestamp& t)
{
    return mb::format_timestamp(t.time);
}

}  // namespace

// ---- fixtures ---------------------------------------------------------------------------------------------

TEST_CASE("parse_delivery reads v1 calendar.sync_events", "[event]")
{
    const auto e =
        parse_fixture<mb::calendar_sync_events>("v1.calendar.sync_events.json", mb::api_version::v1);
    CHECK(e.calendar_id == "62cf1c20-6d72-4a52-9217-c391ec23d7bf");
    CHECK(e.last_updated_ts.text == "2026-09-14T08:42:17Z");
    CHECK(iso(e.last_updated_ts) == "2026-09-14T08:42:17.000000Z");
    CHECK_FALSE(e.last_updated_ts.offset_missing);
    REQUIRE(e.affected_event_uuids.has_value());
    CHECK(*e.affected_event_uuids == std::vector<std::string>{"bf23a894-e787-4629-8947-43f4bea4ccd8",
                                                              "f9dc9fa7-9eb9-4b53-b193-2b6834706c78",
                                                              "672ea9c0-d974-417e-9c70-cd8b71d3a3d5"});

    const auto micro = parse_fixture<mb::calendar_sync_events>("v1.calendar.sync_events.microseconds.json",
                                                               mb::api_version::v1);
    CHECK(micro.last_updated_ts.text == "2026-09-14T09:05:03.481927Z");
    CHECK(iso(micro.last_updated_ts) == "2026-09-14T09:05:03.481927Z");
    CHECK(mb::format_timestamp_seconds(micro.last_updated_ts.time) == "2026-09-14T09:05:03Z");
    REQUIRE(micro.affected_event_uuids.has_value());
    CHECK(micro.affected_event_uuids->size() == 1);
}

TEST_CASE("parse_delivery reads v1 bot.status_change with epoch milliseconds", "[event]")
{
    const auto e = parse_fixture<mb::bot_status_change_v1>("v1.bot.status_change.json", mb::api_version::v1);
    CHECK(e.bot_id == "279f3c76-cc34-4385-b591-40e8aae42ae4");
    CHECK(e.status.code == mb::bot_status_code::in_call_recording);
    CHECK(e.status.code.raw == "in_call_recording");
    CHECK(e.status.created_at.text == "2026-09-16T14:00:41.237Z");
    REQUIRE(e.status.start_time.has_value());
    CHECK(mb::format_timestamp(*e.status.start_time) == "2026-09-16T14:00:41.237000Z");
    CHECK_FALSE(e.status.error_message.has_value());
    CHECK_FALSE(e.extra.has_value());
}

TEST_CASE("parse_delivery reads v1 complete with its transcript", "[event]")
{
    const auto e = parse_fixture<mb::bot_complete_v1>("v1.complete.json", mb::api_version::v1);
    CHECK(e.bot_id == "279f3c76-cc34-4385-b591-40e8aae42ae4");
    CHECK(e.event_uuid == "f9dc9fa7-9eb9-4b53-b193-2b6834706c78");
    REQUIRE(e.mp4.has_value());
    CHECK_THAT(*e.mp4,
               Catch::Matchers::StartsWith("https://mb-artifacts-example.s3.eu-west-3.amazonaws.com/bots/"));
    CHECK_THAT(*e.mp4, Catch::Matchers::EndsWith(
                           "recording.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                           "AKIAEXAMPLE7Q2%2F20260916%2Feu-west-3%2Fs3%2Faws4_request&X-Amz-"
                           "Date=20260916T143152Z&X-Amz-Expires=7200&X-Amz-SignedHeaders=host&"
                           "X-Amz-Signature=9b2e51c0d7a4f3e8a6b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7"
                           "a8b9c0d1e2f3"));
    REQUIRE(e.audio.has_value());
    CHECK_THAT(*e.audio, Catch::Matchers::ContainsSubstring("recording.wav?"));
    CHECK(e.speakers == std::vector<std::string>{"Dana Whitfield", "Marco Bellini"});
    REQUIRE(e.transcript.has_value());
    REQUIRE(e.transcript->size() == 2);
    const auto& first = (*e.transcript)[0];
    CHECK(first.speaker == "Dana Whitfield");
    CHECK(first.offset == 3.12);
    CHECK(first.start_time == 3.12);
    CHECK(first.end_time == 5.06);
    REQUIRE(first.words.size() == 5);
    CHECK(first.words[1] == mb::transcript_word{3.47, 3.88, "everyone,"});
    CHECK((*e.transcript)[1].words.back() == mb::transcript_word{7.22, 7.91, "ahead."});
    REQUIRE(e.extra.has_value());
    CHECK(e.extra->text ==
          "{\n      \"crm_deal_id\": \"D-20931\",\n      \"tenant\": \"acme-robotics\"\n    }");
}

TEST_CASE("parse_delivery reads v1 failed with a PascalCase error code", "[event]")
{
    const auto e = parse_fixture<mb::bot_failed_v1>("v1.failed.json", mb::api_version::v1);
    CHECK(e.bot_id == "f7748db7-6347-4337-95d6-cfb41131b1b9");
    CHECK_FALSE(e.event_uuid.has_value());
    CHECK(e.error == mb::bot_error_code_v1::timeout_waiting_to_start);
    CHECK(e.error.raw == "TimeoutWaitingToStart");
    CHECK(e.message == "Bot left after waiting 600 seconds in the waiting room without being admitted");
    REQUIRE(e.extra.has_value());
    CHECK(e.extra->text == "{\n      \"tenant\": \"acme-robotics\"\n    }");
}

TEST_CASE("parse_delivery reads v1 transcription_complete", "[event]")
{
    const auto e =
        parse_fixture<mb::transcription_complete_v1>("v1.transcription_complete.json", mb::api_version::v1);
    CHECK(e.bot_id == "279f3c76-cc34-4385-b591-40e8aae42ae4");
}

TEST_CASE("parse_delivery reads v2 bot.status_change with epoch seconds", "[event]")
{
    const auto e = parse_fixture<mb::bot_status_change_v2>("v2.bot.status_change.json", mb::api_version::v2);
    CHECK(e.bot_id == "5925bc08-c37e-4271-98c4-528b03aaa9f1");
    CHECK(e.event_id == "a64a3df5-0814-440a-b618-c84f6cd9503a");
    CHECK(e.status.code == mb::bot_status_code::in_call_recording);
    CHECK(iso(e.status.created_at) == "2026-09-16T14:00:41.237000Z");
    REQUIRE(e.status.start_time.has_value());
    CHECK(mb::format_timestamp(*e.status.start_time) == "2026-09-16T14:00:41.000000Z");
    REQUIRE(e.extra.has_value());
    CHECK(e.extra->text == "{\n    \"crm_deal_id\": \"D-20931\",\n    \"tenant\": \"acme-robotics\"\n  }");
}

TEST_CASE("parse_delivery reads v2 bot.completed", "[event]")
{
    const auto e = parse_fixture<mb::bot_completed_v2>("v2.bot.completed.json", mb::api_version::v2);
    CHECK(e.bot_id == "5925bc08-c37e-4271-98c4-528b03aaa9f1");
    CHECK(e.event_id == "a64a3df5-0814-440a-b618-c84f6cd9503a");
    REQUIRE(e.participants.size() == 3);
    CHECK(e.participants[0] == mb::participant_v2{"Priya Raman", 1, "Priya Raman (she/her)", std::nullopt});
    CHECK(e.participants[1] == mb::participant_v2{"Tom\xC3\xA1s Ibarra", 2, std::nullopt, std::nullopt});
    CHECK(e.participants[2].profile_picture == "https://lh3.googleusercontent.com/a/ACg8ocExampleJunW=s96-c");
    REQUIRE(e.speakers.size() == 2);
    CHECK(e.speakers[1].id == 2);
    CHECK(e.duration_seconds == 1712);
    REQUIRE((e.joined_at && e.exited_at && e.sent_at));
    CHECK(e.joined_at->text == "2026-09-16T14:00:38.512Z");
    CHECK(e.exited_at->text == "2026-09-16T14:29:10.044Z");
    CHECK(e.sent_at->text == "2026-09-16T14:31:52.907Z");
    CHECK(e.data_deleted == false);
    REQUIRE((e.video && e.audio && e.diarization && e.raw_transcription && e.transcription));
    CHECK_THAT(*e.video, Catch::Matchers::ContainsSubstring("/video.mp4?"));
    CHECK_THAT(*e.audio, Catch::Matchers::ContainsSubstring("/audio.flac?"));
    CHECK_THAT(*e.diarization, Catch::Matchers::ContainsSubstring("/diarization.jsonl?"));
    CHECK_THAT(*e.raw_transcription, Catch::Matchers::ContainsSubstring("/raw_transcription.json?"));
    CHECK_THAT(*e.transcription, Catch::Matchers::ContainsSubstring("/output_transcription.json?"));
    CHECK_FALSE(e.chat_messages.has_value());
    CHECK(e.transcription_provider == "gladia");
    CHECK(e.transcription_ids == std::vector<std::string>{"8e0b6c2a-41d7-4f3b-9a15-2c7d9e4f6a10"});
    REQUIRE(e.extra.has_value());
    CHECK_THAT(e.extra->text, Catch::Matchers::ContainsSubstring("\"crm_deal_id\": \"D-20931\""));
}

TEST_CASE("parse_delivery reads v2 bot.failed with null extra", "[event]")
{
    const auto e = parse_fixture<mb::bot_failed_v2>("v2.bot.failed.json", mb::api_version::v2);
    CHECK(e.bot_id == "f0c3e290-8374-42fd-92d1-75ac8e695c3c");
    CHECK_FALSE(e.event_id.has_value());
    CHECK(e.error_code == mb::bot_error_code_v2::bot_not_accepted);
    CHECK(e.error_code.raw == "BOT_NOT_ACCEPTED");
    CHECK(e.error_message == "Bot was not accepted into the meeting");
    REQUIRE(e.sent_at.has_value());
    CHECK(iso(*e.sent_at) == "2026-09-16T15:12:09.331000Z");
    CHECK_FALSE(e.extra.has_value());
}

TEST_CASE("parse_delivery reads v2 bot.chat_message with UTF-8 names", "[event]")
{
    const auto e = parse_fixture<mb::bot_chat_message_v2>("v2.bot.chat_message.json", mb::api_version::v2);
    CHECK(e.bot_id == "5925bc08-c37e-4271-98c4-528b03aaa9f1");
    CHECK(e.event_id == "a64a3df5-0814-440a-b618-c84f6cd9503a");
    CHECK(e.message_id == "spaces/AAQAbc12XyZ/messages/1789567532118447");
    CHECK(e.sender_name == "Tom\xC3\xA1s Ibarra");
    CHECK(e.sender_id == 2);
    CHECK(e.text == "Can you drop the Q4 deck link in here?");
    REQUIRE(e.sent_at.has_value());
    CHECK(e.sent_at->text == "2026-09-16T14:05:32.402Z");
    CHECK(e.extra.has_value());
}

TEST_CASE("parse_delivery reads v2 calendar.connection_created", "[event]")
{
    const auto e =
        parse_fixture<mb::calendar_connection_v2>("v2.calendar.connection_created.json", mb::api_version::v2);
    CHECK(e.change == mb::calendar_connection_change::created);
    CHECK(e.calendar_id == "aff72226-7c8f-46fc-864d-f349ad89eb06");
    CHECK(e.calendar_platform == mb::calendar_platform::google);
    CHECK(e.account_email == "priya.raman@acme-robotics.example");
    REQUIRE(e.status.has_value());
    CHECK(*e.status == mb::calendar_connection_status::active);
    REQUIRE(e.created_at.has_value());
    CHECK(e.created_at->text == "2026-09-14T08:30:02.118Z");
    CHECK_FALSE(e.updated_at.has_value());
    CHECK_FALSE(e.deleted_at.has_value());
}

TEST_CASE("parse_delivery reads v2 calendar.events_synced", "[event]")
{
    const auto e =
        parse_fixture<mb::calendar_events_synced_v2>("v2.calendar.events_synced.json", mb::api_version::v2);
    CHECK(e.calendar_id == "aff72226-7c8f-46fc-864d-f349ad89eb06");
    REQUIRE(e.events.size() == 3);
    CHECK(e.events[0].event_type == mb::calendar_event_type::recurring);
    CHECK(e.events[0].series_id == "3a9e51dd-a5a6-4745-97c0-446738af1da9");
    CHECK(e.events[0].series_bot_scheduled == false);
    REQUIRE(e.events[0].instances.size() == 3);
    const auto& i0 = e.events[0].instances[0];
    CHECK(i0.event_id == "a64a3df5-0814-440a-b618-c84f6cd9503a");
    CHECK(i0.start.text == "2026-09-16T14:00:00Z");
    CHECK(i0.end.time - i0.start.time == 30min);
    CHECK(i0.title == "Robotics weekly sync");
    CHECK(i0.status == mb::calendar_instance_status::confirmed);
    CHECK_FALSE(i0.is_all_day);
    CHECK(i0.meeting_url == "https://meet.google.com/xqv-mtrw-kpd");
    REQUIRE(i0.meeting_platform.has_value());
    CHECK(*i0.meeting_platform == mb::meeting_platform::meet);
    CHECK(e.events[1].event_type == mb::calendar_event_type::one_off);
    CHECK(e.events[1].instances[0].meeting_platform->value == mb::meeting_platform::zoom);
    const auto& all_day = e.events[2].instances.at(0);
    CHECK(all_day.is_all_day);
    CHECK(all_day.title == "Team offsite (travel)");
    CHECK_FALSE(all_day.meeting_url.has_value());
    CHECK_FALSE(all_day.meeting_platform.has_value());
    CHECK_FALSE(e.events_synced.has_value());
}

TEST_CASE("parse_delivery reads v2 calendar event changes", "[event]")
{
    const auto created =
        parse_fixture<mb::calendar_event_change_v2>("v2.calendar.event_created.json", mb::api_version::v2);
    CHECK(created.change == mb::calendar_event_change::created);
    CHECK(created.calendar_id == "aff72226-7c8f-46fc-864d-f349ad89eb06");
    CHECK(created.event_type == mb::calendar_event_type::one_off);
    CHECK(created.series_id == "f8527fef-e29a-437c-823d-86412da74ad6");
    CHECK(created.series_bot_scheduled == false);
    CHECK_FALSE(created.is_exception.has_value());
    REQUIRE(created.instances.size() == 1);
    CHECK(created.instances[0].event_id == "a0af11a0-63cf-410d-b826-c0667a1a2a2b");
    CHECK(created.instances[0].end.time - created.instances[0].start.time == 45min);

    const auto updated =
        parse_fixture<mb::calendar_event_change_v2>("v2.calendar.event_updated.json", mb::api_version::v2);
    CHECK(updated.change == mb::calendar_event_change::updated);
    CHECK(updated.event_type == mb::calendar_event_type::recurring);
    CHECK(updated.is_exception == true);
    CHECK(updated.series_bot_scheduled == true);
    REQUIRE(updated.instances.size() == 1);
    CHECK(updated.instances[0].title == "Robotics weekly sync (moved)");
    CHECK(updated.instances[0].is_exception);
    CHECK(updated.instances[0].bot_scheduled);

    const auto cancelled =
        parse_fixture<mb::calendar_event_change_v2>("v2.calendar.event_cancelled.json", mb::api_version::v2);
    CHECK(cancelled.change == mb::calendar_event_change::cancelled);
    CHECK_FALSE(cancelled.series_bot_scheduled.has_value());
    REQUIRE(cancelled.instances.size() == 1);
    CHECK(cancelled.instances[0].status == mb::calendar_instance_status::cancelled);
}

TEST_CASE("event_name gives the wire name of every fixture", "[event]")
{
    const auto name = GENERATE(
        as<std::string>{}, "v1.calendar.sync_events", "v1.bot.status_change", "v1.complete", "v1.failed",
        "v1.transcription_complete", "v2.bot.status_change", "v2.bot.completed", "v2.bot.failed",
        "v2.bot.chat_message", "v2.calendar.connection_created", "v2.calendar.events_synced",
        "v2.calendar.event_created", "v2.calendar.event_updated", "v2.calendar.event_cancelled");
    CAPTURE(name);
    const auto d = mb::parse_delivery(read_data(name + ".json"));
    REQUIRE(d.has_value());
    CHECK(mb::event_name(d->event) == name.substr(3));
    CHECK(mb::to_string(d->version) == name.substr(0, 2));
}

// ---- tolerance
// ---------------------------------------------------------------------------------------------

TEST_CASE("parse_delivery accepts the documented alternative spellings", "[event]")
{
    SECTION("extra inside data (guide) and top-level (schema); top-level wins")
    {
        auto in_data = mb::parse_event<mb::bot_failed_v2>(
            R"({"event":"bot.failed","data":{"bot_id":"b","error_code":"X","error_message":"m","extra":{"a":1}}})");
        REQUIRE(in_data.has_value());
        CHECK(in_data->extra == mb::raw_json{R"({"a":1})"});
        auto both = mb::parse_event<mb::bot_failed_v2>(
            R"({"event":"bot.failed","data":{"bot_id":"b","error_code":"X","error_message":"m","extra":{"a":1}},"extra":{"b":2}})");
        REQUIRE(both.has_value());
        CHECK(both->extra == mb::raw_json{R"({"b":2})"});
    }
    SECTION("mp4 instead of video, and chat_messages")
    {
        auto e = mb::parse_event<mb::bot_completed_v2>(
            R"({"event":"bot.completed","data":{"bot_id":"b","mp4":"https://x/v.mp4","chat_messages":"https://x/c.json"}})");
        REQUIRE(e.has_value());
        CHECK(e->video == "https://x/v.mp4");
        CHECK(e->chat_messages == "https://x/c.json");
        CHECK(e->participants.empty());
        CHECK_FALSE(e->data_deleted.has_value());
        auto both = mb::parse_event<mb::bot_completed_v2>(
            R"({"event":"bot.completed","data":{"mp4":"https://x/guide.mp4","bot_id":"b","video":"https://x/schema.mp4"}})");
        REQUIRE(both.has_value());
        CHECK(both->video == "https://x/schema.mp4");
    }
    SECTION("start_time/end_time instead of start/end in instances")
    {
        auto e = mb::parse_event<mb::calendar_event_change_v2>(
            R"({"event":"calendar.event_created","data":{"calendar_id":"c","instances":[{"event_id":"e","start_time":"2026-09-17T16:30:00Z","end_time":"2026-09-17T17:15:00+00:00"}]}})");
        REQUIRE(e.has_value());
        REQUIRE(e->instances.size() == 1);
        CHECK(e->instances[0].start.text == "2026-09-17T16:30:00Z");
        CHECK(e->instances[0].end.time - e->instances[0].start.time == 45min);
        CHECK(e->instances[0].status.raw.empty());
        CHECK(e->event_type.raw.empty());
    }
    SECTION("platform instead of calendar_platform, and v1 capitalisation")
    {
        auto e = mb::parse_event<mb::calendar_connection_v2>(
            R"({"event":"calendar.connection_deleted","data":{"calendar_id":"c","platform":"Microsoft","deleted_at":"2026-09-14T08:30:02Z"}})");
        REQUIRE(e.has_value());
        CHECK(e->change == mb::calendar_connection_change::deleted);
        CHECK(e->calendar_platform == mb::calendar_platform::microsoft);
        CHECK(e->calendar_platform.raw == "Microsoft");
    }
    SECTION("sent_at at the top level (migration guide)")
    {
        auto e = mb::parse_event<mb::bot_failed_v2>(
            R"({"event":"bot.failed","sent_at":"2026-09-16T15:12:09Z","data":{"bot_id":"b","error_code":"X","error_message":"m"}})");
        REQUIRE(e.has_value());
        REQUIRE(e->sent_at.has_value());
        CHECK(e->sent_at->text == "2026-09-16T15:12:09Z");
    }
    SECTION("events_synced with the guide's count instead of events[]")
    {
        auto e = mb::parse_event<mb::calendar_events_synced_v2>(
            R"({"event":"calendar.events_synced","data":{"calendar_id":"c","events_synced":42,"sync_type":"initial"}})");
        REQUIRE(e.has_value());
        CHECK(e->events.empty());
        CHECK(e->events_synced == 42);
        CHECK(e->sync_type == "initial");
    }
    SECTION("non-UUID ids, unknown members, escaped member names, members in any order")
    {
        auto e = mb::parse_event<mb::calendar_sync_events>(
            R"({"data":{"future":{"x":[1,2,{"y":null}]},"calendar\u005fid":"cal_12345abcde","last_updated_ts":"2023-05-01T12:00:00Z","affected_event_uuids":["evt_67890fghij"]},"event":"calendar.sync_events","extra":null,"other":true})");
        REQUIRE(e.has_value());
        CHECK(e->calendar_id == "cal_12345abcde");
        CHECK(e->affected_event_uuids == std::vector<std::string>{"evt_67890fghij"});
    }
    SECTION("affected_event_uuids: missing or null means unknown, empty means none")
    {
        auto missing = mb::parse_event<mb::calendar_sync_events>(
            R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2023-05-01T12:00:00Z"}})");
        REQUIRE(missing.has_value());
        CHECK_FALSE(missing->affected_event_uuids.has_value());
        auto null = mb::parse_event<mb::calendar_sync_events>(
            R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2023-05-01T12:00:00Z","affected_event_uuids":null}})");
        REQUIRE(null.has_value());
        CHECK_FALSE(null->affected_event_uuids.has_value());
        auto empty = mb::parse_event<mb::calendar_sync_events>(
            R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2023-05-01T12:00:00Z","affected_event_uuids":[]}})");
        REQUIRE(empty.has_value());
        REQUIRE(empty->affected_event_uuids.has_value());
        CHECK(empty->affected_event_uuids->empty());
    }
    SECTION("a timestamp without offset is read as UTC and flagged")
    {
        auto e = mb::parse_event<mb::calendar_sync_events>(
            R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2023-05-01T12:00:00.5"}})");
        REQUIRE(e.has_value());
        CHECK(e->last_updated_ts.offset_missing);
        CHECK(mb::format_timestamp(e->last_updated_ts.time) == "2023-05-01T12:00:00.500000Z");
    }
}

TEST_CASE("open enums keep unknown values and match spellings loosely", "[event]")
{
    auto e = mb::parse_event<mb::bot_status_change_v2>(
        R"({"event":"bot.status_change","data":{"bot_id":"b","event_id":null,"status":{"code":"teleporting","created_at":"2026-09-16T14:00:41Z"}},"extra":null})");
    REQUIRE(e.has_value());
    CHECK(e->status.code == mb::bot_status_code::unknown);
    CHECK_FALSE(e->status.code.is_known());
    CHECK(e->status.code.raw == "teleporting");

    STATIC_REQUIRE(mb::enum_from_string<mb::bot_error_code_v1>("CannotJoinMeeting") ==
                   mb::bot_error_code_v1::cannot_join_meeting);
    STATIC_REQUIRE(mb::enum_from_string<mb::bot_error_code_v1>("cannot_join_meeting") ==
                   mb::bot_error_code_v1::cannot_join_meeting);
    STATIC_REQUIRE(mb::enum_from_string<mb::bot_error_code_v1>("InternalError classic") ==
                   mb::bot_error_code_v1::internal_error);
    STATIC_REQUIRE(mb::enum_from_string<mb::bot_error_code_v1>("internal_error") ==
                   mb::bot_error_code_v1::internal_error);
    STATIC_REQUIRE(mb::enum_from_string<mb::bot_status_code>("MEET_LOGIN_REQUIRED") ==
                   mb::bot_status_code::meet_login_required);
    STATIC_REQUIRE(mb::enum_from_string<mb::calendar_platform>("Google") == mb::calendar_platform::google);
    STATIC_REQUIRE(mb::enum_from_string<mb::recording_mode>("gallery_view") ==
                   mb::recording_mode::gallery_view);
    STATIC_REQUIRE(mb::enum_from_string<mb::meeting_platform>("webex") == mb::meeting_platform::unknown);
    STATIC_REQUIRE(mb::enum_from_string<mb::meeting_platform>("") == mb::meeting_platform::unknown);
    STATIC_REQUIRE(mb::to_string(mb::bot_error_code_v2::sigterm) == "SIGTERM");
    STATIC_REQUIRE(mb::to_string(mb::bot_error_code_v1::timeout_waiting_to_start) == "TimeoutWaitingToStart");
    STATIC_REQUIRE(mb::to_string(mb::bot_status_code::unknown) == "unknown");
    // Every spelling of every enumerator maps back to it.
    for (const auto& [name, value] : mb::enum_spellings<mb::bot_error_code_v2>::items) {
        CHECK(mb::enum_from_string<mb::bot_error_code_v2>(name) == value);
        CHECK(mb::to_string(value) == name);
    }
    for (const auto& [name, value] : mb::enum_spellings<mb::bot_status_code>::items) {
        CHECK(mb::enum_from_string<mb::bot_status_code>(name) == value);
    }
}

TEST_CASE("bot.status_change version comes from the hint, else from the shape", "[event]")
{
    const std::string v1_body = read_data("v1.bot.status_change.json");
    const std::string v2_body = read_data("v2.bot.status_change.json");
    auto kind = [](const mb::result<mb::delivery>& d) { return d ? d->event.index() : std::size_t{99}; };
    constexpr std::size_t v1_index = 1, v2_index = 5;
    STATIC_REQUIRE(
        std::is_same_v<std::variant_alternative_t<v1_index, mb::any_event>, mb::bot_status_change_v1>);
    STATIC_REQUIRE(
        std::is_same_v<std::variant_alternative_t<v2_index, mb::any_event>, mb::bot_status_change_v2>);

    CHECK(kind(mb::parse_delivery(v1_body)) == v1_index);
    CHECK(kind(mb::parse_delivery(v2_body)) == v2_index);
    CHECK(kind(mb::parse_delivery(v1_body, {.version = mb::api_version::v2})) == v2_index);
    CHECK(kind(mb::parse_delivery(v2_body, {.version = mb::api_version::v1})) == v1_index);
    // Shape: only a top-level extra.
    CHECK(
        kind(mb::parse_delivery(
            R"({"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"joining_call","created_at":"2026-09-16T14:00:41Z"}},"extra":null})")) ==
        v2_index);
    // The typed entry point decides by the requested type.
    auto as_v1 = mb::parse_event<mb::bot_status_change_v1>(v2_body);
    REQUIRE(as_v1.has_value());
    CHECK(as_v1->bot_id == "5925bc08-c37e-4271-98c4-528b03aaa9f1");
    CHECK(as_v1->extra.has_value());
    auto as_v2 = mb::parse_event<mb::bot_status_change_v2>(v1_body);
    REQUIRE(as_v2.has_value());
    CHECK_FALSE(as_v2->event_id.has_value());
    // An explicit hint wins over the requested type: that is a mismatch.
    auto mismatch = mb::parse_event<mb::bot_status_change_v1>(v1_body, {.version = mb::api_version::v2});
    REQUIRE_FALSE(mismatch.has_value());
    CHECK(mismatch.error().code == mb::errc::unexpected_event);
    CHECK(mismatch.error().where == "/event");
}

TEST_CASE("bot status start_time accepts seconds, milliseconds, fractions and strings", "[event]")
{
    const auto body = [](std::string_view start) {
        return std::string(
                   R"({"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"in_call_recording","created_at":"2026-09-16T14:00:41Z","start_time":)") +
               std::string(start) + "}}}";
    };
    const auto start_of = [&](std::string_view start) {
        auto e = mb::parse_event<mb::bot_status_change_v1>(body(start));
        REQUIRE(e.has_value());
        REQUIRE(e->status.start_time.has_value());
        return mb::format_timestamp(*e->status.start_time);
    };
    CHECK(start_of("1789567241") == "2026-09-16T14:00:41.000000Z");
    CHECK(start_of("1789567241237") == "2026-09-16T14:00:41.237000Z");
    CHECK(start_of("1789567241.5") == "2026-09-16T14:00:41.500000Z");
    CHECK(start_of("1.789567241237e12") == "2026-09-16T14:00:41.237000Z");
    CHECK(start_of("\"2026-09-16T14:00:41Z\"") == "2026-09-16T14:00:41.000000Z");
    auto null = mb::parse_event<mb::bot_status_change_v1>(body("null"));
    REQUIRE(null.has_value());
    CHECK_FALSE(null->status.start_time.has_value());
}

TEST_CASE("parse_delivery keeps unknown events with their raw data", "[event]")
{
    auto d = mb::parse_delivery(
        R"({"event":"calendar.connection_error","data":{"calendar_id":"c","platform":"google","error":"x"},"extra":{"k":"v"}})",
        {.version = mb::api_version::v2});
    REQUIRE(d.has_value());
    CHECK(d->version == mb::api_version::v2);
    const auto* u = std::get_if<mb::unknown_event>(&d->event);
    REQUIRE(u != nullptr);
    CHECK(u->type == "calendar.connection_error");
    CHECK(u->data == mb::raw_json{R"({"calendar_id":"c","platform":"google","error":"x"})"});
    CHECK(u->extra == mb::raw_json{R"({"k":"v"})"});
    CHECK(mb::event_name(d->event) == "calendar.connection_error");

    auto no_data = mb::parse_delivery(R"({"event":"ping"})");
    REQUIRE(no_data.has_value());
    CHECK(no_data->version == mb::api_version::unknown);
    CHECK_FALSE(std::get<mb::unknown_event>(no_data->event).data.has_value());

    auto data_first = mb::parse_delivery(R"({"data":[1, 2],"event":"new.thing"})");
    REQUIRE(data_first.has_value());
    CHECK(std::get<mb::unknown_event>(data_first->event).data == mb::raw_json{"[1, 2]"});
}

TEST_CASE("parse_event rejects another event type after checking the syntax", "[event]")
{
    const std::string body = read_data("v2.bot.completed.json");
    auto e = mb::parse_event<mb::calendar_sync_events>(body);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == mb::errc::unexpected_event);
    CHECK(e.error().where == "/event");
    CHECK_THAT(e.error().message, Catch::Matchers::ContainsSubstring("bot.completed"));
    // Even with an invalid payload for the other event, the answer is unexpected_event ...
    auto other = mb::parse_event<mb::calendar_sync_events>(R"({"event":"bot.failed","data":{}})");
    REQUIRE_FALSE(other.has_value());
    CHECK(other.error().code == mb::errc::unexpected_event);
    // ... but malformed JSON is still malformed.
    auto broken = mb::parse_event<mb::calendar_sync_events>(R"({"event":"bot.failed","data":{"a":tru}})");
    REQUIRE_FALSE(broken.has_value());
    CHECK(broken.error().code == mb::errc::malformed_json);
    CHECK(broken.error().where == "/data/a");
    // ... also when the other event lacks its data.
    auto no_data = mb::parse_event<mb::calendar_sync_events>(R"({"event":"bot.failed"})");
    REQUIRE_FALSE(no_data.has_value());
    CHECK(no_data.error().code == mb::errc::unexpected_event);
    auto unknown = mb::parse_event<mb::bot_failed_v2>(R"({"event":"something.else","data":{}})");
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().code == mb::errc::unexpected_event);
}

TEST_CASE("parse_delivery accepts a span of bytes", "[event]")
{
    const std::string body = read_data("v1.calendar.sync_events.json");
    const auto bytes = std::as_bytes(std::span<const char>(body.data(), body.size()));
    auto d = mb::parse_delivery(bytes);
    REQUIRE(d.has_value());
    CHECK(std::holds_alternative<mb::calendar_sync_events>(d->event));
    auto e = mb::parse_event<mb::calendar_sync_events>(bytes);
    REQUIRE(e.has_value());
    CHECK(e->calendar_id == "62cf1c20-6d72-4a52-9217-c391ec23d7bf");
}

TEST_CASE("decode_json decodes nested objects on their own", "[event]")
{
    auto inst = mb::decode_json<mb::calendar_instance_v2>(
        R"({"event_id":"e","start":"2026-09-17T16:30:00Z","end":"2026-09-17T17:15:00Z","title":"T","status":"tentative","is_all_day":false,"is_exception":false,"bot_scheduled":true,"meeting_url":null,"meeting_platform":"teams"})");
    REQUIRE(inst.has_value());
    CHECK(inst->status == mb::calendar_instance_status::tentative);
    CHECK(inst->bot_scheduled);
    CHECK(inst->meeting_platform->value == mb::meeting_platform::teams);

    auto missing =
        mb::decode_json<mb::calendar_instance_v2>(R"({"event_id":"e","start":"2026-09-17T16:30:00Z"})");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == mb::errc::missing_field);
    CHECK(missing.error().where == "/end");

    auto status = mb::decode_json<mb::bot_status>(
        R"({"code":"retrying","created_at":"2026-09-16T14:00:41Z","attempt":2,"max":5})");
    REQUIRE(status.has_value());
    CHECK(status->code == mb::bot_status_code::retrying);
    CHECK(status->attempt == 2);
    CHECK(status->max == 5);

    auto list = mb::decode_json<mb::participant_v2>("[]");
    REQUIRE_FALSE(list.has_value());
    CHECK(list.error().code == mb::errc::not_an_object);
    CHECK(list.error().where.empty());
    CHECK(mb::decode_json<mb::participant_v2>("").error().code == mb::errc::empty_input);
    CHECK(mb::decode_json<mb::participant_v2>(R"({"name":"n"} x)").error().code == mb::errc::malformed_json);
}

// ---- malformed and tricky bodies -------------------------------------------------------------------------

namespace {

struct bad_body {
    std::string_view body;
    mb::errc code;
    std::string_view where;
};

constexpr std::string_view sync_prefix = R"({"event":"calendar.sync_events","data":)";

}  // namespace

TEST_CASE("parse_delivery reports the exact error and pointer for malformed bodies", "[event]")
{
    using mb::errc;
    const auto row = GENERATE(values<bad_body>({
        // 1-10: not JSON, or not an object
        {"", errc::empty_input, ""},
        {" \n\t ", errc::empty_input, ""},
        {"nul", errc::malformed_json, ""},
        {"[]", errc::not_an_object, ""},
        {"\"event\"", errc::not_an_object, ""},
        {"42", errc::not_an_object, ""},
        {"{", errc::malformed_json, ""},
        {"{}", errc::missing_field, "/event"},
        {"{} {}", errc::malformed_json, ""},
        {"\xEF\xBB\xBF{}", errc::malformed_json, ""},  // a BOM is not JSON
        // 11-20: envelope
        {R"({"event":1,"data":{}})", errc::wrong_type, "/event"},
        {R"({"event":null,"data":{}})", errc::wrong_type, "/event"},
        {R"({"event":"","data":{}})", errc::invalid_value, "/event"},
        {R"({"event":"complete"})", errc::missing_field, "/data"},
        {R"({"event":"complete","data":[]})", errc::not_an_object, "/data"},
        {R"({"event":"complete","data":null})", errc::not_an_object, "/data"},
        {R"({"data":"x","event":"complete"})", errc::not_an_object, "/data"},
        {R"({"event":"complete","event":"failed","data":{}})", errc::invalid_value, "/event"},
        {R"({"event":"complete","data":{"bot_id":"b"},"data":{}})", errc::invalid_value, "/data"},
        {R"({"event":"complete","data":{"bot_id":"b"},"extra":"user data"})", errc::not_an_object, "/extra"},
        // 21-30: JSON syntax at the right place
        {R"({"event":"complete","data":{"bot_id":"b",}})", errc::malformed_json, "/data"},
        {R"({"event":"complete","data":{"bot_id":"b"})", errc::malformed_json, ""},
        {R"({"event":"complete" "data":{}})", errc::malformed_json, ""},
        {R"({"event":"complete","data":{"bot_id":'b'}})", errc::malformed_json, "/data/bot_id"},
        {R"({"event":"complete","data":{"bot_id":"b\x"}})", errc::malformed_json, "/data/bot_id"},
        {"{\"event\":\"complete\",\"data\":{\"bot_id\":\"b\x01\"}}", errc::malformed_json, "/data/bot_id"},
        {"{\"event\":\"complete\",\"data\":{\"bot_id\":\"\xC0\xAF\"}}", errc::malformed_json, "/data/bot_id"},
        {"{\"event\":\"complete\",\"data\":{\"bot_id\":\"\xED\xA0\x80\"}}", errc::malformed_json,
         "/data/bot_id"},
        {R"({"event":"complete","data":{"bot_id":"\ud800"}})", errc::malformed_json, "/data/bot_id"},
        {R"({"event":"complete","data":{"bot_id":"b","x":[1,2,}})", errc::malformed_json, "/data/x/2"},
        // 31-40: numbers and literals
        {R"({"event":"complete","data":{"bot_id":"b","x":01}})", errc::malformed_json, "/data"},
        {R"({"event":"complete","data":{"bot_id":"b","x":1.}})", errc::malformed_json, "/data/x"},
        {R"({"event":"complete","data":{"bot_id":"b","x":-}})", errc::malformed_json, "/data/x"},
        {R"({"event":"complete","data":{"bot_id":"b","x":NaN}})", errc::malformed_json, "/data/x"},
        {R"({"event":"complete","data":{"bot_id":"b","x":True}})", errc::malformed_json, "/data/x"},
        {R"({"event":"bot.completed","data":{"bot_id":"b","duration_seconds":12.5}})", errc::wrong_type,
         "/data/duration_seconds"},
        {R"({"event":"bot.completed","data":{"bot_id":"b","duration_seconds":99999999999999999999}})",
         errc::invalid_value, "/data/duration_seconds"},
        {R"({"event":"bot.completed","data":{"bot_id":"b","duration_seconds":"1712"}})", errc::wrong_type,
         "/data/duration_seconds"},
        {R"({"event":"complete","data":{"bot_id":"b","transcript":[{"words":[{"start":1e999,"end":1,"word":"w"}]}]}})",
         errc::invalid_value, "/data/transcript/0/words/0/start"},
        {R"({"event":"bot.completed","data":{"bot_id":"b","data_deleted":"false"}})", errc::wrong_type,
         "/data/data_deleted"},
        // 41-50: required fields and types, v1
        {R"({"event":"calendar.sync_events","data":{}})", errc::missing_field, "/data/calendar_id"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":"c"}})", errc::missing_field,
         "/data/last_updated_ts"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":null,"last_updated_ts":"2023-05-01T12:00:00Z"}})",
         errc::wrong_type, "/data/calendar_id"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":7,"last_updated_ts":"2023-05-01T12:00:00Z"}})",
         errc::wrong_type, "/data/calendar_id"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2023-02-29T12:00:00Z"}})",
         errc::invalid_timestamp, "/data/last_updated_ts"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":1683000000}})",
         errc::wrong_type, "/data/last_updated_ts"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2023-05-01T12:00:00Z","affected_event_uuids":["a",2]}})",
         errc::wrong_type, "/data/affected_event_uuids/1"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"2023-05-01T12:00:00Z","affected_event_uuids":"a"}})",
         errc::wrong_type, "/data/affected_event_uuids"},
        {R"({"event":"calendar.sync_events","data":{"calendar_id":"c","calendar_id":"d","last_updated_ts":"2023-05-01T12:00:00Z"}})",
         errc::invalid_value, "/data/calendar_id"},
        {R"({"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"x"}}})", errc::missing_field,
         "/data/status/created_at"},
        // 51-60: v1 bot events
        {R"({"event":"bot.status_change","data":{"bot_id":"b","status":"joining_call"}})",
         errc::not_an_object, "/data/status"},
        {R"({"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"x","created_at":"2024-01-01T12:00:00.000Z","start_time":true}}})",
         errc::wrong_type, "/data/status/start_time"},
        {R"({"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"x","created_at":"2024-01-01T12:00:00.000Z","start_time":99999999999999999}}})",
         errc::invalid_timestamp, "/data/status/start_time"},
        {R"({"event":"bot.status_change","data":{"status":{"code":"x","created_at":"2024-01-01T12:00:00Z"}}})",
         errc::missing_field, "/data/bot_id"},
        {R"({"event":"failed","data":{"bot_id":"b"}})", errc::missing_field, "/data/error"},
        {R"({"event":"failed","data":{"bot_id":"b","error":{"code":"x"}}})", errc::wrong_type, "/data/error"},
        {R"({"event":"complete","data":{"bot_id":"b","speakers":["a",null]}})", errc::wrong_type,
         "/data/speakers/1"},
        {R"({"event":"complete","data":{"bot_id":"b","transcript":[{"speaker":"s","words":[{"start":1,"end":2}]}]}})",
         errc::missing_field, "/data/transcript/0/words/0/word"},
        {R"({"event":"complete","data":{"bot_id":"b","extra":[1]}})", errc::not_an_object, "/data/extra"},
        {R"({"event":"transcription_complete","data":{"bot_id":["b"]}})", errc::wrong_type, "/data/bot_id"},
        // 61-72: v2 events
        {R"({"event":"bot.failed","data":{"bot_id":"b","error_message":"m"}})", errc::missing_field,
         "/data/error_code"},
        {R"({"event":"bot.failed","data":{"bot_id":"b","error_code":"X","error_message":"m","sent_at":"yesterday"}})",
         errc::invalid_timestamp, "/data/sent_at"},
        {R"({"event":"bot.failed","sent_at":"2026-13-01T00:00:00Z","data":{"bot_id":"b","error_code":"X","error_message":"m"}})",
         errc::invalid_timestamp, "/sent_at"},
        {R"({"event":"bot.completed","data":{"bot_id":"b","participants":[{"name":"n","id":1},{"id":2}]}})",
         errc::missing_field, "/data/participants/1/name"},
        {R"({"event":"bot.completed","data":{"bot_id":"b","participants":[{"name":"n","id":"1"}]}})",
         errc::wrong_type, "/data/participants/0/id"},
        {R"({"event":"bot.completed","data":{"bot_id":"b","speakers":[["n"]]}})", errc::not_an_object,
         "/data/speakers/0"},
        {R"({"event":"bot.chat_message","data":{"bot_id":"b","message_id":"m","sender_name":"s"}})",
         errc::missing_field, "/data/text"},
        {R"({"event":"calendar.connection_updated","data":{"calendar_id":"c","calendar_platform":"google","created_at":"2026-09-14T08:30:02Z"}})",
         errc::missing_field, "/data/updated_at"},
        {R"({"event":"calendar.connection_created","data":{"calendar_id":"c","created_at":"2026-09-14T08:30:02Z"}})",
         errc::missing_field, "/data/calendar_platform"},
        {R"({"event":"calendar.event_updated","data":{"calendar_id":"c","affected_instances":[{"event_id":"e","start":"2026-09-24T15:00:00Z","end":"2026-09-24T25:30:00Z"}]}})",
         errc::invalid_timestamp, "/data/affected_instances/0/end"},
        {R"({"event":"calendar.event_cancelled","data":{"calendar_id":"c"}})", errc::missing_field,
         "/data/cancelled_instances"},
        {R"({"event":"calendar.events_synced","data":{"calendar_id":"c","events":[{"instances":[{"event_id":"e","start":"2026-09-24T15:00:00Z","end":"2026-09-24T15:30:00Z","meeting_platform":5}]}]}})",
         errc::wrong_type, "/data/events/0/instances/0/meeting_platform"},
        // 73-78: pointer escaping, keys with escapes, deferred data, depth
        {R"({"event":"complete","data":{"bot_id":"b","a/b~c":[}})", errc::malformed_json, "/data/a~1b~0c/0"},
        {R"({"event":"complete","data":{"bot\u005fid":1}})", errc::wrong_type, "/data/bot_id"},
        {R"({"data":{"calendar_id":"c"},"event":"calendar.sync_events"})", errc::missing_field,
         "/data/last_updated_ts"},
        {R"({"data":{"calendar_id":"c",},"event":"calendar.sync_events"})", errc::malformed_json, "/data"},
        {R"({"event":"complete","data":{"bot_id":"b","mp4":"https://x","video":1}})", errc::wrong_type,
         "/data/video"},
        {R"({"event":"complete","data":{"bot_id":"b","x":"unterminated}})", errc::malformed_json, "/data/x"},
    }));
    CAPTURE(row.body);
    const auto d = mb::parse_delivery(row.body);
    REQUIRE_FALSE(d.has_value());
    CAPTURE(mb::to_string(d.error()));
    CHECK(d.error().code == row.code);
    CHECK(d.error().where == row.where);
    CHECK_FALSE(d.error().message.empty());
}

TEST_CASE("parse_delivery limits body size and depth", "[event]")
{
    SECTION("a 100,000-level nested array is too deep, not a stack overflow")
    {
        std::string body(sync_prefix);
        body += R"({"calendar_id":"c","last_updated_ts":"2023-05-01T12:00:00Z","x":)";
        body += std::string(100'000, '[') + std::string(100'000, ']') + "}}";
        auto d = mb::parse_delivery(body);
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error().code == mb::errc::too_deep);
        // The 65th container is the first too deep: the pointer leads to it.
        std::string where = "/data/x";
        for (int i = 0; i < 62; ++i) where += "/0";
        CHECK(d.error().where == where);
        // Raising the limit makes it valid: skipping is iterative, so this cannot overflow the stack.
        auto deep = mb::parse_delivery(body, {.max_depth = 200'000});
        REQUIRE(deep.has_value());
        CHECK(std::get<mb::calendar_sync_events>(deep->event).calendar_id == "c");
        // A root-level nested array is not an object.
        const std::string arrays = std::string(100'000, '[') + std::string(100'000, ']');
        CHECK(mb::parse_delivery(arrays).error().code == mb::errc::too_deep);
        CHECK(mb::parse_delivery(arrays, {.max_depth = 1'000'000}).error().code == mb::errc::not_an_object);
    }
    SECTION("a 10 MB string is too large with the default limit")
    {
        std::string body(sync_prefix);
        body += R"({"calendar_id":")" + std::string(10'000'000, 'a') +
                R"(","last_updated_ts":"2023-05-01T12:00:00Z"}})";
        auto d = mb::parse_delivery(body);
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error().code == mb::errc::too_large);
        CHECK(d.error().where.empty());
        auto big = mb::parse_delivery(body, {.max_body_bytes = 16u << 20});
        REQUIRE(big.has_value());
        CHECK(std::get<mb::calendar_sync_events>(big->event).calendar_id.size() == 10'000'000);
    }
    SECTION("the depth limit counts the envelope")
    {
        const std::string body = R"({"event":"complete","data":{"bot_id":"b","x":{"y":[1]}}})";  // depth 4
        CHECK(mb::parse_delivery(body, {.max_depth = 4}).has_value());
        auto d = mb::parse_delivery(body, {.max_depth = 3});
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error().code == mb::errc::too_deep);
        CHECK(d.error().where == "/data/x/y");
        // The same when data arrives before event and is decoded later.
        const std::string late = R"({"data":{"bot_id":"b","x":{"y":[1]}},"event":"complete"})";
        CHECK(mb::parse_delivery(late, {.max_depth = 4}).has_value());
        CHECK(mb::parse_delivery(late, {.max_depth = 3}).error().where == "/data/x/y");
    }
    SECTION("the body limit is inclusive")
    {
        const std::string body = read_data("v1.transcription_complete.json");
        CHECK(mb::parse_delivery(body, {.max_body_bytes = body.size()}).has_value());
        CHECK(mb::parse_delivery(body, {.max_body_bytes = body.size() - 1}).error().code ==
              mb::errc::too_large);
    }
}

TEST_CASE("parse_delivery decodes string escapes and validates UTF-8", "[event]")
{
    auto e = mb::parse_event<mb::bot_chat_message_v2>(
        R"({"event":"bot.chat_message","data":{"bot_id":"b","message_id":"m","sender_name":"Tom\u00e1s \ud83d\ude00","text":"a\"b\\c\/d\b\f\n\r\t"}})");
    REQUIRE(e.has_value());
    CHECK(e->sender_name == "Tom\xC3\xA1s \xF0\x9F\x98\x80");
    CHECK(e->text == "a\"b\\c/d\b\f\n\r\t");
    // Raw UTF-8 of every length is accepted as is.
    auto raw = mb::parse_event<mb::bot_chat_message_v2>(
        "{\"event\":\"bot.chat_message\",\"data\":{\"bot_id\":\"b\",\"message_id\":\"m\",\"sender_name\":"
        "\"\xC3\xA1\xE2\x82\xAC\xF0\x9F\x98\x80\",\"text\":\"\"}}");
    REQUIRE(raw.has_value());
    CHECK(raw->sender_name == "\xC3\xA1\xE2\x82\xAC\xF0\x9F\x98\x80");
    // Truncated and out-of-range sequences are not.
    for (const std::string_view bad : {"\xE2\x82", "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\x80"}) {
        const std::string body = "{\"event\":\"x\",\"data\":\"" + std::string(bad) + "\"}";
        const auto d = mb::parse_delivery(body);
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error().code == mb::errc::malformed_json);
        CHECK(d.error().where == "/data");
    }
}

TEST_CASE("event types expose their traits", "[event]")
{
    STATIC_REQUIRE(mb::webhook_event<mb::calendar_sync_events>);
    STATIC_REQUIRE(mb::webhook_event<mb::calendar_event_change_v2>);
    STATIC_REQUIRE_FALSE(mb::webhook_event<mb::unknown_event>);
    STATIC_REQUIRE(mb::event_traits<mb::bot_completed_v2>::version == mb::api_version::v2);
    STATIC_REQUIRE(mb::event_traits<mb::bot_complete_v1>::names[0] == "complete");
    STATIC_REQUIRE(std::variant_size_v<mb::any_event> == 13);
}

TEST_CASE("event_name of a valueless any_event is empty (it used to std::terminate)", "[event]")
{
#if defined(__cpp_exceptions)
    struct throws_on_conversion {
        operator mb::unknown_event() const { throw std::runtime_error("no"); }
    };
    mb::any_event e = mb::calendar_sync_events{};
    CHECK_THROWS(e.emplace<mb::unknown_event>(throws_on_conversion{}));
    REQUIRE(e.valueless_by_exception());
    CHECK(mb::event_name(e).empty());
#endif
}

// ---- one source per event type and per enumeration (#13) ------------------------------------------------

namespace {

template <class E>
void check_enum_round_trip()
{
    // to_string is derived from enum_spellings: the first spelling of each value is its canonical name,
    // later ones are aliases, and values that are not enumerators print as "unknown" (never a valid name).
    for (const auto& [name, value] : mb::enum_spellings<E>::items) {
        CHECK(mb::enum_from_string<E>(mb::to_string(value)) == value);
        CHECK(mb::enum_from_string<E>(name) == value);
    }
    CHECK(mb::to_string(E{}) == "unknown");
    CHECK(mb::to_string(static_cast<E>(1000)) == "unknown");
}

}  // namespace

TEST_CASE("every open enumeration's to_string comes from its spellings table", "[event]")
{
    check_enum_round_trip<mb::bot_status_code>();
    check_enum_round_trip<mb::bot_error_code_v1>();
    check_enum_round_trip<mb::bot_error_code_v2>();
    check_enum_round_trip<mb::calendar_platform>();
    check_enum_round_trip<mb::calendar_connection_status>();
    check_enum_round_trip<mb::calendar_event_type>();
    check_enum_round_trip<mb::calendar_instance_status>();
    check_enum_round_trip<mb::meeting_platform>();
    check_enum_round_trip<mb::recording_mode>();
    // An alias listed after the canonical spelling parses, but never prints.
    CHECK(mb::enum_from_string<mb::bot_error_code_v1>("InternalError classic") ==
          mb::bot_error_code_v1::internal_error);
    STATIC_REQUIRE(mb::to_string(mb::bot_error_code_v1::internal_error) == "InternalError");
}

TEST_CASE("the parser's wire-name table is derived from any_event and event_traits", "[event]")
{
    using registry = mb::detail::registry;
    // Every name of every registered type is in the table, pointing back at its type and position.
    std::size_t expected = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                using E = std::variant_alternative_t<I, mb::any_event>;
                if constexpr (mb::webhook_event<E>) {
                    for (std::size_t k = 0; k < mb::event_traits<E>::names.size(); ++k) {
                        const auto& w = registry::names[expected++];
                        CHECK(w.name == mb::event_traits<E>::names[k]);
                        CHECK(w.alternative == I);
                        CHECK(w.name_index == k);
                    }
                }
            }(),
            ...);
    }(std::make_index_sequence<std::variant_size_v<mb::any_event>>{});
    CHECK(expected == registry::size);
    CHECK(mb::detail::classify_event("calendar.event_cancelled") < registry::size);
    CHECK(mb::detail::classify_event("calendar.connection_error") == registry::size);
    // A name shared by two versions classifies to the first, and both types accept it.
    const std::size_t status = mb::detail::classify_event("bot.status_change");
    CHECK(registry::names[status].alternative == 1);
    CHECK((mb::detail::kinds_of<mb::bot_status_change_v2>() & mb::detail::kind_bit(status)) != 0);
}

TEST_CASE("a multi-name event takes its wire name from its discriminator, both ways", "[event]")
{
    for (const auto change : {mb::calendar_event_change::created, mb::calendar_event_change::updated,
                              mb::calendar_event_change::cancelled}) {
        mb::calendar_event_change_v2 e;
        e.change = change;
        const std::string_view name = mb::event_name(e);
        CAPTURE(name);
        CHECK(name ==
              mb::event_traits<mb::calendar_event_change_v2>::names[static_cast<std::size_t>(change)]);
        const std::string list = change == mb::calendar_event_change::created   ? "instances"
                                 : change == mb::calendar_event_change::updated ? "affected_instances"
                                                                                : "cancelled_instances";
        const std::string body =
            R"({"event":")" + std::string(name) + R"(","data":{"calendar_id":"c",")" + list + R"(":[]}})";
        const auto d = mb::parse_delivery(body);
        REQUIRE(d);
        CHECK(mb::event_name(d->event) == name);
        CHECK(std::get<mb::calendar_event_change_v2>(d->event).change == change);
    }
}
