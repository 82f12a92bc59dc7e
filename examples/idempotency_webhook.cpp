// SPDX-License-Identifier: MIT
// Deduplicating webhook deliveries: claim_delivery holds a delivery's keys (the Svix message id and the
// event's canonical payload key) with a lease and a fence, a duplicate replays the stored outcome, a manual
// resend (new message id, new sent_at) is recognised as a duplicate, and a crashed worker's claim is taken
// over once its lease ends.
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/delivery.hpp>
#include <meetingbaas/idempotency/event_keys.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A clock the example can move forward, to show a lease expiring.
struct example_clock {
    const std::chrono::system_clock::time_point* current;
    [[nodiscard]] std::chrono::system_clock::time_point now() const { return *current; }
};

// What a receiver does with one (already verified) delivery. `message_id` is the svix-id header, empty for
// v1. Returns the HTTP status to answer with.
template <class Guard>
int handle(Guard& guard, const std::string& body, std::string_view message_id, bool crash_midway = false)
{
    auto parsed = mb::parse_delivery(body);
    if (!parsed) return 400;
    auto claimed = mb::claim_delivery(guard, mb::delivery_keys_for(*parsed, body, message_id),
                                      mb::fingerprint_body(body));
    if (!claimed) return 503;  // the store failed: let the sender retry
    switch (claimed->status) {
        case mb::delivery_status::acquired: break;
        case mb::delivery_status::duplicate:  // this message again, or the same event in a resend
            std::printf("  duplicate (by its %s key): replay \"%s\"\n",
                        std::string(mb::to_string(claimed->decided_by)).c_str(),
                        claimed->record ? claimed->record->outcome_data.c_str() : "");
            return 200;
        case mb::delivery_status::in_progress: return 409;  // another copy is running: retry later
        case mb::delivery_status::conflict: return 422;     // one message id, two bodies
    }
    if (claimed->claim.payload.took_over)
        std::printf("  took over a crashed worker's claim (fence bumped)\n");
    std::printf("  processing %s (fence %llu)\n", claimed->claim.payload.key.str().c_str(),
                static_cast<unsigned long long>(claimed->claim.payload.fence));
    if (crash_midway) return 500;  // the worker dies: neither complete nor release
    if (!mb::complete_delivery(guard, claimed->claim, mb::work_outcome::applied, "scheduled 3 bots"))
        return 503;
    return 200;
}

}  // namespace

int main()
{
    const std::string dir = MEETINGBAAS_EXAMPLE_DATA_DIR;
    const std::string sync = read_file(dir + "/v1.calendar.sync_events.json");
    const std::string completed = read_file(dir + "/v2.bot.completed.json");
    if (sync.empty() || completed.empty()) return 1;
    // A manual resend of the same bot.completed: a new Svix message whose sent_at (and pre-signed URLs)
    // differ.
    std::string resend = completed;
    if (const auto at = resend.find("\"sent_at\": \"2026-"); at != std::string::npos) {
        resend.replace(at + 12, 4, "2027");
    } else {
        return 1;
    }

    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    mb::memory_idempotency_store store;
    auto guard = mb::make_idempotency_guard(store, {.lease = 2min, .retention = mb::default_v1_retention},
                                            example_clock{&now});
    if (!guard) return 1;

    std::printf("v1 delivery:\n");
    if (handle(*guard, sync, "") != 200) return 1;
    std::printf("its redelivery:\n");
    if (handle(*guard, sync, "") != 200) return 1;

    std::printf("v2 delivery, a worker crashes while processing:\n");
    if (handle(*guard, completed, "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA", /*crash_midway=*/true) != 500) return 1;
    std::printf("Svix retries 10 s later:\n");
    now += 10s;
    if (handle(*guard, completed, "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA") != 409)
        return 1;  // the lease still runs
    std::printf("  409: in progress\nand again after the lease expired:\n");
    now += 5min;
    if (handle(*guard, completed, "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA") != 200) return 1;
    std::printf("a manual resend (new svix-id, new sent_at):\n");
    if (handle(*guard, resend, "msg_3pRt9YsU5wLq0YdO2cZt8MeF4iB") != 200) return 1;
    std::printf("done\n");
    return 0;
}
