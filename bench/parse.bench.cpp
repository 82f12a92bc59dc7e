// SPDX-License-Identifier: MIT
// Typed parsing (parse_event, straight from bytes into structs) against nlohmann::json::parse of the
// same bytes into a DOM, which does less work (no typing, no validation of the schema).
#include <meetingbaas/events/event.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string load(const char* name)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

template <class E>
void typed(benchmark::State& state, const char* file)
{
    const std::string body = load(file);
    for (auto _ : state) {
        auto e = meetingbaas::parse_event<E>(body);
        if (!e) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(e);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(body.size()));
}

template <class E>
void delivery(benchmark::State& state, const char* file)
{
    const std::string body = load(file);
    for (auto _ : state) {
        auto d = meetingbaas::parse_delivery(body);
        if (!d) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(d);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(body.size()));
}

void dom(benchmark::State& state, const char* file)
{
    const std::string body = load(file);
    for (auto _ : state) {
        auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded()) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(j);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(body.size()));
}

}  // namespace

void typed_sync_events(benchmark::State& s, const char* f)
{
    typed<meetingbaas::calendar_sync_events>(s, f);
}
void delivery_sync_events(benchmark::State& s, const char* f)
{
    delivery<meetingbaas::calendar_sync_events>(s, f);
}
void typed_bot_completed(benchmark::State& s, const char* f)
{
    typed<meetingbaas::bot_completed_v2>(s, f);
}
void delivery_bot_completed(benchmark::State& s, const char* f)
{
    delivery<meetingbaas::bot_completed_v2>(s, f);
}
void typed_events_synced(benchmark::State& s, const char* f)
{
    typed<meetingbaas::calendar_events_synced_v2>(s, f);
}

BENCHMARK_CAPTURE(typed_sync_events, v1_calendar_sync_events, "v1.calendar.sync_events.json");
BENCHMARK_CAPTURE(delivery_sync_events, v1_calendar_sync_events, "v1.calendar.sync_events.json");
BENCHMARK_CAPTURE(dom, v1_calendar_sync_events, "v1.calendar.sync_events.json");
BENCHMARK_CAPTURE(typed_bot_completed, v2_bot_completed, "v2.bot.completed.json");
BENCHMARK_CAPTURE(delivery_bot_completed, v2_bot_completed, "v2.bot.completed.json");
BENCHMARK_CAPTURE(dom, v2_bot_completed, "v2.bot.completed.json");
BENCHMARK_CAPTURE(typed_events_synced, v2_calendar_events_synced, "v2.calendar.events_synced.json");
BENCHMARK_CAPTURE(dom, v2_calendar_events_synced, "v2.calendar.events_synced.json");
