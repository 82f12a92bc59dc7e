// SPDX-License-Identifier: MIT
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>

#include "fake_calendar_api.hpp"
#include "fake_http_client.hpp"
#include "sync_test_clock.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <stop_token>
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
        meetingbaas::make_idempotency_guard(store, clock);
    meetingbaas::in_memory_event_state state;
    meetingbaas::event_locks locks;
    meetingbaas::sync_metrics metrics;

    using processor_type =
        meetingbaas::calendar_sync_processor<sync_test::fake_calendar_api, decltype(guard),
                                             meetingbaas::in_memory_event_state,
                                             meetingbaas::default_sync_policy, sync_test::manual_clock>;

    processor_type processor()
    {
        return processor_type(meetingbaas::calendar_sync_deps{.api = sync_test::fake_calendar_api{&api},
                                                              .guard = guard,
                                                              .state = state,
                                                              .locks = locks,
                                                              .metrics = &metrics,
                                                              .clock = clock});
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
    CHECK(h.metrics.v1.bots_scheduled == 1);
    CHECK(h.metrics.v1.bots_cancelled == 1);
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
    CHECK(h.metrics.v1.events_stale == 1);
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
    CHECK(r1.verdict.outcome().status == 503);
    REQUIRE(r1.verdict.outcome().retry_after.has_value());
    CHECK(*r1.verdict.outcome().retry_after == 1500ms);
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
        proc(meetingbaas::calendar_sync_deps{.api = post_fails{&h.api},
                                             .guard = h.guard,
                                             .state = h.state,
                                             .locks = h.locks,
                                             .metrics = &h.metrics,
                                             .clock = h.clock});
    auto r1 = proc.process_body(body);
    REQUIRE(find(r1, new_uuid) != nullptr);
    CHECK(find(r1, new_uuid)->outcome == event_outcome::failed);
    CHECK(r1.verdict.verdict == meetingbaas::job_verdict::kind::retry);
    CHECK(r1.verdict.outcome().status == 429);
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
    meetingbaas::sync_worker worker(meetingbaas::sync_worker_deps{
        .queue = q, .processor = p, .options = options, .metrics = &h.metrics, .clock = h.clock});

    SECTION("success")
    {
        REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "k", {}}));
        auto step = worker.run_once();
        REQUIRE(step);
        CHECK(step->leased);
        CHECK(step->settled == meetingbaas::worker_step::settlement::acknowledged);
        CHECK(h.metrics.v1.jobs_done == 1);
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
        CHECK(h.metrics.v1.jobs_retried == 2);
        CHECK(h.metrics.v1.jobs_dead_lettered == 1);

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
    meetingbaas::idempotency_guard guard{store};
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
                processor p(meetingbaas::calendar_sync_deps{.api = sync_test::fake_calendar_api{&api},
                                                            .guard = guard,
                                                            .state = state,
                                                            .locks = locks});
                meetingbaas::sync_worker worker(meetingbaas::sync_worker_deps{.queue = q, .processor = p});
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
        p(meetingbaas::calendar_sync_deps{.api = vanishing{&h.api},
                                          .guard = h.guard,
                                          .state = h.state,
                                          .locks = h.locks,
                                          .metrics = &h.metrics,
                                          .clock = h.clock});
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

// ---------------------------------------------------------------------------------------------------------
// Failure classification: transient is never final (issue 12, section 1)

