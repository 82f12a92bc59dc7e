// SPDX-License-Identifier: MIT
// Parses every webhook fixture in MEETINGBAAS_EXAMPLE_DATA_DIR (or the files given as arguments) and
// prints one line per event. Exit code 0 when every body parsed.
#include <meetingbaas/events/event.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace mb = meetingbaas;

// [handle]
// Visit the parsed event like any std::variant.
template <class... F>
struct overloaded : F... {
    using F::operator()...;
};

void handle(const mb::delivery& d)
{
    std::visit(overloaded{
                   [](const mb::calendar_sync_events& e) {
                       // Missing or null affected_event_uuids means "unknown set": list by updated_at_gte.
                       const std::size_t n = e.affected_event_uuids ? e.affected_event_uuids->size() : 0;
                       std::printf("calendar %s synced at %s (%s): %zu changed event(s)%s\n",
                                   e.calendar_id.c_str(), e.last_updated_ts.text.c_str(),
                                   mb::format_timestamp(e.last_updated_ts.time).c_str(), n,
                                   e.affected_event_uuids ? "" : ", set unknown");
                   },
                   [](const mb::bot_status_change_v2& e) {
                       std::printf("bot %s is now %s%s\n", e.bot_id.c_str(), e.status.code.raw.c_str(),
                                   e.status.code.is_known() ? "" : " (new status code)");
                   },
                   [](const mb::bot_failed_v2& e) {
                       std::printf("bot %s failed: %s (%s)\n", e.bot_id.c_str(), e.error_code.raw.c_str(),
                                   e.error_message.c_str());
                   },
                   [](const mb::unknown_event& e) {
                       std::printf("unknown event %s: forwarding %zu bytes of data\n", e.type.c_str(),
                                   e.data ? e.data->text.size() : std::size_t{0});
                   },
                   [&](const auto&) {
                       std::printf("%s event %.*s\n", std::string(mb::to_string(d.version)).c_str(),
                                   static_cast<int>(mb::event_name(d.event).size()),
                                   mb::event_name(d.event).data());
                   },
               },
               d.event);
}

bool on_webhook(std::string_view body)
{
    auto d = mb::parse_delivery(body);  // or parse_delivery(body, {.version = mb::api_version::v2})
    if (!d) {
        // e.g. "missing_field at /data/calendar_id: required member is absent"
        std::printf("rejected: %s\n", mb::to_string(d.error()).c_str());
        return false;
    }
    handle(*d);
    return true;
}
// [handle]

namespace {

bool read_file(const std::string& path, std::string& out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) files.emplace_back(argv[i]);
    if (files.empty()) {
        for (const char* name :
             {"v1.calendar.sync_events.json", "v1.calendar.sync_events.microseconds.json",
              "v1.bot.status_change.json", "v1.complete.json", "v1.failed.json",
              "v1.transcription_complete.json", "v2.bot.status_change.json", "v2.bot.completed.json",
              "v2.bot.failed.json", "v2.bot.chat_message.json", "v2.calendar.connection_created.json",
              "v2.calendar.events_synced.json", "v2.calendar.event_created.json",
              "v2.calendar.event_updated.json", "v2.calendar.event_cancelled.json"}) {
            files.push_back(std::string(MEETINGBAAS_EXAMPLE_DATA_DIR) + "/" + name);
        }
    }
    int failures = 0;
    for (const auto& path : files) {
        std::string body;
        if (!read_file(path, body)) {
            std::printf("cannot read %s\n", path.c_str());
            ++failures;
            continue;
        }
        if (!on_webhook(body)) ++failures;
    }
    // An unknown event type is not an error, and a broken body is a typed error, never a crash.
    if (!on_webhook(R"({"event":"calendar.connection_error","data":{"calendar_id":"c"}})")) ++failures;
    if (on_webhook(R"({"event":"calendar.sync_events","data":{"last_updated_ts":"2026-09-14T08:42:17Z"}})")) {
        ++failures;
    }
    return failures == 0 ? 0 : 1;
}
