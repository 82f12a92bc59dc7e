// SPDX-License-Identifier: MIT
#pragma once

// The example server's state in Redis, shared by every instance given the same redis://... URL: the job
// queue, the idempotency store, the per-event sync state and the shared write-rate bucket
// (docs/scale-out.md). Link meetingbaas::redis. Same shape as sqlite_state (see shared_state.hpp); no lock
// file.
//
// open() connects (an unreachable server, a refused password: a clear error), checks the server's version
// (6.2 or newer) and the data layout version under `mb:schema` (a newer one, written by a newer build, is
// refused), and makes the jobs this instance (options.instance_id) had leased when it died due again.
//
// The library's Redis queue does not record who holds a lease, so the workers' queue here is a thin
// wrapper that does: after a lease it adds `<id> -> <token>` to the hash mb:q:{jobs}:owner:<instance>
// (kept a day after the last lease), and removes it when the job is settled (one more round trip each).
// A process killed between its lease and that record loses nothing: its job comes back when the lease
// ends, as without the wrapper. At start, one script makes every job in this instance's hash that is
// still leased with the recorded token ready again; a job another instance took over since has another
// token and is left alone.

#include "housekeeping.hpp"
#include "shared_state.hpp"

#include <meetingbaas/adapters/redis.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace support {

namespace detail {

// KEYS: owner hash, due zset, leased zset. ARGV[1]: the queue's key prefix "<prefix>{name}:".
inline constexpr meetingbaas::redis::script redis_requeue_owned =
    meetingbaas::redis::make_script("mb.server.requeue_owned", R"lua(
local P = ARGV[1]
local t = redis.call('TIME')
local now = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local entries = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #entries, 2 do
  local sid = entries[i]
  local jk = P .. 'j:' .. sid
  local f = redis.call('HMGET', jk, 's', 't')
  if f[1] == 'l' and f[2] == entries[i + 1] then
    local m = string.format('%020d', tonumber(sid))
    redis.call('HSET', jk, 's', 'r', 'd', now)
    redis.call('ZADD', KEYS[2], now, m)
    redis.call('ZREM', KEYS[3], m)
    n = n + 1
  end
end
redis.call('DEL', KEYS[1])
return n
)lua");

// KEYS: owner hash. ARGV: job id, lease token, expiry of the hash in ms (refreshed by every lease, so the
// record of an instance name that is never used again goes away by itself).
inline constexpr meetingbaas::redis::script redis_own_lease =
    meetingbaas::redis::make_script("mb.server.own_lease", R"lua(
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua");

}  // namespace detail

/// The workers' queue: redis_job_queue, remembering which jobs this instance holds (see the file comment).
template <meetingbaas::redis::connection Client>
class redis_owned_queue {
public:
    using inner_type = meetingbaas::redis_job_queue<Client>;

    redis_owned_queue(Client client, const meetingbaas::redis_queue_options& options, std::string instance_id)
        : inner_(client, options), client_(std::move(client)),
          owner_(options.prefix + "{" + options.name + "}:owner:" + instance_id)
    {}

    meetingbaas::result<meetingbaas::enqueue_outcome> enqueue(meetingbaas::job_spec spec)
    {
        return inner_.enqueue(std::move(spec));
    }
    meetingbaas::result<std::optional<meetingbaas::leased_job>> lease(std::chrono::milliseconds d)
    {
        auto r = inner_.lease(d);
        if (r && r->has_value()) {
            const auto token = std::to_string((*r)->lease_token);
            const std::array<std::string_view, 1> keys{owner_};
            const std::array<std::string_view, 3> args{(*r)->id, token, "86400000"};
            // Best effort: without it the job comes back when its lease ends, as without this wrapper.
            (void)meetingbaas::redis::run_script(client_, detail::redis_own_lease, keys, args,
                                                 "redis_state::lease");
        }
        return r;
    }
    meetingbaas::result<void> acknowledge(std::string_view id, std::uint64_t token)
    {
        return forget(id, inner_.acknowledge(id, token));
    }
    meetingbaas::result<void> retry_later(std::string_view id, std::uint64_t token,
                                          meetingbaas::queue_time at, std::string_view reason)
    {
        return forget(id, inner_.retry_later(id, token, at, reason));
    }
    meetingbaas::result<void> dead_letter(std::string_view id, std::uint64_t token, std::string_view reason)
    {
        return forget(id, inner_.dead_letter(id, token, reason));
    }
    meetingbaas::result<void> extend_lease(std::string_view id, std::uint64_t token,
                                           std::chrono::milliseconds d)
    {
        return inner_.extend_lease(id, token, d);
    }
    meetingbaas::result<std::vector<meetingbaas::dead_letter_entry>> dead_letters(std::size_t limit)
    {
        return inner_.dead_letters(limit);
    }
    meetingbaas::result<void> requeue_dead_letter(std::string_view id)
    {
        return inner_.requeue_dead_letter(id);
    }
    meetingbaas::result<meetingbaas::queue_stats> stats() { return inner_.stats(); }
    meetingbaas::result<std::optional<meetingbaas::queue_time>> next_due() { return inner_.next_due(); }
    meetingbaas::result<std::size_t> purge_completed(meetingbaas::queue_time before)
    {
        return inner_.purge_completed(before);
    }

