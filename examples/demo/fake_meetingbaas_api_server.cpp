// SPDX-License-Identifier: MIT
// The loopback stand-in for the Meeting BaaS v1 calendar API (tests/support/fake_meetingbaas_api.hpp) as a
// process, for bench/load.sh and manual experiments:
//
//   fake_meetingbaas_api_server [--api-key KEY] [--events N] [--page-size N] [--slow-ms N]
//
// Serves on 127.0.0.1, on an ephemeral port (the first line says which), with N future meetings of calendar
// 62cf1c20-6d72-4a52-9217-c391ec23d7bf (uuids 00000000-0000-4000-8000-000000000001, ...), until SIGTERM
// or SIGINT. --slow-ms N delays every answer by N ms (a slow API). On exit it prints the POST and DELETE
// counts.
#include "fake_meetingbaas_api.hpp"

#include <meetingbaas/core/timestamp.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <signal.h>

int main(int argc, char** argv)
{
    std::string key = "test-key";
    int events = 100;
    std::size_t page_size = 100;
    int slow_ms = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--api-key")
            key = argv[i + 1];
        else if (a == "--events")
            events = std::atoi(argv[i + 1]);
        else if (a == "--page-size")
            page_size = static_cast<std::size_t>(std::atoi(argv[i + 1]));
        else if (a == "--slow-ms")
            slow_ms = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: fake_meetingbaas_api_server [--api-key KEY] [--events N] "
                                 "[--page-size N] [--slow-ms N]\n");
            return 2;
        }
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    meetingbaas_test::fake_meetingbaas_api api({.api_key = key, .page_size = page_size});
    const auto now =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    for (int i = 1; i <= events; ++i) {
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
        api.set_event({{"uuid", uuid},
                       {"calendar_uuid", "62cf1c20-6d72-4a52-9217-c391ec23d7bf"},
                       {"google_id", std::string("g-") + uuid},
                       {"name", "Meeting " + std::to_string(i)},
                       {"start_time", meetingbaas::format_timestamp(now + std::chrono::hours(24 + i))},
                       {"end_time", meetingbaas::format_timestamp(now + std::chrono::hours(25 + i))},
                       {"deleted", false},
                       {"is_organizer", true},
                       {"is_recurring", false},
                       {"recurring_event_id", nullptr},
                       {"last_updated_at", meetingbaas::format_timestamp(now)},
                       {"meeting_url", "https://meet.google.com/fake-" + std::to_string(i)},
                       {"attendees", nlohmann::json::array()},
                       {"bot_param", nullptr},
                       {"raw", nlohmann::json::object()}});
    }
    if (slow_ms > 0) api.set_faults({.p_slow = 1.0, .slow_delay = std::chrono::milliseconds(slow_ms)});
    if (!api.start()) {
        std::fprintf(stderr, "cannot start\n");
        return 1;
    }
    std::printf("listening on 127.0.0.1:%d\n", api.port());
    std::fflush(stdout);
    int received = 0;
    sigwait(&signals, &received);
    std::size_t posts = 0;
    std::size_t deletes = 0;
    for (const auto& e : api.events()) {
        posts += api.post_count(e["uuid"].get<std::string>());
        deletes += api.delete_count(e["uuid"].get<std::string>());
    }
    std::printf("posts=%zu deletes=%zu calls=%zu\n", posts, deletes, api.calls().size());
    api.stop();
    return 0;
}
