// SPDX-License-Identifier: MIT
// calendar_sync_server: receives Meeting BaaS webhooks and keeps bots scheduled for calendar meetings.
//
//   POST /webhooks/meeting-baas   200 accepted (also for a duplicate), 401, 400, 413
//   GET  /healthz                 200 when the state file answers
//   GET  /metrics                 Prometheus text
//
// Acknowledges each delivery at once (verify, parse, claim, enqueue into SQLite), and processes
// calendar.sync_events on --workers threads: fetch the events, decide (default policy), schedule or cancel
// the bot once per state change. Jobs survive kill -9 (the --state file); SIGTERM stops within 10 s and
// leaves unfinished jobs queued for the next start. One log line per delivery and per action; never a key
// or a secret. See docs/calendar-sync.md.

#include <meetingbaas/adapters/httplib.hpp>
#include <meetingbaas/adapters/sqlite/database.hpp>
#include <meetingbaas/adapters/sqlite/event_state.hpp>
#include <meetingbaas/adapters/sqlite/idempotency_store.hpp>
#include <meetingbaas/adapters/sqlite/job_queue.hpp>
#include <meetingbaas/api/client.hpp>
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/core/headers.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>
#include <meetingbaas/sync/metrics.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

namespace mb = meetingbaas;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------------------------------------
// Configuration: flags, each also read from its environment variable where the interface names one.

struct config {
    std::string listen_host = "127.0.0.1";
    int listen_port = 8080;
    std::string api_base_url = "https://api.meetingbaas.com";
    std::string api_key;
    std::string webhook_secret;
    std::string state = "./calendar-sync.sqlite3";
    std::string bot_name = "Recorder";
    int workers = 2;
};

constexpr std::string_view usage =
    "usage: calendar_sync_server --api-key KEY [options]\n"
    "  --listen HOST:PORT        address to serve on (default 127.0.0.1:8080)\n"
    "  --api-base-url URL        Meeting BaaS API (default https://api.meetingbaas.com) "
    "[MEETINGBAAS_API_BASE_URL]\n"
    "  --api-key KEY             API key; also checks v1 webhooks (required) [MEETINGBAAS_API_KEY]\n"
    "  --webhook-secret whsec_.. enables v2 (Svix) signature checks [MEETINGBAAS_WEBHOOK_SECRET]\n"
    "  --state PATH              SQLite file for idempotency records and the job queue\n"
    "                            (default ./calendar-sync.sqlite3)\n"
    "  --bot-name NAME           bot name for scheduled recordings (default \"Recorder\")\n"
    "  --workers N               processing threads (default 2)\n";

std::optional<int> parse_int(std::string_view s, int lo, int hi)
{
    if (s.empty() || s.size() > 9) return std::nullopt;
    int v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    if (v < lo || v > hi) return std::nullopt;
    return v;
}

/// Fills `cfg`; returns an error message, or "" on success ("help" for --help).
std::string parse_config(int argc, char** argv, config& cfg)
{
    if (const char* v = std::getenv("MEETINGBAAS_API_BASE_URL"); v != nullptr && *v != '\0')
        cfg.api_base_url = v;
    if (const char* v = std::getenv("MEETINGBAAS_API_KEY"); v != nullptr) cfg.api_key = v;
    if (const char* v = std::getenv("MEETINGBAAS_WEBHOOK_SECRET"); v != nullptr) cfg.webhook_secret = v;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") return "help";
        const auto eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        std::string value;
        if (eq != std::string_view::npos) {
            value = std::string(arg.substr(eq + 1));
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return "missing value for " + std::string(name);
        }
        if (name == "--listen") {
            const auto colon = value.rfind(':');
            if (colon == std::string::npos || colon == 0) return "--listen needs HOST:PORT";
            const auto port = parse_int(std::string_view(value).substr(colon + 1), 0, 65535);
            if (!port) return "--listen: invalid port";
            cfg.listen_host = value.substr(0, colon);
            cfg.listen_port = *port;
        } else if (name == "--api-base-url") {
            cfg.api_base_url = value;
        } else if (name == "--api-key") {
            cfg.api_key = value;
        } else if (name == "--webhook-secret") {
            cfg.webhook_secret = value;
        } else if (name == "--state") {
            cfg.state = value;
        } else if (name == "--bot-name") {
            cfg.bot_name = value;
        } else if (name == "--workers") {
            const auto n = parse_int(value, 1, 64);
            if (!n) return "--workers must be 1..64";
            cfg.workers = *n;
        } else {
            return "unknown option " + std::string(name);
        }
    }
    if (cfg.api_key.empty()) return "--api-key (or MEETINGBAAS_API_KEY) is required";
    if (cfg.bot_name.empty()) return "--bot-name must not be empty";
    while (!cfg.api_base_url.empty() && cfg.api_base_url.back() == '/') cfg.api_base_url.pop_back();
    return {};
}

