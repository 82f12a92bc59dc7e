// SPDX-License-Identifier: MIT
// v2 calendar sync (issue 14): calendar.event_created / event_updated / event_cancelled / events_synced
// processed by the shared engine, over real HTTP on loopback (api_client + httplib_http_client) against the
// stateful fake API (tests/support/fake_meetingbaas_api.hpp).
#include <meetingbaas/adapters/httplib.hpp>
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include "fake_meetingbaas_api.hpp"
#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using meetingbaas::event_outcome;
using meetingbaas::sync_action;
using meetingbaas_test::fake_meetingbaas_api;

namespace {

constexpr const char* api_key = "v2-test-key";
constexpr const char* calendar = "aff72226-7c8f-46fc-864d-f349ad89eb06";

std::string at(std::chrono::system_clock::time_point t)
{
    return meetingbaas::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(t));
}

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

/// In-call retries fast enough for tests: 4 attempts within 5 s, 5-40 ms backoff, Retry-After up to 2 s.
constexpr auto fast_policy = meetingbaas::checked(meetingbaas::retry_policy<>{
    .backoff = {.initial = 5ms, .multiplier = 2.0, .maximum = 40ms},
    .jitter = meetingbaas::full_jitter,
    .stop = meetingbaas::stop_after_attempts(4) | meetingbaas::stop_after_elapsed(5s),
    .max_retry_after = 2s});

using client_type = meetingbaas::api_client<meetingbaas::httplib_http_client>;
using guard_type =
    meetingbaas::idempotency_guard<meetingbaas::memory_idempotency_store, sync_test::manual_clock>;

struct world {
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    fake_meetingbaas_api api{{.api_key = api_key, .page_size = 100, .now = at(now)}};
    sync_test::manual_clock clock{now};
    meetingbaas::memory_idempotency_store store;
    guard_type guard = *meetingbaas::make_idempotency_guard(store, {}, clock);
    meetingbaas::in_memory_event_state state;
    meetingbaas::event_locks locks;
    meetingbaas::sync_metrics metrics;
    meetingbaas::calendar_sync_options options;
    int next_update = 0;

    world()
    {
        options.v2_bot.bot_name = "Notetaker";
        REQUIRE(api.start());
        api.set_v2_calendar(nlohmann::json{{"calendar_id", calendar},
                                           {"calendar_platform", "google"},
                                           {"account_email", "owner@example.test"},
                                           {"status", "active"},
                                           {"synced_at", nullptr},
                                           {"created_at", at(now - 24h)}});
    }

    [[nodiscard]] client_type client(std::chrono::milliseconds timeout = 2s) const
    {
        return client_type(
            meetingbaas::httplib_http_client(api.base_url()),
            {.api_key = api_key, .base_url = api.base_url(), .timeout = timeout, .retry = fast_policy},
            meetingbaas::retry_effects{.random = meetingbaas::splitmix64(7)});
    }

    template <class Policy = meetingbaas::default_sync_policy>
    auto processor(client_type api_client, Policy policy = {})
    {
        auto p =
            meetingbaas::calendar_sync_processor<client_type, guard_type, meetingbaas::in_memory_event_state,
                                                 Policy,
                                                 sync_test::manual_clock>::create({.api =
                                                                                       std::move(api_client),
                                                                                   .guard = guard,
                                                                                   .state = state,
                                                                                   .locks = locks,
                                                                                   .options = options,
                                                                                   .policy = policy,
                                                                                   .metrics = &metrics,
                                                                                   .clock = clock});
        REQUIRE(p);
        return std::move(*p);
    }

    /// A v2 event (the details object), starting `in` from now, 30 minutes long.
    nlohmann::json event(int i, std::chrono::system_clock::duration in, const std::string& series,
                         std::string url = "https://meet.google.com/xqv-mtrw-kpd",
                         std::string status = "confirmed", std::string type = "one_off")
    {
        const auto start = now + in;
        return nlohmann::json{{"event_id", event_id(i)},
                              {"series_id", series},
                              {"event_type", type},
                              {"title", "Meeting " + std::to_string(i)},
                              {"description", nullptr},
                              {"location", nullptr},
                              {"start_time", at(start)},
                              {"end_time", at(start + 30min)},
                              {"timezone", "Europe/Paris"},
                              {"is_all_day", false},
                              {"status", status},
                              {"is_exception", false},
                              {"organizer_email", "owner@example.test"},
                              {"organizer_name", nullptr},
                              {"attendees", nlohmann::json::array()},
                              {"meeting_url", url.empty() ? nlohmann::json() : nlohmann::json(url)},
                              {"meeting_platform", url.empty() ? nlohmann::json() : nlohmann::json("meet")},
                              {"calendar_id", calendar},
                              {"calendar_platform", "google"},
                              {"bot_scheduled", false},
                              {"raw_payload", nullptr},
                              {"created_at", at(now - 2h)},
                              {"updated_at", at(now - 1h)}};
    }

