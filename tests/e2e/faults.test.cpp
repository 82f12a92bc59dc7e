// SPDX-License-Identifier: MIT
// Issue 12, section 1, end to end: an accepted webhook is never lost to a transient API failure. The real
// calendar_sync_server binary over loopback HTTP, against the loopback fake API, with the API refusing
// connections, slower than the per-attempt timeout, dropping 25 % of its connections, answering 2xx with a
// malformed body, and with SIGTERM arriving while a call is in flight. In each, the job stays queued and is
// retried, never dead-lettered, and succeeds once the fault is gone, with one POST per event.
//
// Assertions read structured facts only: the fake API's call log and counters, and the server's /metrics.
#include <meetingbaas/core/timestamp.hpp>

#include "e2e/e2e_support.hpp"
#include "e2e/server_process.hpp"
#include "fake_calendar_api.hpp"
#include "fake_meetingbaas_api.hpp"

#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using meetingbaas_test::fake_meetingbaas_api;
using sync_e2e::eventually;
using sync_e2e::server_process;
using sync_e2e::temp_dir;

namespace {

constexpr const char* api_key = "e2e-faults-key-5d2e";
constexpr const char* calendar_id = "62cf1c20-6d72-4a52-9217-c391ec23d7bf";

std::string at(std::chrono::system_clock::duration from_now)
{
    return meetingbaas::format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now() + from_now));
}

std::string uuid(int i)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-9000-%012d", i);
    return buf;
}

nlohmann::json meeting(int i)
{
    return sync_test::make_event(uuid(i), "Meeting " + std::to_string(i), at(std::chrono::hours(24 + i)),
                                 at(std::chrono::hours(25 + i)), at(-30min),
                                 "https://meet.google.com/faults-" + std::to_string(i));
}

std::string sync_delivery(const std::vector<int>& ids)
{
    nlohmann::json data = {{"calendar_id", calendar_id}, {"last_updated_ts", at(-1h)}};
    data["affected_event_uuids"] = nlohmann::json::array();
    for (int i : ids) data["affected_event_uuids"].push_back(uuid(i));
    return nlohmann::json{{"event", "calendar.sync_events"}, {"data", data}}.dump();
}

httplib::Headers v1_headers()
{
    return {{"Content-Type", "application/json"}, {"x-meeting-baas-api-key", api_key}};
}

std::unique_ptr<server_process> start_server(const std::string& api_base_url, const std::string& state)
{
    std::string failure;
    auto p = server_process::start(
        CALENDAR_SYNC_SERVER_PATH, {"--listen", "127.0.0.1:0", "--state", state, "--workers", "2"},
        {std::string("MEETINGBAAS_API_KEY=") + api_key, "MEETINGBAAS_API_BASE_URL=" + api_base_url}, 10s,
        &failure);
    INFO(failure);
    REQUIRE(p);
    return p;
}

/// The value of one sample of /metrics (`name` with its labels, e.g. meetingbaas_queue_jobs{state="dead"}),
/// or nullopt when the server did not answer or has no such sample.
std::optional<double> metric(int port, const std::string& sample)
{
    const auto text = sync_e2e::get_path(port, "/metrics");
    if (!text) return std::nullopt;
    std::size_t at_line = 0;
    while (at_line < text->size()) {
        const auto end = text->find('\n', at_line);
        const std::string_view line(text->data() + at_line,
                                    (end == std::string::npos ? text->size() : end) - at_line);
        if (line.size() > sample.size() && line.substr(0, sample.size()) == sample &&
            line[sample.size()] == ' ') {
            return std::strtod(std::string(line.substr(sample.size() + 1)).c_str(), nullptr);
        }
        if (end == std::string::npos) break;
        at_line = end + 1;
    }
    return std::nullopt;
}

double value(int port, const std::string& sample)
{
    return metric(port, sample).value_or(-1.0);
}

const std::string dead = "meetingbaas_queue_jobs{state=\"dead\"}";
const std::string dead_lettered = "meetingbaas_jobs_dead_lettered_total{api_version=\"v1\"}";
const std::string retried = "meetingbaas_jobs_retried_total{api_version=\"v1\"}";
const std::string done = "meetingbaas_jobs_done_total{api_version=\"v1\"}";

bool drained(int port)
{
    for (const char* state : {"ready", "scheduled", "leased", "dead"}) {
        if (value(port, std::string("meetingbaas_queue_jobs{state=\"") + state + "\"}") != 0.0) return false;
    }
    return true;
}

bool posted_once(const fake_meetingbaas_api& api, const std::vector<int>& ids)
{
    for (int i : ids) {
        if (api.post_count(uuid(i)) != 1) return false;
    }
    return true;
}