TEST_CASE("a give-up over dropped connections is transient: retried, never dead-lettered at attempt 1",
          "[calendar_sync][faults]")
{
    harness h;
    auto p = h.processor();
    meetingbaas::in_memory_job_queue<sync_test::manual_clock> q(h.clock);
    meetingbaas::sync_worker worker(
        meetingbaas::sync_worker_deps{.queue = q, .processor = p, .metrics = &h.metrics, .clock = h.clock});
    REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "k", {}}));

    SECTION("the GET gave up (retries_exhausted ... connection_dropped ... after 3 attempts)")
    {
        h.api.fail_next(sync_test::fake_calendar::gave_up_after_drops(3));
    }
    SECTION("connection refused")
    {
        h.api.fail_next(sync_test::fake_calendar::transport_error(false));
    }
    SECTION("the API was slower than the per-attempt timeout")
    {
        auto e = sync_test::fake_calendar::transport_error(true, meetingbaas::transport_errc::timed_out);
        e.code = meetingbaas::errc::retries_exhausted;
        h.api.fail_next(e);
    }
    SECTION("a 2xx with a malformed body")
    {
        h.api.fail_next(sync_test::fake_calendar::malformed_2xx());
    }
    SECTION("shutdown: the in-call retry loop was cancelled")
    {
        auto e = sync_test::fake_calendar::http_error(503);
        e.code = meetingbaas::errc::cancelled;
        h.api.fail_next(e);
    }
    auto s1 = worker.run_once();
    REQUIRE(s1);
    CHECK(s1->report.verdict.verdict == meetingbaas::job_verdict::kind::retry);
    CHECK(meetingbaas::is_retryable(s1->report.verdict.classification));
    REQUIRE(s1->report.verdict.cause);  // the original cause, not a fake status
    CHECK(s1->report.verdict.cause->http_status != 400);
    CHECK(s1->settled == meetingbaas::worker_step::settlement::retried);
    CHECK_THAT(s1->report.verdict.reason, !Catch::Matchers::ContainsSubstring("gave up: succeeded"));
    auto dead = q.dead_letters(10);
    REQUIRE(dead);
    CHECK(dead->empty());
    CHECK(h.metrics.v1.jobs_dead_lettered == 0);

    // The fault is gone: the retry succeeds, and the bot is scheduled once.
    h.clock.advance(std::chrono::minutes(10));
    auto s2 = worker.run_once();
    REQUIRE(s2);
    CHECK(s2->settled == meetingbaas::worker_step::settlement::acknowledged);
    CHECK(h.api.posts(new_uuid) == 1);
}

TEST_CASE("a write whose answer was lost is read again before any new write", "[calendar_sync][faults]")
{
    harness h;
    auto p = h.processor();
    const auto body = sync_body("2026-09-14T08:42:17Z", {new_uuid});

    SECTION("it landed: confirmed by reading again, counted once, not sent again")
    {
        h.api.lose_next_answer();
        const auto r = p.process_body(body);
        REQUIRE(find(r, new_uuid) != nullptr);
        CHECK(find(r, new_uuid)->outcome == event_outcome::applied);
        CHECK(find(r, new_uuid)->confirmed_by_reread);
        CHECK(r.verdict.verdict == meetingbaas::job_verdict::kind::done);
        CHECK(h.api.posts(new_uuid) == 1);
        CHECK(h.metrics.v1.bots_scheduled == 1);
        CHECK(h.metrics.v1.writes_unconfirmed == 1);
        // A redelivery finds it done.
        const auto again = p.process_body(body);
        CHECK(h.api.posts(new_uuid) == 1);
        CHECK(h.metrics.v1.bots_scheduled == 1);
        CHECK(again.verdict.verdict == meetingbaas::job_verdict::kind::done);
    }
    SECTION("it did not land (yet): the claim is kept until it expires, then the write is sent once more")
    {
        // The first POST fails with a timeout and was not applied.
        struct post_times_out {
            sync_test::fake_calendar* cal;
            bool done = false;
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
                if (!done) {
                    done = true;
                    return sync_test::fake_calendar::transport_error(true,
                                                                     meetingbaas::transport_errc::timed_out);
                }
                return cal->write(u, true);
            }
            meetingbaas::api_result<std::vector<meetingbaas::v1_event>> v1_unschedule_bot(std::string_view u)
            {
                return cal->write(u, false);
            }
        };
        meetingbaas::calendar_sync_processor proc(
            meetingbaas::calendar_sync_deps{.api = post_times_out{&h.api},
                                            .guard = h.guard,
                                            .state = h.state,
                                            .locks = h.locks,
                                            .metrics = &h.metrics,
                                            .clock = h.clock});
        const auto r1 = proc.process_body(body);
        REQUIRE(find(r1, new_uuid) != nullptr);
        CHECK(find(r1, new_uuid)->outcome == event_outcome::busy);
        REQUIRE(find(r1, new_uuid)->retry_after.has_value());
        CHECK(*find(r1, new_uuid)->retry_after == proc.options().action_lease);
        CHECK(r1.verdict.verdict == meetingbaas::job_verdict::kind::retry);
        CHECK(*r1.verdict.outcome().retry_after >= proc.options().action_lease);
        // Until the claim expires, nobody writes again (the request may still land).
        const auto r2 = proc.process_body(body);
        CHECK(find(r2, new_uuid)->outcome == event_outcome::busy);
        CHECK(h.api.posts(new_uuid) == 0);
        h.clock.advance(proc.options().action_lease + 1s);
        const auto r3 = proc.process_body(body);
        CHECK(find(r3, new_uuid)->outcome == event_outcome::applied);
        CHECK(h.api.posts(new_uuid) == 1);
        CHECK(h.metrics.v1.bots_scheduled == 1);
    }
}

