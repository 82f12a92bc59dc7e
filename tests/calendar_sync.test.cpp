// SPDX-License-Identifier: MIT
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>

#include "fake_calendar_api.hpp"
#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas::event_outcome;
using meetingbaas::sync_action;
using sync_test::make_event;

namespace {

constexpr const char* calendar = "62cf1c20-6d72-4a52-9217-c391ec23d7bf";
constexpr const char* new_uuid = "bf23a894-e787-4629-8947-43f4bea4ccd8";
constexpr const char* booked_uuid = "f9dc9fa7-9eb9-4b53-b193-2b6834706c78";
constexpr const char* deleted_uuid = "672ea9c0-d974-417e-9c70-cd8b71d3a3d5";

std::string sync_body(const std::string& ts, const std::vector<std::string>& uuids, bool with_uuids = true)
{
    nlohmann::json data = {{"calendar_id", calendar}, {"last_updated_ts", ts}};
    if (with_uuids) data["affected_event_uuids"] = uuids;
    return nlohmann::json{{"event", "calendar.sync_events"}, {"data", data}}.dump();
}

meetingbaas::v1_event parsed(const nlohmann::json& j)
{
    auto e = meetingbaas::parse_v1_event(j);
    REQUIRE(e);
    return std::move(*e);
}

struct harness {
    sync_test::manual_clock clock;
    sync_test::fake_calendar api;
    meetingbaas::memory_idempotency_store store;
    meetingbaas::idempotency_guard<meetingbaas::memory_idempotency_store, sync_test::manual_clock> guard =
        *meetingbaas::make_idempotency_guard(store, {}, clock);
    meetingbaas::in_memory_event_state state;
    meetingbaas::event_locks locks;
    meetingbaas::sync_metrics metrics;

    using processor_type =
        meetingbaas::calendar_sync_processor<sync_test::fake_calendar_api, decltype(guard),
                                             meetingbaas::in_memory_event_state,
                                             meetingbaas::default_sync_policy, sync_test::manual_clock>;

    processor_type processor()
    {
        return processor_type(sync_test::fake_calendar_api{&api}, guard, state, locks, {}, {}, &metrics,
                              clock);
    }

