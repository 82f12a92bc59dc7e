// SPDX-License-Identifier: MIT
// End-to-end tests of examples/calendar_sync_server over real HTTP on loopback, against the loopback fake
// Meeting BaaS API (tests/support/fake_meetingbaas_api.hpp). Each test starts its own server process on
// its own state file.
#include "e2e/e2e_support.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas_test::fake_meetingbaas_api;
using namespace sync_e2e;

namespace {

bool all_posted_once(const fake_meetingbaas_api& api, const std::vector<int>& ids)
{
    for (int i : ids) {
        if (api.post_count(uuid(i)) != 1) return false;
    }
    return true;
}

std::size_t total_posts(const fake_meetingbaas_api& api, int first, int last)
{
    std::size_t n = 0;
    for (int i = first; i <= last; ++i) n += api.post_count(uuid(i));
    return n;
}

}  // namespace

TEST_CASE("calendar_sync_server schedules and cancels through both approaches, across pages", "[e2e]")
{
    fake_meetingbaas_api api({.api_key = api_key, .page_size = 2});
    for (int i = 1; i <= 9; ++i) api.set_event(meeting(i));
    api.set_event(meeting(10, true));         // already has a bot: nothing to do
    api.set_event(meeting(11, true, true));   // deleted, bot scheduled: cancel
    api.set_event(meeting(12, false, true));  // deleted, no bot: nothing
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state(), {"--bot-name", "E2E Recorder"});

    // Approach 2: fetch each affected event.
    CHECK(post_webhook(server->port(), sync_delivery({1, 2, 3, 10, 11}), v1_headers()) == 200);
    REQUIRE(
        eventually([&] { return all_posted_once(api, {1, 2, 3}) && api.delete_count(uuid(11)) == 1; }, 20s));
    // Approach 1: no affected_event_uuids: list with updated_at_gte and status=all, every page (page size 2).
    CHECK(post_webhook(server->port(), sync_delivery({}, false), v1_headers()) == 200);
    REQUIRE(eventually([&] { return all_posted_once(api, {1, 2, 3, 4, 5, 6, 7, 8, 9}); }, 20s));
    REQUIRE(eventually([&] { return queue_drained(server->port()); }, 20s));
    CHECK(all_posted_once(api, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    CHECK(api.post_count(uuid(10)) == 0);
    CHECK(api.delete_count(uuid(11)) == 1);
    CHECK(api.delete_count(uuid(12)) == 0);
    CHECK(api.event(uuid(4))->at("bot_param").at("bot_name") == "E2E Recorder");

    std::size_t pages = 0;
    bool saw_status_all = false;
    bool saw_updated_filter = false;
    for (const auto& c : api.calls()) {
        if (c.target.rfind("/calendar_events/?", 0) != 0 && c.target.rfind("/calendar_events?", 0) != 0)
            continue;
        ++pages;
        saw_status_all = saw_status_all || c.target.find("status=all") != std::string::npos;
        saw_updated_filter = saw_updated_filter || c.target.find("updated_at_gte=") != std::string::npos;
    }
    CHECK(pages >= 6);  // 12 events, 2 per page
    CHECK(saw_status_all);
    CHECK(saw_updated_filter);

    int status = 0;
    const auto metrics = get_path(server->port(), "/metrics", &status);
    REQUIRE(metrics);
    CHECK(status == 200);
    CHECK_THAT(*metrics,
               Catch::Matchers::ContainsSubstring("meetingbaas_webhook_deliveries_accepted_total 2"));
    CHECK_THAT(*metrics,
               Catch::Matchers::ContainsSubstring("meetingbaas_bots_scheduled_total{api_version=\"v1\"} 9"));
    CHECK_THAT(*metrics,
               Catch::Matchers::ContainsSubstring("meetingbaas_bots_cancelled_total{api_version=\"v1\"} 1"));
    CHECK_THAT(*metrics, Catch::Matchers::ContainsSubstring("meetingbaas_api_calls_total{status=\"200\"}"));
    CHECK_THAT(server->output(), !Catch::Matchers::ContainsSubstring(api_key));
}

TEST_CASE("calendar_sync_server turns a duplicate storm into one POST per event", "[e2e]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    for (int i = 1; i <= 5; ++i) api.set_event(meeting(i));
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state());
    const auto body = sync_delivery({1, 2, 3, 4, 5});
    std::atomic<int> ok{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 25; ++i) {
                    if (post_webhook(server->port(), body, v1_headers()) == 200) ++ok;
                }
            });
        }
    }
    CHECK(ok == 200);
    REQUIRE(eventually([&] { return all_posted_once(api, {1, 2, 3, 4, 5}); }, 20s));
    REQUIRE(eventually([&] { return queue_drained(server->port()); }, 20s));
    CHECK(all_posted_once(api, {1, 2, 3, 4, 5}));
    // One JSON line per delivery (written by the log thread, hence "eventually").
    const auto result_is = [](const char* r) {
        return [r](const nlohmann::json& e) { return e.value("result", "") == r; };
    };
    CHECK(eventually([&] { return server->count_events("delivery") == 200; }, 5s));
    CHECK(server->count_events("delivery", result_is("accepted")) == 1);
    CHECK(server->count_events("delivery", result_is("duplicate")) == 199);
    CHECK(metric(server->port(), "meetingbaas_webhook_duplicates_total") == 199);
}

