// SPDX-License-Identifier: MIT
// Processing rate of a 500-instance v2 `calendar.events_synced` against the loopback fake API (issue 14):
// the calendar-sync engine (calendar_sync_processor: per-event lock, state store, idempotency key per
// action, the policy) against a hand-written baseline that makes the same HTTP calls with the same
// api_client and nothing else (read each instance, POST a bot when the default rule says so). Same
// process, same fake API, same run. One iteration processes the whole delivery; items are instances.
//
//  * first_sync: no instance has a bot yet: 500 GETs and 500 POSTs;
//  * replay: the same delivery again (a resend): every instance already has its bot: 500 GETs, no POST;
//    and the engine with v2_list_threshold, which judges the instances from 2 list pages instead.
#include <meetingbaas/adapters/httplib.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>

#include "fake_meetingbaas_api.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

constexpr const char* api_key = "bench-v2-key";
constexpr const char* calendar = "aff72226-7c8f-46fc-864d-f349ad89eb06";
constexpr int instances = 500;

std::string at(std::chrono::system_clock::time_point t)
{
    return mb::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(t));
}

std::string id(const char* prefix, int i)
{
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s-%012d", prefix, i);
    return buf;
}

/// The fake API with 500 future instances in 50 weekly series of 10, and the events_synced body naming them.
struct fixture {
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    meetingbaas_test::fake_meetingbaas_api api{{.api_key = api_key, .now = at(now)}};
    std::string body;

    fixture()
    {
        if (!api.start()) std::abort();
        api.set_v2_calendar({{"calendar_id", calendar},
                             {"calendar_platform", "google"},
                             {"account_email", "owner@example.test"},
                             {"status", "active"},
                             {"synced_at", nullptr},
                             {"created_at", at(now - 24h)}});
        auto events = nlohmann::json::array();
        for (int s = 0; s < instances / 10; ++s) {
            const auto series = id("3a9e51dd-a5a6-4745-97c0", s);
            auto list = nlohmann::json::array();
            for (int k = 0; k < 10; ++k) {
                const int i = s * 10 + k;
                const auto start = now + std::chrono::hours(24 + 24 * 7 * k) + std::chrono::minutes(s);
                const auto e =
                    nlohmann::json{{"event_id", id("6c093e09-7cca-490d-96d9", i)},
                                   {"series_id", series},
                                   {"event_type", "recurring"},
                                   {"title", "Weekly " + std::to_string(s)},
                                   {"description", nullptr},
                                   {"location", nullptr},
                                   {"start_time", at(start)},
                                   {"end_time", at(start + 30min)},
                                   {"timezone", "UTC"},
                                   {"is_all_day", false},
                                   {"status", "confirmed"},
                                   {"is_exception", false},
                                   {"organizer_email", "owner@example.test"},
                                   {"organizer_name", nullptr},
                                   {"attendees", nlohmann::json::array()},
                                   {"meeting_url", "https://meet.google.com/bench-" + std::to_string(i)},
                                   {"meeting_platform", "meet"},
                                   {"calendar_id", calendar},
                                   {"calendar_platform", "google"},
                                   {"bot_scheduled", false},
                                   {"raw_payload", nullptr},
                                   {"created_at", at(now - 2h)},
                                   {"updated_at", at(now - 1h)}};
                api.set_v2_event(e);
                list.push_back({{"event_id", e["event_id"]},
                                {"start", e["start_time"]},
                                {"end", e["end_time"]},
                                {"title", e["title"]},
                                {"status", "confirmed"},
                                {"is_all_day", false},
                                {"is_exception", false},
                                {"bot_scheduled", false},
                                {"meeting_url", e["meeting_url"]},
                                {"meeting_platform", "meet"}});
            }
            events.push_back({{"event_type", "recurring"},
                              {"series_id", series},
                              {"series_bot_scheduled", false},
                              {"instances", list}});
        }
        body = nlohmann::json{{"event", "calendar.events_synced"},
                              {"data", {{"calendar_id", calendar}, {"events", events}}}}
                   .dump();
    }
};

fixture& shared()
{
    static fixture f;
    return f;
}

using client_type = mb::api_client<mb::httplib_http_client>;

client_type make_client()
{
    return client_type(mb::httplib_http_client(shared().api.base_url()),
                       {.api_key = api_key, .base_url = shared().api.base_url()});
}

/// The engine: a fresh store and state per iteration (a first sync), or kept (a replay).
void engine(benchmark::State& state, bool replay, std::size_t list_threshold)
{
    auto& f = shared();
    auto client = make_client();
    std::size_t posts = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto store = std::make_unique<mb::memory_idempotency_store>();
        auto guard = mb::make_idempotency_guard(*store);
        mb::in_memory_event_state event_state;
        mb::event_locks locks;
        mb::calendar_sync_options options;
        options.v2_list_threshold = list_threshold;
        mb::calendar_sync_processor processor(mb::calendar_sync_deps{
            .api = &client, .guard = guard, .state = event_state, .locks = locks, .options = options});
        f.api.clear_v2_bots();
        if (replay) (void)processor.process_job("calendar.events_synced", f.body);  // every bot scheduled
        f.api.reset_counts();
        state.ResumeTiming();

        const auto report = processor.process_job("calendar.events_synced", f.body);
        benchmark::DoNotOptimize(report);
        if (report.verdict.verdict != mb::job_verdict::kind::done) state.SkipWithError("job not done");
        posts += f.api.v2_writes();
    }
    state.SetItemsProcessed(state.iterations() * instances);
    state.counters["posts_per_iteration"] =
        static_cast<double>(posts) / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

/// The baseline: the same calls through the same client, written by hand (no lock, state or key).
void baseline(benchmark::State& state, bool replay)
{
    auto& f = shared();
    auto client = make_client();
    const auto delivery = mb::parse_event<mb::calendar_events_synced_v2>(f.body);
    if (!delivery) std::abort();
    mb::v2_bot_config bot;
    bot.bot_name = "Recorder";
    const auto run = [&] {
        const auto now =
            std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
        for (const auto& series : delivery->events) {
            for (const auto& instance : series.instances) {
                auto e = client.v2_get_event(calendar, instance.event_id);
                if (!e) std::abort();
                const bool record = e->status != "cancelled" && e->meeting_url && !e->meeting_url->empty() &&
                                    !e->bot_scheduled && e->end_time.time > now;
                if (!record) continue;
                if (!client.v2_schedule_bots(
                        calendar, {.series_id = e->series_id, .event_id = instance.event_id}, bot)) {
                    std::abort();
                }
            }
        }
    };
    std::size_t posts = 0;
    for (auto _ : state) {
        state.PauseTiming();
        f.api.clear_v2_bots();
        if (replay) run();
        f.api.reset_counts();
        state.ResumeTiming();
        run();
        posts += f.api.v2_writes();
    }
    state.SetItemsProcessed(state.iterations() * instances);
    state.counters["posts_per_iteration"] =
        static_cast<double>(posts) / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

// Interleaved (baseline, engine, baseline, engine...) by --benchmark_repetitions; 3 iterations each.
BENCHMARK_CAPTURE(baseline, first_sync, false)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK_CAPTURE(engine, first_sync, false, 0)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK_CAPTURE(baseline, replay, true)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK_CAPTURE(engine, replay, true, 0)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK_CAPTURE(engine, replay_listed, true, 50)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace
