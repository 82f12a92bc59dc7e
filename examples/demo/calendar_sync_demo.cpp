// SPDX-License-Identifier: MIT
// The README demo: calendar sync end to end, on this machine, with no external service.
//
// It starts a local stand-in for the Meeting BaaS API (a real HTTP server on 127.0.0.1), starts the
// calendar_sync_server example against it, sends it a few webhooks (new meetings, a moved meeting, a
// cancelled meeting, a duplicate, a forged one) and prints what was scheduled and cancelled, and why.
// Exit status 0 when every outcome is the expected one.
//
//   cmake --preset dev && cmake --build build/dev --target calendar_sync_demo &&
//   build/dev/examples/calendar_sync_demo

#include "e2e/server_process.hpp"
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
    auto server = sync_e2e::server_process::start(CALENDAR_SYNC_SERVER_PATH,
                                                  {"--listen", "127.0.0.1:0", "--api-base-url",
                                                   api.base_url(), "--api-key", api_key, "--state", state,
                                                   "--bot-name", "Demo Recorder", "--workers", "2"},
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

    // 4. The outcome, as the API sees it.
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

    server->send_signal(SIGTERM);
    const auto exit_code = server->wait_exit(10s);
    expect(exit_code && *exit_code == 0, "the server stops cleanly on SIGTERM");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::cout << (failures == 0 ? "\nDemo OK\n" : "\nDemo FAILED\n");
    return failures == 0 ? 0 : 1;
}