TEST_CASE("calendar_sync_server gets every event right through 503s and 429s, honouring Retry-After", "[e2e]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    const std::vector<int> ids{1, 2, 3, 4, 5, 6, 7, 8};
    for (int i : ids) api.set_event(meeting(i));
    api.set_event(meeting(9, true, true));
    REQUIRE(api.start());
    api.set_faults({.p_503 = 0.3, .p_429 = 0.1, .retry_after = 1s, .seed = 20261127});
    temp_dir dir;
    auto server = start_server(api, dir.state());
    auto all = ids;
    all.push_back(9);
    CHECK(post_webhook(server->port(), sync_delivery(all), v1_headers()) == 200);
    REQUIRE(eventually([&] { return all_posted_once(api, ids) && api.delete_count(uuid(9)) == 1; }, 60s));
    REQUIRE(eventually([&] { return queue_drained(server->port()); }, 60s));
    CHECK(all_posted_once(api, ids));
    CHECK(api.delete_count(uuid(9)) == 1);

    // Every 429 was followed by a wait of at least Retry-After (1 s) before the same request was sent again.
    const auto calls = api.calls();
    std::size_t throttled = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].status != 429) continue;
        ++throttled;
        for (std::size_t j = i + 1; j < calls.size(); ++j) {
            if (calls[j].method != calls[i].method || calls[j].target != calls[i].target) continue;
            CAPTURE(calls[i].method, calls[i].target);
            CHECK(calls[j].at - calls[i].at >= 990ms);
            break;
        }
    }
    CHECK(throttled > 0);
    std::size_t unavailable = 0;
    for (const auto& c : calls) unavailable += c.status == 503 ? 1 : 0;
    CHECK(unavailable > 0);
}

TEST_CASE("calendar_sync_server killed with SIGKILL mid-flight resumes on restart without a second POST",
          "[e2e]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    std::vector<int> ids;
    for (int i = 1; i <= 12; ++i) {
        ids.push_back(i);
        api.set_event(meeting(i));
    }
    REQUIRE(api.start());
    api.set_faults({.p_slow = 1.0, .slow_delay = 150ms});  // every call takes 150 ms: jobs stay in flight
    temp_dir dir;
    {
        auto server = start_server(api, dir.state(), {"--workers", "3"});
        // Three deliveries, so that several jobs are leased when the process dies.
        CHECK(post_webhook(server->port(), sync_delivery({1, 2, 3, 4}), v1_headers()) == 200);
        CHECK(post_webhook(server->port(), sync_delivery({5, 6, 7, 8}), v1_headers()) == 200);
        CHECK(post_webhook(server->port(), sync_delivery({9, 10, 11, 12}), v1_headers()) == 200);
        REQUIRE(eventually([&] { return total_posts(api, 1, 12) >= 2; }, 20s));
        server->send_signal(SIGKILL);
        const auto status = server->wait_exit(5s);
        REQUIRE(status.has_value());
        CHECK(*status == -SIGKILL);
    }
    CHECK(total_posts(api, 1, 12) < 12);  // it really died mid-flight
    api.set_faults({});
    auto restarted = start_server(api, dir.state(), {"--workers", "3"});
    // Events whose POST was in flight wait for the dead process's claim to expire (15 s): by then that POST
    // has landed, the event is fetched again, shows its bot, and is not posted a second time.
    REQUIRE(eventually([&] { return all_posted_once(api, ids); }, 45s));
    REQUIRE(eventually([&] { return queue_drained(restarted->port()); }, 45s));
    for (int i : ids) {
        CAPTURE(i);
        CHECK(api.post_count(uuid(i)) == 1);
    }
}