    /// Makes the jobs recorded under this instance that are still leased with the recorded token due now,
    /// and forgets the record. Returns how many.
    meetingbaas::result<std::size_t> requeue_owned(const meetingbaas::redis_queue_options& options)
    {
        const std::string base = options.prefix + "{" + options.name + "}:";
        const std::string due = base + "due";
        const std::string leased = base + "leased";
        const std::array<std::string_view, 3> keys{owner_, due, leased};
        const std::array<std::string_view, 1> args{base};
        auto r = meetingbaas::redis::run_script(client_, detail::redis_requeue_owned, keys, args,
                                                "redis_state::requeue_owned");
        if (!r) return std::move(r).error();
        if (r->type != meetingbaas::redis::reply_type::integer) {
            return meetingbaas::redis::shape_error(*r, "redis_state::requeue_owned",
                                                   detail::redis_requeue_owned.name, "integer");
        }
        return static_cast<std::size_t>(r->integer);
    }

private:
    meetingbaas::result<void> forget(std::string_view id, meetingbaas::result<void> settled)
    {
        // Settled, or no longer ours (fence mismatch, gone): either way not ours to requeue at start.
        if (settled || settled.error().code != meetingbaas::errc::storage_error) {
            const std::array<std::string_view, 3> hdel{"HDEL", owner_, id};
            (void)client_.command(hdel);
        }
        return settled;
    }

    inner_type inner_;
    Client client_;
    std::string owner_;
};

class redis_state {
public:
    using client_type = meetingbaas::redis::hiredis_client;
    using intake_type = meetingbaas::redis_job_queue<client_type>;
    using queue_type = redis_owned_queue<client_type>;
    using store_type = meetingbaas::redis_idempotency_store<client_type>;
    using events_type = meetingbaas::redis_event_state<client_type>;
    using limiter_type = meetingbaas::redis_rate_limiter<client_type>;
    using clock_type = meetingbaas::redis::server_clock<client_type>;

    /// The version of what the server keeps (key names and value formats of the library's Redis stores),
    /// stored under `mb:schema`. A server holding a higher one was written by a newer build: refused.
    static constexpr int layout_version = 1;

    [[nodiscard]] static meetingbaas::result<std::unique_ptr<redis_state>, std::string>
    open(const std::string& url, shared_state_options options = {})
    {
        namespace mb = meetingbaas;
        auto target = mb::redis::parse_url(url);
        if (!target)
            return "the state " + url + " is not a usable Redis URL: " + mb::to_string(target.error());
        const std::string where = target->describe();  // never the password
        const auto fail = [&](const std::string& what) {
            return "cannot open the state " + where + ": " + what;
        };
        mb::redis::client_options client_options;
        client_options.max_connections = options.connections;
        client_options.command_timeout = std::chrono::seconds(2);  // a webhook waits at most this for Redis
        auto client = mb::redis::hiredis_client::connect(*target, client_options);
        if (!client) return fail(mb::to_string(client.error()));
        if (auto version = check_server(*client); !version.empty()) return fail(version);
        if (auto layout = check_layout(*client); !layout.empty()) return fail(layout);
        if (options.instance_id.empty()) options.instance_id = default_instance_id();
        auto writes = limiter_type::create(*client, {.rate = {.per_second = options.write_rate}});
        if (!writes) return fail(mb::to_string(writes.error()));
        const mb::redis_queue_options queue_options{};
        queue_type queue(*client, queue_options, options.instance_id);
        auto requeued = queue.requeue_owned(queue_options);
        if (!requeued) return fail(mb::to_string(requeued.error()));
        return std::unique_ptr<redis_state>(new redis_state(
            *client, std::move(queue), std::move(*writes), std::move(options.instance_id), where, *requeued));
    }

    intake_type intake;  ///< the receiver's (and /metrics') queue
    queue_type queue;    ///< the workers' and the admin endpoints'
    store_type store;
    events_type events;
    limiter_type writes;  ///< one bucket for every instance on this Redis
    clock_type clock;     ///< the server's clock, for the idempotency guard's leases
    std::size_t requeued_at_start = 0;
    std::string instance_id;

    [[nodiscard]] static constexpr std::string_view backend() noexcept { return "redis"; }
    /// "redis://host:port/db" (no password).
    [[nodiscard]] const std::string& where() const noexcept { return where_; }

