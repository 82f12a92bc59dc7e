// SPDX-License-Identifier: MIT
// End-to-end tests of v2 (issue 14) through examples/calendar_sync_server: Svix-signed calendar.event_*
// deliveries on the same endpoint as v1, processed to bot POSTs and DELETEs against the loopback fake API
// (tests/support/fake_meetingbaas_api.hpp), with secret rotation, duplicates, forged and stale signatures,
// a server without a secret, and kill -9 mid-processing. The facts are read from the fake API's call log
// and counters, the server's /metrics and its JSON log lines.
#include "e2e/e2e_support.hpp"
#include "e2e/v2_signing.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using meetingbaas_test::fake_meetingbaas_api;
using namespace sync_e2e;

namespace {

constexpr const char* v2_calendar = "aff72226-7c8f-46fc-864d-f349ad89eb06";
// A second secret: the endpoint's secret after a rotation (both are configured during the rotation).
constexpr const char* new_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* foreign_secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

std::string event_id(int i)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "6c093e09-7cca-490d-96d9-%012d", i);
    return buf;
}

std::string series_id(int i)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "3a9e51dd-a5a6-4745-97c0-%012d", i);
    return buf;
}

/// The fake API with one v2 calendar, and builders of its events and of v2 deliveries that name them.
struct v2_world {
    fake_meetingbaas_api api{{.api_key = api_key, .page_size = 100, .now = at(0s)}};

    v2_world()
    {
        REQUIRE(api.start());
        api.set_v2_calendar(nlohmann::json{{"calendar_id", v2_calendar},
                                           {"calendar_platform", "google"},
                                           {"account_email", "owner@example.test"},
                                           {"status", "active"},
                                           {"synced_at", nullptr},
                                           {"created_at", at(-24h)}});
    }

    /// A future v2 event (GET .../events/{event_id} details), starting in 24 + i hours, with a meeting URL
    /// and no bot: the default policy schedules it.
    void add_event(int i, int series)
    {
        api.set_v2_event(
            nlohmann::json{{"event_id", event_id(i)},
                           {"series_id", series_id(series)},
                           {"event_type", "one_off"},
                           {"title", "Meeting " + std::to_string(i)},
                           {"description", nullptr},
                           {"location", nullptr},
                           {"start_time", at(std::chrono::hours(24 + i))},
                           {"end_time", at(std::chrono::hours(24 + i) + 30min)},
                           {"timezone", "Europe/Paris"},
                           {"is_all_day", false},
                           {"status", "confirmed"},
                           {"is_exception", false},
                           {"organizer_email", "owner@example.test"},
                           {"organizer_name", nullptr},
                           {"attendees", nlohmann::json::array()},
                           {"meeting_url", "https://meet.google.com/e2e-v2-" + std::to_string(i)},
                           {"meeting_platform", "meet"},
                           {"calendar_id", v2_calendar},
                           {"calendar_platform", "google"},
                           {"bot_scheduled", false},
                           {"raw_payload", nullptr},
                           {"created_at", at(-2h)},
                           {"updated_at", at(-1h)}});
    }

    /// The webhook instance of a stored event, as the API has it now.
    [[nodiscard]] nlohmann::json instance(int i) const
    {
        const auto e = *api.v2_event(event_id(i));
        return nlohmann::json{{"event_id", e["event_id"]},
                              {"start", e["start_time"]},
                              {"end", e["end_time"]},
                              {"title", e["title"]},
                              {"status", e["status"]},
                              {"is_all_day", e["is_all_day"]},
                              {"is_exception", e["is_exception"]},
                              {"bot_scheduled", e["bot_scheduled"]},
                              {"meeting_url", e["meeting_url"]},
                              {"meeting_platform", e["meeting_platform"]}};
    }

