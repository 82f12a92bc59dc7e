// SPDX-License-Identifier: MIT
// calendar_sync_server: receives Meeting BaaS webhooks and keeps bots scheduled for calendar meetings.
// The reference deployment of the library; its plumbing is in examples/support/.
//
//   POST /webhooks/meeting-baas   200 accepted (also for a duplicate), 400, 401, 411, 413, 431, 503
//   GET  /healthz                 200 when a delivery can be stored right now, else 503 and why
//   GET  /metrics                 Prometheus text
//   GET  /admin/dead-letters, POST /admin/dead-letters/{id}/requeue, .../requeue-all (with --admin-token)
//
// Each delivery is acknowledged at once (verify, parse, claim, enqueue into SQLite, on a handler thread):
// v1 (x-meeting-baas-api-key) and v2 (Svix-signed with a --webhook-secret) on the same endpoint.
// --workers threads process calendar.sync_events (v1) and calendar.event_* / events_synced (v2): read the
// events, decide (default policy), schedule or cancel the bot once per state change. Jobs survive kill -9
// (the --state file). SIGTERM/SIGINT stop it within 10 s, leaving unfinished jobs queued; SIGHUP reopens
// --log-file. Logs are JSON lines, never a key or a secret. See docs/calendar-sync.md ("The example server").
// With --state redis://... or postgresql://... any number of instances share one state and one API write
// limit (--api-write-rate): docs/scale-out.md ("Running the example server on Redis/PostgreSQL").

#include "support/api_calls.hpp"
#include "support/dead_letter_admin.hpp"
#include "support/housekeeping.hpp"
#include "support/http_server.hpp"
#include "support/json_log.hpp"
#include "support/process.hpp"
#include "support/server_config.hpp"
#include "support/server_metrics.hpp"
#include "support/sqlite_state.hpp"
#include "support/storage_health.hpp"
#include "support/sync_log.hpp"
#include "support/webhook_auth.hpp"
#include "support/webhook_fast_path.hpp"

// Shared state (docs/scale-out.md), when the adapters are built.
#include "support/shared_state.hpp"
#if MEETINGBAAS_SERVER_WITH_POSTGRES
#include "support/postgres_state.hpp"
#endif
#if MEETINGBAAS_SERVER_WITH_REDIS
#include "support/redis_state.hpp"
#endif

#include <meetingbaas/adapters/httplib.hpp>
#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/rate_limit.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <csignal>
#include <functional>
#include <iostream>
#include <thread>
#include <vector>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

int fail(int status, std::string_view message)
{
    std::cerr << "calendar_sync_server: " << message << "\n";
    return status;
}

/// In-call retries stay short (3 attempts within 6 s, 4 s per attempt: one call lasts at most about 10 s);
/// longer outages are the job queue's business. An action's claim is leased for 15 s, longer than any
/// call, so a claim left by a crashed process is only taken over once its last request is over.
constexpr auto in_call_policy = mb::checked(
    mb::retry_policy<mb::exponential_backoff>{.backoff = {.initial = 250ms, .multiplier = 2.0, .maximum = 2s},
                                              .jitter = mb::full_jitter,
                                              .stop = mb::stop_after_attempts(3) | mb::stop_after_elapsed(6s),
                                              .max_retry_after = 3s,
                                              .attempt_reserve = 0ms});

/// What the "listening" line says about the state: the SQLite path, or the shared state's backend and
/// address (never a password).
template <class State>
std::string state_description(const support::server_config& cfg, const State& state)
{
    if constexpr (requires { state.where(); }) {
        return std::string(State::backend()) + " " + state.where();
    } else {
        return cfg.state;
    }
}

/// "5", "2.5": writes per second as configured.
std::string rate_text(double rate)
{
    std::string text = std::to_string(rate);  // "2.500000"
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text;
}

template <class State>
std::string instance_of(const State& state)
{
    if constexpr (requires { state.instance_id; }) {
        return state.instance_id;
    } else {
        return {};
    }
}