    harness()
    {
        api.put(make_event(new_uuid, "Robotics weekly sync", "2026-09-16T12:00:00Z", "2026-09-16T12:30:00Z",
                           "2026-09-14T08:42:16.913204Z", "https://meet.google.com/hbn-qwpe-zta"));
        api.put(make_event(booked_uuid, "Pricing review", "2026-09-17T14:30:00Z", "2026-09-17T15:15:00Z",
                           "2026-09-14T08:42:17.004561Z", "https://meet.google.com/rcz-ymkd-wfa", false,
                           true));
        api.put(make_event(deleted_uuid, "Board prep", "2026-09-18T08:00:00Z", "2026-09-18T09:00:00Z",
                           "2026-09-14T08:42:17.051877Z", "", true, true));
    }
};

const meetingbaas::event_report* find(const meetingbaas::sync_report& r, const std::string& uuid)
{
    for (const auto& e : r.events) {
        if (e.uuid == uuid) return &e;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("default_sync_policy records upcoming meetings and cancels removed ones", "[calendar_sync]")
{
    const meetingbaas::default_sync_policy policy;
    const auto now = meetingbaas::parse_timestamp("2026-09-15T00:00:00Z")->time;
    const auto url = std::string("https://meet.google.com/abc-defg-hij");
    const auto future_start = std::string("2026-09-16T12:00:00Z");
    const auto future_end = std::string("2026-09-16T12:30:00Z");
    const auto lu = std::string("2026-09-14T08:00:00Z");

    CHECK(policy(parsed(make_event("a", "n", future_start, future_end, lu, url)), now).action ==
          sync_action::schedule);
    CHECK(policy(parsed(make_event("a", "n", future_start, future_end, lu, url, false, true)), now).action ==
          sync_action::none);  // already has a bot
    CHECK(policy(parsed(make_event("a", "n", "2026-09-01T10:00:00Z", "2026-09-01T11:00:00Z", lu, url)), now)
              .action == sync_action::none);  // ended
    CHECK(policy(parsed(make_event("a", "n", future_start, future_end, lu, url, true, true)), now).action ==
          sync_action::cancel);  // deleted with a bot
    CHECK(policy(parsed(make_event("a", "n", future_start, future_end, lu, "", false, true)), now).action ==
          sync_action::cancel);  // URL removed, bot scheduled
    CHECK(policy(parsed(make_event("a", "n", future_start, future_end, lu, url, true, false)), now).action ==
          sync_action::none);  // deleted, nothing to cancel
    CHECK(policy(parsed(make_event("a", "n", future_start, future_end, lu, "", false, false)), now).action ==
          sync_action::none);  // no URL, no bot
    const auto d = policy(parsed(make_event("a", "n", future_start, future_end, lu, url, true, true)), now);
    CHECK_THAT(d.reason, Catch::Matchers::ContainsSubstring("deleted"));
}

TEST_CASE("calendar_sync_processor fetches each affected event and acts on it once", "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    const auto body = sync_body("2026-09-14T08:42:17Z", {new_uuid, booked_uuid, deleted_uuid});
    const auto report = p.process_body(body);

    CHECK_FALSE(report.listed);
    CHECK(report.calendar_id == calendar);
    CHECK(report.verdict.verdict == meetingbaas::job_verdict::kind::done);
    REQUIRE(report.events.size() == 3);
    REQUIRE(find(report, new_uuid) != nullptr);
    CHECK(find(report, new_uuid)->action == sync_action::schedule);
    CHECK(find(report, new_uuid)->outcome == event_outcome::applied);
    CHECK(find(report, booked_uuid)->action == sync_action::none);
    CHECK(find(report, deleted_uuid)->action == sync_action::cancel);
    CHECK(h.api.posts(new_uuid) == 1);
    CHECK(h.api.posts(booked_uuid) == 0);
    CHECK(h.api.deletes(deleted_uuid) == 1);
    CHECK(h.metrics.bots_scheduled == 1);
    CHECK(h.metrics.bots_cancelled == 1);
    CHECK(h.api.list_queries().empty());
    // The event listed with updated_at_gte would have missed the first event (08:42:16.9 < 08:42:17).
}

TEST_CASE("calendar_sync_processor lists with updated_at_gte and status=all without affected UUIDs",
          "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    const bool null_uuids = GENERATE(true, false);
    std::string body;
    if (null_uuids) {
        body =
            R"({"event":"calendar.sync_events","data":{"calendar_id":"62cf1c20-6d72-4a52-9217-c391ec23d7bf",)"
            R"("last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":null}})";
    } else {
        body = sync_body("2026-09-14T08:42:17Z", {}, true);  // empty list: also "unknown set"
    }
    const auto report = p.process_body(body);
    CHECK(report.listed);
    const auto queries = h.api.list_queries();
    REQUIRE(queries.size() == 1);
    CHECK(queries[0].calendar_id == calendar);
    REQUIRE(queries[0].updated_at_gte.has_value());
    CHECK(*queries[0].updated_at_gte == "2026-09-14T08:42:17Z");  // the provider's text, echoed
    REQUIRE(queries[0].status.has_value());
    CHECK(*queries[0].status == meetingbaas::v1_event_status::all);
    // updated_at_gte excludes the first event (updated 08:42:16.9): only the two others are seen.
    CHECK(find(report, new_uuid) == nullptr);
    CHECK(h.api.deletes(deleted_uuid) == 1);
    CHECK(report.verdict.verdict == meetingbaas::job_verdict::kind::done);
}

TEST_CASE("calendar_sync_processor acts once per state change even when the API does not show the bot",
          "[calendar_sync]")
{
    harness h;
    h.api.apply_writes = false;  // only the action keys can prevent a second POST now
    auto p = h.processor();
    const auto body = sync_body("2026-09-14T08:42:17Z", {new_uuid});
    (void)p.process_body(body);
    const auto again = p.process_body(body);
    CHECK(h.api.posts(new_uuid) == 1);
    REQUIRE(find(again, new_uuid) != nullptr);
    CHECK(find(again, new_uuid)->outcome == event_outcome::already_done);

    // A new state of the event (moved: new last_updated_at) is a new action.
    h.api.put(make_event(new_uuid, "Robotics weekly sync", "2026-09-16T13:00:00Z", "2026-09-16T13:30:00Z",
                         "2026-09-14T09:00:00Z", "https://meet.google.com/hbn-qwpe-zta"));
    (void)p.process_body(sync_body("2026-09-14T09:00:00Z", {new_uuid}));
    CHECK(h.api.posts(new_uuid) == 2);
}

TEST_CASE("calendar_sync_processor ignores an event older than the state already applied", "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    REQUIRE(h.state.record_applied(new_uuid, meetingbaas::parse_timestamp("2026-09-14T09:00:00Z")->time));
    const auto report = p.process_body(sync_body("2026-09-14T08:42:17Z", {new_uuid}));
    REQUIRE(find(report, new_uuid) != nullptr);
    CHECK(find(report, new_uuid)->outcome == event_outcome::stale);
    CHECK(h.api.posts(new_uuid) == 0);
    CHECK(h.metrics.events_stale == 1);
    CHECK(report.verdict.verdict == meetingbaas::job_verdict::kind::done);

    // The applied version never goes back.
    REQUIRE(h.state.record_applied(new_uuid, meetingbaas::parse_timestamp("2026-09-14T08:00:00Z")->time));
    auto v = h.state.applied_version(new_uuid);
    REQUIRE((v && v->has_value()));
    CHECK(**v == meetingbaas::parse_timestamp("2026-09-14T09:00:00Z")->time);
}

TEST_CASE("calendar_sync_processor retries a failed GET and keeps the server's Retry-After",
          "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    const auto body = sync_body("2026-09-14T08:42:17Z", {new_uuid});
    h.api.fail_next(sync_test::fake_calendar::http_error(503, 1500ms));  // the GET
    auto r1 = p.process_body(body);
    CHECK(r1.verdict.verdict == meetingbaas::job_verdict::kind::retry);
    CHECK(r1.verdict.last_outcome.status == 503);
    REQUIRE(r1.verdict.last_outcome.retry_after.has_value());
    CHECK(*r1.verdict.last_outcome.retry_after == 1500ms);
    CHECK(h.api.posts(new_uuid) == 0);

    auto r2 = p.process_body(body);
    CHECK(r2.verdict.verdict == meetingbaas::job_verdict::kind::done);
    CHECK(h.api.posts(new_uuid) == 1);
}

TEST_CASE("calendar_sync_processor releases the key when the POST fails, so the retry can act",
          "[calendar_sync]")
{
    harness h;
    h.api.apply_writes = false;
    const auto body = sync_body("2026-09-14T08:42:17Z", {new_uuid});
    // The GET succeeds; the first POST fails with 429.
    struct post_fails {
        sync_test::fake_calendar* cal;
        bool failed = false;
        meetingbaas::api_result<meetingbaas::v1_event> v1_get_event(std::string_view u)
        {
            return cal->get_event(u);
        }
        meetingbaas::api_result<std::vector<meetingbaas::v1_event>>
        v1_list_events(const meetingbaas::v1_event_query& q)
        {
            return cal->list(q);
        }
        meetingbaas::api_result<std::vector<meetingbaas::v1_event>>
        v1_schedule_bot(std::string_view u, const meetingbaas::v1_bot_config&)
        {
            if (!failed) {
                failed = true;
                cal->fail_next(sync_test::fake_calendar::http_error(429, 2s));
            }
            return cal->write(u, true);
        }
        meetingbaas::api_result<std::vector<meetingbaas::v1_event>> v1_unschedule_bot(std::string_view u)
        {
            return cal->write(u, false);
        }
    };
    meetingbaas::calendar_sync_processor<post_fails, decltype(h.guard), meetingbaas::in_memory_event_state,
                                         meetingbaas::default_sync_policy, sync_test::manual_clock>
        proc(post_fails{&h.api}, h.guard, h.state, h.locks, {}, {}, &h.metrics, h.clock);
    auto r1 = proc.process_body(body);
    REQUIRE(find(r1, new_uuid) != nullptr);
    CHECK(find(r1, new_uuid)->outcome == event_outcome::failed);
    CHECK(r1.verdict.verdict == meetingbaas::job_verdict::kind::retry);
    CHECK(r1.verdict.last_outcome.status == 429);
    auto r2 = proc.process_body(body);
    CHECK(find(r2, new_uuid)->outcome == event_outcome::applied);
    CHECK(h.api.posts(new_uuid) == 2);  // the failed attempt and the successful one
    auto r3 = proc.process_body(body);
    CHECK(find(r3, new_uuid)->outcome == event_outcome::already_done);
    CHECK(h.api.posts(new_uuid) == 2);
}

TEST_CASE("calendar_sync_processor fails for good on a permanent error and skips unknown events",
          "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    SECTION("403 on GET")
    {
        h.api.fail_next(sync_test::fake_calendar::http_error(403));
        auto r = p.process_body(sync_body("2026-09-14T08:42:17Z", {new_uuid}));
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::fail);
        CHECK_THAT(r.verdict.reason, Catch::Matchers::ContainsSubstring(new_uuid));
    }
    SECTION("404 on GET: the event is gone, nothing to do")
    {
        auto r = p.process_body(sync_body("2026-09-14T08:42:17Z", {"00000000-0000-0000-0000-000000000000"}));
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
        REQUIRE(r.events.size() == 1);
        CHECK(r.events[0].outcome == event_outcome::not_found);
    }
    SECTION("a payload that is not a sync delivery")
    {
        auto r = p.process_body(R"({"event":"complete","data":{}})");
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::fail);
        auto garbage = p.process_body("not json");
        CHECK(garbage.verdict.verdict == meetingbaas::job_verdict::kind::fail);
    }
}

TEST_CASE("calendar_sync_processor reports busy while another worker holds the action key", "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    const auto e = parsed(h.api.get(new_uuid));
    auto held = h.guard.begin_for(
        meetingbaas::action_key(sync_action::schedule, new_uuid, e.last_updated_at.time), {}, 30s);
    REQUIRE((held && held->acquired()));
    auto r = p.process_body(sync_body("2026-09-14T08:42:17Z", {new_uuid}));
    REQUIRE(find(r, new_uuid) != nullptr);
    CHECK(find(r, new_uuid)->outcome == event_outcome::busy);
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::retry);
    CHECK(h.api.posts(new_uuid) == 0);

