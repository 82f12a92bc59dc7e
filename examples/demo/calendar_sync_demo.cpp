// SPDX-License-Identifier: MIT
// The README demo: calendar sync end to end, on this machine, with no external service.
//
// It starts a local stand-in for the Meeting BaaS API (a real HTTP server on 127.0.0.1), starts the
// calendar_sync_server example against it, sends it a few webhooks and prints what was scheduled and
// cancelled, and why: first v1 (`calendar.sync_events` with the API key: new meetings, a moved meeting,
// a cancelled meeting, a duplicate, a forged one), then v2 on the same endpoint (Svix-signed
// `calendar.event_*`: a new meeting, a moved one, a cancelled one, a Svix redelivery, a forged
// signature). Exit status 0 when every outcome is the expected one.
//
//   cmake --preset dev && cmake --build build/dev --target calendar_sync_demo &&
//   build/dev/examples/calendar_sync_demo

#include "e2e/server_process.hpp"
#include "e2e/v2_signing.hpp"
#include "fake_meetingbaas_api.hpp"

#include <meetingbaas/core/timestamp.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr const char* api_key = "demo-api-key";
constexpr const char* calendar_id = "7d0c6a36-2b7e-4c1e-9f4e-4a8f0f2d9c11";
// v2: the endpoint's signing secret (in production, the whsec_ secret Meeting BaaS shows for the endpoint).
constexpr const char* webhook_secret = "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f";
constexpr const char* v2_calendar_id = "aff72226-7c8f-46fc-864d-f349ad89eb06";

std::string at(std::chrono::system_clock::duration from_now)
{
    const auto t = std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now() + from_now);
    return meetingbaas::format_timestamp_seconds(std::chrono::time_point_cast<std::chrono::microseconds>(t));
}

std::string now_text()
{
    return at(0s);
}

/// A last_updated_at: the current time to the microsecond, so that each change is newer than the last.
std::string stamp()
{
    return meetingbaas::format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
}

nlohmann::json event(const std::string& uuid, const std::string& name, std::chrono::hours starts_in,
                     const std::string& url)
{
    return {{"uuid", uuid},
            {"calendar_uuid", calendar_id},
            {"google_id", "g-" + uuid.substr(0, 8)},
            {"name", name},
            {"start_time", at(starts_in)},
            {"end_time", at(starts_in + 1h)},
            {"deleted", false},
            {"is_organizer", true},
            {"is_recurring", false},
            {"recurring_event_id", nullptr},
            {"last_updated_at", stamp()},
            {"meeting_url", url},
            {"attendees", nlohmann::json::array({{{"email", "dana@acme.example"}, {"name", "Dana"}}})},
            {"bot_param", nullptr},
            {"raw", nlohmann::json::object()}};
}

std::string sync_webhook(const std::vector<std::string>& uuids)
{
    return nlohmann::json{
        {"event", "calendar.sync_events"},
        {"data",
         {{"calendar_id", calendar_id}, {"last_updated_ts", now_text()}, {"affected_event_uuids", uuids}}}}
        .dump();
}

/// A v2 event as GET /v2/calendars/{calendar_id}/events/{event_id} answers it.
nlohmann::json v2_event(const std::string& event_id, const std::string& series_id, const std::string& title,
                        std::chrono::hours starts_in, const std::string& url)
{
    return {{"event_id", event_id},
            {"series_id", series_id},
            {"event_type", "one_off"},
            {"title", title},
            {"description", nullptr},
            {"location", nullptr},
            {"start_time", at(starts_in)},
            {"end_time", at(starts_in + 1h)},
            {"timezone", "Europe/Paris"},
            {"is_all_day", false},
            {"status", "confirmed"},
            {"is_exception", false},
            {"organizer_email", "dana@acme.example"},
            {"organizer_name", "Dana"},
            {"attendees", nlohmann::json::array()},
            {"meeting_url", url},
            {"meeting_platform", "meet"},
            {"calendar_id", v2_calendar_id},
            {"calendar_platform", "google"},
            {"bot_scheduled", false},
            {"raw_payload", nullptr},
            {"created_at", stamp()},
            {"updated_at", stamp()}};
}