/// A failing /healthz of shared state names the backend and its address ("redis redis://host:6379/0: ...",
/// "postgres host:5432/db: ..."), also when the reason is a delivery that could not be stored.
template <class State>
support::http_response name_backend(support::http_response answer, const State& state)
{
    if constexpr (requires { state.where(); }) {
        const std::string name = std::string(State::backend()) + " " + state.where();
        constexpr std::string_view lead = "cannot store deliveries: ";
        if (answer.status != 200 && answer.body.find(name) == std::string::npos) {
            const auto at = answer.body.starts_with(lead) ? lead.size() : 0;
            answer.body.insert(at, name + ": ");
        }
    }
    return answer;
}

/// The idempotency guard: on the shared state's clock (Redis or PostgreSQL), so that instances with
/// skewed clocks agree on lease ends; on the local clock for SQLite.
template <class State>
auto make_guard(State& state)
{
    if constexpr (requires { state.clock; }) {
        return mb::make_idempotency_guard(state.store, state.clock);
    } else {
        return mb::make_idempotency_guard(state.store);
    }
}

/// Everything after the state is open: the same server on SQLite, Redis or PostgreSQL state.
template <class State>
int serve(const support::server_config& config, const support::signal_set& signals, std::uint64_t open_files,
          support::json_log& log, State& state)
{
    const auto* cfg = &config;
    auto verifier = support::make_verifier(*cfg);
    if (!verifier) return fail(2, verifier.error());

    // ---- 2. Receive: verify, parse, deduplicate and enqueue each delivery, then answer.
    mb::sync_metrics metrics;
    support::delivery_counters deliveries;  // /metrics: deliveries by API version and result
    mb::work_signal work;
    support::storage_health health;
    support::recent_keys recent;  // duplicates are answered from memory
    support::health_tracking_queue intake(state.intake, health, &recent);
    auto guard = make_guard(state);  // default options: cannot fail
    auto wake_workers = [&work] { work.notify(); };
    mb::webhook_receiver receiver{mb::receiver_deps<mb::webhook_verifier, decltype(guard), decltype(intake),
                                                    mb::ignore_other_events, decltype(wake_workers)>{
        .verifier = *verifier, .guard = guard, .queue = intake, .notify = wake_workers, .metrics = &metrics}};

    support::http_server http({.limits = {.max_connections = cfg->max_connections,
                                          .max_body_bytes = receiver.options().max_body_bytes,
                                          .idle_timeout = cfg->idle_timeout,
                                          .head_timeout = cfg->request_timeout,
                                          .body_timeout = cfg->request_timeout},
                               .io_threads = cfg->http_threads,
                               .handler_threads = cfg->handler_threads});
    // Duplicates and refusals are answered on the I/O thread from memory; new deliveries are stored first,
    // on a handler thread (support/webhook_fast_path.hpp).
    support::webhook_fast_path fast_path(*verifier, recent, metrics, deliveries, log);
    http.route(
        "POST", "/webhooks/meeting-baas",
        [&](const support::http_request& req) {
            const auto r = receiver.handle(req.method(), req, req.body());
            support::record_delivery(log, deliveries, r, req);  // counted by API version, logged
            return support::http_response{r.status, r.body + "\n"};
        },
        support::run_on::handler_pool, std::ref(fast_path));
    http.on_refusal([&](std::string_view, std::string_view path, int status) {
        if (path != "/webhooks/meeting-baas" || status != 413) return;  // the front end refused a large body
        metrics.deliveries_received.fetch_add(1, std::memory_order_relaxed);
        metrics.rejected(mb::reject_reason::too_large);
        deliveries.count_refused(mb::api_version::unknown, mb::reject_reason::too_large);
        log.write("delivery", {{"status", 413}, {"result", "rejected"}, {"detail", "body over the limit"}});
    });
    http.route("GET", "/healthz", [&](const support::http_request&) {
        return name_backend(health.check([&] { return state.probe(); }), state);
    });
    http.route("GET", "/metrics", [&](const support::http_request&) {
        support::server_gauges gauges{log.dropped(), health.writable()};
        if constexpr (requires { state.last_health(); }) {  // SQLite's file sizes
            const auto h = state.last_health();
            gauges.state_wal_bytes = h.wal_bytes;
            gauges.state_database_bytes = h.database_bytes;
        }
        return support::http_response{
            200, support::render_metrics(metrics, deliveries, state.intake, http, gauges),
            "text/plain; version=0.0.4"};
    });
    if (!cfg->admin_token.empty())
        support::add_dead_letter_routes(http, state.queue, cfg->admin_token, log, wake_workers);
    const auto port = http.listen(cfg->listen_host, cfg->listen_port);
    if (!port) return fail(1, port.error());

    // ---- 3. Process: each worker thread leases jobs and reconciles their events through its own client.
    // Every API write of every worker takes a permit from one bucket first (--api-write-rate): in this
    // process for SQLite, in Redis or PostgreSQL (shared by every instance) for shared state.
    auto local_writes = mb::token_bucket_limiter<>::create({.per_second = cfg->api_write_rate});
    if (!local_writes) return fail(2, mb::to_string(local_writes.error()));
    auto& writes = [&]() -> auto& {
        if constexpr (requires { state.writes; }) {
            return state.writes;
        } else {
            return *local_writes;
        }
    }();
    std::stop_source stop;
    mb::event_locks locks;  // one worker per event at a time
    std::vector<std::jthread> workers;
    for (int w = 0; w < cfg->workers; ++w) {
        workers.emplace_back([&, w] {
            using limited =
                mb::rate_limited_client<mb::httplib_http_client, std::remove_reference_t<decltype(writes)>>;
            using client = support::observed_client<limited>;
            // In-call retry waits (and waits for a write permit) wake early on shutdown.
            mb::api_client api(
                client(limited(mb::httplib_http_client(cfg->api_origin), writes, stop.get_token()),
                       stop.get_token(), metrics),
                mb::api_client_options{.api_key = cfg->api_key,
                                       .base_url = cfg->api_base_url,
                                       .timeout = 4s,
                                       .retry = in_call_policy},
                mb::retry_effects{.sleeper = mb::stop_aware_sleeper(stop.get_token())});
            mb::calendar_sync_options options;
            options.bot.bot_name = cfg->bot_name;
            options.v2_bot.bot_name = cfg->bot_name;
            options.action_lease = 15s;
            mb::calendar_sync_processor processor(mb::calendar_sync_deps{.api = &api,
                                                                         .guard = guard,
                                                                         .state = state.events,
                                                                         .locks = locks,
                                                                         .options = options,
                                                                         .metrics = &metrics});
            mb::sync_worker worker(
                mb::sync_worker_deps{.queue = state.queue, .processor = processor, .metrics = &metrics});
            const auto ran = worker.run(
                stop.get_token(), work, [&](const mb::worker_step& step) { support::log_step(log, step, w); },
                [&](const mb::error& e) {
                    log.write("queue_error", {{"error", mb::to_string(e)}, {"worker", w}});
                });
            if (!ran) log.write("worker_refused", {{"error", mb::to_string(ran.error())}, {"worker", w}});
        });
    }

    // PostgreSQL: a NOTIFY from any instance's enqueue wakes this instance's workers at once (otherwise
    // they find new work within their idle poll).
    std::jthread bridge;
    if constexpr (requires { state.queue.wait_for_work(1s); }) {
        bridge = std::jthread([&](std::stop_token until) {
            while (!until.stop_requested()) {
                auto woke = state.queue.wait_for_work(1s);
                if (woke && *woke) work.notify();
                if (!woke) std::this_thread::sleep_for(200ms);  // LISTEN connection down: do not spin
            }
        });
    }

    support::housekeeping housekeeping(log);
    housekeeping.add(state.maintenance_tasks(log));  // WAL bound, retention, probe (support/sqlite_state.hpp)
    housekeeping.start();
    http.start();
    log.write_now("listening", {{"address", cfg->listen_host},
                                {"port", *port},
                                {"workers", cfg->workers},
                                {"state", state_description(*cfg, state)},
                                {"instance", instance_of(state)},
                                {"api_write_rate", rate_text(cfg->api_write_rate)},
                                {"api", cfg->api_base_url},
                                {"v2_signatures", !cfg->webhook_secrets.empty()},
                                {"admin", !cfg->admin_token.empty()},
                                {"requeued_jobs", state.requeued_at_start},
                                {"open_files_limit", open_files}});

    // ---- 4. Stop: on SIGTERM or SIGINT. Deliveries in flight are answered, workers finish their event
    // and put unfinished jobs back (due now), the WAL is checkpointed.
    const int received = support::wait_for_stop_signal(signals, log);  // SIGHUP reopens --log-file
    log.write_now("shutdown", {{"signal", support::signal_set::name(received)}});
    stop.request_stop();
    work.notify();
    if (bridge.joinable()) {
        bridge.request_stop();
        if constexpr (requires { state.queue.wake_waiters(); }) state.queue.wake_waiters();
        bridge.join();
    }
    http.stop();
    workers.clear();  // joins
    housekeeping.stop();
    log.write_now("stopped", {});
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    // ---- 1. Configure: every flag is checked, the state is opened and checked, before anything starts.
    bool help = false;
    const auto cfg = support::parse_server_config(argc, argv, help);
    if (help) return std::cout << support::server_usage(), 0;
    if (!cfg) return fail(2, cfg.error() + " (see --help)");
    const support::signal_set signals;  // blocks SIGTERM, SIGINT, SIGHUP before any thread starts
    const auto open_files = support::raise_open_files_limit();  // each connection is a descriptor
    auto log_file = support::json_log::open({.path = cfg->log_file});
    if (!log_file) return fail(1, log_file.error());
    auto& log = **log_file;
    // Redis or PostgreSQL: shared by any number of instances (no lock file); a connection per request
    // thread, worker, probe and housekeeping.
    const support::shared_state_options shared{.instance_id = cfg->instance_id,
                                               .write_rate = cfg->api_write_rate,
                                               .connections = cfg->handler_threads + cfg->http_threads +
                                                              2 * static_cast<std::size_t>(cfg->workers) + 4};
    switch (support::backend_of(cfg->state)) {
        case support::state_backend::redis: {
#if MEETINGBAAS_SERVER_WITH_REDIS
            const auto opened = support::redis_state::open(cfg->state, shared);
            if (!opened) return fail(1, opened.error());
            return serve(*cfg, signals, open_files, log, **opened);
#else
            return fail(2, "--state redis://...: this build has no Redis support (meetingbaas::redis)");
#endif
        }
        case support::state_backend::postgres: {
#if MEETINGBAAS_SERVER_WITH_POSTGRES
            const auto opened = support::postgres_state::open(cfg->state, shared);
            if (!opened) return fail(1, opened.error());
            return serve(*cfg, signals, open_files, log, **opened);
#else
            return fail(
                2, "--state postgresql://...: this build has no PostgreSQL support (meetingbaas::postgres)");
#endif
        }
        case support::state_backend::sqlite: break;
    }
    const auto lock = support::lock_file::acquire(cfg->state + ".lock");  // one process per SQLite file
    if (!lock) return fail(1, "cannot use the state " + cfg->state + ": " + lock.error());
    const auto opened =
        support::sqlite_state::open(cfg->state);  // integrity check; queue, stores, maintenance
    if (!opened) return fail(1, opened.error());
    return serve(*cfg, signals, open_files, log, **opened);
}