/// A loopback port nothing listens on (bound, read, closed).
int closed_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("API base URL on a closed port: the job is retried, then succeeds once the API is up",
          "[e2e][faults]")
{
    const int port = closed_port();
    fake_meetingbaas_api api({.api_key = api_key, .port = port});
    for (int i = 1; i <= 2; ++i) api.set_event(meeting(i));
    temp_dir dir;
    auto server = start_server("http://127.0.0.1:" + std::to_string(port), dir.state());
    const int s = server->port();
    CHECK(sync_e2e::post_webhook(s, sync_delivery({1, 2}), v1_headers()) == 200);
    // Connection refused again and again: retried, never dead.
    REQUIRE(eventually([&] { return value(s, retried) >= 2; }, 30s));
    CHECK(value(s, dead) == 0);
    CHECK(value(s, dead_lettered) == 0);
    CHECK(value(s, done) == 0);
    // The API comes up on that port: the job completes, one POST per event.
    REQUIRE(api.start());
    REQUIRE(eventually([&] { return posted_once(api, {1, 2}) && drained(s); }, 90s));
    CHECK(value(s, done) == 1);
    CHECK(value(s, dead_lettered) == 0);
}

TEST_CASE("an API slower than the per-attempt timeout: retried, then succeeds", "[e2e][faults]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    api.set_event(meeting(1));
    REQUIRE(api.start());
    api.set_faults({.p_slow = 1.0, .slow_delay = 5s});  // the server gives each attempt 4 s
    temp_dir dir;
    auto server = start_server(api.base_url(), dir.state());
    const int s = server->port();
    CHECK(sync_e2e::post_webhook(s, sync_delivery({1}), v1_headers()) == 200);
    REQUIRE(eventually([&] { return value(s, retried) >= 1; }, 40s));
    CHECK(value(s, dead) == 0);
    CHECK(api.post_count(uuid(1)) == 0);
    api.set_faults({});
    REQUIRE(eventually([&] { return posted_once(api, {1}) && drained(s); }, 90s));
    CHECK(value(s, dead_lettered) == 0);
}

TEST_CASE("25 % of connections dropped without a reply: every event POSTed once, nothing dead",
          "[e2e][faults]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    const std::vector<int> ids{1, 2, 3};
    for (int i : ids) api.set_event(meeting(i));
    REQUIRE(api.start());
    api.set_faults({.p_drop = 0.25, .seed = 12});
    temp_dir dir;
    auto server = start_server(api.base_url(), dir.state());
    const int s = server->port();
    CHECK(sync_e2e::post_webhook(s, sync_delivery(ids), v1_headers()) == 200);
    REQUIRE(eventually([&] { return posted_once(api, ids) && drained(s); }, 150s));
    CHECK(value(s, dead_lettered) == 0);
    std::size_t dropped = 0;
    for (const auto& c : api.calls())
        dropped += c.injected == meetingbaas_test::fake_api_fault::drop ? 1U : 0U;
    CHECK(dropped > 0);  // the faults did happen
}

TEST_CASE("a 2xx with a malformed body is retried, not dead-lettered", "[e2e][faults]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    api.set_event(meeting(1));
    REQUIRE(api.start());
    api.set_faults({.p_malformed = 1.0, .methods = {"GET"}});
    temp_dir dir;
    auto server = start_server(api.base_url(), dir.state());
    const int s = server->port();
    CHECK(sync_e2e::post_webhook(s, sync_delivery({1}), v1_headers()) == 200);
    REQUIRE(eventually([&] { return value(s, retried) >= 2; }, 30s));
    CHECK(value(s, dead) == 0);
    CHECK(value(s, dead_lettered) == 0);
    api.set_faults({});
    REQUIRE(eventually([&] { return posted_once(api, {1}) && drained(s); }, 90s));
}

TEST_CASE(
    "SIGTERM while a POST is in flight: the job stays queued; after a restart it completes, POSTed once",
    "[e2e][faults]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    api.set_event(meeting(1));
    REQUIRE(api.start());
    // Only the POST is slow, slower than the server's 4 s per attempt: it is in flight when SIGTERM comes,
    // its answer is lost, and the fake applies it later.
    api.set_faults({.p_slow = 1.0, .slow_delay = 6s, .methods = {"POST"}});
    temp_dir dir;
    {
        auto server = start_server(api.base_url(), dir.state());
        CHECK(sync_e2e::post_webhook(server->port(), sync_delivery({1}), v1_headers()) == 200);
        REQUIRE(eventually(
            [&] {
                for (const auto& c : api.calls()) {
                    if (c.method == "GET" && c.target.find(uuid(1)) != std::string::npos) return true;
                }
                return false;
            },
            20s));
        std::this_thread::sleep_for(1s);  // the POST has been sent and is waiting for its answer
        server->send_signal(SIGTERM);
        const auto code = server->wait_exit(20s);
        REQUIRE(code.has_value());
        CHECK(*code == 0);
    }
    api.set_faults({});
    auto restarted = start_server(api.base_url(), dir.state());
    const int s = restarted->port();
    CHECK(value(s, dead) == 0);  // queued, not dead
    REQUIRE(eventually([&] { return drained(s) && api.post_count(uuid(1)) == 1; }, 90s));
    CHECK(api.post_count(uuid(1)) == 1);
    CHECK(api.event(uuid(1))->at("bot_param").is_object());
    CHECK(value(s, dead_lettered) == 0);
}