    /// The webhook Instance of a stored event, as the API currently has it (or as given).
    nlohmann::json instance(const std::string& id) const
    {
        const auto e = *api.v2_event(id);
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

    /// A calendar.event_created / event_updated / event_cancelled delivery naming these stored events.
    std::string change(const std::string& kind, const std::string& series,
                       const std::vector<std::string>& ids, std::optional<bool> series_bot_scheduled = false,
                       std::string type = "one_off") const
    {
        auto instances = nlohmann::json::array();
        for (const auto& id : ids) instances.push_back(instance(id));
        nlohmann::json data = {{"calendar_id", calendar}, {"event_type", type}, {"series_id", series}};
        if (kind == "calendar.event_created") {
            data["series_bot_scheduled"] = series_bot_scheduled.value_or(false);
            data["instances"] = instances;
        } else if (kind == "calendar.event_updated") {
            data["series_bot_scheduled"] = series_bot_scheduled.value_or(false);
            data["is_exception"] = false;
            data["affected_instances"] = instances;
        } else {
            data["cancelled_instances"] = instances;
        }
        return nlohmann::json{{"event", kind}, {"data", data}}.dump();
    }

    /// A calendar.events_synced delivery: series -> instance ids.
    std::string synced(const std::vector<std::pair<std::string, std::vector<std::string>>>& series,
                       bool series_bot_scheduled = false) const
    {
        auto events = nlohmann::json::array();
        for (const auto& [sid, ids] : series) {
            auto instances = nlohmann::json::array();
            std::string type = "one_off";
            for (const auto& id : ids) {
                instances.push_back(instance(id));
                type = (*api.v2_event(id))["event_type"].get<std::string>();
            }
            events.push_back(nlohmann::json{{"event_type", type},
                                            {"series_id", sid},
                                            {"series_bot_scheduled", series_bot_scheduled},
                                            {"instances", instances}});
        }
        return nlohmann::json{{"event", "calendar.events_synced"},
                              {"data", {{"calendar_id", calendar}, {"events", events}}}}
            .dump();
    }

    /// Marks the stored event as having a bot (as if scheduled earlier), through the API itself.
    void give_bot(const std::string& id)
    {
        auto c = client();
        meetingbaas::v2_bot_config config;
        config.bot_name = "Earlier";
        const auto e = *api.v2_event(id);
        REQUIRE(c.v2_schedule_bots(calendar, {.series_id = e["series_id"], .event_id = id}, config));
    }

    std::size_t gets_of(const std::string& id) const
    {
        std::size_t n = 0;
        for (const auto& c : api.calls()) {
            if (c.method == "GET" && c.target.ends_with("/events/" + id)) ++n;
        }
        return n;
    }
};

const meetingbaas::event_report* find(const meetingbaas::sync_report& r, const std::string& id)
{
    for (const auto& e : r.events) {
        if (e.uuid == id) return &e;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("v2 job kinds route to the shared engine", "[calendar_sync_v2]")
{
    STATIC_REQUIRE(meetingbaas::calendar_job_version("calendar.sync_events") == meetingbaas::api_version::v1);
    STATIC_REQUIRE(meetingbaas::calendar_job_version("calendar.events_synced") ==
                   meetingbaas::api_version::v2);
    STATIC_REQUIRE(!meetingbaas::is_calendar_job_kind("calendar.connection_created"));
    STATIC_REQUIRE(meetingbaas::calendar_job_kinds.size() == 5);
    world w;
    auto p = w.processor(w.client());
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    const auto body = w.change("calendar.event_created", series_id(1), {event_id(1)});
    SECTION("the kind must match the payload")
    {
        const auto r = p.process_job("calendar.event_updated", body);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::fail);
        CHECK_THAT(r.verdict.reason, ContainsSubstring("not calendar.event_updated"));
    }
    SECTION("an unknown kind fails for good")
    {
        const auto r = p.process_job("bot.completed", body);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::fail);
    }
    SECTION("the right kind is processed")
    {
        const auto r = p.process_job("calendar.event_created", body);
        CHECK(r.version == meetingbaas::api_version::v2);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
        CHECK(w.api.v2_post_count(event_id(1)) == 1);
    }
    // Every call carried the API key (the fake answers 401 otherwise).
    for (const auto& c : w.api.calls()) CHECK(c.status != 401);
}

TEST_CASE("calendar.event_created: each instance is read, then scheduled once", "[calendar_sync_v2]")
{
    world w;
    auto p = w.processor(w.client());
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    w.api.set_v2_event(w.event(2, 25h, series_id(1)));
    w.api.set_v2_event(w.event(3, 26h, series_id(1), ""));  // no meeting URL: nothing to do
    const auto body =
        w.change("calendar.event_created", series_id(1), {event_id(1), event_id(2), event_id(3)});
    const auto r = p.process_job("calendar.event_created", body);
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
    REQUIRE(r.events.size() == 3);
    CHECK(find(r, event_id(1))->action == sync_action::schedule);
    CHECK(find(r, event_id(1))->outcome == event_outcome::applied);
    CHECK(find(r, event_id(1))->calendar_id == calendar);
    CHECK(find(r, event_id(3))->action == sync_action::none);
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
    CHECK(w.api.v2_post_count(event_id(2)) == 1);
    CHECK(w.api.v2_post_count(event_id(3)) == 0);
    CHECK(w.gets_of(event_id(1)) == 1);  // reconcile: the event was read first
    REQUIRE(w.api.v2_bot(event_id(1)));
    CHECK((*w.api.v2_bot(event_id(1)))["bot_name"] == "Notetaker");
    // the POST body
    for (const auto& c : w.api.calls()) {
        if (c.method != "POST") continue;
        const auto b = nlohmann::json::parse(c.body);
        CHECK(b["bot_name"] == "Notetaker");
        CHECK(b["all_occurrences"] == false);
        CHECK(b["series_id"] == series_id(1));
        CHECK(b.contains("event_id"));
    }
    CHECK(w.metrics.v2.bots_scheduled == 2);
    CHECK(w.metrics.v1.bots_scheduled == 0);
    // A Svix redelivery, or a resend with a new svix-id (the same payload in another job): nothing more.
    const auto again = p.process_job("calendar.event_created", body);
    CHECK(again.verdict.verdict == meetingbaas::job_verdict::kind::done);
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
    CHECK(w.api.v2_post_count(event_id(2)) == 1);
    CHECK(w.metrics.v2.bots_scheduled == 2);
}

TEST_CASE("calendar.event_updated: a moved meeting keeps its bot, a removed URL cancels it",
          "[calendar_sync_v2]")
{
    world w;
    auto p = w.processor(w.client());
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    w.api.set_v2_event(w.event(2, 30h, series_id(2)));
    w.give_bot(event_id(1));
    w.give_bot(event_id(2));
    w.api.reset_counts();
    REQUIRE(
        w.api.update_v2_event(event_id(1), {{"start_time", at(w.now + 48h)}, {"end_time", at(w.now + 49h)}}));
    REQUIRE(w.api.update_v2_event(event_id(2), {{"meeting_url", nullptr}, {"meeting_platform", nullptr}}));
    const auto moved = p.process_job("calendar.event_updated",
                                     w.change("calendar.event_updated", series_id(1), {event_id(1)}, true));
    CHECK(find(moved, event_id(1))->action == sync_action::none);
    CHECK(find(moved, event_id(1))->reason == "bot already scheduled");
    const auto no_url = p.process_job("calendar.event_updated",
                                      w.change("calendar.event_updated", series_id(2), {event_id(2)}, true));
    CHECK(find(no_url, event_id(2))->action == sync_action::cancel);
    CHECK(find(no_url, event_id(2))->outcome == event_outcome::applied);
    CHECK(w.api.v2_delete_count(event_id(2)) == 1);
    CHECK_FALSE(w.api.v2_bot(event_id(2)));
    CHECK(w.api.v2_writes() == 1);
    CHECK(w.metrics.v2.bots_cancelled == 1);
    // the DELETE carried its JSON body
    for (const auto& c : w.api.calls()) {
        if (c.method != "DELETE") continue;
        CHECK(nlohmann::json::parse(c.body) == nlohmann::json{{"series_id", series_id(2)},
                                                              {"all_occurrences", false},
                                                              {"event_id", event_id(2)}});
    }
}

TEST_CASE("calendar.event_cancelled: the bot is cancelled once", "[calendar_sync_v2]")
{
    world w;
    auto p = w.processor(w.client());
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    w.give_bot(event_id(1));
    REQUIRE(w.api.update_v2_event(event_id(1), {{"status", "cancelled"}}));
    const auto body = w.change("calendar.event_cancelled", series_id(1), {event_id(1)}, std::nullopt);
    const auto r = p.process_job("calendar.event_cancelled", body);
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
    CHECK(find(r, event_id(1))->action == sync_action::cancel);
    CHECK(find(r, event_id(1))->reason == "event cancelled");
    CHECK(w.api.v2_delete_count(event_id(1)) == 1);
    const auto again = p.process_job("calendar.event_cancelled", body);
    CHECK(find(again, event_id(1))->action == sync_action::none);
    CHECK(w.api.v2_delete_count(event_id(1)) == 1);
    CHECK(w.metrics.v2.bots_cancelled == 1);
}

TEST_CASE("calendar.events_synced: every instance of every series, each with its own series_id",
          "[calendar_sync_v2]")
{
    world w;
    auto p = w.processor(w.client());
    for (int i = 1; i <= 3; ++i)
        w.api.set_v2_event(w.event(i, std::chrono::hours(24 * i), series_id(1), "https://meet.google.com/a",
                                   "confirmed", "recurring"));
    w.api.set_v2_event(w.event(4, 30h, series_id(2)));
    w.api.set_v2_event(w.event(5, 40h, series_id(3), ""));  // an all-day offsite without a URL
    const auto body = w.synced({{series_id(1), {event_id(1), event_id(2), event_id(3)}},
                                {series_id(2), {event_id(4)}},
                                {series_id(3), {event_id(5)}}});
    const auto r = p.process_job("calendar.events_synced", body);
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
    REQUIRE(r.events.size() == 5);
    for (int i = 1; i <= 4; ++i) CHECK(w.api.v2_post_count(event_id(i)) == 1);
    CHECK(w.api.v2_post_count(event_id(5)) == 0);
    CHECK(find(r, event_id(4))->series_id == series_id(2));
    for (const auto& c : w.api.calls()) {
        if (c.method != "POST") continue;
        const auto b = nlohmann::json::parse(c.body);
        const bool first_series = b["event_id"] != event_id(4);
        CHECK(b["series_id"] == (first_series ? series_id(1) : series_id(2)));
    }
    CHECK(w.metrics.v2.bots_scheduled == 4);
}

TEST_CASE("a recurring series: per occurrence by default, or the whole series once with the option",
          "[calendar_sync_v2]")
{
    world w;
    for (int i = 1; i <= 4; ++i)
        w.api.set_v2_event(w.event(i, std::chrono::hours(24 * 7 * i), series_id(9), "https://zoom.us/j/1",
                                   "confirmed", "recurring"));
    const auto body = w.synced({{series_id(9), {event_id(1), event_id(2), event_id(3), event_id(4)}}});
    SECTION("default: one POST per occurrence")
    {
        auto p = w.processor(w.client());
        const auto r = p.process_job("calendar.events_synced", body);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
        for (int i = 1; i <= 4; ++i) CHECK(w.api.v2_post_count(event_id(i)) == 1);
        CHECK(w.api.v2_series_post_count(series_id(9)) == 0);
    }
    SECTION("schedule_whole_series: one POST with all_occurrences, once per series")
    {
        auto p = w.processor(w.client(), meetingbaas::default_sync_policy{.schedule_whole_series = true});
        const auto r = p.process_job("calendar.events_synced", body);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
        CHECK(w.api.v2_series_post_count(series_id(9)) == 1);
        for (int i = 1; i <= 4; ++i) {
            CHECK(w.api.v2_post_count(event_id(i)) == 0);
            CHECK(w.api.v2_bot(event_id(i)));  // every occurrence has its bot
        }
        CHECK(find(r, event_id(1))->action == sync_action::schedule_series);
        // The other occurrences, read after the series POST, already have their bot.
        CHECK(find(r, event_id(2))->action == sync_action::none);
        CHECK(w.metrics.v2.bots_scheduled == 4);
        for (const auto& c : w.api.calls()) {
            if (c.method != "POST") continue;
            const auto b = nlohmann::json::parse(c.body);
            CHECK(b["all_occurrences"] == true);
            CHECK_FALSE(b.contains("event_id"));
        }
        // A delivery that says the series already has a bot schedules single occurrences instead.
        w.api.set_v2_event(w.event(5, std::chrono::hours(24 * 7 * 5), series_id(9), "https://zoom.us/j/1",
                                   "confirmed", "recurring"));
        const auto later =
            p.process_job("calendar.event_created",
                          w.change("calendar.event_created", series_id(9), {event_id(5)}, true, "recurring"));
        CHECK(find(later, event_id(5))->action == sync_action::schedule);
        CHECK(w.api.v2_post_count(event_id(5)) == 1);
        CHECK(w.api.v2_series_post_count(series_id(9)) == 1);
    }
}

TEST_CASE("a stale delivery arriving after a newer one does no wrong action", "[calendar_sync_v2]")
{
    world w;
    auto p = w.processor(w.client());
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    const auto created = w.change("calendar.event_created", series_id(1), {event_id(1)});  // has a URL
    // The event was cancelled since; the cancellation is processed first.
    REQUIRE(w.api.update_v2_event(event_id(1), {{"status", "cancelled"}}));
    const auto cancelled =
        p.process_job("calendar.event_cancelled",
                      w.change("calendar.event_cancelled", series_id(1), {event_id(1)}, std::nullopt));
    CHECK(cancelled.verdict.verdict == meetingbaas::job_verdict::kind::done);
    // The late event_created describes a state long gone: the event as read is cancelled, nothing to do.
    const auto late = p.process_job("calendar.event_created", created);
    CHECK(find(late, event_id(1))->action == sync_action::none);
    CHECK(w.api.v2_writes() == 0);

    // A read that is older than the state already applied (a lagging replica) is ignored.
    REQUIRE(w.api.update_v2_event(event_id(1), {{"status", "confirmed"}}, at(w.now + 10min)));
    (void)p.process_job("calendar.event_updated",
                        w.change("calendar.event_updated", series_id(1), {event_id(1)}));
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
    REQUIRE(w.api.remove_v2_event(event_id(1)));
    auto older = w.event(1, 24h, series_id(1));
    older["updated_at"] = at(w.now - 5h);
    w.api.set_v2_event(older);  // no bot in this old copy
    const auto stale = p.process_job("calendar.event_updated",
                                     w.change("calendar.event_updated", series_id(1), {event_id(1)}));
    CHECK(find(stale, event_id(1))->outcome == event_outcome::stale);
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
    CHECK(w.metrics.v2.events_stale == 1);
}

TEST_CASE("200 identical deliveries from 8 threads: one POST per instance", "[calendar_sync_v2][concurrency]")
{
    world w;
    std::vector<std::string> ids;
    for (int i = 1; i <= 10; ++i) {
        w.api.set_v2_event(w.event(i, std::chrono::hours(24 + i), series_id(i)));
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> series;
    for (int i = 1; i <= 10; ++i) series.push_back({series_id(i), {event_id(i)}});
    const auto body = w.synced(series);
    meetingbaas::in_memory_job_queue<> q;
    for (int j = 0; j < 200; ++j) REQUIRE(q.enqueue({"calendar.events_synced", body, "", {}}));
    std::atomic<int> problems{0};
    // One processor per thread, made here: world::processor asserts (REQUIRE), and Catch2 3.7's assertions
    // are not thread-safe (8 REQUIREs at once: the likely cause of a failure of this test seen once).
    std::vector<decltype(w.processor(w.client()))> processors;
    for (int t = 0; t < 8; ++t) processors.push_back(w.processor(w.client()));
    {
        std::vector<std::jthread> threads;
        for (auto& p : processors) {
            threads.emplace_back([&] {
                meetingbaas::sync_worker worker(
                    meetingbaas::sync_worker_deps{.queue = q, .processor = p, .metrics = &w.metrics});
                for (;;) {
                    auto step = worker.run_once();
                    if (!step) {
                        ++problems;
                        return;
                    }
                    if (!step->leased) return;
                    if (step->settled != meetingbaas::worker_step::settlement::acknowledged) ++problems;
                }
            });
        }
    }
    CHECK(problems == 0);
    for (int i = 1; i <= 10; ++i) CHECK(w.api.v2_post_count(event_id(i)) == 1);
    CHECK(w.metrics.v2.bots_scheduled == 10);
    CHECK(w.metrics.v2.jobs_done == 200);
}

TEST_CASE("30 % 503 and 10 % 429 (with retryAfter): every instance scheduled once, nothing dead",
          "[calendar_sync_v2][faults]")
{
    world w;
    w.api.set_faults({.p_503 = 0.3, .p_429 = 0.1, .retry_after = 1s, .seed = 20261206});
    std::vector<std::pair<std::string, std::vector<std::string>>> series;
    for (int i = 1; i <= 8; ++i) {
        w.api.set_v2_event(w.event(i, std::chrono::hours(24 + i), series_id(i)));
        series.push_back({series_id(i), {event_id(i)}});
    }
    const auto body = w.synced(series);
    auto p = w.processor(w.client());
    meetingbaas::in_memory_job_queue<sync_test::manual_clock> q(w.clock);
    meetingbaas::sync_worker worker(
        meetingbaas::sync_worker_deps{.queue = q, .processor = p, .metrics = &w.metrics, .clock = w.clock});
    REQUIRE(q.enqueue({"calendar.events_synced", body, "k", {}}));
    for (int round = 0; round < 200; ++round) {
        auto step = worker.run_once();
        REQUIRE(step);
        if (step->leased) continue;
        auto due = q.next_due();
        REQUIRE(due);
        if (!due->has_value()) break;
        w.clock.advance(
            std::chrono::duration_cast<std::chrono::milliseconds>(**due - meetingbaas::queue_now(w.clock)) +
            1ms);
    }
    const auto stats = q.stats();
    REQUIRE(stats);
    CHECK(stats->dead == 0);
    CHECK(stats->completed == 1);
    for (int i = 1; i <= 8; ++i) CHECK(w.api.v2_post_count(event_id(i)) == 1);
    std::size_t injected_429 = 0;
    std::size_t injected_503 = 0;
    for (const auto& c : w.api.calls()) {
        injected_429 += c.injected == meetingbaas_test::fake_api_fault::status_429 ? 1U : 0U;
        injected_503 += c.injected == meetingbaas_test::fake_api_fault::status_503 ? 1U : 0U;
    }
    CHECK(injected_503 > 0);  // the faults did happen
    CHECK(injected_429 > 0);
}

TEST_CASE("partial success: a per-event error is final for that instance, counted, its reason kept",
          "[calendar_sync_v2][faults]")
{
    world w;
    for (int i = 1; i <= 3; ++i) w.api.set_v2_event(w.event(i, std::chrono::hours(24 + i), series_id(1)));
    w.api.set_v2_item_error(event_id(2), "NO_MEETING_URL", "The event has no meeting URL");
    auto p = w.processor(w.client());
    meetingbaas::in_memory_job_queue<sync_test::manual_clock> q(w.clock);
    meetingbaas::sync_worker worker(
        meetingbaas::sync_worker_deps{.queue = q, .processor = p, .metrics = &w.metrics, .clock = w.clock});
    REQUIRE(
        q.enqueue({"calendar.event_created",
                   w.change("calendar.event_created", series_id(1), {event_id(1), event_id(2), event_id(3)}),
                   "k",
                   {}}));
    const auto step = worker.run_once();
    REQUIRE(step);
    const auto* refused = find(step->report, event_id(2));
    REQUIRE(refused != nullptr);
    CHECK(refused->outcome == event_outcome::rejected);
    CHECK_THAT(refused->reason, ContainsSubstring("NO_MEETING_URL"));
    REQUIRE(refused->error);
    CHECK(refused->error->provider_code == "NO_MEETING_URL");
    CHECK(find(step->report, event_id(1))->outcome == event_outcome::applied);
    CHECK(find(step->report, event_id(3))->outcome == event_outcome::applied);
    CHECK(step->settled == meetingbaas::worker_step::settlement::dead_lettered);
    CHECK_THAT(step->settle_detail, ContainsSubstring(event_id(2)));
    CHECK_THAT(step->settle_detail, ContainsSubstring("NO_MEETING_URL"));
    CHECK(w.metrics.v2.events_rejected == 1);
    CHECK(w.metrics.v2.bots_scheduled == 2);
    // Not retried.
    w.clock.advance(1h);
    const auto idle = worker.run_once();
    REQUIRE(idle);
    CHECK_FALSE(idle->leased);
    CHECK(w.api.v2_post_count(event_id(2)) == 1);
}

TEST_CASE("final answers: DELETE 409, 404, the daily bot cap", "[calendar_sync_v2][faults]")
{
    world w;
    auto p = w.processor(w.client());
    SECTION("DELETE 409: the bot joins in less than 4 minutes")
    {
        w.api.set_v2_event(w.event(1, 2min, series_id(1)));
        w.give_bot(event_id(1));
        REQUIRE(w.api.update_v2_event(event_id(1), {{"status", "cancelled"}}));
        const auto r =
            p.process_job("calendar.event_cancelled",
                          w.change("calendar.event_cancelled", series_id(1), {event_id(1)}, std::nullopt));
        CHECK(find(r, event_id(1))->outcome == event_outcome::rejected);
        CHECK(find(r, event_id(1))->error->http_status == 409);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::fail);
        CHECK(w.api.v2_delete_count(event_id(1)) == 1);  // not retried in-call
    }
    SECTION("404 on the read: nothing to do")
    {
        w.api.set_v2_event(w.event(1, 24h, series_id(1)));
        const auto body = w.change("calendar.event_created", series_id(1), {event_id(1)});
        REQUIRE(w.api.remove_v2_event(event_id(1)));
        const auto r = p.process_job("calendar.event_created", body);
        CHECK(find(r, event_id(1))->outcome == event_outcome::not_found);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
        CHECK(w.api.v2_writes() == 0);
    }
    SECTION("the daily bot cap is not retried within the job")
    {
        w.api.set_v2_event(w.event(1, 24h, series_id(1)));
        w.api.set_faults({.methods = {"POST"}});
        w.api.inject(meetingbaas_test::fake_api_fault::daily_cap);
        const auto r = p.process_job("calendar.event_created",
                                     w.change("calendar.event_created", series_id(1), {event_id(1)}));
        CHECK(find(r, event_id(1))->outcome == event_outcome::rejected);
        CHECK(find(r, event_id(1))->error->is_daily_bot_cap());
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::fail);
        std::size_t posts = 0;
        for (const auto& c : w.api.calls()) posts += c.method == "POST" ? 1U : 0U;
        CHECK(posts == 1);
    }
}

