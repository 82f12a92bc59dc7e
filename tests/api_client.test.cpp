// SPDX-License-Identifier: MIT
#include <meetingbaas/api/client.hpp>

#include "fake_http_client.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using meetingbaas::errc;
using meetingbaas::http_method;
using meetingbaas_test::fake_http_client;

namespace {

std::string read_data(const std::string& name)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

/// Records the delays instead of sleeping; copies share the record.
struct recorded_sleeps {
    std::shared_ptr<std::vector<std::chrono::milliseconds>> delays =
        std::make_shared<std::vector<std::chrono::milliseconds>>();
    void operator()(std::chrono::milliseconds d) const { delays->push_back(d); }
};

using test_effects = meetingbaas::retry_effects<std::chrono::steady_clock, recorded_sleeps>;
using test_client = meetingbaas::api_client<fake_http_client, test_effects>;

struct harness {
    fake_http_client fake;
    recorded_sleeps sleeps;
    test_client client;

    explicit harness(meetingbaas::api_client_options options = {.api_key = "secret-key",
                                                                .base_url = "https://api.example.test"})
        : client(fake, std::move(options),
                 test_effects{.sleeper = sleeps, .random = meetingbaas::splitmix64{7}})
    {}
};

std::string page_json(const std::vector<std::string>& uuids, const std::string& next)
{
    auto page = nlohmann::json::parse(read_data("api.v1.list_events.page.json"));
    auto templ = page["data"][0];
    page["data"] = nlohmann::json::array();
    for (const auto& u : uuids) {
        templ["uuid"] = u;
        page["data"].push_back(templ);
    }
    page["next"] = next.empty() ? nlohmann::json() : nlohmann::json(next);
    return page.dump();
}

/// The streaming decoder failed exactly as the DOM path did.
void check_same_error(const meetingbaas::error& text, const meetingbaas::error& dom)
{
    CHECK(text.code == dom.code);
    CHECK(text.where == dom.where);
    CHECK(text.message == dom.message);
}

std::string event_list_json()
{
    return "[" + read_data("api.v1.get_event.json") + "]";
}

}  // namespace

TEST_CASE("api_client gets one v1 event with the key, user agent and JSON accept headers", "[api_client]")
{
    harness h;
    h.fake.respond(200, read_data("api.v1.get_event.json"));
    const auto r = h.client.v1_get_event("f9dc9fa7-9eb9-4b53-b193-2b6834706c78");
    REQUIRE(r);
    CHECK(r->uuid == "f9dc9fa7-9eb9-4b53-b193-2b6834706c78");
    CHECK(r->name == "Acme x Northwind pricing review");
    CHECK(r->start_time.text == "2026-09-17T14:30:00Z");
    CHECK(r->last_updated_at.text == "2026-09-14T08:42:17.004561Z");
    CHECK(r->attendees.size() == 3);
    CHECK_FALSE(r->attendees[0].name);
    REQUIRE(r->bot_param);
    CHECK(r->bot_param->bot_name == "Acme Notetaker");
    CHECK(r->bot_param->noone_joined_timeout == 600);
    CHECK(nlohmann::json::parse(r->bot_param->extra.text)["crm_deal_id"] == "D-20931");
    CHECK(nlohmann::json::parse(r->bot_param->json.text)["bot_name"] == "Acme Notetaker");
    CHECK(nlohmann::json::parse(r->raw.text)["kind"] == "calendar#event");

    REQUIRE(h.fake.requests().size() == 1);
    const auto& req = h.fake.requests()[0];
    CHECK(req.method == http_method::get);
    CHECK(req.url == "https://api.example.test/calendar_events/f9dc9fa7-9eb9-4b53-b193-2b6834706c78");
    CHECK(req.headers.find("x-meeting-baas-api-key") == "secret-key");
    CHECK(req.headers.find("accept") == "application/json");
    CHECK(req.headers.find("user-agent").value_or("").starts_with("meetingbaas-webhooks/"));
    CHECK_FALSE(req.headers.contains("content-type"));
    CHECK(req.body.empty());
    CHECK(req.timeout == 30s);
}

TEST_CASE("api_client percent-encodes identifiers in paths", "[api_client]")
{
    harness h;
    h.fake.respond(404, R"({"error":"Event not found"})");
    (void)h.client.v1_get_event("a/b?c d");
    REQUIRE(h.fake.requests().size() == 1);
    CHECK(h.fake.requests()[0].url == "https://api.example.test/calendar_events/a%2Fb%3Fc%20d");
}

TEST_CASE("api_client v1_list_events sends the filters and follows cursors over every page", "[api_client]")
{
    harness h;
    h.fake.respond(200, page_json({"e1", "e2"}, "cur+1/=="))
        .respond(200, page_json({"e3", "e4"}, "cur2"))
        .respond(200, page_json({"e5"}, ""));
    meetingbaas::v1_event_query q;
    q.calendar_id = "62cf1c20-6d72-4a52-9217-c391ec23d7bf";
    q.updated_at_gte = "2026-09-14T08:00:00+02:00";
    q.start_date_gte = "2026-09-01T00:00:00Z";
    q.start_date_lte = "2026-10-01T00:00:00Z";
    q.status = meetingbaas::v1_event_status::all;
    const auto r = h.client.v1_list_events(q);
    REQUIRE(r);
    REQUIRE(r->size() == 5);
    CHECK((*r)[0].uuid == "e1");
    CHECK((*r)[4].uuid == "e5");
    REQUIRE(h.fake.requests().size() == 3);
    const std::string first =
        "https://api.example.test/calendar_events/?calendar_id=62cf1c20-6d72-4a52-9217-c391ec23d7bf"
        "&start_date_gte=2026-09-01T00%3A00%3A00Z&start_date_lte=2026-10-01T00%3A00%3A00Z"
        "&updated_at_gte=2026-09-14T08%3A00%3A00%2B02%3A00&status=all";
    CHECK(h.fake.requests()[0].url == first);
    CHECK(h.fake.requests()[1].url == first + "&cursor=cur%2B1%2F%3D%3D");
    CHECK(h.fake.requests()[2].url == first + "&cursor=cur2");
}