    h.clock.advance(31s);  // the holder died: its lease ends, the key is taken over
    auto after = p.process_body(sync_body("2026-09-14T08:42:17Z", {new_uuid}));
    CHECK(find(after, new_uuid)->outcome == event_outcome::applied);
    CHECK(h.api.posts(new_uuid) == 1);
}

TEST_CASE("sync_worker acknowledges, retries with the step API's delay, and dead-letters", "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    meetingbaas::in_memory_job_queue<sync_test::manual_clock> q(h.clock);
    meetingbaas::sync_worker_options options;
    options.retry = meetingbaas::checked(meetingbaas::retry_policy<meetingbaas::exponential_backoff>{
        .backoff = {.initial = 1s, .multiplier = 2.0, .maximum = 10s},
        .jitter = meetingbaas::no_jitter,
        .stop = meetingbaas::stop_after_attempts(3),
        .max_retry_after = 1min,
        .attempt_reserve = 0ms});
    meetingbaas::sync_worker worker(q, p, options, &h.metrics, h.clock);

    SECTION("success")
    {
        REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "k", {}}));
        auto step = worker.run_once();
        REQUIRE(step);
        CHECK(step->leased);
        CHECK(step->settled == meetingbaas::worker_step::settlement::acknowledged);
        CHECK(h.metrics.jobs_done == 1);
        auto idle = worker.run_once();
        REQUIRE(idle);
        CHECK_FALSE(idle->leased);
    }
    SECTION("transient failures: backoff, Retry-After as a floor, then the dead-letter table")
    {
        REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "k", {}}));
        h.api.fail_next(sync_test::fake_calendar::http_error(503));
        auto s1 = worker.run_once();
        REQUIRE(s1);
        CHECK(s1->settled == meetingbaas::worker_step::settlement::retried);
        REQUIRE(s1->retry_at.has_value());
        CHECK(*s1->retry_at - meetingbaas::queue_now(h.clock) == 1s);  // backoff for retry 1, no jitter

        h.clock.advance(1s);
        h.api.fail_next(sync_test::fake_calendar::http_error(429, 7s));
        auto s2 = worker.run_once();
        REQUIRE(s2);
        CHECK(s2->attempt == 2);
        REQUIRE(s2->retry_at.has_value());
        CHECK(*s2->retry_at - meetingbaas::queue_now(h.clock) == 7s);  // Retry-After beats the 2 s backoff

        h.clock.advance(7s);
        h.api.fail_next(sync_test::fake_calendar::http_error(503));
        auto s3 = worker.run_once();
        REQUIRE(s3);
        CHECK(s3->settled == meetingbaas::worker_step::settlement::dead_lettered);
        CHECK_THAT(s3->settle_detail, Catch::Matchers::ContainsSubstring("attempts_exhausted"));
        auto dead = q.dead_letters(10);
        REQUIRE(dead);
        REQUIRE(dead->size() == 1);
        CHECK(dead->front().attempts == 3);
        CHECK(h.metrics.jobs_retried == 2);
        CHECK(h.metrics.jobs_dead_lettered == 1);

        // An operator re-queues it once the API is healthy: it completes.
        REQUIRE(q.requeue_dead_letter(dead->front().id));
        auto s4 = worker.run_once();
        REQUIRE(s4);
        CHECK(s4->settled == meetingbaas::worker_step::settlement::acknowledged);
        CHECK(h.api.posts(new_uuid) == 1);
    }
    SECTION("permanent failure goes straight to the dead-letter table")
    {
        REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "k", {}}));
        h.api.fail_next(sync_test::fake_calendar::http_error(401));
        auto s = worker.run_once();
        REQUIRE(s);
        CHECK(s->settled == meetingbaas::worker_step::settlement::dead_lettered);
        CHECK_THAT(s->settle_detail, Catch::Matchers::ContainsSubstring("401"));
    }
}