/// A calendar.event_created / event_updated / event_cancelled webhook naming one event as the API has it.
std::string v2_webhook(const std::string& kind, const nlohmann::json& e)
{
    const nlohmann::json instance = {{"event_id", e["event_id"]},
                                     {"start", e["start_time"]},
                                     {"end", e["end_time"]},
                                     {"title", e["title"]},
                                     {"status", e["status"]},
                                     {"is_all_day", e["is_all_day"]},
                                     {"is_exception", e["is_exception"]},
                                     {"bot_scheduled", e["bot_scheduled"]},
                                     {"meeting_url", e["meeting_url"]},
                                     {"meeting_platform", e["meeting_platform"]}};
    nlohmann::json data = {
        {"calendar_id", v2_calendar_id}, {"event_type", "one_off"}, {"series_id", e["series_id"]}};
    if (kind == "calendar.event_created") {
        data["series_bot_scheduled"] = false;
        data["instances"] = nlohmann::json::array({instance});
    } else if (kind == "calendar.event_updated") {
        data["series_bot_scheduled"] = false;
        data["is_exception"] = false;
        data["affected_instances"] = nlohmann::json::array({instance});
    } else {
        data["cancelled_instances"] = nlohmann::json::array({instance});
    }
    return nlohmann::json{{"event", kind}, {"data", data}}.dump();
}

bool queue_drained(int port)
{
    const auto metrics = sync_e2e::get_path(port, "/metrics");
    if (!metrics) return false;
    for (const char* state : {"ready", "scheduled", "leased"}) {
        if (metrics->find(std::string("meetingbaas_queue_jobs{state=\"") + state + "\"} 0\n") ==
            std::string::npos) {
            return false;
        }
    }
    return true;
}

int failures = 0;

void expect(bool ok, const std::string& what)
{
    if (!ok) {
        ++failures;
        std::cout << "  !! unexpected: " << what << "\n";
    }
}

}  // namespace