TEST_CASE("api_client v1_for_each_event_page can stop early", "[api_client]")
{
    harness h;
    h.fake.respond(200, page_json({"e1"}, "c1")).respond(200, page_json({"e2"}, "c2"));
    std::vector<std::string> seen;
    const auto pages =
        h.client.v1_for_each_event_page({.calendar_id = "cal"}, [&](meetingbaas::v1_event_page&& p) {
            seen.push_back(p.data.at(0).uuid);
            return false;
        });
    REQUIRE(pages);
    CHECK(*pages == 1);
    CHECK(seen == std::vector<std::string>{"e1"});
    CHECK(h.fake.requests().size() == 1);
}

TEST_CASE("api_client follows a next URL only on the configured origin", "[api_client]")
{
    SECTION("an absolute URL on the same origin is followed as is")
    {
        harness h;
        h.fake
            .respond(200, page_json({"e1"},
                                    "https://API.example.test:443/calendar_events/?calendar_id=cal&cursor=x"))
            .respond(200, page_json({"e2"}, ""));
        const auto r = h.client.v1_list_events({.calendar_id = "cal"});
        REQUIRE(r);
        CHECK(r->size() == 2);
        CHECK(h.fake.requests()[1].url ==
              "https://API.example.test:443/calendar_events/?calendar_id=cal&cursor=x");
        CHECK(h.fake.requests()[1].headers.find("x-meeting-baas-api-key") == "secret-key");
    }
    SECTION("a path is resolved against the configured origin")
    {
        harness h;
        h.fake.respond(200, page_json({"e1"}, "/calendar_events/?calendar_id=cal&cursor=y"))
            .respond(200, page_json({"e2"}, ""));
        const auto r = h.client.v1_list_events({.calendar_id = "cal"});
        REQUIRE(r);
        CHECK(h.fake.requests()[1].url ==
              "https://api.example.test/calendar_events/?calendar_id=cal&cursor=y");
    }
    SECTION("another host, scheme or port stops with pagination_loop before sending the key there")
    {
        const auto next = GENERATE(as<std::string>{}, "https://evil.example/calendar_events/?cursor=x",
                                   "http://api.example.test/calendar_events/?cursor=x",
                                   "https://api.example.test:8443/calendar_events/?cursor=x",
                                   "//evil.example/calendar_events/");
        CAPTURE(next);
        harness h;
        h.fake.respond(200, page_json({"e1"}, next));
        const auto r = h.client.v1_list_events({.calendar_id = "cal"});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::pagination_loop);
        CHECK(h.fake.requests().size() == 1);
    }
}

TEST_CASE("api_client stops a repeated cursor with pagination_loop", "[api_client]")
{
    harness h;
    h.fake.respond(200, page_json({"e1"}, "A"))
        .respond(200, page_json({"e2"}, "B"))
        .respond(200, page_json({"e3"}, "A"));
    const auto r = h.client.v1_list_events({.calendar_id = "cal"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::pagination_loop);
    CHECK_THAT(r.error().message, ContainsSubstring("repeated"));
    CHECK(h.fake.requests().size() == 3);
}

TEST_CASE("api_client stops after max_pages pages", "[api_client]")
{
    harness h({.api_key = "k", .base_url = "https://api.example.test", .max_pages = 2});
    h.fake.respond(200, page_json({"e1"}, "A"))
        .respond(200, page_json({"e2"}, "B"))
        .respond(200, page_json({"e3"}, "C"));
    const auto r = h.client.v1_list_events({.calendar_id = "cal"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::pagination_loop);
    CHECK(h.fake.requests().size() == 2);
}

TEST_CASE("api_client rejects unusable arguments and options without sending", "[api_client]")
{
    SECTION("list without calendar_id")
    {
        harness h;
        const auto r = h.client.v1_list_events({});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::invalid_argument);
        CHECK(r.error().where == "calendar_id");
        CHECK(h.fake.requests().empty());
    }
    SECTION("schedule without bot_name")
    {
        harness h;
        const auto r = h.client.v1_schedule_bot("e1", {});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::invalid_argument);
        CHECK(r.error().where == "bot_name");
        CHECK(h.fake.requests().empty());
    }
    SECTION("empty identifier")
    {
        harness h;
        CHECK(h.client.v1_get_event("").error().code == errc::invalid_argument);
    }
    SECTION("empty API key")
    {
        harness h({.api_key = "", .base_url = "https://api.example.test"});
        CHECK(h.client.v1_get_event("e1").error().code == errc::invalid_argument);
    }
    SECTION("header injection through the key or the user agent")
    {
        harness a({.api_key = "k\r\nX-Evil: 1", .base_url = "https://api.example.test"});
        CHECK(a.client.v1_get_event("e1").error().where == "api_key");
        harness b({.api_key = "k", .base_url = "https://api.example.test", .user_agent = "ua\n"});
        CHECK(b.client.v1_get_event("e1").error().where == "user_agent");
        CHECK(a.fake.requests().empty());
        CHECK(b.fake.requests().empty());
    }
    SECTION("unusable base URL")
    {
        const auto base =
            GENERATE(as<std::string>{}, "ftp://api.example.test", "api.example.test", "https://",
                     "https://api.example.test?x=1", "https://user@api.example.test");
        CAPTURE(base);
        harness h({.api_key = "k", .base_url = base});
        CHECK(h.client.v1_get_event("e1").error().code == errc::invalid_url);
    }
    SECTION("v2 targeting without event_id")
    {
        harness h;
        const auto r = h.client.v2_delete_bots("cal", {.series_id = "s1"});
        REQUIRE_FALSE(r);
        CHECK(r.error().where == "event_id");
        CHECK(h.fake.requests().empty());
    }
}

