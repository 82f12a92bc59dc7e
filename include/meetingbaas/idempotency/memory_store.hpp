// SPDX-License-Identifier: MIT
#pragma once

// memory_idempotency_store: the in-memory idempotency_store. Thread-safe and sharded (one mutex per shard),
// with TTL expiry (lazy on access, plus a bounded incremental sweep on every insert; no background thread)
// and a bounded capacity whose policy never drops an in-progress record. Records live in one allocation
// each, in open-addressing tables. State is lost on restart: use a durable store (SQLite, Redis, ...) when
// deliveries must stay deduplicated across restarts or processes. See docs/idempotency.md.

#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/idempotency/store.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meetingbaas::inline v0 {

/// What an insert does when its shard is full and no expired record can be dropped.
enum class capacity_policy {
    reject,           ///< fail the insert with errc::storage_error (the sender retries later): the default
    evict_completed,  ///< evict the completed record closest to its expiry among those sampled (it will be
                      ///< deduplicated no more); in-progress records are never evicted. Reject if none found.
};

struct memory_store_options {
    std::size_t shards = 16;           ///< rounded up to a power of two, at most 1024
    std::size_t capacity = 1'000'000;  ///< records in total; each shard holds at most capacity / shards
    std::size_t sweep_step = 2;        ///< slots checked for expired records on every insert
    std::size_t sample_size = 64;      ///< slots scanned for expired / evictable records when a shard is full
    capacity_policy when_full = capacity_policy::reject;
};

/// Counters, for metrics. Each is a snapshot; totals since construction.
struct memory_store_stats {
    std::size_t records = 0;
    std::size_t expired_removed = 0;
    std::size_t evicted = 0;
    std::size_t rejected_full = 0;
};

class memory_idempotency_store {
public:
    explicit memory_idempotency_store(memory_store_options options = {})
        : options_(options), shard_count_(std::bit_ceil(std::clamp<std::size_t>(options.shards, 1, 1024))),
          shard_shift_(static_cast<unsigned>(64 - std::countr_zero(shard_count_))),
          per_shard_capacity_(std::max<std::size_t>(1, (options.capacity + shard_count_ - 1) / shard_count_)),
          shards_(std::make_unique<shard[]>(shard_count_))
    {}
    memory_idempotency_store(const memory_idempotency_store&) = delete;
    memory_idempotency_store& operator=(const memory_idempotency_store&) = delete;
    memory_idempotency_store(memory_idempotency_store&&) = delete;  // workers hold references to it
    memory_idempotency_store& operator=(memory_idempotency_store&&) = delete;
    ~memory_idempotency_store()
    {
        for (std::size_t i = 0; i < shard_count_; ++i) shards_[i].clear();
    }

    result<bool> insert_if_absent(std::string_view key, const record_view& r, utc_time now)
    {
        if (auto ok = check_sizes(key, r); !ok) return std::move(ok).error();
        const std::uint64_t h = hash(key);
        shard& s = shard_for(h);
        const std::lock_guard lock(s.mutex);
        if (s.find(h, key) != npos) return false;
        s.sweep(options_.sweep_step, now);
        if (s.size >= per_shard_capacity_ && !make_room(s, now)) {
            ++s.rejected_full;
            return error{errc::storage_error, "memory_idempotency_store::insert_if_absent",
                         "capacity reached (" + std::to_string(per_shard_capacity_) +
                             " records per shard) and no record could be dropped"};
        }
        s.insert(h, node::make(key, r));
        return true;
    }

    result<std::optional<idempotency_record>> load(std::string_view key, utc_time now)
    {
        const std::uint64_t h = hash(key);
        shard& s = shard_for(h);
        const std::lock_guard lock(s.mutex);
        const std::size_t i = s.find(h, key);
        if (i == npos) return std::optional<idempotency_record>();
        const node& n = *s.slots[i].ptr;
        if (n.state == record_state::completed && n.expired_at(now)) {  // lazy expiry: nobody owns it
            s.erase_at(i);
            ++s.expired_removed;
            return std::optional<idempotency_record>();
        }
        return std::optional<idempotency_record>(n.to_record());
    }

    result<bool> compare_and_set(std::string_view key, std::uint64_t expected_fence, const record_view& r,
                                 utc_time /*now*/)
    {
        if (auto ok = check_sizes(key, r); !ok) return std::move(ok).error();
        const std::uint64_t h = hash(key);
        shard& s = shard_for(h);
        const std::lock_guard lock(s.mutex);
        const std::size_t i = s.find(h, key);
        if (i == npos || s.slots[i].ptr->fence != expected_fence) return false;
        node*& p = s.slots[i].ptr;
        if (!p->assign(r)) {
            node* replacement = node::make(key, r);
            node::destroy(p);
            p = replacement;
        }
        return true;
    }

