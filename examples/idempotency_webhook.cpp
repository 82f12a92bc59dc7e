// SPDX-License-Identifier: MIT
// Deduplicating webhook deliveries: the canonical key of each event, a lease-and-fence claim, the stored
// outcome replayed for duplicates, and a crashed worker's claim taken over.
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/event_keys.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

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

// What a receiver does with one delivery. Returns the HTTP status to answer with.
template <class Guard>
int handle(Guard& guard, const std::string& body, bool crash_midway = false)
{
    auto parsed = mb::parse_delivery(body);
    if (!parsed) return 400;
    auto begun = guard.begin(mb::idempotency_key_for(*parsed, body), mb::fingerprint_body(body));
    if (!begun) return 503;  // the store failed: let the sender retry
    switch (begun->status) {
        case mb::begin_status::acquired: break;
        case mb::begin_status::completed:
            std::printf("  duplicate of a completed delivery: replay \"%s\"\n",
                        begun->record->outcome_data.c_str());
            return 200;
        case mb::begin_status::in_progress: return 409;
        case mb::begin_status::mismatch: return 422;
    }
    if (begun->claim.took_over) std::printf("  took over a crashed worker's claim (fence bumped)\n");
    std::printf("  processing %s (fence %llu)\n", begun->claim.key.str().c_str(),
                static_cast<unsigned long long>(begun->claim.fence));
    if (crash_midway) return 500;  // the worker dies: neither complete() nor release()
    if (!guard.complete(begun->claim, mb::work_outcome::applied, "scheduled 3 bots")) return 503;
    return 200;
}

}  // namespace

int main()
{
    const std::string dir = MEETINGBAAS_EXAMPLE_DATA_DIR;
    const std::string sync = read_file(dir + "/v1.calendar.sync_events.json");
    const std::string completed = read_file(dir + "/v2.bot.completed.json");
    if (sync.empty() || completed.empty()) return 1;

    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    mb::memory_idempotency_store store;
    auto guard = mb::make_idempotency_guard(store, {.lease = 2min, .retention = mb::default_v1_retention},
                                            example_clock{&now});
    if (!guard) return 1;

    std::printf("first delivery:\n");
    if (handle(*guard, sync) != 200) return 1;
    std::printf("redelivery:\n");
    if (handle(*guard, sync) != 200) return 1;

    std::printf("a worker crashes while processing:\n");
    if (handle(*guard, completed, /*crash_midway=*/true) != 500) return 1;
    std::printf("the sender retries 10 s later:\n");
    now += 10s;
    if (handle(*guard, completed) != 409) return 1;  // the lease still runs
    std::printf("  409: in progress\nand again after the lease expired:\n");
    now += 5min;
    if (handle(*guard, completed) != 200) return 1;
    std::printf("done\n");
    return 0;
}