TEST_CASE("api_client v1 bot calls send the documented method, query and body", "[api_client]")
{
    harness h;
    h.fake.respond(200, event_list_json()).respond(200, event_list_json()).respond(200, event_list_json());

    meetingbaas::v1_bot_config config;
    config.bot_name = "Notetaker";
    config.recording_mode = "speaker_view";
    config.speech_to_text_provider = "Default";
    config.deduplication_key = "dedupe-1";
    config.extra = {{"tenant", "acme"}};
    const auto scheduled = h.client.v1_schedule_bot("e1", config, true);
    REQUIRE(scheduled);
    REQUIRE(scheduled->size() == 1);
    CHECK((*scheduled)[0].bot_param.has_value());

    meetingbaas::v1_bot_config change;
    change.enter_message = "hello";
    REQUIRE(h.client.v1_update_bot("e1", change));
    REQUIRE(h.client.v1_unschedule_bot("e1"));

    const auto& reqs = h.fake.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].method == http_method::post);
    CHECK(reqs[0].url == "https://api.example.test/calendar_events/e1/bot?all_occurrences=true");
    CHECK(reqs[0].headers.find("Content-Type") == "application/json");
    const auto body = nlohmann::json::parse(reqs[0].body);
    CHECK(body == nlohmann::json::parse(R"({"bot_name":"Notetaker","recording_mode":"speaker_view",
        "speech_to_text":{"provider":"Default"},"deduplication_key":"dedupe-1","extra":{"tenant":"acme"}})"));
    CHECK(reqs[1].method == http_method::patch);
    CHECK(reqs[1].url == "https://api.example.test/calendar_events/e1/bot?all_occurrences=false");
    CHECK(nlohmann::json::parse(reqs[1].body) == nlohmann::json::parse(R"({"enter_message":"hello"})"));
    CHECK(reqs[2].method == http_method::delete_);
    CHECK(reqs[2].url == "https://api.example.test/calendar_events/e1/bot?all_occurrences=false");
    CHECK(reqs[2].body.empty());
}

TEST_CASE("api_client lists v1 calendars and resyncs", "[api_client]")
{
    harness h;
    h.fake
        .respond(200,
                 R"([{"uuid":"c1","name":"Work","email":"a@b.example","google_id":"g1","resource_id":null},
                           {"uuid":"c2","name":"Home","email":"c@d.example","google_id":"g2"}])")
        .respond(200, R"({"synced_calendars":["c1"],"errors":[["c2","token revoked"]]})");
    const auto calendars = h.client.v1_list_calendars();
    REQUIRE(calendars);
    REQUIRE(calendars->size() == 2);
    CHECK((*calendars)[1].uuid == "c2");
    CHECK_FALSE((*calendars)[0].resource_id);
    const auto resync = h.client.v1_resync_all(7);
    REQUIRE(resync);
    CHECK(resync->synced_calendars == std::vector<std::string>{"c1"});
    REQUIRE(resync->errors.size() == 1);
    CHECK(resync->errors[0].second == "token revoked");
    CHECK(h.fake.requests()[0].url == "https://api.example.test/calendars/");
    CHECK(h.fake.requests()[1].url == "https://api.example.test/calendars/resync_all?days=7");
    CHECK(h.fake.requests()[1].method == http_method::post);
}

TEST_CASE("api_client v2 lists events with limit and show_cancelled always sent", "[api_client]")
{
    harness h;
    const std::string event = R"({"event_id":"ev1","series_id":"s1","event_type":"one_off","title":"T",
        "start_time":"2026-09-16T12:00:00Z","end_time":"2026-09-16T12:30:00Z","status":"confirmed",
        "is_exception":false,"meeting_url":"https://meet.google.com/x","meeting_platform":"google_meet",
        "calendar_id":"cal","bot_scheduled":true,"created_at":"2026-09-01T00:00:00Z"})";
    h.fake.respond(200, R"({"success":true,"data":[)" + event + R"(],"cursor":"n1","prev_cursor":null})")
        .respond(200, R"({"success":true,"data":[)" + event + R"(],"cursor":null,"prev_cursor":"p"})");
    meetingbaas::v2_event_query q;
    q.start_date = "2026-09-01T00:00:00Z";
    const auto r = h.client.v2_list_events("cal", q);
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].bot_scheduled);
    CHECK((*r)[0].meeting_platform == "google_meet");
    CHECK(h.fake.requests()[0].url ==
          "https://api.example.test/v2/calendars/cal/"
          "events?limit=50&show_cancelled=true&start_date=2026-09-01T00%3A00%3A00Z");
    CHECK(h.fake.requests()[1].url ==
          "https://api.example.test/v2/calendars/cal/events?limit=50&show_cancelled=true"
          "&start_date=2026-09-01T00%3A00%3A00Z&cursor=n1");
}

TEST_CASE("api_client v2 list stops a repeated cursor", "[api_client]")
{
    harness h;
    h.fake.respond(200, R"({"success":true,"data":[],"cursor":"same"})")
        .respond(200, R"({"success":true,"data":[],"cursor":"same"})");
    const auto r = h.client.v2_list_events("cal", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::pagination_loop);
    CHECK(h.fake.requests().size() == 2);
}

TEST_CASE("api_client v2 gets one event from the data envelope", "[api_client]")
{
    harness h;
    h.fake.respond(200, R"({"success":true,"data":{"event_id":"ev1","series_id":"s1","event_type":"recurring",
        "title":"Weekly","description":null,"location":null,"start_time":"2026-09-16T12:00:00Z",
        "end_time":"2026-09-16T12:30:00Z","timezone":"Europe/Paris","is_all_day":false,"status":"confirmed",
        "organizer_email":"o@example.test","organizer_name":null,
        "attendees":[{"email":"a@example.test","name":null,"response_status":"accepted","organizer":true}],
        "meeting_url":null,"meeting_platform":null,"calendar_id":"cal","calendar_platform":"google",
        "bot_scheduled":false,"raw_payload":{"id":"x"},"created_at":"2026-09-01T00:00:00Z",
        "updated_at":"2026-09-02T00:00:00.5Z"}})");
    const auto r = h.client.v2_get_event("cal", "ev 1");
    REQUIRE(r);
    CHECK(r->timezone == "Europe/Paris");
    CHECK_FALSE(r->meeting_url);
    REQUIRE(r->attendees.size() == 1);
    CHECK(r->attendees[0].organizer == true);
    CHECK(r->raw_payload["id"] == "x");
    REQUIRE(r->updated_at);
    CHECK(r->updated_at->text == "2026-09-02T00:00:00.5Z");
    CHECK(h.fake.requests()[0].url == "https://api.example.test/v2/calendars/cal/events/ev%201");
}

