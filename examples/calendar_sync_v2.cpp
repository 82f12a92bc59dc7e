// SPDX-License-Identifier: MIT
// v2 calendar sync in one process: verified calendar.event_* deliveries are queued as jobs whose kind is the
// wire event name, and one sync_worker turns them into bot schedules and cancellations through the v2 API
// (here a loopback stand-in, tests/support/fake_meetingbaas_api.hpp). Each instance is read first
// (reconcile, don't replay), decided by the default policy, and acted on once per state change.
//
// The story: the first sync of a calendar (calendar.events_synced, a weekly series and a one-off), the
// one-off loses its meeting URL (calendar.event_updated), an occurrence of the series is cancelled
// (calendar.event_cancelled), and the first delivery arrives again (a Svix resend). Exit 0 when the API
// ends with exactly the bots expected, each POSTed or DELETEd once.

#include <meetingbaas/adapters/httplib.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>

#include "fake_meetingbaas_api.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

constexpr const char* api_key = "example-v2-key";
constexpr const char* calendar = "aff72226-7c8f-46fc-864d-f349ad89eb06";
constexpr const char* weekly = "3a9e51dd-a5a6-4745-97c0-446738af1da9";
constexpr const char* one_off = "f8527fef-e29a-437c-823d-86412da74ad6";

std::string at(std::chrono::system_clock::time_point t)
{
    return mb::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(t));
}

nlohmann::json event(const std::string& id, const std::string& series, const std::string& type,
                     const std::string& title, std::chrono::system_clock::time_point start)
{
    return {{"event_id", id},
            {"series_id", series},
            {"event_type", type},
            {"title", title},
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
            {"meeting_url", "https://meet.google.com/xqv-mtrw-kpd"},
            {"meeting_platform", "meet"},
            {"calendar_id", calendar},
            {"calendar_platform", "google"},
            {"bot_scheduled", false},
            {"raw_payload", nullptr},
            {"created_at", at(start - 72h)},
            {"updated_at", at(start - 48h)}};
}

/// The webhook's Instance of an event, as the API has it now.
nlohmann::json instance(const meetingbaas_test::fake_meetingbaas_api& api, const std::string& id)
{
    const auto e = *api.v2_event(id);
    return {{"event_id", id},
            {"start", e["start_time"]},
            {"end", e["end_time"]},
            {"title", e["title"]},
            {"status", e["status"]},
            {"is_all_day", false},
            {"is_exception", false},
            {"bot_scheduled", e["bot_scheduled"]},
            {"meeting_url", e["meeting_url"]},
            {"meeting_platform", e["meeting_platform"]}};
}

void print(const mb::worker_step& step)
{
    std::printf("job %s (%s): %s\n", step.job_id.c_str(), step.job_kind.c_str(),
                step.settled == mb::worker_step::settlement::acknowledged ? "done"
                                                                          : step.settle_detail.c_str());
    for (const auto& e : step.report.events) {
        std::printf("  %-15s %-12s %s: %s\n", std::string(mb::to_string(e.action)).c_str(),
                    std::string(mb::to_string(e.outcome)).c_str(), e.name.c_str(), e.reason.c_str());
    }
}

}  // namespace

