// SPDX-License-Identifier: MIT
// The library inside a single-threaded Boost.Beast / Asio server.
//
// One io_context, one thread, nothing blocks:
//  * an HTTP server acknowledges webhooks through meetingbaas::webhook_receiver (verify, parse, claim,
//    enqueue; duplicate_wait = 0 because one thread cannot race itself);
//  * a dispatcher leases calendar.sync_events jobs and schedules a bot for each affected event with an
//    asynchronous Beast client; every failed attempt goes through the retry step API
//    (meetingbaas::retrier: begin_attempt / next), whose delay arms an asio::steady_timer;
//  * a stand-in for POST /calendar_events/{uuid}/bot (same io_context) answers 503 twice per event, then 200.
// The program sends itself a webhook (and a duplicate), runs until every event is scheduled, checks the
// counts and exits 0.

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/retry/retrier.hpp>
#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace mb = meetingbaas;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr const char* api_key = "beast-demo-key";

/// Beast's request fields as a meetingbaas::header_source (Beast compares names case-insensitively).
struct beast_headers {
    const http::request<http::string_body>* req;
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const
    {
        const auto it = req->find(beast::string_view(name.data(), name.size()));
        if (it == req->end()) return std::nullopt;
        return std::string_view(it->value().data(), it->value().size());
    }
};

/// A minimal HTTP/1.1 server: one request per connection, the handler answers synchronously.
class http_server {
public:
    using handler = std::function<http::response<http::string_body>(const http::request<http::string_body>&)>;

    http_server(asio::io_context& io, handler h)
        : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), handler_(std::move(h))
    {
        accept();
    }
    [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
    void close()
    {
        beast::error_code ec;
        acceptor_.close(ec);
    }

private:
    struct session : std::enable_shared_from_this<session> {
        tcp::socket socket;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::response<http::string_body> res;
        handler* on_request;
        session(tcp::socket s, handler* h) : socket(std::move(s)), on_request(h) {}
        void start()
        {
            auto self = shared_from_this();
            http::async_read(socket, buffer, req, [self](beast::error_code ec, std::size_t) {
                if (ec) return;
                self->res = (*self->on_request)(self->req);
                self->res.keep_alive(false);
                self->res.prepare_payload();
                http::async_write(self->socket, self->res, [self](beast::error_code, std::size_t) {
                    beast::error_code ignored;
                    self->socket.shutdown(tcp::socket::shutdown_both, ignored);
                });
            });
        }
    };

    void accept()
    {
        acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) return;  // closed
            std::make_shared<session>(std::move(socket), &handler_)->start();
            accept();
        });
    }

    tcp::acceptor acceptor_;
    handler handler_;
};

/// One asynchronous HTTP exchange with 127.0.0.1:port; calls done(status, retry_after) (status 0: no answer).
void async_http(asio::io_context& io, unsigned short port, http::verb verb, std::string target,
                std::string body, std::vector<std::pair<std::string, std::string>> headers,
                std::function<void(int, std::optional<std::chrono::milliseconds>)> done)
{
    struct exchange {
        tcp::socket socket;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::response<http::string_body> res;
        std::function<void(int, std::optional<std::chrono::milliseconds>)> done;
        explicit exchange(asio::io_context& io) : socket(io) {}
    };
    auto x = std::make_shared<exchange>(io);
    x->req = http::request<http::string_body>(verb, target, 11);
    x->req.set(http::field::host, "127.0.0.1");
    x->req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) x->req.set(name, value);
    x->req.body() = std::move(body);
    x->req.prepare_payload();
    x->done = std::move(done);
    x->socket.async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [x](beast::error_code ec) {
            if (ec) return x->done(0, std::nullopt);
            http::async_write(x->socket, x->req, [x](beast::error_code wec, std::size_t) {
                if (wec) return x->done(0, std::nullopt);
                http::async_read(x->socket, x->buffer, x->res, [x](beast::error_code rec, std::size_t) {
                    if (rec) return x->done(0, std::nullopt);
                    std::optional<std::chrono::milliseconds> retry_after;
                    if (const auto it = x->res.find(http::field::retry_after); it != x->res.end()) {
                        retry_after = std::chrono::seconds(std::atoi(std::string(it->value()).c_str()));
                    }
                    x->done(static_cast<int>(x->res.result_int()), retry_after);
                });
            });
        });
}