TEST_CASE("calendar_sync_server stops on SIGTERM within 10 s and finishes the queue on the next start",
          "[e2e]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    std::vector<int> ids;
    for (int i = 1; i <= 10; ++i) {
        ids.push_back(i);
        api.set_event(meeting(i));
    }
    REQUIRE(api.start());
    api.set_faults({.p_slow = 1.0, .slow_delay = 400ms});
    temp_dir dir;
    {
        auto server = start_server(api, dir.state(), {"--workers", "1"});
        CHECK(post_webhook(server->port(), sync_delivery(ids), v1_headers()) == 200);
        std::this_thread::sleep_for(600ms);
        const auto sent = std::chrono::steady_clock::now();
        server->send_signal(SIGTERM);
        const auto status = server->wait_exit(10s);
        REQUIRE(status.has_value());
        CHECK(*status == 0);
        CHECK(std::chrono::steady_clock::now() - sent < 10s);
        CHECK(server->count_events("shutdown", [](const nlohmann::json& e) {
            return e.value("signal", "") == "SIGTERM";
        }) == 1);
        CHECK(server->count_events("stopped") == 1);
    }
    CHECK(total_posts(api, 1, 10) < 10);
    api.set_faults({});
    auto restarted = start_server(api, dir.state());
    REQUIRE(eventually([&] { return all_posted_once(api, ids); }, 20s));
    REQUIRE(eventually([&] { return queue_drained(restarted->port()); }, 20s));
    CHECK(all_posted_once(api, ids));
}

TEST_CASE("calendar_sync_server answers malformed and forged deliveries with 4xx and stays healthy", "[e2e]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    api.set_event(meeting(1));
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state(), {"--webhook-secret", secret});
    const int port = server->port();

    CHECK(post_webhook(port, "{not json", v1_headers()) == 400);
    CHECK(post_webhook(port, R"({"event":"calendar.sync_events","data":{}})", v1_headers()) == 400);
    CHECK(post_webhook(port, sync_delivery({1}), {{"Content-Type", "application/json"}}) == 401);
    CHECK(post_webhook(port, sync_delivery({1}), v1_headers("not-the-key")) == 401);
    CHECK(post_webhook(port, std::string((1 << 20) + 1, ' '), v1_headers()) == 413);
    CHECK(post_webhook(port, std::string(4 << 20, ' '), v1_headers()) == 413);

    // v2: a forged signature, and a correctly signed delivery whose timestamp is stale (2026-09-16).
    const std::string v2_body =
        R"({"event":"bot.failed","data":{"bot_id":"f0c3e290-8374-42fd-92d1-75ac8e695c3c","event_id":null,)"
        R"("error_message":"Bot was not accepted into the meeting","error_code":"BOT_NOT_ACCEPTED",)"
        R"("sent_at":"2026-09-16T15:12:09.331Z"},"extra":null})";
    httplib::Headers stale{{"svix-id", "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA"},
                           {"svix-timestamp", "1789571529"},
                           {"svix-signature", "v1,HS4HPtA64JHC5LQ5pPqUxFvOGjqjvrqR5mo7OFXpD0k="}};
    httplib::Headers forged{
        {"svix-id", "msg_x"},
        {"svix-timestamp", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count())},
        {"svix-signature", "v1,HS4HPtA64JHC5LQ5pPqUxFvOGjqjvrqR5mo7OFXpD0k="}};
    CHECK(post_webhook(port, v2_body, stale) == 401);
    CHECK(post_webhook(port, v2_body, forged) == 401);

    int status = 0;
    REQUIRE(get_path(port, "/healthz", &status));
    CHECK(status == 200);
    CHECK(post_webhook(port, sync_delivery({1}), v1_headers()) == 200);
    REQUIRE(eventually([&] { return api.post_count(uuid(1)) == 1; }, 20s));
    const auto metrics = get_path(port, "/metrics");
    REQUIRE(metrics);
    CHECK_THAT(*metrics, Catch::Matchers::ContainsSubstring(
                             "meetingbaas_webhook_rejected_total{reason=\"malformed\"} 2"));
    CHECK_THAT(*metrics, Catch::Matchers::ContainsSubstring(
                             "meetingbaas_webhook_rejected_total{reason=\"unauthenticated\"} 4"));
    CHECK_THAT(*metrics, Catch::Matchers::ContainsSubstring(
                             "meetingbaas_webhook_rejected_total{reason=\"too_large\"} 2"));
    const auto log = server->output();
    CHECK_THAT(log, !Catch::Matchers::ContainsSubstring(api_key));
    CHECK_THAT(log, !Catch::Matchers::ContainsSubstring(secret));
    CHECK_THAT(log, !Catch::Matchers::ContainsSubstring("not-the-key"));
}

TEST_CASE("calendar_sync_server refuses a second process on the same state file", "[e2e]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    REQUIRE(api.start());
    temp_dir dir;
    auto first = start_server(api, dir.state());
    std::string failure;
    auto second = server_process::start(CALENDAR_SYNC_SERVER_PATH,
                                        {"--listen", "127.0.0.1:0", "--state", dir.state(), "--api-key", "k"},
                                        {}, 3s, &failure);
    CHECK_FALSE(second);
    CHECK_THAT(failure, Catch::Matchers::ContainsSubstring("another server uses"));
}