TEST_CASE("api_client v2 bot calls carry JSON bodies, DELETE included, and report partial success",
          "[api_client]")
{
    harness h;
    const std::string partial = R"({"success":true,"data":[{"event_id":"ev1"}],
        "errors":[{"event_id":"ev2","code":"BOT_ALREADY_EXISTS","message":"already scheduled","details":null}]})";
    h.fake.respond(201, partial)
        .respond(200, partial)
        .respond(200, R"({"success":true,"data":[{"event_id":"ev1"}],"errors":[]})");

    meetingbaas::v2_bot_config config;
    config.bot_name = "Notetaker";
    config.entry_message = "hi";
    config.additional = {{"timeout_config", {{"waiting_room_timeout", 600}}}};
    const meetingbaas::v2_bot_target all{.series_id = "s1", .all_occurrences = true};
    const auto scheduled = h.client.v2_schedule_bots("cal", all, config);
    REQUIRE(scheduled);
    CHECK(scheduled->success);
    CHECK(scheduled->succeeded == std::vector<std::string>{"ev1"});
    REQUIRE(scheduled->errors.size() == 1);
    CHECK(scheduled->errors[0].code == "BOT_ALREADY_EXISTS");
    CHECK_FALSE(scheduled->errors[0].details);
    CHECK_FALSE(scheduled->complete());

    meetingbaas::v2_bot_config change;
    change.recording_mode = "audio_only";
    REQUIRE(h.client.v2_update_bots("cal", {.series_id = "s1", .event_id = "ev1"}, change));
    const auto deleted = h.client.v2_delete_bots("cal", {.series_id = "s1", .event_id = "ev1"});
    REQUIRE(deleted);
    CHECK(deleted->complete());

    const auto& reqs = h.fake.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].method == http_method::post);
    CHECK(reqs[0].url == "https://api.example.test/v2/calendars/cal/bots");
    CHECK(nlohmann::json::parse(reqs[0].body) ==
          nlohmann::json::parse(R"({"bot_name":"Notetaker","entry_message":"hi",
              "timeout_config":{"waiting_room_timeout":600},"series_id":"s1","all_occurrences":true})"));
    CHECK(reqs[1].method == http_method::patch);
    CHECK(
        nlohmann::json::parse(reqs[1].body) ==
        nlohmann::json::parse(
            R"({"recording_mode":"audio_only","series_id":"s1","all_occurrences":false,"event_id":"ev1"})"));
    CHECK(reqs[2].method == http_method::delete_);
    CHECK(reqs[2].headers.find("Content-Type") == "application/json");
    CHECK(nlohmann::json::parse(reqs[2].body) ==
          nlohmann::json::parse(R"({"series_id":"s1","all_occurrences":false,"event_id":"ev1"})"));
}

TEST_CASE("api_client maps v1 error bodies to api_error values without retrying 4xx", "[api_client]")
{
    struct row {
        int status;
        std::string body;
        errc code;
        std::string provider_code;
        std::string message;
    };
    const auto r = GENERATE(values<row>({
        {404, R"({"error":"BotNotFound"})", errc::api_error, "BotNotFound", "BotNotFound"},
        {404, R"({"error":"Bot not found"})", errc::api_error, "", "Bot not found"},
        {401, R"({"error":{"code":"InvalidApiKey","message":"bad key"}})", errc::api_error, "InvalidApiKey",
         "bad key"},
        {400, R"({"message":"calendar_id is required"})", errc::api_error, "", "calendar_id is required"},
        {422, R"({"detail":"invalid uuid"})", errc::api_error, "", "invalid uuid"},
        {403, R"("Forbidden")", errc::api_error, "", "Forbidden"},
        {400, R"({"unexpected":true})", errc::http_status, "", ""},
        {404, "Not Found\n", errc::http_status, "", "Not Found "},
        {409, "", errc::http_status, "", ""},
    }));
    CAPTURE(r.status, r.body);
    harness h;
    h.fake.respond(r.status, r.body);
    const auto result = h.client.v1_get_event("e1");
    REQUIRE_FALSE(result);
    const auto& e = result.error();
    CHECK(e.code == r.code);
    CHECK(e.http_status == r.status);
    CHECK(e.provider_code == r.provider_code);
    CHECK(e.message == r.message);
    CHECK(e.attempts == 1);
    CHECK(e.operation == "GET /calendar_events/{uuid}");
    CHECK(h.fake.requests().size() == 1);
    CHECK(h.sleeps.delays->empty());
    CHECK_THAT(meetingbaas::to_string(e), !ContainsSubstring("secret-key"));
}

TEST_CASE("api_client honours Retry-After and the v2 body retryAfter on 429", "[api_client]")
{
    harness h;
    h.fake.respond(429, read_data("api.v2.error.429.json"), {{"Retry-After", "3"}})
        .respond(429, read_data("api.v2.error.429.json"))
        .respond(200, R"({"success":true,"data":[{"event_id":"ev1"}],"errors":[]})");
    meetingbaas::v2_bot_config config;
    config.bot_name = "Notetaker";
    const auto r = h.client.v2_schedule_bots("cal", {.series_id = "s1", .all_occurrences = true}, config);
    REQUIRE(r);
    CHECK(h.fake.requests().size() == 3);
    REQUIRE(h.sleeps.delays->size() == 2);
    CHECK((*h.sleeps.delays)[0] >= 3s);  // header 3 s beats body retryAfter 1 s
    CHECK((*h.sleeps.delays)[1] >= 1s);  // body retryAfter alone
    CHECK((*h.sleeps.delays)[0] <= 30s);
}

TEST_CASE("api_client treats the daily bot cap 429 as final", "[api_client]")
{
    harness h;
    h.fake.respond(429,
                   R"({"success":false,"error":"Too Many Requests","code":"FST_ERR_DAILY_BOT_CAP_REACHED",
                           "statusCode":429,"message":"Daily bot cap reached","retryAfter":3600})",
                   {{"retry-after", "3600"}});
    meetingbaas::v2_bot_config config;
    config.bot_name = "Notetaker";
    const auto r = h.client.v2_schedule_bots("cal", {.series_id = "s1", .all_occurrences = true}, config);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::api_error);
    CHECK(r.error().is_daily_bot_cap());
    CHECK(r.error().http_status == 429);
    CHECK(r.error().retry_after == std::chrono::milliseconds(3600s));
    CHECK(r.error().attempts == 1);
    CHECK(h.fake.requests().size() == 1);
    CHECK(h.sleeps.delays->empty());
}

