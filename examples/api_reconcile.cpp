// SPDX-License-Identifier: MIT
// Reconciling after a v1 calendar.sync_events: fetch each affected event, then schedule or unschedule
// its bot. The HTTP client is the application's own: here a small in-memory one, written against the
// http_client concept exactly as an adapter for another HTTP library would be (docs/api-client.md).
// Builds and runs with -fno-exceptions -DJSON_NOEXCEPTION.

#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/http.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

/// The application's HTTP client. A real adapter would call its HTTP library here and map the library's
/// failures to transport_error; this one answers from a map of events, like the v1 API would.
class in_memory_http_client {
public:
    explicit in_memory_http_client(std::map<std::string, nlohmann::json>& events) : events_(&events) {}

    meetingbaas::http_result send(const meetingbaas::http_request& request)
    {
        std::printf("  -> %s %s\n", std::string(meetingbaas::to_string(request.method)).c_str(),
                    request.url.c_str());
        const std::string prefix = "https://api.meetingbaas.com/calendar_events/";
        if (request.url.rfind(prefix, 0) != 0) return answer(404, R"({"error":"Not found"})");
        std::string rest = request.url.substr(prefix.size());
        rest = rest.substr(0, rest.find('?'));
        const bool bot = rest.size() > 4 && rest.compare(rest.size() - 4, 4, "/bot") == 0;
        const std::string uuid = bot ? rest.substr(0, rest.size() - 4) : rest;
        const auto it = events_->find(uuid);
        if (it == events_->end()) return answer(404, R"({"error":"BotNotFound"})");
        if (!bot) return answer(200, it->second.dump());
        if (request.method == meetingbaas::http_method::post) {
            it->second["bot_param"] = nlohmann::json::parse(request.body, nullptr, false);
        } else if (request.method == meetingbaas::http_method::delete_) {
            it->second["bot_param"] = nullptr;
        }
        return answer(200, nlohmann::json::array({it->second}).dump());
    }

private:
    static meetingbaas::http_result answer(int status, std::string body)
    {
        meetingbaas::http_response r;
        r.status = status;
        r.headers.add("Content-Type", "application/json");
        r.body = std::move(body);
        return r;
    }

    std::map<std::string, nlohmann::json>* events_;
};

static_assert(meetingbaas::http_client<in_memory_http_client>);  // the first line after an adapter

}  // namespace

int main()
{
    const std::string data = MEETINGBAAS_EXAMPLE_DATA_DIR;
    std::map<std::string, nlohmann::json> events;
    const auto page =
        nlohmann::json::parse(read_file(data + "/api.v1.list_events.page.json"), nullptr, false);
    const auto list = page.find("data");
    if (list == page.end() || !list->is_array()) return 1;
    for (const auto& e : *list) {
        const auto uuid = e.find("uuid");
        if (uuid != e.end() && uuid->is_string()) events[uuid->get<std::string>()] = e;
    }

    meetingbaas::api_client client(in_memory_http_client(events), {.api_key = "YOUR_API_KEY"});

    // The uuids of a calendar.sync_events webhook (see the events docs for parsing it).
    const char* affected[] = {"bf23a894-e787-4629-8947-43f4bea4ccd8", "f9dc9fa7-9eb9-4b53-b193-2b6834706c78",
                              "672ea9c0-d974-417e-9c70-cd8b71d3a3d5", "00000000-0000-0000-0000-000000000000"};
    int scheduled = 0, unscheduled = 0, missing = 0;
    for (const char* uuid : affected) {
        auto event = client.v1_get_event(uuid);
        if (!event) {
            if (event.error().is_not_found()) {  // gone: nothing to do
                ++missing;
                continue;
            }
            std::printf("giving up on %s: %s\n", uuid, meetingbaas::to_string(event.error()).c_str());
            return 1;
        }
        const bool wants_bot = !event->deleted && !event->meeting_url.empty();
        if (wants_bot && !event->bot_param) {
            meetingbaas::v1_bot_config bot;
            bot.bot_name = "Notetaker";
            bot.deduplication_key = "notetaker-" + event->uuid;  // one bot per event, even if retried
            auto r = client.v1_schedule_bot(event->uuid, bot);
            if (!r) return 1;
            ++scheduled;
        } else if (!wants_bot && event->bot_param) {
            if (!client.v1_unschedule_bot(event->uuid)) return 1;
            ++unscheduled;
        }
        std::printf("%s %-34s start %s bot %s\n", event->uuid.c_str(), event->name.c_str(),
                    event->start_time.text.c_str(), wants_bot ? "wanted" : "not wanted");
    }
    std::printf("scheduled %d, unscheduled %d, missing %d\n", scheduled, unscheduled, missing);
    // The recurring event gets a bot; the other live one already has one; the deleted one has none.
    return (scheduled == 1 && unscheduled == 0 && missing == 1 &&
            !events["bf23a894-e787-4629-8947-43f4bea4ccd8"]["bot_param"].is_null())
               ? 0
               : 1;
}