    /// Can a delivery be stored right now? One small write with expiry (fails like an enqueue would:
    /// unreachable, READONLY after a fail-over, OOM under noeviction). The error names the backend.
    [[nodiscard]] meetingbaas::result<void, std::string> probe()
    {
        const std::array<std::string_view, 5> set{"SET", probe_key_, "1", "PX", "60000"};
        auto r = client_.command(set);
        if (!r) {
            return meetingbaas::unexpected(
                describe_failure(meetingbaas::redis::to_error(r.error(), "probe", "SET")));
        }
        if (r->is_error()) {
            return meetingbaas::unexpected(
                describe_failure(meetingbaas::redis::reply_error(*r, "probe", "SET")));
        }
        return {};
    }

    /// Housekeeping: completed jobs past the 72 h deduplication window are forgotten by key expiry; the
    /// index of completed jobs is trimmed hourly here (purge_completed). The server clock refreshes itself.
    [[nodiscard]] std::vector<maintenance_task> maintenance_tasks(json_log& /*log*/)
    {
        namespace mb = meetingbaas;
        using result = mb::result<maintenance_outcome, std::string>;
        std::vector<maintenance_task> tasks;
        tasks.push_back({"purge_completed_jobs", std::chrono::hours(1),
                         [this]() -> result {
                             const auto before = mb::queue_now(clock) - std::chrono::hours(72);
                             auto purged = queue.purge_completed(before);
                             if (!purged) return mb::unexpected(mb::to_string(purged.error()));
                             return maintenance_outcome{static_cast<std::uint64_t>(*purged), std::nullopt};
                         },
                         false});
        return tasks;
    }

    [[nodiscard]] const client_type& client() const noexcept { return client_; }

private:
    redis_state(client_type client, queue_type q, limiter_type w, std::string id, std::string where,
                std::size_t requeued)
        : intake(client), queue(std::move(q)), store(client), events(client), writes(std::move(w)),
          clock(client), requeued_at_start(requeued), instance_id(std::move(id)), client_(std::move(client)),
          where_(std::move(where)), probe_key_("mb:probe:{" + instance_id + "}")
    {}

    std::string describe_failure(const meetingbaas::error& e) const
    {
        return "redis " + where_ + ": " + e.message;
    }

    /// "" when the server is Redis 6.2 or newer (EVALSHA scripts, PX expiry, TIME in scripts).
    static std::string check_server(client_type& c)
    {
        const std::array<std::string_view, 2> info{"INFO", "server"};
        auto r = c.command(info);
        if (!r) return meetingbaas::to_string(meetingbaas::redis::to_error(r.error(), "open", "INFO"));
        if (r->is_error()) return meetingbaas::to_string(meetingbaas::redis::reply_error(*r, "open", "INFO"));
        const std::string_view text = r->str;
        const auto at = text.find("redis_version:");
        if (at == std::string_view::npos) return "INFO server has no redis_version";
        const auto version = text.substr(at + 14, text.find_first_of("\r\n", at) - at - 14);
        int major = 0;
        int minor = 0;
        std::size_t i = 0;
        for (; i < version.size() && version[i] >= '0' && version[i] <= '9'; ++i)
            major = major * 10 + (version[i] - '0');
        if (i < version.size() && version[i] == '.') {
            for (++i; i < version.size() && version[i] >= '0' && version[i] <= '9'; ++i)
                minor = minor * 10 + (version[i] - '0');
        }
        if (major < 6 || (major == 6 && minor < 2))
            return "Redis " + std::string(version) + " is too old (6.2 or newer is needed)";
        return {};
    }

    /// "" when `mb:schema` is absent (then set) or at most layout_version.
    static std::string check_layout(client_type& c)
    {
        const auto mine = std::to_string(layout_version);
        const std::array<std::string_view, 4> set{"SET", "mb:schema", mine, "NX"};
        if (auto r = c.command(set); !r || r->is_error()) {
            return r ? meetingbaas::to_string(meetingbaas::redis::reply_error(*r, "open", "SET mb:schema"))
                     : meetingbaas::to_string(
                           meetingbaas::redis::to_error(r.error(), "open", "SET mb:schema"));
        }
        const std::array<std::string_view, 2> get{"GET", "mb:schema"};
        auto r = c.command(get);
        if (!r)
            return meetingbaas::to_string(meetingbaas::redis::to_error(r.error(), "open", "GET mb:schema"));
        if (!r->is_string()) return "mb:schema is not a string";
        const auto stored = meetingbaas::redis::parse_int64(r->str);
        if (!stored) return "mb:schema holds \"" + r->str.substr(0, 40) + "\", not a version number";
        if (*stored > layout_version) {
            return "the data was written by a newer build (layout " + r->str + ", this build knows " + mine +
                   "): upgrade this server";
        }
        return {};
    }

    static std::string default_instance_id()
    {
        std::array<char, 256> host{};
        if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
        return std::string(host.data()) + "-" + std::to_string(::getpid()) + "-" +
               std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    }

    client_type client_;
    std::string where_;
    std::string probe_key_;
};

}  // namespace support