/// "scheme://host[:port]" of a base URL (the httplib adapter talks to one origin).
std::string origin_of(const std::string& url)
{
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto path = url.find('/', scheme + 3);
    return path == std::string::npos ? url : url.substr(0, path);
}

// ---------------------------------------------------------------------------------------------------------
// Logging: one line per event. Only ids, statuses and reasons: never a key or a secret.
//
// Each line is formatted first and written with one write(2) to stdout, without a lock: a write of
// fewer than PIPE_BUF (4096) bytes to a pipe is atomic, and so is an append to a file opened O_APPEND,
// so lines never interleave.

class logger {
public:
    void line(std::string_view text) const
    {
        const auto now =
            std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
        std::string out = mb::format_timestamp(now);
        out += ' ';
        out += text.substr(0, max_line - out.size() - 1);
        out += '\n';
        const char* p = out.data();
        std::size_t left = out.size();
        while (left > 0) {
            const ssize_t n = ::write(STDOUT_FILENO, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // stdout closed or full: logging must not stop the server
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }

private:
    static constexpr std::size_t max_line = 4000;  // below PIPE_BUF
};

std::string log_quote(std::string_view s)
{
    std::string out = "\"";
    for (const char c : s.substr(0, 200)) {
        if (c == '"' || c == '\\') out += '\\';
        out += (c >= 0x20 && c != 0x7f) ? c : '?';
    }
    return out + "\"";
}

// ---------------------------------------------------------------------------------------------------------
// HTTP client wrapper: counts answers by status for /metrics, and fails fast once shutdown has begun (so
// that an API call in its retry loop ends quickly; the job stays queued).

template <class Inner>
class observed_client {
public:
    observed_client(Inner inner, std::stop_token stop, mb::sync_metrics& metrics)
        : inner_(std::move(inner)), stop_(std::move(stop)), metrics_(&metrics)
    {}
    mb::http_result send(const mb::http_request& request)
    {
        if (stop_.stop_requested()) {
            return mb::unexpected(
                mb::transport_error{mb::transport_errc::connect_failed, false, "shutting down"});
        }
        auto r = inner_.send(request);
        if (r) {
            metrics_->api_call(r->status);
        } else {
            metrics_->api_transport_errors.fetch_add(1, std::memory_order_relaxed);
        }
        return r;
    }

private:
    Inner inner_;
    std::stop_token stop_;
    mb::sync_metrics* metrics_;
};

/// In-call retries stay short (3 attempts within 6 s, 4 s per attempt: one call lasts at most about 10 s);
/// longer outages are the job queue's business. An action's idempotency claim is leased for 15 s, longer
/// than any call, so a claim left by a crashed process is only taken over once its last request is over.
constexpr mb::retry_policy<mb::exponential_backoff> in_call_policy = mb::checked(
    mb::retry_policy<mb::exponential_backoff>{.backoff = {.initial = 250ms, .multiplier = 2.0, .maximum = 2s},
                                              .jitter = mb::full_jitter,
                                              .stop = mb::stop_after_attempts(3) | mb::stop_after_elapsed(6s),
                                              .max_retry_after = 3s,
                                              .attempt_reserve = 0ms});
constexpr auto api_attempt_timeout = 4s;
constexpr auto action_claim_lease = 15s;

// ---------------------------------------------------------------------------------------------------------
// cpp-httplib task queue with a connection cap: at most `threads` connections are served at once and
// `max_pending` wait; beyond that the accept loop blocks, so further clients wait in the kernel's backlog
// instead of costing memory. Slow clients are cut off by the read timeout.

class bounded_pool final : public httplib::TaskQueue {
public:
    bounded_pool(std::size_t threads, std::size_t max_pending) : max_pending_(max_pending)
    {
        for (std::size_t i = 0; i < threads; ++i) {
            threads_.emplace_back([this] {
                for (;;) {
                    std::function<void()> fn;
                    {
                        std::unique_lock lock(mutex_);
                        ready_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
                        if (jobs_.empty()) return;
                        fn = std::move(jobs_.front());
                        jobs_.pop_front();
                    }
                    space_.notify_one();
                    fn();
                }
            });
        }
    }
    ~bounded_pool() override { shutdown(); }

    void enqueue(std::function<void()> fn) override
    {
        {
            std::unique_lock lock(mutex_);
            space_.wait(lock, [this] { return shutdown_ || jobs_.size() < max_pending_; });
            jobs_.push_back(std::move(fn));
        }
        ready_.notify_one();
    }
    void shutdown() override
    {
        {
            std::lock_guard lock(mutex_);
            if (shutdown_ && threads_.empty()) return;
            shutdown_ = true;
        }
        ready_.notify_all();
        space_.notify_all();
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
        threads_.clear();
    }

private:
    std::size_t max_pending_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable space_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    bool shutdown_ = false;
};

/// httplib's request headers as a header_source (httplib's map is already case-insensitive).
struct httplib_headers {
    const httplib::Headers* headers;
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const
    {
        const auto it = headers->find(std::string(name));
        if (it == headers->end()) return std::nullopt;
        return std::string_view(it->second);
    }
};

/// A single server per state file: an exclusive lock on "<state>.lock", held until exit.
int lock_state_file(const std::string& state)
{
    const std::string path = state + ".lock";
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return -2;
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv)
{
    config cfg;
    if (const auto problem = parse_config(argc, argv, cfg); !problem.empty()) {
        if (problem == "help") {
            std::cout << usage;
            return 0;
        }
        std::cerr << "calendar_sync_server: " << problem << "\n" << usage;
        return 2;
    }

    // Signals are handled by one thread with sigwait: block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    logger log;
    const int lock_fd = lock_state_file(cfg.state);
    if (lock_fd < 0) {
        std::cerr << "calendar_sync_server: " << (lock_fd == -2 ? "another server uses " : "cannot lock ")
                  << cfg.state << "\n";
        return 1;
    }

    // Automatic WAL checkpoints (an fsync every ~1000 pages) are off on the request path's connections; the
    // housekeeping thread below checkpoints once per second instead.
    auto open_quiet = [&]() -> mb::result<mb::sqlite::database> {
        auto db = mb::sqlite::open(cfg.state);
        if (!db) return db.error();
        if (auto r = db->exec("PRAGMA wal_autocheckpoint=0"); !r) return r.error();
        return db;
    };
    auto queue_db = open_quiet();
    auto store_db = open_quiet();
    auto housekeeping_db = mb::sqlite::open(cfg.state);
    if (!queue_db || !store_db || !housekeeping_db) {
        std::cerr << "calendar_sync_server: cannot open " << cfg.state << "\n";
        return 1;
    }
    auto queue = mb::sqlite_job_queue<>::attach(std::move(*queue_db));
    auto store = mb::sqlite_idempotency_store::attach(std::move(*store_db));
    auto state = mb::sqlite_event_state::open(cfg.state);
    if (!queue || !store || !state) {
        const auto& e = !queue ? queue.error() : !store ? store.error() : state.error();
        std::cerr << "calendar_sync_server: cannot open " << cfg.state << ": " << mb::to_string(e) << "\n";
        return 1;
    }
    // This process holds the state file's lock, so jobs still leased belong to a process that died: make them
    // due now. (Its idempotency claims are left to expire: an API call it had in flight may still land, and
    // waiting out the claim's lease is what keeps that call from being sent twice.)
    const auto requeued = queue->requeue_leased();
    if (!requeued) {
        std::cerr << "calendar_sync_server: cannot recover " << cfg.state << "\n";
        return 1;
    }
    auto guard = mb::make_idempotency_guard(*store);
    if (!guard) return 1;

    mb::webhook_verifier verifier;
    auto keys = mb::api_key_keyring::from_keys({cfg.api_key});
    if (!keys) {
        std::cerr << "calendar_sync_server: unusable --api-key\n";
        return 2;
    }
    verifier.accept_v1(std::move(*keys));
    if (!cfg.webhook_secret.empty()) {
        auto svix = mb::svix_verifier::from_secrets({cfg.webhook_secret});
        if (!svix) {
            std::cerr << "calendar_sync_server: unusable --webhook-secret ("
                      << mb::to_string(svix.error().code) << ")\n";
            return 2;
        }
        verifier.accept_v2(std::move(*svix));
    }

    mb::sync_metrics metrics;
    mb::work_signal signal;
    mb::event_locks locks;

    auto on_other = [](const mb::delivery&, const mb::verified_body&) {
        // Other event types are the application's: this example only logs them (the receiver already did).
    };
    auto notify = [&signal] { signal.notify(); };
    mb::receiver_options receiver_options;
    using guard_type = std::remove_reference_t<decltype(*guard)>;
    mb::webhook_receiver<mb::webhook_verifier, guard_type, mb::sqlite_job_queue<>, decltype(on_other),
                         decltype(notify)>
        receiver(verifier, *guard, *queue, receiver_options, on_other, notify, &metrics);

    // ---- workers ----
    std::stop_source stop;
    std::vector<std::thread> workers;
    const std::string origin = origin_of(cfg.api_base_url);
    for (int w = 0; w < cfg.workers; ++w) {
        workers.emplace_back([&, w] {
            using client_type = observed_client<mb::httplib_http_client>;
            mb::api_client_options api_options;
            api_options.api_key = cfg.api_key;
            api_options.base_url = cfg.api_base_url;
            api_options.timeout = api_attempt_timeout;
            api_options.retry = in_call_policy;
            // In-call retry waits wake early on shutdown (mb::stop_aware_sleeper).
            mb::api_client api(client_type(mb::httplib_http_client(origin), stop.get_token(), metrics),
                               api_options,
                               mb::retry_effects{.sleeper = mb::stop_aware_sleeper(stop.get_token())});
            mb::calendar_sync_options sync_options;
            sync_options.bot.bot_name = cfg.bot_name;
            sync_options.v2_bot.bot_name = cfg.bot_name;
            sync_options.action_lease = action_claim_lease;
            mb::calendar_sync_processor processor(mb::calendar_sync_deps{.api = &api,
                                                                         .guard = *guard,
                                                                         .state = *state,
                                                                         .locks = locks,
                                                                         .options = sync_options,
                                                                         .metrics = &metrics});
            mb::sync_worker worker(
                mb::sync_worker_deps{.queue = *queue, .processor = processor, .metrics = &metrics});
            const auto on_step = [&log, w](const mb::worker_step& step) {
                for (const auto& e : step.report.events) {
                    std::string text = "action " + std::string(mb::to_string(e.action)) + " event=" + e.uuid +
                                       " name=" + log_quote(e.name) + " start=" + e.start_time +
                                       " result=" + std::string(mb::to_string(e.outcome)) +
                                       " reason=" + log_quote(e.reason);
                    if (e.error) text += " error=" + log_quote(mb::to_string(*e.error));
                    log.line(text + " job=" + step.job_id + " worker=" + std::to_string(w));
                }
                std::string text = "job " + step.job_id + " attempt=" + std::to_string(step.attempt) +
                                   (step.report.listed ? " approach=list" : " approach=get") +
                                   " events=" + std::to_string(step.report.events.size());
                switch (step.settled) {
                    case mb::worker_step::settlement::acknowledged: text += " result=done"; break;
                    case mb::worker_step::settlement::retried:
                        text += " result=retry reason=" + log_quote(step.report.verdict.reason);
                        if (step.retry_at) {
                            text +=
                                " at=" +
                                mb::format_timestamp(
                                    std::chrono::time_point_cast<std::chrono::microseconds>(*step.retry_at));
                        }
                        break;
                    case mb::worker_step::settlement::dead_lettered:
                        text += " result=dead_letter reason=" + log_quote(step.settle_detail);
                        break;
                    case mb::worker_step::settlement::lost:
                        text += " result=lease_lost " + log_quote(step.settle_detail);
                        break;
                    case mb::worker_step::settlement::none: break;
                }
                log.line(text);
            };
            const auto on_error = [&log](const mb::error& e) {
                log.line("queue error " + log_quote(mb::to_string(e)));
            };
            if (auto ran = worker.run(stop.get_token(), signal, on_step, on_error); !ran) {
                log.line("worker refused its configuration " + log_quote(mb::to_string(ran.error())));
            }
        });
    }

    // ---- HTTP server ----
    httplib::Server server;
    server.new_task_queue = [] { return new bounded_pool(64, 256); };
    server.set_tcp_nodelay(true);  // small replies: without it, Nagle + delayed ACK can add 40 ms
    server.set_read_timeout(5s);
    server.set_write_timeout(5s);
    server.set_keep_alive_timeout(5);
    server.set_keep_alive_max_count(100000);
    server.set_payload_max_length(receiver_options.max_body_bytes + 1);  // larger: 413 from cpp-httplib
    server.Post("/webhooks/meeting-baas", [&](const httplib::Request& req, httplib::Response& res) {
        const auto r = receiver.handle("POST", httplib_headers{&req.headers}, req.body);
        res.status = r.status;
        res.set_content(r.body + "\n", "text/plain");
        std::string text =
            "delivery status=" + std::to_string(r.status) + " result=" + std::string(mb::to_string(r.kind));
        if (!r.event_type.empty()) text += " event=" + r.event_type;
        text += " version=" + std::string(mb::to_string(r.version));
        if (!r.job_id.empty()) text += " job=" + r.job_id;
        if (!r.detail.empty()) text += " detail=" + log_quote(r.detail);
        log.line(text);
    });
    server.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
        const auto s = queue->stats();
        res.status = s ? 200 : 503;
        res.set_content(s ? "ok\n" : "state file unavailable\n", "text/plain");
    });
    server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
        std::string text = metrics.to_prometheus();
        if (const auto s = queue->stats()) {
            text += "# HELP meetingbaas_queue_jobs Jobs in the queue, by state.\n# TYPE "
                    "meetingbaas_queue_jobs gauge\n";
            const std::pair<const char*, std::size_t> rows[] = {{"ready", s->ready},
                                                                {"scheduled", s->scheduled},
                                                                {"leased", s->leased},
                                                                {"dead", s->dead},
                                                                {"completed", s->completed}};
            for (const auto& [name, n] : rows) {
                text +=
                    "meetingbaas_queue_jobs{state=\"" + std::string(name) + "\"} " + std::to_string(n) + "\n";
            }
        }
        res.set_content(text, "text/plain; version=0.0.4");
    });
    server.set_error_handler([&](const httplib::Request&, httplib::Response& res) {
        if (res.status == 413 && res.body.empty()) {  // cpp-httplib refused the body before routing
            metrics.deliveries_received.fetch_add(1, std::memory_order_relaxed);
            metrics.rejected(mb::reject_reason::too_large);
            res.set_content("payload too large\n", "text/plain");
            log.line("delivery status=413 result=rejected detail=\"body over the limit\"");
        }
    });

    int port = cfg.listen_port;
    if (port == 0) {
        port = server.bind_to_any_port(cfg.listen_host);
    } else if (!server.bind_to_port(cfg.listen_host, port)) {
        port = -1;
    }
    if (port < 0) {
        std::cerr << "calendar_sync_server: cannot listen on " << cfg.listen_host << ":" << cfg.listen_port
                  << "\n";
        stop.request_stop();
        signal.notify();
        for (auto& t : workers) t.join();
        return 1;
    }

    // Housekeeping: a PASSIVE WAL checkpoint every second (off the request path), and every hour forget
    // completed jobs older than the 72 h deduplication window.
    std::thread housekeeping([&] {
        auto next_purge = std::chrono::steady_clock::now();
        const auto token = stop.get_token();
        std::mutex m;
        std::condition_variable_any cv;
        while (!token.stop_requested()) {
            (void)housekeeping_db->exec("PRAGMA wal_checkpoint(PASSIVE)");
            if (std::chrono::steady_clock::now() >= next_purge) {
                const auto purged = queue->purge_completed(mb::queue_now(std::chrono::system_clock{}) - 72h);
                if (purged && *purged > 0) log.line("purged completed_jobs=" + std::to_string(*purged));
                next_purge += 1h;
            }
            std::unique_lock lock(m);
            cv.wait_for(lock, token, 1s, [] { return false; });
        }
        (void)housekeeping_db->exec("PRAGMA wal_checkpoint(PASSIVE)");
    });

    std::thread signal_thread([&] {
        int received = 0;
        sigwait(&signals, &received);
        log.line(std::string("shutdown signal=") + (received == SIGTERM ? "SIGTERM" : "SIGINT"));
        stop.request_stop();
        signal.notify();
        server.stop();
    });

    log.line("listening on " + cfg.listen_host + ":" + std::to_string(port) +
             " workers=" + std::to_string(cfg.workers) + " state=" + cfg.state + " api=" + cfg.api_base_url +
             " v2_signatures=" + (cfg.webhook_secret.empty() ? "off" : "on") +
             " requeued_jobs=" + std::to_string(*requeued));
    server.listen_after_bind();

    // listen returned: either a signal stopped it, or it failed. Make sure everything stops.
    stop.request_stop();
    signal.notify();
    for (auto& t : workers) t.join();
    housekeeping.join();
    if (signal_thread.joinable()) {
        pthread_kill(signal_thread.native_handle(), SIGTERM);  // wakes sigwait if no signal came
        signal_thread.join();
    }
    log.line("stopped");
    ::close(lock_fd);
    return 0;
}
