// SPDX-License-Identifier: MIT
#pragma once

// What the example server's shared state bundles (redis_state.hpp, postgres_state.hpp) have in common:
// their options, and which backend a --state value names.
//
// A bundle has the shape of sqlite_state: open(url, options) checks that the server answers and that its
// data layout is one this build understands, then gives the request path's queue (`intake`), the workers'
// queue (`queue`), the idempotency store, the per-event sync state, the shared write-rate limiter
// (`writes`), a write probe for /healthz naming the backend, housekeeping tasks, and how many jobs this
// instance had leased before it was restarted (made due again at once: `requeued_at_start`). No lock file:
// any number of instances share one server.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace support {

enum class state_backend { sqlite, redis, postgres };

/// The backend a --state value names: redis://..., postgresql://... or postgres://..., else a SQLite path.
[[nodiscard]] inline state_backend backend_of(std::string_view state) noexcept
{
    if (state.starts_with("redis://")) return state_backend::redis;
    if (state.starts_with("postgresql://") || state.starts_with("postgres://"))
        return state_backend::postgres;
    return state_backend::sqlite;
}

[[nodiscard]] constexpr std::string_view name_of(state_backend b) noexcept
{
    switch (b) {
        case state_backend::sqlite: return "sqlite";
        case state_backend::redis: return "redis";
        case state_backend::postgres: return "postgres";
    }
    return "?";
}

struct shared_state_options {
    /// This instance's stable name (e.g. the pod name): the jobs it had leased when it died are made due
    /// again when an instance with the same name starts. Two live instances must not share it. Empty: a
    /// name unique to this process (nothing is requeued at start; leases end by themselves).
    std::string instance_id{};
    /// API writes (POST/PATCH/DELETE) per second, shared by every worker of every instance.
    double write_rate = 5.0;
    /// Connections to the server, at most (request threads + workers + health probe + housekeeping).
    std::size_t connections = 16;
};

}  // namespace support
