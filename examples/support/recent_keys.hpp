// SPDX-License-Identifier: MIT
#pragma once

// A bounded memory of the deliveries enqueued recently (their unique key and job id), so that a
// duplicate, the most frequent request a webhook receiver sees (Svix retries, resends, several copies at
// once), is answered without a storage round trip.
//
// It only ever says "seen": a key it does not know goes to the queue, which stays the authority (its
// insert-once per key is what guarantees one job per delivery). A key is remembered only after the queue
// has stored or found it, and for at most `max_age` (default 1 h), far inside the queue's own retention
// of completed jobs (72 h in the example server), so it never claims a key the queue has forgotten. The
// memory is bounded: per shard, two generations; when the current one is full it becomes the previous one
// and the oldest generation is dropped.

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace support {

class recent_keys {
public:
    explicit recent_keys(std::size_t capacity = 50'000, std::chrono::seconds max_age = std::chrono::hours(1))
        : per_generation_(capacity / (2 * shard_count) + 1), max_age_(max_age)
    {}

    /// The job id stored for `key`, when it was remembered less than max_age ago.
    [[nodiscard]] std::optional<std::string> find(std::string_view key)
    {
        auto& s = shard_of(key);
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(s.mutex);
        for (auto* generation : {&s.current, &s.previous}) {
            const auto it = generation->find(key);
            if (it == generation->end()) continue;
            if (now - it->second.at > max_age_) return std::nullopt;
            return it->second.id;
        }
        return std::nullopt;
    }

    void remember(std::string_view key, std::string_view id)
    {
        auto& s = shard_of(key);
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(s.mutex);
        if (s.current.size() >= per_generation_) {
            s.previous = std::move(s.current);
            s.current = {};
        }
        s.current.insert_or_assign(std::string(key), entry{std::string(id), now});
    }

private:
    struct entry {
        std::string id;
        std::chrono::steady_clock::time_point at;
    };
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    using map = std::unordered_map<std::string, entry, hash, std::equal_to<>>;
    struct shard {
        std::mutex mutex;
        map current;
        map previous;
    };
    static constexpr std::size_t shard_count = 16;

    shard& shard_of(std::string_view key) noexcept { return shards_[hash{}(key) % shard_count]; }

    std::size_t per_generation_;
    std::chrono::seconds max_age_;
    std::array<shard, shard_count> shards_{};
};

}  // namespace support