/// Schedules one event's bot, retrying through the step API with an asio timer between attempts.
class schedule_call : public std::enable_shared_from_this<schedule_call> {
public:
    using policy_type = mb::retry_policy<mb::exponential_backoff>;
    schedule_call(asio::io_context& io, unsigned short api_port, std::string uuid, const policy_type& policy,
                  std::function<void(bool, std::uint32_t)> done)
        : io_(io), timer_(io), api_port_(api_port), uuid_(std::move(uuid)), retrier_(policy),
          done_(std::move(done))
    {}

    void start()
    {
        retrier_.start({.idempotence = mb::idempotence::idempotent});  // v1 POST .../bot overwrites: safe
        attempt();
    }

private:
    void attempt()
    {
        if (!retrier_.begin_attempt()) return done_(false, retrier_.attempts());
        auto self = shared_from_this();
        async_http(io_, api_port_, http::verb::post, "/calendar_events/" + uuid_ + "/bot",
                   R"({"bot_name":"Recorder"})", {{"x-meeting-baas-api-key", api_key}},
                   [self](int status, std::optional<std::chrono::milliseconds> ra) {
                       const auto outcome = status == 0 ? mb::attempt_outcome::maybe_sent()
                                                        : mb::attempt_outcome::http(status, ra);
                       const mb::retry_decision d = self->retrier_.next(outcome);
                       std::printf("  POST %s attempt %u -> %d: %s", self->uuid_.c_str(), d.attempt, status,
                                   d.retry ? "retry in " : std::string(mb::to_string(d.reason)).c_str());
                       if (d.retry)
                           std::printf("%lld ms (%s)", static_cast<long long>(d.delay.count()),
                                       std::string(mb::to_string(d.source)).c_str());
                       std::printf("\n");
                       if (!d.retry) return self->done_(d.reason == mb::stop_reason::succeeded, d.attempt);
                       self->timer_.expires_after(d.delay);
                       self->timer_.async_wait([self](beast::error_code ec) {
                           if (!ec) self->attempt();
                       });
                   });
    }

    asio::io_context& io_;
    asio::steady_timer timer_;
    unsigned short api_port_;
    std::string uuid_;
    mb::retrier<mb::exponential_backoff> retrier_;
    std::function<void(bool, std::uint32_t)> done_;
};

}  // namespace