int main()
{
    // 1. The stand-in API with three meetings of the calendar.
    meetingbaas_test::fake_meetingbaas_api api({.api_key = api_key, .page_size = 100});
    const std::string review = "3f1d2c4b-5a69-4c7e-8d10-2e3f4a5b6c7d";
    const std::string customer = "8a9b0c1d-2e3f-4a5b-9c6d-7e8f9a0b1c2d";
    const std::string standup = "c4d5e6f7-0819-4a2b-8c3d-4e5f60718293";
    api.set_event(event(review, "Design review", 26h, "https://meet.google.com/abc-defg-hij"));
    api.set_event(event(customer, "Customer call: Northwind", 50h, "https://zoom.us/j/5551234567"));
    api.set_event(event(standup, "Team standup", 20h, "https://teams.microsoft.com/l/meetup-join/demo"));
    if (!api.start()) {
        std::cerr << "cannot start the stand-in API\n";
        return 1;
    }

    // 2. The example server, on a fresh state file.
    const auto dir =
        std::filesystem::temp_directory_path() / ("calendar-sync-demo-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto state = (dir / "calendar-sync.sqlite3").string();
    std::string failure;
    auto server = sync_e2e::server_process::start(
        CALENDAR_SYNC_SERVER_PATH,
        {"--listen", "127.0.0.1:0", "--api-base-url", api.base_url(), "--api-key", api_key, "--state", state,
         "--bot-name", "Demo Recorder", "--workers", "2", "--webhook-secret", webhook_secret},
        {}, 10s, &failure);
    if (!server) {
        std::cerr << "cannot start calendar_sync_server:\n" << failure;
        return 1;
    }
    const int port = server->port();
    std::cout << "Meeting BaaS stand-in at " << api.base_url()
              << ", calendar_sync_server at http://127.0.0.1:" << port << "\n\n";

    const httplib::Headers signed_v1{{"x-meeting-baas-api-key", api_key}};
    // What the server did is read from its JSON log lines (one object per line: "event" names the kind).
    std::size_t deliveries_shown = 0;
    std::size_t actions_shown = 0;
    const auto step = [&](const std::string& title, const std::string& body,
                          const httplib::Headers& headers) {
        const int status = sync_e2e::post_webhook(port, body, headers);
        std::cout << title << "\n  webhook answered " << status << "\n";
        // Wait until the delivery is logged, and, when it made a job, until that job's line is written.
        sync_e2e::eventually([&] { return server->count_events("delivery") > deliveries_shown; }, 10s);
        const auto deliveries = server->events("delivery");
        std::string job;
        for (; deliveries_shown < deliveries.size(); ++deliveries_shown) {
            const auto& d = deliveries[deliveries_shown];
            std::cout << "  delivery: " << d.value("result", "");
            if (const auto detail = d.value("detail", ""); !detail.empty())
                std::cout << " (" << detail << ")";
            std::cout << "\n";
            if (d.value("result", "") == "accepted") job = d.value("job", "");
        }
        if (!job.empty()) {
            server->wait_for_event(
                "job",
                [&](const nlohmann::json& j) {
                    return j.value("job", "") == job && j.value("result", "") == "done";
                },
                30s);
        }
        sync_e2e::eventually([&] { return queue_drained(port); }, 30s);
        const auto actions = server->events("action");
        for (; actions_shown < actions.size(); ++actions_shown) {
            const auto& a = actions[actions_shown];
            const auto what = a.value("action", "");
            const auto verb = what == "schedule" ? "scheduled a bot for"
                              : what == "cancel" ? "cancelled the bot of"
                                                 : "left alone";
            std::cout << "  " << verb << " \"" << a.value("name", "") << "\" (starts " << a.value("start", "")
                      << "): " << a.value("reason", "");
            if (a.value("result", "") != "applied") std::cout << " [" << a.value("result", "") << "]";
            std::cout << "\n";
        }
        std::cout << "\n";
        return status;
    };

    // 3. The webhooks.
    expect(step("1. Three new meetings appear in the calendar", sync_webhook({review, customer, standup}),
                signed_v1) == 200,
           "webhook 1 accepted");
    expect(api.post_count(review) == 1 && api.post_count(customer) == 1 && api.post_count(standup) == 1,
           "one bot scheduled per new meeting");

    auto moved = *api.event(customer);
    moved["start_time"] = at(74h);
    moved["end_time"] = at(75h);
    moved["last_updated_at"] = stamp();
    api.set_event(moved);
    expect(step("2. The customer call moves to the next day", sync_webhook({customer}), signed_v1) == 200,
           "webhook 2 accepted");
    expect(api.post_count(customer) == 1, "the moved meeting keeps its bot (no second POST)");

    auto cancelled = *api.event(standup);
    cancelled["deleted"] = true;
    cancelled["meeting_url"] = "";
    cancelled["last_updated_at"] = stamp();
    api.set_event(cancelled);
    const auto cancel_body = sync_webhook({standup});
    expect(step("3. The team standup is cancelled", cancel_body, signed_v1) == 200, "webhook 3 accepted");
    expect(api.delete_count(standup) == 1, "the cancelled meeting's bot is removed");

    expect(step("4. Meeting BaaS delivers the same webhook again", cancel_body, signed_v1) == 200,
           "a duplicate is acknowledged");
    expect(api.delete_count(standup) == 1, "the duplicate does nothing");

    expect(step("5. Someone forges a webhook without the API key", sync_webhook({review}),
                {{"x-meeting-baas-api-key", "guess"}}) == 401,
           "a forged webhook is refused");

    // 4. v2 on the same endpoint: Svix-signed calendar.event_* webhooks (the server has --webhook-secret).
    std::cout << "v2: Svix-signed webhooks on the same endpoint\n\n";
    const std::string planning = "6c093e09-7cca-490d-96d9-0d6f3a7e21b4";
    const std::string retro = "9e1b7c44-0a2d-4f6e-b8a1-5c3d2e1f0a9b";
    api.set_v2_event(v2_event(planning, "3a9e51dd-a5a6-4745-97c0-1f2e3d4c5b6a", "Sprint planning", 30h,
                              "https://meet.google.com/pln-ning-xyz"));
    api.set_v2_event(v2_event(retro, "7b6a5c4d-3e2f-4a1b-9c8d-0e1f2a3b4c5d", "Retrospective", 54h,
                              "https://meet.google.com/ret-ros-pec"));
    const auto created_body = v2_webhook("calendar.event_created", *api.v2_event(planning));
    const auto created_headers = sync_e2e::v2_headers(created_body, "msg_demo_created", webhook_secret);
    expect(step("6. v2: a new meeting (calendar.event_created, signed)", created_body, created_headers) ==
               200,
           "signed v2 webhook accepted");
    expect(api.v2_post_count(planning) == 1, "one v2 bot POST for the new meeting");

    api.update_v2_event(planning, {{"start_time", at(32h)}, {"end_time", at(33h)}});
    const auto moved_body = v2_webhook("calendar.event_updated", *api.v2_event(planning));
    expect(step("7. v2: the meeting moves (calendar.event_updated)", moved_body,
                sync_e2e::v2_headers(moved_body, "msg_demo_updated", webhook_secret)) == 200,
           "v2 update accepted");
    expect(api.v2_post_count(planning) == 1, "the moved v2 meeting keeps its bot (no second POST)");

    const auto retro_body = v2_webhook("calendar.event_created", *api.v2_event(retro));
    expect(step("8. v2: another new meeting", retro_body,
                sync_e2e::v2_headers(retro_body, "msg_demo_retro", webhook_secret)) == 200,
           "v2 webhook 8 accepted");
    api.update_v2_event(retro, {{"status", "cancelled"}});
    const auto cancelled_body = v2_webhook("calendar.event_cancelled", *api.v2_event(retro));
    expect(step("9. v2: that meeting is cancelled (calendar.event_cancelled)", cancelled_body,
                sync_e2e::v2_headers(cancelled_body, "msg_demo_cancelled", webhook_secret)) == 200,
           "v2 cancellation accepted");
    expect(api.v2_delete_count(retro) == 1, "the cancelled v2 meeting's bot is removed");

    expect(step("10. Svix redelivers webhook 6 (same svix-id)", created_body, created_headers) == 200,
           "a v2 redelivery is acknowledged");
    expect(api.v2_post_count(planning) == 1, "the redelivery does nothing");

    expect(step("11. Someone forges a v2 signature", created_body,
                sync_e2e::v2_headers(created_body, "msg_demo_forged",
                                     "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")) == 401,
           "a forged v2 webhook is refused");

    // 5. The outcome, as the API sees it.
    std::cout << "Final state in the stand-in API:\n";
    for (const auto& uuid : {review, customer, standup}) {
        const auto e = *api.event(uuid);
        const bool bot = !e["bot_param"].is_null();
        std::cout << "  " << e["name"].get<std::string>() << ": " << (bot ? "bot scheduled" : "no bot")
                  << " (POST x" << api.post_count(uuid) << ", DELETE x" << api.delete_count(uuid) << ")\n";
    }
    expect(!api.event(review)->at("bot_param").is_null(), "Design review has its bot");
    expect(!api.event(customer)->at("bot_param").is_null(), "the customer call has its bot");
    expect(api.event(standup)->at("bot_param").is_null(), "the cancelled standup has no bot");
    for (const auto& id : {planning, retro}) {
        const auto e = *api.v2_event(id);
        std::cout << "  " << e["title"].get<std::string>()
                  << " (v2): " << (e["bot_scheduled"].get<bool>() ? "bot scheduled" : "no bot") << " (POST x"
                  << api.v2_post_count(id) << ", DELETE x" << api.v2_delete_count(id) << ")\n";
    }
    expect(api.v2_event(planning)->at("bot_scheduled").get<bool>(), "Sprint planning has its bot");
    expect(!api.v2_event(retro)->at("bot_scheduled").get<bool>(), "the cancelled retrospective has no bot");

    server->send_signal(SIGTERM);
    const auto exit_code = server->wait_exit(10s);
    expect(exit_code && *exit_code == 0, "the server stops cleanly on SIGTERM");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::cout << (failures == 0 ? "\nDemo OK\n" : "\nDemo FAILED\n");
    return failures == 0 ? 0 : 1;
}
