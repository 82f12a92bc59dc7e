// SPDX-License-Identifier: MIT
// The README's quick start: parse a calendar.sync_events delivery, claim its idempotency key, and call the
// Meeting BaaS API with retries through the application's own HTTP client. Runs as a test, offline: the
// "HTTP client" below answers like the API would, failing the first call with a 503 to show a retry.
#include <meetingbaas/webhooks.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace mb = meetingbaas;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Your HTTP client: anything with `http_result send(const http_request&)` (see docs/api-client.md; the
// meetingbaas::curl and meetingbaas::httplib adapters are ready-made ones).
struct scripted_client {
    std::string event_json;
    int calls = 0;
    mb::http_result send(const mb::http_request& request)
    {
        std::printf("  %s %s\n", std::string(mb::to_string(request.method)).c_str(), request.url.c_str());
        mb::http_response r;
        r.status = ++calls == 1 ? 503 : 200;  // the first attempt hits a transient failure
        r.headers.add("Retry-After", "0");
        r.body = request.method == mb::http_method::get ? event_json : "[]";
        return r;
    }
};
static_assert(mb::http_client<scripted_client>);

}  // namespace

int main()
{
    const std::string dir = MEETINGBAAS_EXAMPLE_DATA_DIR;
    const std::string body = read_file(dir + "/v1.calendar.sync_events.json");  // the raw request body
    mb::api_client api(scripted_client{read_file(dir + "/api.v1.get_event.json")}, {.api_key = "YOUR_KEY"});
    mb::memory_idempotency_store store;  // or meetingbaas::sqlite_idempotency_store: durable
    auto guard = mb::make_idempotency_guard(store);
    if (!guard) return 1;

    // --- quick start ---
    // 1. Raw bytes -> typed event. Errors are values: a code and the JSON Pointer of the culprit.
    auto sync = mb::parse_event<mb::calendar_sync_events>(body);
    if (!sync) return std::puts(mb::to_string(sync.error()).c_str()), 1;  // answer 400

    // 2. Deliveries repeat: claim the event's canonical key, so the work runs once.
    auto begun = guard->begin(mb::idempotency_key_for(*sync), mb::fingerprint_body(body));
    if (!begun || begun->status != mb::begin_status::acquired) return 1;  // duplicate: answer 200

    // 3. Fetch each changed event and schedule a bot, retrying 429/5xx with jittered backoff.
    for (const std::string& uuid : sync->affected_event_uuids.value_or(std::vector<std::string>{})) {
        auto event = api.v1_get_event(uuid);
        if (!event) return std::puts(mb::to_string(event.error()).c_str()), 1;
        if (!event->deleted && !event->meeting_url.empty()) {
            if (!api.v1_schedule_bot(uuid, {.bot_name = "Recorder"})) return 1;
        }
    }
    if (!guard->complete(begun->claim)) return 1;  // a redelivery now answers "completed"
    // --- end of quick start ---

    const auto again = guard->begin(mb::idempotency_key_for(*sync), mb::fingerprint_body(body));
    std::printf("redelivery: %s; HTTP calls made: %d\n",
                again && again->status == mb::begin_status::completed ? "completed, skipped" : "NOT skipped",
                api.http().calls);
    return again && again->status == mb::begin_status::completed ? 0 : 1;
}