TEST_CASE("a dropped answer to a POST is resolved by reading the event again", "[calendar_sync_v2][faults]")
{
    world w;
    auto p = w.processor(w.client());
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    w.api.set_faults({.methods = {"POST"}});
    w.api.inject(meetingbaas_test::fake_api_fault::drop_after);  // applied, the answer lost
    const auto r = p.process_job("calendar.event_created",
                                 w.change("calendar.event_created", series_id(1), {event_id(1)}));
    CHECK(find(r, event_id(1))->outcome == event_outcome::applied);
    CHECK(find(r, event_id(1))->confirmed_by_reread);
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
    CHECK(w.api.v2_post_count(event_id(1)) == 1);  // never sent twice
    CHECK(w.metrics.v2.bots_scheduled == 1);
    CHECK(w.metrics.v2.writes_unconfirmed == 1);
    CHECK(w.gets_of(event_id(1)) == 2);  // read, POST (answer lost), read again
}

TEST_CASE("slow replies and malformed 2xx answers are transient", "[calendar_sync_v2][faults]")
{
    world w;
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    const auto body = w.change("calendar.event_created", series_id(1), {event_id(1)});
    auto p = w.processor(w.client(300ms));
    SECTION("slower than the per-attempt timeout")
    {
        w.api.set_faults({.p_slow = 1.0, .slow_delay = 800ms, .methods = {"GET"}});
    }
    SECTION("a 2xx with a malformed body")
    {
        w.api.set_faults({.p_malformed = 1.0, .methods = {"GET"}});
    }
    const auto r = p.process_job("calendar.event_created", body);
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::retry);
    CHECK(meetingbaas::is_retryable(r.verdict.classification));
    CHECK(w.api.v2_writes() == 0);
    w.api.set_faults({});
    const auto ok = p.process_job("calendar.event_created", body);
    CHECK(ok.verdict.verdict == meetingbaas::job_verdict::kind::done);
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
}