int main()
{
    asio::io_context io;  // run() on this thread only

    // The stand-in API: 503 (Retry-After: 0) twice per event, then 200.
    std::map<std::string, int> api_calls;
    std::map<std::string, int> scheduled;
    http_server api(io, [&](const http::request<http::string_body>& req) {
        http::response<http::string_body> res(http::status::ok, req.version());
        const std::string target(req.target());
        const auto uuid = target.substr(std::string("/calendar_events/").size(),
                                        target.rfind("/bot") - std::string("/calendar_events/").size());
        if (req.method() != http::verb::post || req[("x-meeting-baas-api-key")] != api_key) {
            res.result(http::status::unauthorized);
            return res;
        }
        if (++api_calls[uuid] <= 2) {
            res.result(http::status::service_unavailable);
            res.set(http::field::retry_after, "0");
            res.body() = R"({"error":"Service Unavailable"})";
            return res;
        }
        ++scheduled[uuid];
        res.body() = "[]";
        return res;
    });

    // The webhook receiver: the library's verifier, idempotency guard and queue, all on this thread.
    mb::webhook_verifier verifier;
    verifier.accept_v1(*mb::api_key_keyring::from_keys({api_key}));
    mb::memory_idempotency_store store;
    mb::idempotency_guard guard{store};
    mb::in_memory_job_queue<> queue;
    mb::receiver_options options;
    options.duplicate_wait = 0ms;  // never block the event loop
    std::function<void()> wake;    // set below: runs the dispatcher soon
    auto post_wake = [&io, &wake] { asio::post(io, [&wake] { wake(); }); };
    mb::webhook_receiver receiver{
        mb::receiver_deps{.verifier = verifier, .guard = guard, .queue = queue, .notify = post_wake},
        options};
    int accepted = 0;
    int duplicates = 0;
    http_server hooks(io, [&](const http::request<http::string_body>& req) {
        const auto r =
            receiver.handle(std::string_view(req.method_string().data(), req.method_string().size()),
                            beast_headers{&req}, req.body());
        accepted += r.kind == mb::receipt_kind::accepted ? 1 : 0;
        duplicates += r.kind == mb::receipt_kind::duplicate ? 1 : 0;
        std::printf("webhook -> %d %s\n", r.status, r.body.c_str());
        http::response<http::string_body> res(static_cast<http::status>(r.status), req.version());
        res.body() = r.body + "\n";
        return res;
    });

    // The dispatcher: lease jobs, schedule each affected event, settle the job when all calls are done.
    constexpr auto policy = mb::checked(mb::retry_policy<mb::exponential_backoff>{
        .backoff = {.initial = 20ms, .multiplier = 2.0, .maximum = 200ms},
        .jitter = mb::full_jitter,
        .stop = mb::stop_after_attempts(5),
        .max_retry_after = 1s,
        .attempt_reserve = 0ms});
    int jobs_done = 0;
    int sends_done = 0;
    const auto finish_if_done = [&] {
        if (sends_done == 2 && jobs_done == 1) {
            hooks.close();  // the demo is over: stop accepting, so that io.run() returns
            api.close();
        }
    };
    wake = [&] {
        while (true) {
            auto leased = queue.lease(60s);
            if (!leased || !leased->has_value()) return;
            const auto job = **leased;
            auto parsed = mb::parse_delivery(job.payload);
            const auto* sync = parsed ? std::get_if<mb::calendar_sync_events>(&parsed->event) : nullptr;
            if (sync == nullptr || !sync->affected_event_uuids) {
                (void)queue.dead_letter(job.id, job.lease_token, "not a sync delivery with affected events");
                continue;
            }
            auto remaining = std::make_shared<std::size_t>(sync->affected_event_uuids->size());
            auto all_ok = std::make_shared<bool>(true);
            for (const auto& uuid : *sync->affected_event_uuids) {
                std::make_shared<schedule_call>(io, api.port(), uuid, policy,
                                                [&, job, remaining, all_ok](bool ok, std::uint32_t) {
                                                    *all_ok = *all_ok && ok;
                                                    if (--*remaining > 0) return;
                                                    if (*all_ok) {
                                                        (void)queue.acknowledge(job.id, job.lease_token);
                                                    } else {
                                                        (void)queue.dead_letter(job.id, job.lease_token,
                                                                                "a schedule call gave up");
                                                    }
                                                    ++jobs_done;
                                                    finish_if_done();
                                                })
                    ->start();
            }
        }
    };

    // Send ourselves a webhook and its duplicate.
    const std::string body =
        R"({"event":"calendar.sync_events","data":{"calendar_id":"cal-1",)"
        R"("last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":["evt-a","evt-b"]}})";
    const auto send = [&](std::function<void()> then) {
        async_http(io, hooks.port(), http::verb::post, "/webhooks/meeting-baas", body,
                   {{"x-meeting-baas-api-key", api_key}},
                   [then = std::move(then)](int, std::optional<std::chrono::milliseconds>) { then(); });
    };
    send([&] {
        ++sends_done;
        send([&] {
            ++sends_done;
            finish_if_done();
        });
    });

    io.run();

    auto dead = queue.dead_letters(10);
    const bool ok = accepted == 1 && duplicates == 1 && jobs_done == 1 && dead && dead->empty() &&
                    scheduled["evt-a"] == 1 && scheduled["evt-b"] == 1 && api_calls["evt-a"] == 3 &&
                    api_calls["evt-b"] == 3;
    std::printf("accepted=%d duplicates=%d jobs_done=%d scheduled(evt-a)=%d scheduled(evt-b)=%d -> %s\n",
                accepted, duplicates, jobs_done, scheduled["evt-a"], scheduled["evt-b"],
                ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