    result<bool> erase_if_fence(std::string_view key, std::uint64_t fence)
    {
        const std::uint64_t h = hash(key);
        shard& s = shard_for(h);
        const std::lock_guard lock(s.mutex);
        const std::size_t i = s.find(h, key);
        if (i == npos || s.slots[i].ptr->fence != fence) return false;
        s.erase_at(i);
        return true;
    }

    /// Removes up to `budget` expired records per shard (scanning at most 4 * budget slots each); returns
    /// how many were removed. Inserts already sweep a little; call this from a timer if you want more.
    std::size_t sweep(utc_time now, std::size_t budget = 64)
    {
        std::size_t removed = 0;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            shard& s = shards_[i];
            const std::lock_guard lock(s.mutex);
            removed += s.sweep(4 * budget, now, budget);
        }
        return removed;
    }

    [[nodiscard]] memory_store_stats stats() const
    {
        memory_store_stats out;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            shard& s = shards_[i];
            const std::lock_guard lock(s.mutex);
            out.records += s.size;
            out.expired_removed += s.expired_removed;
            out.evicted += s.evicted;
            out.rejected_full += s.rejected_full;
        }
        return out;
    }
    [[nodiscard]] std::size_t size() const { return stats().records; }
    [[nodiscard]] std::size_t shard_count() const noexcept { return shard_count_; }
    [[nodiscard]] std::size_t capacity_per_shard() const noexcept { return per_shard_capacity_; }