TEST_CASE("a worker killed after its POST: the claim expires, the next attempt reads, nothing is sent twice",
          "[calendar_sync_v2][faults]")
{
    world w;
    w.api.set_v2_event(w.event(1, 24h, series_id(1)));
    const auto body = w.change("calendar.event_created", series_id(1), {event_id(1)});
    auto p = w.processor(w.client());
    // The dead worker: it read the event, claimed the action, its POST landed, and it died (kill -9) before
    // completing the claim or recording anything.
    auto e = w.client().v2_get_event(calendar, event_id(1));
    REQUIRE(e);
    auto claim = w.guard.begin_for(meetingbaas::v2_action_key(sync_action::schedule, calendar, *e), {},
                                   w.options.action_lease);
    REQUIRE((claim && claim->acquired()));
    meetingbaas::v2_bot_config config;
    config.bot_name = "Notetaker";
    REQUIRE(
        w.client().v2_schedule_bots(calendar, {.series_id = series_id(1), .event_id = event_id(1)}, config));
    // The new process reads first: the bot shows, so nothing is done (the dead claim is left to expire).
    const auto r = p.process_job("calendar.event_created", body);
    CHECK(find(r, event_id(1))->action == sync_action::none);
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
    // And if the API did not show it yet, the live claim would stop a second POST until it expired.
    REQUIRE(w.client().v2_delete_bots(calendar, {.series_id = series_id(1), .event_id = event_id(1)}));
    const auto busy = p.process_job("calendar.event_created", body);
    CHECK(find(busy, event_id(1))->outcome == event_outcome::busy);
    CHECK(w.api.v2_post_count(event_id(1)) == 1);
    w.clock.advance(w.options.action_lease + 1s);
    const auto after = p.process_job("calendar.event_created", body);
    CHECK(find(after, event_id(1))->outcome == event_outcome::applied);
    CHECK(w.api.v2_post_count(event_id(1)) == 2);
}