TEST_CASE("api_client gives up on persistent 503 with retries_exhausted and the last status", "[api_client]")
{
    harness h;
    for (int i = 0; i < 6; ++i) h.fake.respond(503, "<html>Service Unavailable</html>");
    const auto r = h.client.v1_get_event("e1");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::retries_exhausted);
    CHECK(r.error().last_attempt_code == errc::http_status);
    CHECK(r.error().http_status == 503);
    CHECK(r.error().attempts == 5);
    CHECK(h.fake.requests().size() == 5);
    CHECK(h.sleeps.delays->size() == 4);
    for (const auto d : *h.sleeps.delays) CHECK(d <= 10s);
}

TEST_CASE("api_client retries transport failures of idempotent calls", "[api_client]")
{
    harness h;
    h.fake.fail(meetingbaas::transport_errc::connect_failed, false)
        .fail(meetingbaas::transport_errc::timed_out, true)
        .fail(meetingbaas::transport_errc::connection_dropped, true)
        .respond(200, event_list_json());
    const auto r = h.client.v1_unschedule_bot("e1");
    REQUIRE(r);
    CHECK(h.fake.requests().size() == 4);
    CHECK(h.sleeps.delays->size() == 3);
}

TEST_CASE("api_client does not repeat an unsafe request that may have been sent", "[api_client]")
{
    SECTION("maybe sent: one attempt, the transport error is reported")
    {
        harness h;
        h.fake.fail(meetingbaas::transport_errc::timed_out, true, "slow").respond(200, "{}");
        const auto r = h.client.send(http_method::post, "/bots/", "{}", meetingbaas::request_safety::unsafe);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::transport_error);
        CHECK(r.error().transport == meetingbaas::transport_errc::timed_out);
        CHECK(r.error().may_have_been_sent);
        CHECK(h.fake.requests().size() == 1);
    }
    SECTION("surely not sent: retried")
    {
        harness h;
        h.fake.fail(meetingbaas::transport_errc::connect_failed, false).respond(200, "{}");
        const auto r = h.client.send(http_method::post, "/bots/", "{}", meetingbaas::request_safety::unsafe);
        REQUIRE(r);
        CHECK(h.fake.requests().size() == 2);
    }
}

TEST_CASE("api_client reports malformed 2xx bodies with the JSON Pointer of the fault", "[api_client]")
{
    struct row {
        std::string body;
        errc cause;
        std::string where;
    };
    auto event = nlohmann::json::parse(read_data("api.v1.get_event.json"));
    auto no_uuid = event;
    no_uuid.erase("uuid");
    auto bad_time = event;
    bad_time["start_time"] = "yesterday";
    auto bad_attendee = event;
    bad_attendee["attendees"][1]["name"] = 42;
    auto bad_bot = event;
    bad_bot["bot_param"]["noone_joined_timeout"] = "600";
    const auto r = GENERATE_COPY(values<row>({
        {"not json", errc::malformed_json, "/"},
        {"", errc::empty_input, "/"},
        {"[]", errc::not_an_object, "/"},
        {no_uuid.dump(), errc::missing_field, "/uuid"},
        {bad_time.dump(), errc::invalid_timestamp, "/start_time"},
        {bad_attendee.dump(), errc::wrong_type, "/attendees/1/name"},
        {bad_bot.dump(), errc::wrong_type, "/bot_param/noone_joined_timeout"},
    }));
    CAPTURE(r.body.substr(0, 40));
    harness h;
    h.fake.respond(200, r.body);
    const auto result = h.client.v1_get_event("e1");
    REQUIRE_FALSE(result);
    CHECK(result.error().code == errc::malformed_response);
    CHECK(result.error().where == r.where);
    CHECK_THAT(result.error().message, ContainsSubstring(std::string(meetingbaas::to_string(r.cause))));
    CHECK(result.error().http_status == 200);
    CHECK(h.fake.requests().size() == 1);  // a malformed answer is not retried
}