TEST_CASE("sync_worker threads racing over duplicate jobs POST once per event", "[calendar_sync]")
{
    sync_test::fake_calendar api;
    api.apply_writes = false;  // the action keys alone must prevent duplicates
    std::vector<std::string> uuids;
    for (int i = 0; i < 20; ++i) {
        const auto uuid = "00000000-0000-0000-0000-" + std::to_string(100000000000 + i);
        uuids.push_back(uuid);
        api.put(make_event(uuid, "m" + std::to_string(i), "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z",
                           "2026-09-14T08:00:00Z", "https://meet.google.com/x-" + std::to_string(i)));
    }
    meetingbaas::memory_idempotency_store store;
    auto guard = *meetingbaas::make_idempotency_guard(store);
    meetingbaas::in_memory_event_state state;
    meetingbaas::event_locks locks;
    meetingbaas::in_memory_job_queue<> q;
    // The same events in 30 jobs (a delivery, redelivered with other keys, and listings).
    for (int j = 0; j < 30; ++j) {
        REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:00:00Z", uuids), "", {}}));
    }
    using processor = meetingbaas::calendar_sync_processor<sync_test::fake_calendar_api, decltype(guard),
                                                           meetingbaas::in_memory_event_state>;
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> workers;
        for (int w = 0; w < 4; ++w) {
            workers.emplace_back([&] {
                processor p(sync_test::fake_calendar_api{&api}, guard, state, locks, {});
                meetingbaas::sync_worker worker(q, p);
                while (true) {
                    auto step = worker.run_once();
                    if (!step) {
                        failures++;
                        return;
                    }
                    if (!step->leased) return;
                    if (step->settled != meetingbaas::worker_step::settlement::acknowledged) failures++;
                }
            });
        }
    }
    CHECK(failures.load() == 0);
    CHECK(api.total_posts() == 20);
    for (const auto& u : uuids) CHECK(api.posts(u) == 1);
}