TEST_CASE("calendar.events_synced judged from the listing gives the same result with fewer reads",
          "[calendar_sync_v2]")
{
    world w;
    std::vector<std::pair<std::string, std::vector<std::string>>> series;
    for (int i = 1; i <= 12; ++i) {
        w.api.set_v2_event(
            w.event(i, std::chrono::hours(24 + i), series_id(i), i % 4 == 0 ? "" : "https://zoom.us/j/2"));
        series.push_back({series_id(i), {event_id(i)}});
    }
    for (int i = 1; i <= 6; ++i) {
        if (i % 4 != 0) w.give_bot(event_id(i));  // half of them are done already
    }
    const auto body = w.synced(series);
    w.api.reset_counts();
    const bool listing = GENERATE(false, true);
    CAPTURE(listing);
    w.options.v2_list_threshold = listing ? 5 : 0;
    auto p = w.processor(w.client());
    const auto r = p.process_job("calendar.events_synced", body);
    CHECK(r.listed == listing);
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
    std::size_t writes = 0;
    for (int i = 1; i <= 12; ++i) {
        const bool needs = i > 6 && i % 4 != 0;
        CHECK(w.api.v2_post_count(event_id(i)) == (needs ? 1U : 0U));
        CHECK(static_cast<bool>(w.api.v2_bot(event_id(i))) == (i % 4 != 0));
        writes += needs ? 1U : 0U;
        // Listed: only the instances with an action are read one by one.
        CHECK(w.gets_of(event_id(i)) == (listing && !needs ? 0U : 1U));
    }
    CHECK(w.metrics.v2.bots_scheduled == writes);
}