private:
    static constexpr std::size_t npos = ~std::size_t{0};

    // One allocation per record: this header, then the key, fingerprint and outcome bytes.
    struct node {
        std::uint64_t fence;
        std::int64_t expires_us;
        std::uint32_t key_size;
        std::uint32_t fingerprint_size;
        std::uint32_t outcome_size;
        std::uint32_t value_capacity;  // bytes available for fingerprint + outcome
        record_state state;
        work_outcome outcome;

        char* chars() noexcept { return reinterpret_cast<char*>(this + 1); }
        const char* chars() const noexcept { return reinterpret_cast<const char*>(this + 1); }
        [[nodiscard]] std::string_view key() const noexcept { return {chars(), key_size}; }
        [[nodiscard]] bool expired_at(utc_time now) const noexcept
        {
            return expires_us <= now.time_since_epoch().count();
        }

        static node* make(std::string_view key, const record_view& r)
        {
            const std::size_t value = r.fingerprint.size() + r.outcome_data.size();
            void* raw = ::operator new(sizeof(node) + key.size() + value);
            node* n = ::new (raw) node{};
            n->key_size = static_cast<std::uint32_t>(key.size());
            n->value_capacity = static_cast<std::uint32_t>(value);
            if (!key.empty()) std::memcpy(n->chars(), key.data(), key.size());
            n->assign(r);
            return n;
        }
        static void destroy(node* n) noexcept { ::operator delete(n); }

        // Overwrites the record in place; false when the new values do not fit.
        bool assign(const record_view& r) noexcept
        {
            const std::size_t value = r.fingerprint.size() + r.outcome_data.size();
            if (value > value_capacity) return false;
            fence = r.fence;
            expires_us = r.expires_at.time_since_epoch().count();
            state = r.state;
            outcome = r.outcome;
            fingerprint_size = static_cast<std::uint32_t>(r.fingerprint.size());
            outcome_size = static_cast<std::uint32_t>(r.outcome_data.size());
            char* v = chars() + key_size;
            if (!r.fingerprint.empty()) std::memmove(v, r.fingerprint.data(), r.fingerprint.size());
            if (!r.outcome_data.empty()) {
                std::memmove(v + fingerprint_size, r.outcome_data.data(), r.outcome_data.size());
            }
            return true;
        }

        [[nodiscard]] idempotency_record to_record() const
        {
            const char* v = chars() + key_size;
            return idempotency_record{state,
                                      outcome,
                                      fence,
                                      utc_time(std::chrono::microseconds(expires_us)),
                                      std::string(v, fingerprint_size),
                                      std::string(v + fingerprint_size, outcome_size)};
        }
    };

    struct slot {
        std::uint64_t hash = 0;
        node* ptr = nullptr;
    };

    // A linear-probing table with backward-shift deletion (no tombstones), guarded by its mutex.
    struct alignas(64) shard {
        mutable std::mutex mutex;
        std::vector<slot> slots;
        std::size_t size = 0;
        std::size_t cursor = 0;
        std::size_t expired_removed = 0;
        std::size_t evicted = 0;
        std::size_t rejected_full = 0;

        [[nodiscard]] std::size_t mask() const noexcept { return slots.size() - 1; }

        [[nodiscard]] std::size_t find(std::uint64_t h, std::string_view key) const noexcept
        {
            if (slots.empty()) return npos;
            for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
                const slot& sl = slots[i];
                if (sl.ptr == nullptr) return npos;
                if (sl.hash == h && sl.ptr->key() == key) return i;
            }
        }

        void insert(std::uint64_t h, node* n)
        {
            if ((size + 1) * 4 > slots.size() * 3) grow();
            std::size_t i = h & mask();
            while (slots[i].ptr != nullptr) i = (i + 1) & mask();
            slots[i] = slot{h, n};
            ++size;
        }

        void grow()
        {
            std::vector<slot> old(slots.empty() ? 16 : slots.size() * 2);
            old.swap(slots);
            const std::size_t m = mask();
            for (const slot& sl : old) {
                if (sl.ptr == nullptr) continue;
                std::size_t i = sl.hash & m;
                while (slots[i].ptr != nullptr) i = (i + 1) & m;
                slots[i] = sl;
            }
            cursor = 0;
        }

        void erase_at(std::size_t i) noexcept
        {
            node::destroy(slots[i].ptr);
            slots[i] = slot{};
            --size;
            const std::size_t m = mask();
            for (std::size_t j = (i + 1) & m; slots[j].ptr != nullptr; j = (j + 1) & m) {
                const std::size_t home = slots[j].hash & m;
                // The entry at j may move to the hole at i unless its home lies cyclically in (i, j].
                const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
                if (stays) continue;
                slots[i] = slots[j];
                slots[j] = slot{};
                i = j;
            }
        }

        // Checks up to `steps` slots from the cursor, removing expired records (at most `limit`).
        std::size_t sweep(std::size_t steps, utc_time now, std::size_t limit = ~std::size_t{0}) noexcept
        {
            if (slots.empty()) return 0;
            std::size_t removed = 0;
            steps = std::min(steps, slots.size());
            for (std::size_t k = 0; k < steps && removed < limit; ++k) {
                cursor &= mask();
                const slot& sl = slots[cursor];
                if (sl.ptr != nullptr && sl.ptr->expired_at(now)) {
                    erase_at(cursor);  // another entry may shift into this slot: look at it next
                    ++removed;
                } else {
                    ++cursor;
                }
            }
            expired_removed += removed;
            return removed;
        }

        void clear() noexcept
        {
            for (slot& sl : slots) {
                if (sl.ptr != nullptr) node::destroy(sl.ptr);
                sl = slot{};
            }
            size = 0;
        }
    };

    // Frees one record in a full shard: an expired one first; then, if the policy allows, the completed
    // record closest to its expiry among the sampled slots. Never an in-progress record.
    bool make_room(shard& s, utc_time now)
    {
        if (s.sweep(options_.sample_size, now, 1) > 0) return true;
        if (options_.when_full != capacity_policy::evict_completed || s.slots.empty()) return false;
        std::size_t best = npos;
        const std::size_t steps = std::min(options_.sample_size, s.slots.size());
        for (std::size_t k = 0, i = s.cursor & s.mask(); k < steps; ++k, i = (i + 1) & s.mask()) {
            const node* n = s.slots[i].ptr;
            if (n == nullptr || n->state != record_state::completed) continue;
            if (best == npos || n->expires_us < s.slots[best].ptr->expires_us) best = i;
        }
        if (best == npos) return false;
        s.erase_at(best);
        ++s.evicted;
        return true;
    }

    static result<void> check_sizes(std::string_view key, const record_view& r)
    {
        constexpr std::size_t limit = 0xFFFF'FFFFU;
        if (key.size() > limit || r.fingerprint.size() + r.outcome_data.size() > limit) {
            return error{errc::too_large, "memory_idempotency_store", "key or record larger than 4 GiB"};
        }
        return {};
    }

    static std::uint64_t hash(std::string_view key) noexcept
    {
        return static_cast<std::uint64_t>(std::hash<std::string_view>{}(key));
    }
    shard& shard_for(std::uint64_t h) const noexcept
    {
        // High bits pick the shard, low bits the slot: the two stay independent.
        return shards_[shard_count_ == 1 ? 0 : static_cast<std::size_t>(h >> shard_shift_)];
    }

    memory_store_options options_;
    std::size_t shard_count_;
    unsigned shard_shift_;
    std::size_t per_shard_capacity_;
    std::unique_ptr<shard[]> shards_;
};

static_assert(idempotency_store<memory_idempotency_store>);

}  // namespace meetingbaas::inline v0