    /// calendar.event_created / event_updated / event_cancelled naming these events of one series.
    [[nodiscard]] std::string change(const std::string& kind, int series, const std::vector<int>& ids) const
    {
        auto instances = nlohmann::json::array();
        for (int i : ids) instances.push_back(instance(i));
        nlohmann::json data = {
            {"calendar_id", v2_calendar}, {"event_type", "one_off"}, {"series_id", series_id(series)}};
        if (kind == "calendar.event_created") {
            data["series_bot_scheduled"] = false;
            data["instances"] = instances;
        } else if (kind == "calendar.event_updated") {
            data["series_bot_scheduled"] = false;
            data["is_exception"] = false;
            data["affected_instances"] = instances;
        } else {
            data["cancelled_instances"] = instances;
        }
        return nlohmann::json{{"event", kind}, {"data", data}}.dump();
    }

    /// calendar.events_synced: one series entry per event (each with its own series_id).
    [[nodiscard]] std::string synced(const std::vector<std::pair<int, int>>& event_and_series) const
    {
        auto events = nlohmann::json::array();
        for (const auto& [i, s] : event_and_series) {
            events.push_back(nlohmann::json{{"event_type", "one_off"},
                                            {"series_id", series_id(s)},
                                            {"series_bot_scheduled", false},
                                            {"instances", nlohmann::json::array({instance(i)})}});
        }
        return nlohmann::json{{"event", "calendar.events_synced"},
                              {"data", {{"calendar_id", v2_calendar}, {"events", events}}}}
            .dump();
    }

    [[nodiscard]] std::size_t posts(int first, int last) const
    {
        std::size_t n = 0;
        for (int i = first; i <= last; ++i) n += api.v2_post_count(event_id(i));
        return n;
    }
    [[nodiscard]] bool posted_once(int first, int last) const
    {
        for (int i = first; i <= last; ++i) {
            if (api.v2_post_count(event_id(i)) != 1) return false;
        }
        return true;
    }
};

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double metric_or_zero(int port, const std::string& series)
{
    return metric(port, series).value_or(-1.0);
}

std::string deliveries(const char* version, const char* result)
{
    return std::string("meetingbaas_webhook_deliveries_total{api_version=\"") + version + "\",result=\"" +
           result + "\"}";
}

}  // namespace