TEST_CASE("api_client refuses deeply nested answers before building them", "[api_client]")
{
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    auto event = nlohmann::json::parse(read_data("api.v1.get_event.json"));
    const auto hostile = event.dump().insert(1, "\"extra\":" + deep + ",");  // deep inside a valid event
    harness h;
    h.fake.respond(200, hostile).respond(404, deep).respond(200, std::string(65, '{'));
    const auto r = h.client.v1_get_event("e1");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::malformed_response);
    CHECK_THAT(r.error().message, ContainsSubstring("too_deep"));
    const auto not_found = h.client.v1_get_event("e1");
    REQUIRE_FALSE(not_found);
    CHECK(not_found.error().code == errc::http_status);  // a deep error body is not read, only excerpted
    CHECK(not_found.error().http_status == 404);
    CHECK(h.client.v1_get_event("e1").error().message.starts_with("too_deep"));

    constexpr std::string_view nested_in_strings = R"({"a":"[[[[[[","b":["\"{{{{"]})";
    STATIC_REQUIRE(meetingbaas::detail::json_nesting_depth(nested_in_strings, 64) == 2);
}

TEST_CASE("api_client reports malformed events inside a page by their position", "[api_client]")
{
    auto page = nlohmann::json::parse(read_data("api.v1.list_events.page.json"));
    page["data"][2]["deleted"] = "no";
    harness h;
    h.fake.respond(200, page.dump());
    const auto r = h.client.v1_list_events_page({.calendar_id = "cal"});
    REQUIRE_FALSE(r);
    CHECK(r.error().where == "/data/2/deleted");
}

TEST_CASE("api_client parses the list-events fixture page", "[api_client]")
{
    harness h;
    h.fake.respond(200, read_data("api.v1.list_events.page.json"));
    const auto r = h.client.v1_list_events_page({.calendar_id = "62cf1c20-6d72-4a52-9217-c391ec23d7bf"});
    REQUIRE(r);
    REQUIRE(r->data.size() == 3);
    CHECK(r->data[0].is_recurring);
    CHECK(r->data[0].recurring_event_id == "7m1q4v8k2t0c9p3s6d5f1h8j2l");
    CHECK(r->data[1].bot_param.has_value());
    CHECK(r->data[2].deleted);
    CHECK(r->data[2].meeting_url.empty());
    CHECK(r->next == "eyJsYXN0X3N0YXJ0IjoiMjAyNi0wOS0xOFQwODowMDowMFoiLCJsYXN0X2lkIjo0ODEyN30");
}

TEST_CASE("parse_v1_event accepts the SystemTime object form of timestamps", "[api_client]")
{
    auto event = nlohmann::json::parse(read_data("api.v1.get_event.json"));
    event["start_time"] = {{"secs_since_epoch", 1789655400}, {"nanos_since_epoch", 123456789}};
    const auto r = meetingbaas::parse_v1_event(event);
    REQUIRE(r);
    CHECK(r->start_time.text == "2026-09-17T14:30:00.123456Z");
}

TEST_CASE("parse_v1_event_text decodes like parse_json_body + parse_v1_event", "[api_client]")
{
    auto event = nlohmann::json::parse(read_data("api.v1.get_event.json"));
    auto system_time = event;
    system_time["start_time"] = {{"secs_since_epoch", 1789655400}, {"nanos_since_epoch", 123456789}};
    auto nulls = event;
    for (const char* key :
         {"google_id", "name", "is_organizer", "is_recurring", "meeting_url", "attendees", "bot_param"})
        nulls[key] = nullptr;
    auto sparse = event;
    for (const char* key : {"google_id", "name", "is_organizer", "attendees", "bot_param", "raw"})
        sparse.erase(key);
    auto image_array = event;
    image_array["bot_param"]["bot_image"] = {"a.png", "b.png"};
    auto big_int = event;
    big_int["bot_param"]["noone_joined_timeout"] = std::uint64_t{18446744073709551615u};
    auto fraction = event;
    fraction["bot_param"]["waiting_room_timeout"] = 1.5;
    std::string duplicate = event.dump();
    duplicate.insert(1, R"("name":"first",)");
    const auto body = GENERATE_COPY(values<std::string>({
        event.dump(),
        read_data("api.v1.get_event.json"),
        system_time.dump(),
        nulls.dump(),
        sparse.dump(),
        image_array.dump(),
        big_int.dump(),
        fraction.dump(),
        duplicate,
        "\xEF\xBB\xBF" + event.dump(),
        event.dump() + " x",
        "[]",
        "",
        "{}",
        std::string(65, '[') + std::string(65, ']'),
        R"({"uuid":"u","calendar_uuid":"c","start_time":"2026-01-01T00:00:00Z","end_time":"2026-01-01T01:00:00Z",)"
        R"("last_updated_at":"2026-01-01T00:00:00Z","deleted":false,"attendees":[{"email":null,"name":"\u00e9"}]})",
    }));
    CAPTURE(body.substr(0, 60));
    const auto text = meetingbaas::parse_v1_event_text(body);
    auto doc = meetingbaas::detail::parse_json_body(body);
    const auto dom = doc ? meetingbaas::parse_v1_event(std::move(*doc))
                         : meetingbaas::result<meetingbaas::v1_event>(doc.error());
    REQUIRE(text.has_value() == dom.has_value());
    if (!dom) {
        check_same_error(text.error(), dom.error());
        return;
    }
    CHECK(text->uuid == dom->uuid);
    CHECK(text->calendar_uuid == dom->calendar_uuid);
    CHECK(text->google_id == dom->google_id);
    CHECK(text->name == dom->name);
    CHECK(text->start_time == dom->start_time);
    CHECK(text->end_time == dom->end_time);
    CHECK(text->last_updated_at == dom->last_updated_at);
    CHECK(text->deleted == dom->deleted);
    CHECK(text->is_organizer == dom->is_organizer);
    CHECK(text->is_recurring == dom->is_recurring);
    CHECK(text->recurring_event_id == dom->recurring_event_id);
    CHECK(text->meeting_url == dom->meeting_url);
    CHECK(text->attendees == dom->attendees);
    REQUIRE(text->bot_param.has_value() == dom->bot_param.has_value());
    if (dom->bot_param) {
        const auto& a = *text->bot_param;
        const auto& b = *dom->bot_param;
        CHECK(a.bot_name == b.bot_name);
        CHECK(a.bot_image == b.bot_image);
        CHECK(a.enter_message == b.enter_message);
        CHECK(a.recording_mode == b.recording_mode);
        CHECK(a.speech_to_text_provider == b.speech_to_text_provider);
        CHECK(a.webhook_url == b.webhook_url);
        CHECK(a.deduplication_key == b.deduplication_key);
        CHECK(a.noone_joined_timeout == b.noone_joined_timeout);
        CHECK(a.waiting_room_timeout == b.waiting_room_timeout);
        CHECK(nlohmann::json::parse(a.json.text) == nlohmann::json::parse(b.json.text));
        CHECK(a.extra.text.empty() == b.extra.text.empty());
        if (!b.extra.text.empty())
            CHECK(nlohmann::json::parse(a.extra.text) == nlohmann::json::parse(b.extra.text));
    }
    CHECK(text->raw.text.empty() == dom->raw.text.empty());
    if (!dom->raw.text.empty())
        CHECK(nlohmann::json::parse(text->raw.text) == nlohmann::json::parse(dom->raw.text));
}

TEST_CASE("parse_v1_event_list_text decodes like parse_json_body + parse_v1_event_list", "[api_client]")
{
    const std::string one = nlohmann::json::parse(read_data("api.v1.get_event.json")).dump();
    auto bad_time = nlohmann::json::parse(one);
    bad_time["start_time"] = "yesterday";
    auto system_time = nlohmann::json::parse(one);
    system_time["start_time"] = {{"secs_since_epoch", 1789655400}, {"nanos_since_epoch", 5}};
    const auto body = GENERATE_COPY(values<std::string>({
        "[" + one + "]",
        "[" + one + "," + one + "]",
        "[]",
        " [ ] ",
        "[" + one + "," + bad_time.dump() + "]",
        "[" + system_time.dump() + "]",
        "[" + one + ",]",
        "[" + one,
        "{}",
        "[1]",
        "[null]",
        "",
        "[" + one + "] []",
    }));
    CAPTURE(body.substr(0, 80));
    const auto text = meetingbaas::parse_v1_event_list_text(body);
    auto doc = meetingbaas::detail::parse_json_body(body);
    const auto dom = doc ? meetingbaas::parse_v1_event_list(*doc)
                         : meetingbaas::result<std::vector<meetingbaas::v1_event>>(doc.error());
    REQUIRE(text.has_value() == dom.has_value());
    if (!dom) {
        check_same_error(text.error(), dom.error());
        return;
    }
    REQUIRE(text->size() == dom->size());
    for (std::size_t i = 0; i < dom->size(); ++i) {
        CHECK((*text)[i].uuid == (*dom)[i].uuid);
        CHECK((*text)[i].start_time == (*dom)[i].start_time);
        CHECK((*text)[i].last_updated_at == (*dom)[i].last_updated_at);
        CHECK((*text)[i].deleted == (*dom)[i].deleted);
        CHECK((*text)[i].attendees == (*dom)[i].attendees);
        CHECK((*text)[i].bot_param.has_value() == (*dom)[i].bot_param.has_value());
    }
}

TEST_CASE("api_client with no_retry_policy makes exactly one attempt", "[api_client]")
{
    fake_http_client fake;
    fake.respond(503, "").respond(200, "{}");
    meetingbaas::api_client<fake_http_client&> client(
        fake, {.api_key = "k", .retry = meetingbaas::no_retry_policy});
    const auto r = client.v1_get_event("e1");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::retries_exhausted);
    CHECK(r.error().http_status == 503);
    CHECK(fake.requests().size() == 1);
    CHECK(fake.requests()[0].url == "https://api.meetingbaas.com/calendar_events/e1");
}

TEST_CASE("api_client limits each attempt's timeout to the policy's remaining time", "[api_client]")
{
    fake_http_client fake;
    fake.respond(200, read_data("api.v1.get_event.json"));
    auto policy = meetingbaas::meetingbaas_api_policy;
    policy.stop = meetingbaas::stop_after_attempts(3) | meetingbaas::stop_after_elapsed(2s);
    meetingbaas::api_client<fake_http_client&, test_effects> client(
        fake, {.api_key = "k", .timeout = 10s, .retry = policy}, {.random = meetingbaas::splitmix64{1}});
    REQUIRE(client.v1_get_event("e1"));
    CHECK(fake.requests()[0].timeout <= 2s);
    CHECK(fake.requests()[0].timeout > 1s);
}

TEST_CASE("api_error to_error keeps the code and names the operation", "[api_client]")
{
    meetingbaas::api_error e;
    e.code = errc::api_error;
    e.http_status = 404;
    e.provider_code = "BotNotFound";
    e.message = "Bot not found";
    e.operation = "GET /calendar_events/{uuid}";
    const auto plain = e.to_error();
    CHECK(plain.code == errc::api_error);
    CHECK(plain.where == "GET /calendar_events/{uuid}");
    CHECK(plain.message == "HTTP 404 BotNotFound: Bot not found");
    CHECK(e.is_not_found());
}

TEST_CASE("api_client does not re-send a bot write that may have landed, and retries one that did not",
          "[api_client]")
{
    meetingbaas::v1_bot_config v1_config;
    v1_config.bot_name = "Notetaker";
    meetingbaas::v2_bot_config v2_config;
    v2_config.bot_name = "Notetaker";
    const meetingbaas::v2_bot_target target{.series_id = "s1", .event_id = "ev1"};
    SECTION("a dropped connection after sending: one attempt, may_have_been_applied")
    {
        const int which = GENERATE(0, 1, 2);
        CAPTURE(which);
        harness h;
        h.fake.fail(meetingbaas::transport_errc::connection_dropped, true).respond(201, "{}");
        const auto error = [&]() -> meetingbaas::api_error {
            if (which == 0) return h.client.v1_schedule_bot("e1", v1_config).error();
            if (which == 1) return h.client.v2_schedule_bots("cal", target, v2_config).error();
            return h.client.v2_delete_bots("cal", target).error();
        }();
        CHECK(error.code == errc::transport_error);
        CHECK(meetingbaas::may_have_been_applied(error));
        CHECK(meetingbaas::classify(error) == meetingbaas::failure_class::transient);
        CHECK(h.fake.requests().size() == 1);
    }
    SECTION("a 500 may have been applied too: not repeated")
    {
        harness h;
        h.fake.respond(500, "oops").respond(200, event_list_json());
        const auto r = h.client.v1_schedule_bot("e1", v1_config);
        REQUIRE_FALSE(r);
        CHECK(r.error().http_status == 500);
        CHECK(meetingbaas::may_have_been_applied(r.error()));
        CHECK(h.fake.requests().size() == 1);
    }
    SECTION("refused before processing (connect failed, 429, 503): retried in-call")
    {
        harness h;
        h.fake.fail(meetingbaas::transport_errc::connect_failed, false)
            .respond(429, read_data("api.v2.error.429.json"))
            .respond(503, "")
            .respond(201, R"({"success":true,"data":[{"event_id":"ev1"}],"errors":[]})");
        const auto r = h.client.v2_schedule_bots("cal", target, v2_config);
        REQUIRE(r);
        CHECK(h.fake.requests().size() == 4);
    }
    SECTION("the v1 DELETE stays idempotent: retried after a timeout")
    {
        harness h;
        h.fake.fail(meetingbaas::transport_errc::timed_out, true).respond(200, event_list_json());
        REQUIRE(h.client.v1_unschedule_bot("e1"));
        CHECK(h.fake.requests().size() == 2);
    }
}

TEST_CASE("outcome_of judges a give-up by the attempt it wraps, never as a fake status", "[api_client]")
{
    using meetingbaas::attempt_outcome;
    using meetingbaas::failure_class;
    using meetingbaas::outcome_kind;
    SECTION("retries_exhausted over dropped connections stays a transport failure: transient")
    {
        harness h;
        for (int i = 0; i < 5; ++i) h.fake.fail(meetingbaas::transport_errc::connection_dropped, true);
        const auto r = h.client.v1_get_event("e1");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::retries_exhausted);
        CHECK(r.error().last_attempt_code == errc::transport_error);
        const auto o = meetingbaas::outcome_of(r.error());
        CHECK(o.kind == outcome_kind::transport_maybe_sent);
        CHECK(meetingbaas::classify(r.error()) == failure_class::transient);
        CHECK_THAT(meetingbaas::to_string(r.error()), ContainsSubstring("connection_dropped"));
        CHECK_THAT(meetingbaas::to_string(r.error()), ContainsSubstring("after 5 attempts"));
    }
    SECTION("a malformed 2xx is an unusable answer: transient, and the pointer is kept")
    {
        harness h;
        h.fake.respond(200, R"({"uuid":42})");
        const auto r = h.client.v1_get_event("e1");
        REQUIRE_FALSE(r);
        const auto o = meetingbaas::outcome_of(r.error());
        CHECK(o.kind == outcome_kind::invalid_answer);
        CHECK(o.status == 200);
        CHECK(meetingbaas::classify(r.error()) == failure_class::transient);
        CHECK(r.error().where == "/uuid");
    }
    SECTION("statuses keep their status, pushback and code")
    {
        meetingbaas::api_error e;
        e.code = e.last_attempt_code = errc::api_error;
        e.http_status = 429;
        e.provider_code = "FST_ERR_DAILY_BOT_CAP_REACHED";
        e.retry_after = 3600s;
        const auto o = meetingbaas::outcome_of(e);
        CHECK(o.kind == outcome_kind::http_status);
        CHECK(o.status == 429);
        CHECK(o.api_code == "FST_ERR_DAILY_BOT_CAP_REACHED");
        CHECK(meetingbaas::classify(e) == failure_class::permanent);
        e.code = errc::retries_exhausted;  // a wrapper keeps the verdict of what it wraps
        CHECK(meetingbaas::classify(e) == failure_class::permanent);
        e.provider_code = "FST_ERR_TOO_MANY_REQUESTS";
        CHECK(meetingbaas::classify(e) == failure_class::throttled);
        e.http_status = 400;
        CHECK(meetingbaas::classify(e) == failure_class::permanent);
    }
    SECTION("local and argument failures")
    {
        meetingbaas::api_error e;
        e.code = e.last_attempt_code = errc::storage_error;
        CHECK(meetingbaas::classify(e) == failure_class::transient);
        e.code = e.last_attempt_code = errc::invalid_argument;
        CHECK(meetingbaas::classify(e) == failure_class::permanent);
        e.code = e.last_attempt_code = errc::cancelled;
        CHECK(meetingbaas::classify(e) == failure_class::transient);
        e.code = errc::deadline_exceeded;  // no attempt could start
        e.last_attempt_code = errc::deadline_exceeded;
        CHECK(meetingbaas::outcome_of(e).kind == outcome_kind::cancelled);
        e.code = e.last_attempt_code = errc::pagination_loop;
        CHECK(meetingbaas::classify(e) == failure_class::transient);
    }
}