TEST_CASE("stop requested while a call is in flight: the job goes back due now, never dead",
          "[calendar_sync][faults]")
{
    harness h;
    std::stop_source stop;
    struct stopping_api {
        sync_test::fake_calendar* cal;
        std::stop_source* stop;
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
            stop->request_stop();  // SIGTERM arrives during the POST, which times out
            return sync_test::fake_calendar::transport_error(true, meetingbaas::transport_errc::timed_out);
        }
        meetingbaas::api_result<std::vector<meetingbaas::v1_event>> v1_unschedule_bot(std::string_view u)
        {
            return cal->write(u, false);
        }
    };
    meetingbaas::calendar_sync_processor p(meetingbaas::calendar_sync_deps{.api = stopping_api{&h.api, &stop},
                                                                           .guard = h.guard,
                                                                           .state = h.state,
                                                                           .locks = h.locks,
                                                                           .metrics = &h.metrics,
                                                                           .clock = h.clock});
    meetingbaas::in_memory_job_queue<sync_test::manual_clock> q(h.clock);
    meetingbaas::sync_worker worker(
        meetingbaas::sync_worker_deps{.queue = q, .processor = p, .metrics = &h.metrics, .clock = h.clock});
    REQUIRE(q.enqueue(
        {"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid, booked_uuid}), "k", {}}));
    const auto step = worker.run_once(stop.get_token());
    REQUIRE(step);
    CHECK(step->settled == meetingbaas::worker_step::settlement::retried);
    REQUIRE(step->retry_at.has_value());
    CHECK(*step->retry_at == meetingbaas::queue_now(h.clock));  // due again at once
    const auto stats = q.stats();
    REQUIRE(stats);
    CHECK(stats->dead == 0);
    CHECK(stats->ready == 1);
}

TEST_CASE(
    "transient failures are retried with growing, jittered delays until the horizon, then dead-lettered",
    "[calendar_sync][faults]")
{
    harness h;
    auto p = h.processor();
    meetingbaas::in_memory_job_queue<sync_test::manual_clock> q(h.clock);
    meetingbaas::sync_worker worker(
        meetingbaas::sync_worker_deps{.queue = q, .processor = p, .metrics = &h.metrics, .clock = h.clock});
    REQUIRE(worker.validate());
    REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "k", {}}));
    const auto enqueued = meetingbaas::queue_now(h.clock);
    std::vector<std::chrono::milliseconds> delays;
    for (int i = 0; i < 1000; ++i) {
        h.api.fail_next(sync_test::fake_calendar::http_error(503));
        auto s = worker.run_once();
        REQUIRE(s);
        REQUIRE(s->leased);
        if (s->settled == meetingbaas::worker_step::settlement::dead_lettered) {
            CHECK_THAT(s->settle_detail, Catch::Matchers::ContainsSubstring("elapsed_exhausted"));
            CHECK_THAT(s->settle_detail, Catch::Matchers::ContainsSubstring("503"));
            break;
        }
        REQUIRE(s->settled == meetingbaas::worker_step::settlement::retried);
        const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
            *s->retry_at - meetingbaas::queue_now(h.clock));
        delays.push_back(delay);
        h.clock.advance(delay);
    }
    REQUIRE(delays.size() > 10);
    // Equal jitter over 2 s doubling to 5 min: each wait is in [computed / 2, computed].
    for (std::size_t i = 0; i < delays.size(); ++i) {
        const auto computed =
            meetingbaas::default_job_retry_policy.backoff.delay(static_cast<std::uint32_t>(i));
        CHECK(delays[i] >= computed / 2);
        CHECK(delays[i] <= computed);
    }
    CHECK(delays[3] > delays[0]);
    // Dead only after the horizon, counted from the enqueue time.
    CHECK(meetingbaas::queue_now(h.clock) - enqueued >=
          meetingbaas::default_job_retry_horizon - std::chrono::minutes(5));
    CHECK(meetingbaas::queue_now(h.clock) - enqueued <= meetingbaas::default_job_retry_horizon);
    CHECK(h.metrics.v1.jobs_dead_lettered == 1);

    // A re-queued dead letter gets min_attempts more tries even though the horizon has passed.
    auto dead = q.dead_letters(1);
    REQUIRE(dead);
    REQUIRE(dead->size() == 1);
    REQUIRE(q.requeue_dead_letter(dead->front().id));
    h.api.fail_next(sync_test::fake_calendar::http_error(503));
    auto again = worker.run_once();
    REQUIRE(again);
    CHECK(again->settled == meetingbaas::worker_step::settlement::retried);
}

