// SPDX-License-Identifier: MIT
// A durable idempotency store: claims and outcomes survive a restart (here: closing and reopening the file).
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/idempotency/guard.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

namespace mb = meetingbaas;

int main()
{
    const auto path =
        (std::filesystem::temp_directory_path() / "meetingbaas_idempotency_example.db").string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    const auto key = mb::schedule_recording_key(
        "bf23a894-e787-4629-8947-43f4bea4ccd8",
        *mb::parse_timestamp("2026-09-14T08:42:17Z").transform([](const mb::timestamp& t) { return t.time; }),
        /*all_occurrences=*/false);
    {
        auto store = mb::sqlite_idempotency_store::open(path);  // WAL, synchronous=NORMAL
        if (!store) {
            std::printf("%s\n", mb::to_string(store.error()).c_str());
            return 1;
        }
        mb::idempotency_guard guard{*store};  // default options: lease 2 min, retention 72 h
        auto begun = guard.begin(key);
        if (!begun || !begun->acquired()) return 1;
        std::printf("scheduling the bot once: %s\n", key.str().c_str());
        if (!guard.complete(begun->claim, mb::work_outcome::applied, "bot_id=6c1a...")) return 1;
    }
    auto store = mb::sqlite_idempotency_store::open(path);  // "after a restart"
    if (!store) return 1;
    mb::idempotency_guard guard{*store};
    auto again = guard.begin(key);
    if (!again || again->status != mb::begin_status::completed) return 1;
    std::printf("after the restart: already %s, outcome \"%s\"\n",
                mb::to_string(again->record->outcome).data(), again->record->outcome_data.c_str());
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return 0;
}