int main()
{
    const auto now = std::chrono::system_clock::now();
    meetingbaas_test::fake_meetingbaas_api api({.api_key = api_key, .now = at(now)});
    if (!api.start()) return 1;
    api.set_v2_calendar({{"calendar_id", calendar},
                         {"calendar_platform", "google"},
                         {"account_email", "owner@example.test"},
                         {"status", "active"},
                         {"synced_at", nullptr},
                         {"created_at", at(now - 24h)}});
    const std::vector<std::string> ids{"a64a3df5-0814-440a-b618-c84f6cd9503a",
                                       "6c093e09-7cca-490d-96d9-ef28a8bf8b34",
                                       "a0af11a0-63cf-410d-b826-c0667a1a2a2b"};
    api.set_v2_event(event(ids[0], weekly, "recurring", "Robotics weekly sync", now + 24h));
    api.set_v2_event(event(ids[1], weekly, "recurring", "Robotics weekly sync", now + 24h + 7 * 24h));
    api.set_v2_event(event(ids[2], one_off, "one_off", "Acme x Northwind pricing review", now + 48h));

    // [v2 worker]
    mb::in_memory_job_queue<> queue;  // sqlite_job_queue in a server: jobs survive a crash
    mb::memory_idempotency_store store;
    mb::idempotency_guard guard{store};  // default options: cannot fail
    mb::in_memory_event_state state;
    mb::event_locks locks;
    mb::sync_metrics metrics;
    mb::api_client client(mb::httplib_http_client(api.base_url()),
                          {.api_key = api_key, .base_url = api.base_url()});
    mb::calendar_sync_options options;
    options.v2_bot.bot_name = "Notetaker";
    mb::calendar_sync_processor processor(mb::calendar_sync_deps{.api = &client,
                                                                 .guard = guard,
                                                                 .state = state,
                                                                 .locks = locks,
                                                                 .options = options,
                                                                 .metrics = &metrics});
    mb::sync_worker worker(mb::sync_worker_deps{.queue = queue, .processor = processor, .metrics = &metrics});
    if (auto ok = worker.validate(); !ok) {
        std::printf("configuration refused: %s\n", mb::to_string(ok.error()).c_str());
        return 1;
    }
    // The receiver enqueues each verified delivery with its wire event name as the job kind.
    auto deliver = [&](const std::string& kind, const nlohmann::json& data) {
        (void)queue.enqueue({kind, nlohmann::json{{"event", kind}, {"data", data}}.dump(), "", std::nullopt});
        auto step = worker.run_once();
        if (step && step->leased) print(*step);
    };
    // [v2 worker]

    std::printf("1. calendar.events_synced: the first sync of the calendar\n");
    const nlohmann::json synced{{"calendar_id", calendar},
                                {"events",
                                 {{{"event_type", "recurring"},
                                   {"series_id", weekly},
                                   {"series_bot_scheduled", false},
                                   {"instances", {instance(api, ids[0]), instance(api, ids[1])}}},
                                  {{"event_type", "one_off"},
                                   {"series_id", one_off},
                                   {"series_bot_scheduled", false},
                                   {"instances", {instance(api, ids[2])}}}}}};
    deliver("calendar.events_synced", synced);

    std::printf("2. calendar.event_updated: the pricing review loses its meeting URL\n");
    api.update_v2_event(ids[2], {{"meeting_url", nullptr}, {"meeting_platform", nullptr}});
    deliver("calendar.event_updated", {{"calendar_id", calendar},
                                       {"event_type", "one_off"},
                                       {"series_id", one_off},
                                       {"series_bot_scheduled", true},
                                       {"is_exception", false},
                                       {"affected_instances", {instance(api, ids[2])}}});

    std::printf("3. calendar.event_cancelled: next week's occurrence is cancelled\n");
    api.update_v2_event(ids[1], {{"status", "cancelled"}});
    deliver("calendar.event_cancelled", {{"calendar_id", calendar},
                                         {"event_type", "recurring"},
                                         {"series_id", weekly},
                                         {"cancelled_instances", {instance(api, ids[1])}}});

    std::printf("4. the first delivery again (a resend with a new svix-id): nothing to do\n");
    deliver("calendar.events_synced", synced);

    const bool expected = api.v2_bot(ids[0]) && !api.v2_bot(ids[1]) && !api.v2_bot(ids[2]) &&
                          api.v2_post_count(ids[0]) == 1 && api.v2_post_count(ids[1]) == 1 &&
                          api.v2_post_count(ids[2]) == 1 && api.v2_delete_count(ids[1]) == 1 &&
                          api.v2_delete_count(ids[2]) == 1 && metrics.v2.bots_scheduled == 3 &&
                          metrics.v2.bots_cancelled == 2 && metrics.v2.jobs_done == 4;
    std::printf("bots: weekly #1 %s, weekly #2 %s, pricing review %s; v2 scheduled %llu, cancelled %llu\n",
                api.v2_bot(ids[0]) ? "scheduled" : "none", api.v2_bot(ids[1]) ? "scheduled" : "none",
                api.v2_bot(ids[2]) ? "scheduled" : "none",
                static_cast<unsigned long long>(metrics.v2.bots_scheduled.load()),
                static_cast<unsigned long long>(metrics.v2.bots_cancelled.load()));
    return expected ? 0 : 1;
}