TEST_CASE("the receiver queues every calendar delivery as a job named after its wire event",
          "[calendar_sync_v2]")
{
    // (The v1 API-key verifier keeps this routing test short; the body's event type decides the route.)
    meetingbaas::webhook_verifier verifier;
    verifier.accept_v1(*meetingbaas::api_key_keyring::from_keys({"receiver-key"}));
    meetingbaas::memory_idempotency_store store;
    meetingbaas::idempotency_guard guard{store};
    meetingbaas::in_memory_job_queue<> queue;
    int others = 0;
    auto on_other = [&](const meetingbaas::delivery&, const meetingbaas::verified_body&) { ++others; };
    meetingbaas::webhook_receiver rx{meetingbaas::receiver_deps{
        .verifier = verifier, .guard = guard, .queue = queue, .on_other = on_other}};
    const meetingbaas::http_headers headers{{"x-meeting-baas-api-key", "receiver-key"}};
    std::vector<std::string> kinds;
    for (const char* file :
         {"v1.calendar.sync_events.json", "v2.calendar.event_created.json", "v2.calendar.event_updated.json",
          "v2.calendar.event_cancelled.json", "v2.calendar.events_synced.json"}) {
        std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/" + file, std::ios::binary);
        const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto r = rx.handle("POST", headers, body);
        CAPTURE(file);
        CHECK(r.status == 200);
        CHECK(r.kind == meetingbaas::receipt_kind::accepted);
        CHECK(rx.handle("POST", headers, body).kind == meetingbaas::receipt_kind::duplicate);
        kinds.push_back(r.event_type);
    }
    CHECK(others == 0);
    // Leased in order: each job's kind is the wire event name, which the processor dispatches on.
    std::vector<std::string> leased;
    for (;;) {
        auto job = queue.lease(1min);
        REQUIRE(job);
        if (!job->has_value()) break;
        leased.push_back((*job)->kind);
        CHECK(meetingbaas::is_calendar_job_kind((*job)->kind));
    }
    CHECK(leased == std::vector<std::string>(meetingbaas::calendar_job_kinds.begin(),
                                             meetingbaas::calendar_job_kinds.end()));
    CHECK(kinds == leased);
    // Other v2 events still go to the application.
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/v2.calendar.connection_created.json",
                     std::ios::binary);
    const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(rx.handle("POST", headers, body).kind == meetingbaas::receipt_kind::other_event);
    CHECK(others == 1);
}