TEST_CASE("api_client ends a call at once when its stop-aware sleeper is stopped", "[api_client]")
{
    fake_http_client fake;
    fake.respond(503, "").respond(503, "").respond(200, read_data("api.v1.get_event.json"));
    std::stop_source stop;
    meetingbaas::api_client client(
        fake, meetingbaas::api_client_options{.api_key = "k"},
        meetingbaas::retry_effects{.sleeper = meetingbaas::stop_aware_sleeper(stop.get_token())});
    stop.request_stop();  // shutdown began
    const auto r = client.v1_get_event("e1");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::cancelled);
    CHECK(r.error().last_attempt_code == errc::http_status);  // the cause is kept
    CHECK(r.error().http_status == 503);
    CHECK(meetingbaas::classify(r.error()) == meetingbaas::failure_class::transient);
    CHECK(fake.requests().size() == 1);
}

TEST_CASE("api_client validates its options, retry policy included, and refuses to send otherwise",
          "[api_client]")
{
    CHECK(meetingbaas::validate(meetingbaas::api_client_options{.api_key = "k"}));
    auto bad_policy = meetingbaas::meetingbaas_api_policy;
    bad_policy.backoff.multiplier = 0.5;
    struct row {
        meetingbaas::api_client_options options;
        errc code;
        std::string where;
    };
    const auto r = GENERATE_COPY(values<row>({
        {{.api_key = ""}, errc::invalid_argument, "api_key"},
        {{.api_key = "k\r\nX-Injected: 1"}, errc::invalid_argument, "api_key"},
        {{.api_key = "k", .base_url = "not a url"}, errc::invalid_url, "base_url"},
        {{.api_key = "k", .base_url = "ftp://x"}, errc::invalid_url, "base_url"},
        {{.api_key = "k", .timeout = 0ms}, errc::invalid_argument, "timeout"},
        {{.api_key = "k", .retry = bad_policy}, errc::invalid_argument, "retry/backoff/multiplier"},
    }));
    CAPTURE(r.where);
    const auto checked = meetingbaas::validate(r.options);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code == r.code);
    CHECK(checked.error().where == r.where);
    fake_http_client fake;
    meetingbaas::api_client<fake_http_client&> client(fake, r.options);
    REQUIRE_FALSE(client.validate());
    CHECK(client.validate().error().where == r.where);
    const auto call = client.v1_get_event("e1");
    REQUIRE_FALSE(call);
    CHECK(call.error().code == r.code);
    CHECK(fake.requests().empty());
}