TEST_CASE("permanent failures go to the dead letters at once, with the reason", "[calendar_sync][faults]")
{
    harness h;
    auto p = h.processor();
    meetingbaas::in_memory_job_queue<sync_test::manual_clock> q(h.clock);
    meetingbaas::sync_worker worker(
        meetingbaas::sync_worker_deps{.queue = q, .processor = p, .metrics = &h.metrics, .clock = h.clock});
    REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "k", {}}));
    struct row {
        int status;
        std::string code;
    };
    const auto r =
        GENERATE(values<row>({{400, ""}, {403, ""}, {422, ""}, {429, "FST_ERR_DAILY_BOT_CAP_REACHED"}}));
    CAPTURE(r.status, r.code);
    auto e = sync_test::fake_calendar::http_error(r.status);
    e.provider_code = r.code;
    h.api.fail_next(e);
    const auto s = worker.run_once();
    REQUIRE(s);
    CHECK(s->attempt == 1);
    CHECK(s->settled == meetingbaas::worker_step::settlement::dead_lettered);
    CHECK(s->report.verdict.classification == meetingbaas::failure_class::permanent);
    CHECK_THAT(s->settle_detail, Catch::Matchers::ContainsSubstring("HTTP " + std::to_string(r.status)));
    if (!r.code.empty()) CHECK_THAT(s->settle_detail, Catch::Matchers::ContainsSubstring(r.code));
}