TEST_CASE("v2 calendar events on the v1 endpoint: created, updated, cancelled and synced to bot POST/DELETE",
          "[e2e][v2]")
{
    v2_world w;
    for (int i = 1; i <= 6; ++i) w.add_event(i, i);
    temp_dir dir;
    // Two secrets during a rotation: deliveries signed with either are accepted.
    auto server =
        start_server(w.api, dir.state(),
                     {"--webhook-secret", std::string(secret) + ", " + new_secret, "--bot-name", "E2E v2"});
    const int port = server->port();

    // calendar.event_created for events 1 and 2, signed with the old secret: one POST each.
    const auto created = w.change("calendar.event_created", 1, {1, 2});
    CHECK(post_webhook(port, created, v2_headers(created, "msg_e2e_created", secret)) == 200);
    REQUIRE(eventually([&] { return w.posted_once(1, 2); }, 20s));
    const auto bot = w.api.v2_bot(event_id(1));
    REQUIRE(bot);
    CHECK(bot->value("bot_name", "") == "E2E v2");

    // The same delivery again (Svix redelivery: same svix-id, same body): 200, nothing enqueued, no call.
    REQUIRE(eventually([&] { return queue_drained(port); }, 20s));
    const auto calls_before = w.api.calls().size();
    CHECK(post_webhook(port, created, v2_headers(created, "msg_e2e_created", secret)) == 200);
    CHECK(metric_or_zero(port, deliveries("v2", "duplicate")) == 1);
    CHECK(metric_or_zero(port, "meetingbaas_queue_jobs{state=\"completed\"}") == 1);

    // calendar.event_updated: event 1 lost its meeting URL -> DELETE its bot; signed with the new secret.
    REQUIRE(w.api.update_v2_event(event_id(1), {{"meeting_url", nullptr}, {"meeting_platform", nullptr}}));
    const auto updated = w.change("calendar.event_updated", 1, {1});
    CHECK(post_webhook(port, updated, v2_headers(updated, "msg_e2e_updated", new_secret)) == 200);
    REQUIRE(eventually([&] { return w.api.v2_delete_count(event_id(1)) == 1; }, 20s));

    // calendar.event_cancelled: event 2 -> DELETE, with the JSON body naming the event.
    REQUIRE(w.api.update_v2_event(event_id(2), {{"status", "cancelled"}}));
    const auto cancelled = w.change("calendar.event_cancelled", 2, {2});
    CHECK(post_webhook(port, cancelled, v2_headers(cancelled, "msg_e2e_cancelled", new_secret)) == 200);
    REQUIRE(eventually([&] { return w.api.v2_delete_count(event_id(2)) == 1; }, 20s));
    bool delete_body_named_event = false;
    for (const auto& c : w.api.calls()) {
        if (c.method == "DELETE" && c.body.find(event_id(2)) != std::string::npos)
            delete_body_named_event = true;
    }
    CHECK(delete_body_named_event);

    // calendar.events_synced naming 3..6 (new) and 1 (no URL now, no bot): POSTs for 3..6 only.
    const auto synced = w.synced({{1, 1}, {3, 3}, {4, 4}, {5, 5}, {6, 6}});
    CHECK(post_webhook(port, synced, v2_headers(synced, "msg_e2e_synced", secret, unix_now(), true)) == 200);
    REQUIRE(eventually([&] { return w.posted_once(3, 6); }, 20s));
    REQUIRE(eventually([&] { return queue_drained(port); }, 20s));

    // A v2 bot event: 200, logged, no API call.
    const auto bot_event = read_file(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/v2.bot.completed.json");
    REQUIRE(!bot_event.empty());
    const auto calls_before_bot = w.api.calls().size();
    CHECK(post_webhook(port, bot_event, v2_headers(bot_event, "msg_e2e_bot", secret)) == 200);
    CHECK(server->wait_for_event(
        "delivery", [](const nlohmann::json& e) { return e.value("result", "") == "other_event"; }, 5s));

    // Every instance acted on once; the duplicate added no call; the counters carry the API version.
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
    CHECK(w.api.v2_post_count(event_id(2)) == 1);
    CHECK(w.api.v2_delete_count(event_id(1)) == 1);
    CHECK(w.api.v2_delete_count(event_id(2)) == 1);
    CHECK(w.api.calls().size() == calls_before_bot);
    CHECK(calls_before < calls_before_bot);
    CHECK(metric_or_zero(port, deliveries("v2", "accepted")) == 4);
    CHECK(metric_or_zero(port, deliveries("v2", "other_event")) == 1);
    CHECK(metric_or_zero(port, deliveries("v1", "accepted")) == 0);
    CHECK(metric_or_zero(port, "meetingbaas_bots_scheduled_total{api_version=\"v2\"}") == 6);
    CHECK(metric_or_zero(port, "meetingbaas_bots_cancelled_total{api_version=\"v2\"}") == 2);
    CHECK(metric_or_zero(port, "meetingbaas_jobs_done_total{api_version=\"v2\"}") == 4);
    CHECK(metric_or_zero(port, "meetingbaas_bots_scheduled_total{api_version=\"v1\"}") == 0);
    CHECK(metric_or_zero(port, "meetingbaas_queue_jobs{state=\"dead\"}") == 0);
    CHECK_THAT(server->output(), !ContainsSubstring(secret));
    CHECK_THAT(server->output(), !ContainsSubstring(new_secret));
}

TEST_CASE("v2 deliveries with a forged, stale or tampered signature are refused with 401, counted, and cause "
          "no API call",
          "[e2e][v2]")
{
    v2_world w;
    w.add_event(1, 1);
    temp_dir dir;
    auto server = start_server(w.api, dir.state(), {"--webhook-secret", secret});
    const int port = server->port();
    const auto body = w.change("calendar.event_created", 1, {1});

    // Signed with a secret the server does not have.
    CHECK(post_webhook(port, body, v2_headers(body, "msg_forged", foreign_secret)) == 401);
    // Signed with the right secret 10 minutes ago (outside the 5-minute tolerance): a replay.
    CHECK(post_webhook(port, body, v2_headers(body, "msg_stale", secret, unix_now() - 600)) == 401);
    // Signed for another body.
    CHECK(post_webhook(port, body, v2_headers(body + " ", "msg_tampered", secret)) == 401);
    // Signed 10 minutes in the future.
    CHECK(post_webhook(port, body, v2_headers(body, "msg_future", secret, unix_now() + 600)) == 401);

    CHECK(metric_or_zero(port, "meetingbaas_webhook_rejected_total{reason=\"unauthenticated\"}") == 4);
    CHECK(metric_or_zero(port, deliveries("v2", "unauthenticated")) == 4);
    CHECK(metric_or_zero(port, deliveries("v2", "accepted")) == 0);
    // Each refusal is logged with the verifier's reason (the log is written by its own thread).
    CHECK(eventually(
        [&] {
            return server->count_events("delivery", [](const nlohmann::json& e) {
                return e.value("status", 0) == 401 && !e.value("detail", "").empty();
            }) == 4;
        },
        5s));
    CHECK(server->count_events("delivery", [](const nlohmann::json& e) {
        return e.value("detail", "").find("timestamp_too_old") != std::string::npos;
    }) == 1);

    // The genuine delivery still goes through, after the refusals.
    CHECK(post_webhook(port, body, v2_headers(body, "msg_genuine", secret)) == 200);
    REQUIRE(eventually([&] { return w.posted_once(1, 1); }, 20s));
    REQUIRE(eventually([&] { return queue_drained(port); }, 20s));
    std::size_t writes = 0;
    for (const auto& c : w.api.calls()) writes += c.method != "GET" ? 1U : 0U;
    CHECK(writes == 1);  // only the genuine delivery's POST
}

TEST_CASE("a v2 delivery to a server without --webhook-secret: 401 and a log line saying why", "[e2e][v2]")
{
    v2_world w;
    w.add_event(1, 1);
    temp_dir dir;
    auto server = start_server(w.api, dir.state());
    const int port = server->port();
    const auto body = w.change("calendar.event_created", 1, {1});
    CHECK(post_webhook(port, body, v2_headers(body, "msg_no_secret", secret)) == 401);
    CHECK(server->wait_for_event(
        "delivery",
        [](const nlohmann::json& e) {
            return e.value("status", 0) == 401 &&
                   e.value("why", "").find("no --webhook-secret is configured") != std::string::npos;
        },
        5s));
    CHECK(metric_or_zero(port, deliveries("v2", "unauthenticated")) == 1);
    // v1 keeps working on the same endpoint.
    CHECK(post_webhook(port, sync_delivery({}, false), v1_headers()) == 200);
    CHECK(metric_or_zero(port, deliveries("v1", "accepted")) == 1);
    CHECK(w.api.v2_writes() == 0);
}

TEST_CASE("v2: kill -9 mid-processing, then a restart: every instance POSTed once, none lost", "[e2e][v2]")
{
    v2_world w;
    constexpr int n = 12;
    for (int i = 1; i <= n; ++i) w.add_event(i, (i - 1) / 4 + 1);  // three series of four
    w.api.set_faults({.p_slow = 1.0, .slow_delay = 150ms});  // every call takes 150 ms: jobs stay in flight
    temp_dir dir;
    {
        auto server = start_server(w.api, dir.state(), {"--webhook-secret", secret, "--workers", "3"});
        // Three deliveries of four instances each, so that several jobs are leased when the process dies.
        for (int d = 0; d < 3; ++d) {
            const auto body =
                w.change("calendar.event_created", d + 1, {4 * d + 1, 4 * d + 2, 4 * d + 3, 4 * d + 4});
            CHECK(post_webhook(server->port(), body,
                               v2_headers(body, "msg_kill_" + std::to_string(d), secret)) == 200);
        }
        REQUIRE(eventually([&] { return w.posts(1, n) >= 2; }, 20s));
        server->send_signal(SIGKILL);
        const auto status = server->wait_exit(5s);
        REQUIRE(status.has_value());
        CHECK(*status == -SIGKILL);
    }
    CHECK(w.posts(1, n) < n);  // it really died mid-flight
    w.api.set_faults({});
    auto restarted = start_server(w.api, dir.state(), {"--webhook-secret", secret, "--workers", "3"});
    // Jobs the dead process had leased are due again at once.
    CHECK(restarted->count_events(
              "listening", [](const nlohmann::json& e) { return e.value("requeued_jobs", 0) >= 1; }) == 1);
    // Instances whose POST was in flight wait for the dead process's claim to expire (15 s): by then that
    // POST has landed, the event is read again, shows its bot, and is not posted a second time.
    const bool all_once = eventually([&] { return w.posted_once(1, n); }, 45s);
    if (!all_once) {
        std::string counts;
        for (int i = 1; i <= n; ++i) {
            counts += ' ';  // appended, not " " + to_string(...): a GCC 12 -O3 false positive
            counts += std::to_string(w.api.v2_post_count(event_id(i)));
        }
        UNSCOPED_INFO("POSTs per instance:" << counts);
        UNSCOPED_INFO("restarted server:\n" << restarted->output());
    }
    REQUIRE(all_once);
    REQUIRE(eventually([&] { return queue_drained(restarted->port()); }, 45s));
    for (int i = 1; i <= n; ++i) {
        CAPTURE(i);
        CHECK(w.api.v2_post_count(event_id(i)) == 1);
    }
    CHECK(metric_or_zero(restarted->port(), "meetingbaas_queue_jobs{state=\"dead\"}") == 0);
}

TEST_CASE("v2: 200 deliveries of one payload from 8 threads, redeliveries and resends: one POST per instance",
          "[e2e][v2]")
{
    v2_world w;
    for (int i = 1; i <= 3; ++i) w.add_event(i, 1);
    temp_dir dir;
    auto server = start_server(w.api, dir.state(), {"--webhook-secret", secret, "--workers", "3"});
    const int port = server->port();
    const auto body = w.change("calendar.event_created", 1, {1, 2, 3});
    std::atomic<int> ok{0};
    {
        std::vector<std::jthread> senders;
        for (int t = 0; t < 8; ++t) {
            senders.emplace_back([&, t] {
                for (int k = 0; k < 25; ++k) {
                    // Half are Svix redeliveries (one svix-id), half resends (a new svix-id, the same
                    // payload).
                    const auto id =
                        k % 2 == 0 ? std::string("msg_storm") : "msg_resend_" + std::to_string(t * 25 + k);
                    if (post_webhook(port, body, v2_headers(body, id, secret)) == 200) ++ok;
                }
            });
        }
    }
    CHECK(ok == 200);
    REQUIRE(eventually([&] { return w.posted_once(1, 3); }, 20s));
    REQUIRE(eventually([&] { return queue_drained(port); }, 20s));
    CHECK(w.posted_once(1, 3));
    // v2 calendar deliveries are deduplicated by svix-id: one job for the 104 redeliveries of msg_storm,
    // one per resend (96); their actions are deduplicated by the action keys (one POST per instance).
    CHECK(metric_or_zero(port, deliveries("v2", "accepted")) == 1 + 96);
    CHECK(metric_or_zero(port, deliveries("v2", "duplicate")) == 104 - 1);
    CHECK(metric_or_zero(port, "meetingbaas_bots_scheduled_total{api_version=\"v2\"}") == 3);
}

TEST_CASE("v2 under 30 % 503 and 10 % 429 (retryAfter): every instance POSTed once, nothing dead-lettered",
          "[e2e][v2]")
{
    v2_world w;
    constexpr int n = 8;
    for (int i = 1; i <= n; ++i) w.add_event(i, (i - 1) / 4 + 1);
    w.api.set_faults({.p_503 = 0.3, .p_429 = 0.1, .retry_after = 1s, .seed = 14});
    temp_dir dir;
    auto server = start_server(w.api, dir.state(), {"--webhook-secret", secret});
    const int port = server->port();
    for (int d = 0; d < 2; ++d) {
        const auto body =
            w.change("calendar.event_created", d + 1, {4 * d + 1, 4 * d + 2, 4 * d + 3, 4 * d + 4});
        CHECK(post_webhook(port, body, v2_headers(body, "msg_faults_" + std::to_string(d), secret)) == 200);
    }
    REQUIRE(eventually([&] { return w.posted_once(1, n) && queue_drained(port); }, 60s));
    CHECK(metric_or_zero(port, "meetingbaas_queue_jobs{state=\"dead\"}") == 0);
    CHECK(metric_or_zero(port, "meetingbaas_api_calls_total{status=\"503\"}") > 0);
    const auto calls = w.api.calls();
    for (int i = 1; i <= n; ++i) {
        CAPTURE(i);
        // POSTs the fake answered 2xx for this instance (the refused ones, 503 and 429, were not acted on).
        std::size_t answered = 0;
        for (const auto& c : calls) {
            if (c.method == "POST" && c.status >= 200 && c.status < 300 &&
                c.body.find(event_id(i)) != std::string::npos)
                ++answered;
        }
        CHECK(answered == 1);
        CHECK(w.api.v2_bot(event_id(i)).has_value());
    }
    // One bot per instance, and no instance scheduled twice: each bot was created by exactly one applied
    // POST.
    CHECK(metric_or_zero(port, "meetingbaas_bots_scheduled_total{api_version=\"v2\"}") == n);
}

TEST_CASE("v2: a stale delivery after a newer one, and a partial success, through the server", "[e2e][v2]")
{
    v2_world w;
    for (int i = 1; i <= 3; ++i) w.add_event(i, 1);
    w.api.set_v2_item_error(event_id(3), "NO_MEETING_URL", "The event has no meeting URL");
    temp_dir dir;
    auto server = start_server(w.api, dir.state(), {"--webhook-secret", secret});
    const int port = server->port();

    const auto created = w.change("calendar.event_created", 1, {1, 2, 3});
    CHECK(post_webhook(port, created, v2_headers(created, "msg_stale_created", secret)) == 200);
    REQUIRE(eventually([&] { return w.posted_once(1, 2) && queue_drained(port); }, 20s));
    // Partial success: the API refused instance 3 in its errors[]: final for it, counted, not retried.
    CHECK(metric_or_zero(port, "meetingbaas_events_rejected_total{api_version=\"v2\"}") == 1);
    CHECK(w.api.v2_post_count(event_id(3)) == 1);
    CHECK_FALSE(w.api.v2_bot(event_id(3)).has_value());
    CHECK(server->wait_for_event(
        "job",
        [](const nlohmann::json& e) {
            return e.value("reason", "").find("NO_MEETING_URL") != std::string::npos;
        },
        5s));

    // Event 1 is cancelled; the cancellation arrives first, then an older update that still shows it
    // confirmed (Svix retries for hours): the server reads the event's current truth and does nothing.
    const auto before_cancel = w.change("calendar.event_updated", 1, {1});  // the event as it was
    REQUIRE(w.api.update_v2_event(event_id(1), {{"status", "cancelled"}}));
    const auto cancelled = w.change("calendar.event_cancelled", 1, {1});
    CHECK(post_webhook(port, cancelled, v2_headers(cancelled, "msg_stale_cancelled", secret)) == 200);
    REQUIRE(eventually([&] { return w.api.v2_delete_count(event_id(1)) == 1 && queue_drained(port); }, 20s));
    CHECK(post_webhook(port, before_cancel, v2_headers(before_cancel, "msg_stale_update", secret)) == 200);
    REQUIRE(eventually(
        [&] { return metric_or_zero(port, deliveries("v2", "accepted")) == 3 && queue_drained(port); }, 20s));
    CHECK(w.api.v2_post_count(event_id(1)) == 1);  // not scheduled again
    CHECK(w.api.v2_delete_count(event_id(1)) == 1);
    CHECK_FALSE(w.api.v2_bot(event_id(1)).has_value());
    CHECK(metric_or_zero(port, "meetingbaas_queue_jobs{state=\"dead\"}") == 1);  // the partial success's job
}