TEST_CASE("calendar_sync_processor treats a 404 on the bot call as an event gone, not a failure",
          "[calendar_sync]")
{
    harness h;
    struct vanishing {
        sync_test::fake_calendar* cal;
        meetingbaas::api_result<meetingbaas::v1_event> v1_get_event(std::string_view u)
        {
            return cal->get_event(u);
        }
        meetingbaas::api_result<std::vector<meetingbaas::v1_event>>
        v1_list_events(const meetingbaas::v1_event_query& q)
        {
            return cal->list(q);
        }
        meetingbaas::api_result<std::vector<meetingbaas::v1_event>>
        v1_schedule_bot(std::string_view, const meetingbaas::v1_bot_config&)
        {
            return sync_test::fake_calendar::http_error(404);
        }
        meetingbaas::api_result<std::vector<meetingbaas::v1_event>> v1_unschedule_bot(std::string_view)
        {
            return sync_test::fake_calendar::http_error(404);
        }
    };
    meetingbaas::calendar_sync_processor<vanishing, decltype(h.guard), meetingbaas::in_memory_event_state,
                                         meetingbaas::default_sync_policy, sync_test::manual_clock>
        p(vanishing{&h.api}, h.guard, h.state, h.locks, {}, {}, &h.metrics, h.clock);
    const auto r = p.process_body(sync_body("2026-09-14T08:42:17Z", {new_uuid, deleted_uuid}));
    CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
    REQUIRE(find(r, new_uuid) != nullptr);
    CHECK(find(r, new_uuid)->outcome == event_outcome::not_found);
    CHECK(find(r, deleted_uuid)->outcome == event_outcome::not_found);
}

TEST_CASE("calendar_sync_processor stopped before the end asks for a retry, and not after it",
          "[calendar_sync]")
{
    harness h;
    auto p = h.processor();
    std::stop_source stop;
    stop.request_stop();
    const auto stopped =
        p.process_body(sync_body("2026-09-14T08:42:17Z", {new_uuid, booked_uuid}), stop.get_token());
    CHECK(stopped.verdict.verdict == meetingbaas::job_verdict::kind::retry);
    CHECK(stopped.events.empty());
    CHECK(h.api.posts(new_uuid) == 0);

    const auto finished = p.process_body(sync_body("2026-09-14T08:42:17Z", {new_uuid, booked_uuid}));
    CHECK(finished.verdict.verdict == meetingbaas::job_verdict::kind::done);
    CHECK(h.api.posts(new_uuid) == 1);
}