TEST_CASE("defaults satisfy their own invariants; a violating configuration is refused precisely",
          "[calendar_sync][config]")
{
    meetingbaas_test::fake_http_client http;
    meetingbaas::memory_idempotency_store store;
    meetingbaas::idempotency_guard guard{store};
    meetingbaas::in_memory_event_state state;
    meetingbaas::event_locks locks;
    meetingbaas::in_memory_job_queue<> q;
    using client = meetingbaas::api_client<meetingbaas_test::fake_http_client>;

    SECTION("the defaults")
    {
        client api(http, {.api_key = "k"});
        meetingbaas::calendar_sync_processor p(
            meetingbaas::calendar_sync_deps{.api = &api, .guard = guard, .state = state, .locks = locks});
        REQUIRE(p.validate());
        CHECK(p.options().action_lease >= api.max_call_duration() + p.options().lease_margin);
        meetingbaas::sync_worker w(meetingbaas::sync_worker_deps{.queue = q, .processor = p});
        REQUIRE(w.validate());
        CHECK(w.options().lease >= p.max_unit_duration() + w.options().lease_margin);
        CHECK(meetingbaas::default_job_retry_policy.stop.max_elapsed >= meetingbaas::v2_retry_horizon());
    }
    SECTION("an action lease shorter than one API call with its retries")
    {
        client api(http, {.api_key = "k"});
        meetingbaas::calendar_sync_options options;
        options.action_lease = std::chrono::seconds(30);  // the old default: shorter than 60 s + margin
        auto created = meetingbaas::
            calendar_sync_processor<client*, decltype(guard), meetingbaas::in_memory_event_state>::create(
                {.api = &api, .guard = guard, .state = state, .locks = locks, .options = options});
        REQUIRE_FALSE(created);
        CHECK(created.error().code == meetingbaas::errc::invalid_argument);
        CHECK(created.error().where == "calendar_sync_options.action_lease");
        CHECK_THAT(created.error().message, Catch::Matchers::ContainsSubstring("60000 ms"));
        // Constructed anyway: it processes nothing (no work lost), and a worker refuses to lease for it.
        meetingbaas::calendar_sync_processor p(meetingbaas::calendar_sync_deps{
            .api = &api, .guard = guard, .state = state, .locks = locks, .options = options});
        REQUIRE(q.enqueue({"calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}), "", {}}));
        const auto report =
            p.process_job("calendar.sync_events", sync_body("2026-09-14T08:42:17Z", {new_uuid}));
        CHECK(report.verdict.verdict == meetingbaas::job_verdict::kind::retry);
        CHECK(http.requests().empty());
        meetingbaas::sync_worker w(meetingbaas::sync_worker_deps{.queue = q, .processor = p});
        const auto step = w.run_once();
        REQUIRE_FALSE(step);
        CHECK(step.error().where == "calendar_sync_options.action_lease");
        const auto stats = q.stats();
        REQUIRE(stats);
        CHECK(stats->ready == 1);  // still queued
        int errors = 0;
        meetingbaas::work_signal signal;
        const auto ran = w.run({}, signal, [](const auto&) {}, [&](const auto&) { ++errors; });
        REQUIRE_FALSE(ran);  // returns at once, without looping
    }
    SECTION("a job lease shorter than one unit of work")
    {
        client api(http, {.api_key = "k"});
        meetingbaas::calendar_sync_processor p(
            meetingbaas::calendar_sync_deps{.api = &api, .guard = guard, .state = state, .locks = locks});
        meetingbaas::sync_worker_options options;
        options.lease = std::chrono::seconds(60);  // the old default: one unit may take 3 x 60 s
        auto created = meetingbaas::sync_worker<meetingbaas::in_memory_job_queue<>, decltype(p)>::create(
            {.queue = q, .processor = p, .options = options});
        REQUIRE_FALSE(created);
        CHECK(created.error().where == "sync_worker_options.lease");
    }
    SECTION("an unusable API client configuration")
    {
        client api(http, {.api_key = "k", .base_url = "not a url"});
        meetingbaas::calendar_sync_processor p(
            meetingbaas::calendar_sync_deps{.api = &api, .guard = guard, .state = state, .locks = locks});
        REQUIRE_FALSE(p.validate());
        CHECK(p.validate().error().where == "api_client_options.base_url");
    }
    SECTION("option checks")
    {
        meetingbaas::calendar_sync_options o;
        o.bot.bot_name.clear();
        CHECK(meetingbaas::validate(o).error().where == "calendar_sync_options.bot.bot_name");
        meetingbaas::sync_worker_options w;
        w.retry.backoff.multiplier = 0;
        CHECK(meetingbaas::validate(w).error().where == "sync_worker_options.retry/backoff/multiplier");
    }
}
