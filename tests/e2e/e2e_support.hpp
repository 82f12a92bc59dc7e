// SPDX-License-Identifier: MIT
#pragma once
// Shared pieces of the end-to-end tests of calendar_sync_server: a temporary directory, calendar events
// for the loopback fake API, deliveries, and starting the server against that API.

#include <meetingbaas/core/timestamp.hpp>

#include "e2e/server_process.hpp"
#include "fake_calendar_api.hpp"
#include "fake_meetingbaas_api.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <stdlib.h>

namespace sync_e2e {

inline constexpr const char* api_key = "e2e-api-key-7f3a9c";
inline constexpr const char* calendar_id = "62cf1c20-6d72-4a52-9217-c391ec23d7bf";
inline constexpr const char* secret = "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f";

struct temp_dir {
    std::filesystem::path path;
    temp_dir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mb-e2e-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    [[nodiscard]] std::string state() const { return (path / "state.sqlite3").string(); }
    [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string at(std::chrono::system_clock::duration from_now)
{
    return meetingbaas::format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now() + from_now));
}

inline std::string uuid(int i)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
    return buf;
}

/// A future meeting with a URL and no bot (the default policy schedules it), updated 30 min ago.
inline nlohmann::json meeting(int i, bool with_bot = false, bool deleted = false)
{
    using namespace std::chrono_literals;
    return sync_test::make_event(uuid(i), "Meeting " + std::to_string(i), at(std::chrono::hours(24 + i)),
                                 at(std::chrono::hours(25 + i)), at(-30min),
                                 deleted ? "" : "https://meet.google.com/e2e-" + std::to_string(i), deleted,
                                 with_bot);
}

inline std::string sync_delivery(const std::vector<int>& ids, bool with_uuids = true,
                                 const std::string& ts = at(-std::chrono::hours(1)))
{
    nlohmann::json data = {{"calendar_id", calendar_id}, {"last_updated_ts", ts}};
    if (with_uuids) {
        data["affected_event_uuids"] = nlohmann::json::array();
        for (int i : ids) data["affected_event_uuids"].push_back(uuid(i));
    }
    return nlohmann::json{{"event", "calendar.sync_events"}, {"data", data}}.dump();
}

inline httplib::Headers v1_headers(const std::string& key = api_key)
{
    return {{"Content-Type", "application/json"}, {"x-meeting-baas-api-key", key}};
}

/// Starts the server on an ephemeral port with its own state; the API key and base URL come from the
/// environment, as the interface allows.
inline std::unique_ptr<server_process> start_server(const std::string& api_base_url, const std::string& state,
                                                    std::vector<std::string> extra = {},
                                                    std::vector<std::string> env = {})
{
    using namespace std::chrono_literals;
    std::vector<std::string> args{"--listen", "127.0.0.1:0", "--state", state, "--workers", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    env.push_back(std::string("MEETINGBAAS_API_KEY=") + api_key);
    env.push_back("MEETINGBAAS_API_BASE_URL=" + api_base_url);
    std::string failure;
    auto p = server_process::start(CALENDAR_SYNC_SERVER_PATH, args, env, 10s, &failure);
    INFO(failure);
    REQUIRE(p);
    return p;
}

inline std::unique_ptr<server_process> start_server(const meetingbaas_test::fake_meetingbaas_api& api,
                                                    const std::string& state,
                                                    std::vector<std::string> extra = {})
{
    return start_server(api.base_url(), state, std::move(extra));
}

/// True when the server's queue has nothing ready, scheduled or leased (every job settled).
inline bool queue_drained(int port)
{
    const auto metrics = get_path(port, "/metrics");
    if (!metrics) return false;
    for (const char* state : {"ready", "scheduled", "leased"}) {
        if (metrics->find(std::string("meetingbaas_queue_jobs{state=\"") + state + "\"} 0\n") ==
            std::string::npos) {
            return false;
        }
    }
    return true;
}

}  // namespace sync_e2e