TEST_CASE("api_client::max_call_duration follows the policy and the per-attempt timeout", "[api_client]")
{
    fake_http_client fake;
    meetingbaas::api_client<fake_http_client&> defaults(fake, {.api_key = "k"});
    CHECK(defaults.max_call_duration() == 60s);
    auto policy = meetingbaas::meetingbaas_api_policy;
    policy.stop = meetingbaas::stop_after_attempts(3);
    meetingbaas::api_client<fake_http_client&> short_calls(fake,
                                                           {.api_key = "k", .timeout = 4s, .retry = policy});
    CHECK(short_calls.max_call_duration() == 3 * 4s + 2 * 30s);  // waits up to max_retry_after (30 s)
}

TEST_CASE("an out-of-range v1_event_status is refused, never sent as upcoming", "[api_client]")
{
    constexpr auto bogus = static_cast<meetingbaas::v1_event_status>(9);
    STATIC_REQUIRE(!meetingbaas::is_valid(bogus));
    STATIC_REQUIRE(meetingbaas::to_string(bogus) == "(invalid v1_event_status)");
    harness h;
    const auto r = h.client.v1_list_events({.calendar_id = "c1", .status = bogus});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
    CHECK(r.error().where == "status");
    CHECK(h.fake.requests().empty());
}
