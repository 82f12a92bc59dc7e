// SPDX-License-Identifier: MIT
// The example server's HTTP front end against hostile clients (issue 12 §2), each reproduction against
// the real calendar_sync_server binary over loopback: slow and idle connection floods, oversized bodies
// and heads, requests without framing or with ambiguous framing, pipelining, the connection cap, the
// deadlines, and a port already in use. Memory is read from /proc/<pid>/status (VmHWM, the peak resident
// set) after each abuse: it must stay under 100 MB.
#include "e2e/e2e_support.hpp"
#include "e2e/raw_http.hpp"

#include <meetingbaas/adapters/sqlite/database.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas_test::fake_meetingbaas_api;
using namespace sync_e2e;

namespace {

// ASan's shadow memory and quarantine inflate the resident set of the sanitizer builds by a constant
// amount; the bound is the 100 MB everywhere else.
#if defined(__SANITIZE_ADDRESS__)
constexpr long rss_limit_kib = 100 * 1024 + 150 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr long rss_limit_kib = 100 * 1024 + 150 * 1024;
#else
constexpr long rss_limit_kib = 100 * 1024;
#endif
#else
constexpr long rss_limit_kib = 100 * 1024;
#endif

const std::string webhook_head_fields =
    "Content-Type: application/json\r\nx-meeting-baas-api-key: " + std::string(api_key) + "\r\n";

/// A new delivery for each `n` (the same one for the same `n`).
std::string valid_webhook(int n)
{
    static const auto base = std::chrono::system_clock::now() - std::chrono::hours(1);
    const auto ts = meetingbaas::format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(base - std::chrono::seconds(n)));
    const auto body = sync_delivery({1}, true, ts);
    return raw_http::post(
        "/webhooks/meeting-baas", body,
        {"Content-Type: application/json", std::string("x-meeting-baas-api-key: ") + api_key});
}

struct api_fixture {
    fake_meetingbaas_api api{{.api_key = api_key}};
    temp_dir dir;
    api_fixture()
    {
        for (int i = 1; i <= 5; ++i) api.set_event(meeting(i));
        REQUIRE(api.start());
    }
};

std::chrono::milliseconds percentile(std::vector<std::chrono::milliseconds> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * p))];
}

}  // namespace

TEST_CASE("400 slow-header clients and 2000 idle connections do not delay /healthz or webhooks",
          "[e2e][abuse]")
{
    REQUIRE(raw_http::raise_nofile(8192) >= 3000);
    api_fixture f;
    auto server = start_server(f.api, f.dir.state());
    const int port = server->port();

    // 2,000 idle connections, re-opened when the server closes them (its idle timeout is 15 s).
    constexpr std::size_t idle_count = 2000;
    constexpr std::size_t slow_count = 400;
    std::vector<raw_http::socket_fd> idle(idle_count);
    for (auto& s : idle) {
        s = raw_http::connect_loopback(port);
        REQUIRE(s.valid());
    }
    // 400 clients sending a request head at one byte per second, reconnecting when cut off (after the
    // 10 s head deadline, with a 408).
    const std::string slow_head = "POST /webhooks/meeting-baas HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                  webhook_head_fields + "Content-Length: 2\r\n\r\n{}";
    std::vector<raw_http::socket_fd> slow(slow_count);
    std::vector<std::size_t> slow_sent(slow_count, 0);
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> reconnects{0};
    std::thread abuser([&] {
        while (!stop) {
            for (std::size_t i = 0; i < slow_count && !stop; ++i) {
                if (!slow[i].valid() ||
                    !raw_http::send_all(slow[i],
                                        std::string_view(&slow_head[slow_sent[i] % slow_head.size()], 1))) {
                    slow[i] = raw_http::connect_loopback(port);
                    slow_sent[i] = 0;
                    reconnects.fetch_add(1);
                    continue;
                }
                ++slow_sent[i];
            }
            for (auto& s : idle) {  // replace connections the server closed
                pollfd p{s.get(), POLLIN, 0};
                if (::poll(&p, 1, 0) > 0) s = raw_http::connect_loopback(port);
            }
            for (int t = 0; t < 10 && !stop; ++t) std::this_thread::sleep_for(100ms);
        }
    });
    std::this_thread::sleep_for(1500ms);  // every slow client has sent a byte: all 2,400 are open

    const auto open = metric(port, "meetingbaas_http_connections_open");
    REQUIRE(open);
    CHECK(*open >= 2300);

    // 100 health checks and 100 new deliveries, each on a new connection, while the abuse goes on.
    std::vector<std::chrono::milliseconds> health;
    std::vector<std::chrono::milliseconds> webhooks;
    int failures = 0;
    for (int i = 0; i < 100; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = raw_http::exchange(port, raw_http::get("/healthz"), 5s);
        health.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
        failures += r && r->status == 200 ? 0 : 1;
        t0 = std::chrono::steady_clock::now();
        r = raw_http::exchange(port, valid_webhook(i), 5s);
        webhooks.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
        failures += r && r->status == 200 && r->body == "accepted\n" ? 0 : 1;
        std::this_thread::sleep_for(20ms);
    }
    const auto open_after = metric(port, "meetingbaas_http_connections_open");
    stop = true;
    abuser.join();

    CAPTURE(percentile(health, 0.5).count(), percentile(health, 0.99).count(),
            percentile(webhooks, 0.5).count(), percentile(webhooks, 0.99).count());
    CHECK(failures == 0);
    CHECK(percentile(health, 0.99) < 100ms);
    CHECK(percentile(webhooks, 0.99) < 100ms);
    REQUIRE(open_after);
    CHECK(*open_after >= 2300);  // the abuse was still there at the end of the measurement
    CHECK(metric(port, "meetingbaas_webhook_deliveries_accepted_total") == 100);
    const auto peak = server->peak_rss_kib();
    CAPTURE(peak);
    CHECK(peak > 0);
    CHECK(peak < rss_limit_kib);
}

TEST_CASE("chunked bodies over the limit are refused with 413 as the limit is passed, in bounded memory",
          "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state());
    const int port = server->port();
    // Four clients at once, each announcing a 256 MiB chunked body in 256 KiB chunks.
    const std::string head = "POST /webhooks/meeting-baas HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                             webhook_head_fields + "Transfer-Encoding: chunked\r\n\r\n";
    const std::string chunk = "40000\r\n" + std::string(256 * 1024, 'x') + "\r\n";
    std::vector<int> statuses(4, 0);
    std::vector<std::size_t> sent(4, 0);
    {
        std::vector<std::jthread> clients;
        for (std::size_t c = 0; c < 4; ++c) {
            clients.emplace_back([&, c] {
                const auto r = raw_http::stream_until_reply(
                    port, head, std::size_t{256} << 20, [&](std::size_t) { return chunk; }, sent[c]);
                statuses[c] = r ? r->status : 0;
            });
        }
    }
    for (std::size_t c = 0; c < 4; ++c) {
        CAPTURE(c, sent[c]);
        CHECK(statuses[c] == 413);
        CHECK(sent[c] < (std::size_t{64} << 20));  // answered long before the 256 MiB were sent
    }
    // A chunk size over the limit on its own is refused before its bytes arrive.
    const auto big = raw_http::exchange(port, head + "10000000\r\n", 5s);
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(big->has_field("Connection: close"));
    CHECK(metric(port, "meetingbaas_webhook_rejected_total{reason=\"too_large\"}") == 5);
    const auto peak = server->peak_rss_kib();
    CAPTURE(peak);
    CHECK(peak < rss_limit_kib);
    // Still serving.
    const auto ok = raw_http::exchange(port, raw_http::get("/healthz"));
    REQUIRE(ok);
    CHECK(ok->status == 200);
}

TEST_CASE("a POST with neither Content-Length nor chunked framing gets 411 and is not read to EOF",
          "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state());
    const int port = server->port();
    const std::string head =
        "POST /webhooks/meeting-baas HTTP/1.1\r\nHost: 127.0.0.1\r\n" + webhook_head_fields + "\r\n";
    const std::string piece(1 << 20, 'x');
    std::size_t sent = 0;
    const auto r = raw_http::stream_until_reply(
        port, head, std::size_t{128} << 20, [&](std::size_t) { return piece; }, sent);
    REQUIRE(r);
    CHECK(r->status == 411);
    CAPTURE(sent);
    CHECK(sent < (std::size_t{64} << 20));
    CHECK(metric(port, "meetingbaas_http_refused_total{status=\"411\"}") == 1);
    CHECK(metric(port, "meetingbaas_webhook_deliveries_received_total") == 0);  // never reached the receiver
    CHECK(server->peak_rss_kib() < rss_limit_kib);
}

TEST_CASE("10000 header fields and 128 MiB of header bytes get 431, in bounded memory", "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state());
    const int port = server->port();
    {
        std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        for (int i = 0; i < 10'000; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
        head += "\r\n";
        std::size_t sent = 0;
        const auto r =
            raw_http::stream_until_reply(port, head, 0, [](std::size_t) { return std::string(); }, sent);
        REQUIRE(r);
        CHECK(r->status == 431);
    }
    {
        // 120 fields, small enough in bytes: the count limit (100) answers.
        std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        for (int i = 0; i < 120; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
        const auto r = raw_http::exchange(port, head + "\r\n", 5s);
        REQUIRE(r);
        CHECK(r->status == 431);
    }
    {
        const std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ";
        const std::string piece(1 << 20, 'a');
        std::size_t sent = 0;
        const auto r = raw_http::stream_until_reply(
            port, head, std::size_t{128} << 20, [&](std::size_t) { return piece; }, sent);
        REQUIRE(r);
        CHECK(r->status == 431);
        CAPTURE(sent);
        CHECK(sent < (std::size_t{64} << 20));
    }
    CHECK(metric(port, "meetingbaas_http_refused_total{status=\"431\"}") == 3);
    CHECK(server->peak_rss_kib() < rss_limit_kib);
    const auto rss_now = server->status_kib("VmRSS");
    CAPTURE(rss_now);
    CHECK(rss_now < rss_limit_kib);
}

TEST_CASE("three pipelined requests get three replies, in order", "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state());
    const int port = server->port();
    auto s = raw_http::connect_loopback(port);
    REQUIRE(s.valid());
    REQUIRE(
        raw_http::send_all(s, raw_http::get("/healthz") + valid_webhook(1) + raw_http::get("/nothing-here")));
    raw_http::reader reader(s);
    const auto first = reader.next(5s);
    const auto second = reader.next(5s);
    const auto third = reader.next(5s);
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(third);
    CHECK(first->status == 200);
    CHECK(first->body == "ok\n");
    CHECK(second->status == 200);
    CHECK(second->body == "accepted\n");
    CHECK(third->status == 404);
    // The same connection goes on.
    REQUIRE(raw_http::send_all(s, valid_webhook(1)));
    const auto fourth = reader.next(5s);
    REQUIRE(fourth);
    CHECK(fourth->body == "duplicate\n");
}

TEST_CASE("ambiguous framing is refused with 400 and the connection closed (RFC 9112 6.3)", "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state());
    const int port = server->port();
    const std::string body = sync_delivery({1});
    const std::string start =
        "POST /webhooks/meeting-baas HTTP/1.1\r\nHost: 127.0.0.1\r\n" + webhook_head_fields;
    const std::string chunked = std::to_string(body.size()) + "\r\n" + body + "\r\n0\r\n\r\n";
    char hex[16];
    std::snprintf(hex, sizeof hex, "%zx", body.size());
    const std::string chunked_hex = std::string(hex) + "\r\n" + body + "\r\n0\r\n\r\n";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"Content-Length then Transfer-Encoding", start + "Content-Length: " + std::to_string(body.size()) +
                                                      "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_hex},
        {"Transfer-Encoding then Content-Length", start + "Transfer-Encoding: chunked\r\nContent-Length: " +
                                                      std::to_string(body.size()) + "\r\n\r\n" + chunked_hex},
        {"two different Content-Length values", start + "Content-Length: " + std::to_string(body.size()) +
                                                    "\r\nContent-Length: " + std::to_string(body.size() + 1) +
                                                    "\r\n\r\n" + body + " "},
        {"a Transfer-Encoding that does not end in chunked",
         start + "Transfer-Encoding: chunked, gzip\r\n\r\n" + body},
    };
    for (const auto& [name, request] : cases) {
        CAPTURE(name);
        auto s = raw_http::connect_loopback(port);
        REQUIRE(raw_http::send_all(s, request));
        raw_http::reader reader(s);
        const auto r = reader.next(5s);
        REQUIRE(r);
        CHECK(r->status == 400);
        CHECK(r->has_field("Connection: close"));
        CHECK(raw_http::closed_by_peer(s, 5s));
    }
    CHECK(metric(port, "meetingbaas_http_refused_total{status=\"400\"}") == 4);
    CHECK(metric(port, "meetingbaas_webhook_deliveries_received_total") == 0);
    CHECK(metric(port, "meetingbaas_queue_jobs{state=\"completed\"}").value_or(-1) +
              metric(port, "meetingbaas_queue_jobs{state=\"ready\"}").value_or(-1) ==
          0);
    (void)chunked;
}

TEST_CASE("Expect: 100-continue is answered before the body, and a too large one at once", "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state());
    const int port = server->port();
    const std::string start = "POST /webhooks/meeting-baas HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              webhook_head_fields + "Expect: 100-continue\r\n";
    {
        auto s = raw_http::connect_loopback(port);
        REQUIRE(raw_http::send_all(s, start + "Content-Length: 2000000\r\n\r\n"));
        raw_http::reader reader(s);
        const auto r = reader.next(5s);
        REQUIRE(r);
        CHECK(r->status == 413);
    }
    const std::string body = sync_delivery({2});
    auto s = raw_http::connect_loopback(port);
    REQUIRE(raw_http::send_all(s, start + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
    raw_http::reader reader(s);
    const auto interim = reader.next(5s);
    REQUIRE(interim);
    CHECK(interim->status == 100);
    REQUIRE(raw_http::send_all(s, body));
    const auto final_reply = reader.next(5s);
    REQUIRE(final_reply);
    CHECK(final_reply->status == 200);
    CHECK(final_reply->body == "accepted\n");
}

TEST_CASE("at the connection cap the oldest idle connections make room for new clients", "[e2e][abuse]")
{
    REQUIRE(raw_http::raise_nofile(4096) >= 1024);
    api_fixture f;
    auto server = start_server(f.api, f.dir.state(), {"--max-connections", "50"});
    const int port = server->port();
    std::vector<raw_http::socket_fd> idle;
    for (int i = 0; i < 200; ++i) {
        idle.push_back(raw_http::connect_loopback(port));
        REQUIRE(idle.back().valid());
    }
    // connect() returns once the kernel has queued a connection: wait until the server took them all.
    REQUIRE(eventually(
        [&] { return metric(port, "meetingbaas_http_connections_accepted_total").value_or(0) >= 200; }, 10s));
    std::vector<std::chrono::milliseconds> took;
    for (int i = 0; i < 50; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = raw_http::exchange(port, raw_http::get("/healthz"), 5s);
        took.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    CHECK(percentile(took, 0.99) < 100ms);
    const auto open = metric(port, "meetingbaas_http_connections_open");
    REQUIRE(open);
    CHECK(*open <= 51);
    const auto evicted = metric(port, "meetingbaas_http_connections_evicted_total");
    REQUIRE(evicted);
    CHECK(*evicted >= 150);
    // The oldest idle connections were the ones closed.
    CHECK(raw_http::closed_by_peer(idle.front(), 2s));
}

TEST_CASE("deadlines: an unfinished head gets 408, an idle connection is closed", "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state(), {"--request-timeout", "1", "--idle-timeout", "2"});
    const int port = server->port();
    {
        auto s = raw_http::connect_loopback(port);
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(raw_http::send_all(s, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        raw_http::reader reader(s);
        const auto r = reader.next(5s);
        const auto took = std::chrono::steady_clock::now() - t0;
        REQUIRE(r);
        CHECK(r->status == 408);
        CHECK(took >= 900ms);
        CHECK(took < 3s);
    }
    {
        // A body that stops half way.
        auto s = raw_http::connect_loopback(port);
        REQUIRE(raw_http::send_all(s, "POST /webhooks/meeting-baas HTTP/1.1\r\nHost: x\r\n" +
                                          webhook_head_fields + "Content-Length: 100\r\n\r\n{\"event\""));
        raw_http::reader reader(s);
        const auto r = reader.next(5s);
        REQUIRE(r);
        CHECK(r->status == 408);
    }
    {
        auto s = raw_http::connect_loopback(port);
        const auto t0 = std::chrono::steady_clock::now();
        std::string received;
        CHECK(raw_http::closed_by_peer(s, 5s, &received));
        const auto took = std::chrono::steady_clock::now() - t0;
        CHECK(received.empty());
        CHECK(took >= 1900ms);
        CHECK(took < 4s);
    }
    CHECK(metric(port, "meetingbaas_http_timeouts_total{phase=\"head\"}") == 1);
    CHECK(metric(port, "meetingbaas_http_timeouts_total{phase=\"body\"}") == 1);
    CHECK(metric(port, "meetingbaas_http_timeouts_total{phase=\"idle\"}") >= 1);
}

TEST_CASE("a second server on a port in use fails at start with a clear error", "[e2e][abuse]")
{
    api_fixture f;
    auto first = start_server(f.api, f.dir.state());
    temp_dir other;
    const auto second = server_process::spawn(CALENDAR_SYNC_SERVER_PATH,
                                              {"--listen", "127.0.0.1:" + std::to_string(first->port()),
                                               "--state", other.state(), "--api-key", api_key});
    REQUIRE(second);
    const auto status = second->wait_exit(10s);
    REQUIRE(status);
    CHECK(*status == 1);
    const auto failure = second->output();
    CHECK_THAT(failure, Catch::Matchers::ContainsSubstring("cannot listen on 127.0.0.1:" +
                                                           std::to_string(first->port())));
    CHECK_THAT(failure, Catch::Matchers::ContainsSubstring("Address already in use"));
    CHECK(second->count_events("listening") == 0);
    // The first server still has the port and answers every request.
    for (int i = 0; i < 20; ++i) {
        const auto r = raw_http::exchange(first->port(), raw_http::get("/healthz"), 5s);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
}

TEST_CASE("a storage stall holds only the handler threads while accepts, duplicates and refusals go on",
          "[e2e][abuse]")
{
    api_fixture f;
    auto server = start_server(f.api, f.dir.state(), {"--handler-threads", "2"});
    const int port = server->port();
    const auto first = raw_http::exchange(port, valid_webhook(1));
    REQUIRE(first);
    REQUIRE(first->body == "accepted\n");

    // Another process holds the state's write lock: every new delivery waits 2 s for it, then gets 503.
    auto blocker = meetingbaas::sqlite::open(f.dir.state());
    REQUIRE(blocker);
    REQUIRE(blocker->exec("BEGIN IMMEDIATE"));
    std::vector<int> statuses(6, 0);
    std::vector<std::string> retry_after(6);
    std::vector<std::jthread> stuck;
    for (int i = 0; i < 6; ++i) {
        stuck.emplace_back([&, i] {
            const auto r = raw_http::exchange(port, valid_webhook(100 + i), 15s);
            statuses[static_cast<std::size_t>(i)] = r ? r->status : 0;
            if (r && r->has_field("Retry-After: 1")) retry_after[static_cast<std::size_t>(i)] = "1";
        });
    }
    std::this_thread::sleep_for(300ms);  // both handler threads are now waiting for the lock

    // Meanwhile the I/O threads accept and answer what needs no storage, at once.
    std::vector<std::chrono::milliseconds> took;
    for (int i = 0; i < 20; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto dup = raw_http::exchange(port, valid_webhook(1), 5s);
        const auto forged = raw_http::exchange(
            port,
            raw_http::post("/webhooks/meeting-baas", sync_delivery({1}), {"x-meeting-baas-api-key: wrong"}),
            5s);
        took.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
        REQUIRE(dup);
        CHECK(dup->body == "duplicate\n");
        REQUIRE(forged);
        CHECK(forged->status == 401);
    }
    CHECK(percentile(took, 0.99) < 100ms);
    stuck.clear();
    REQUIRE(blocker->exec("ROLLBACK"));
    // The stalled deliveries were refused (503: the sender retries), some by the handler after the lock's
    // 2 s, the others, which waited over 2 s for a handler thread, at once with Retry-After.
    for (const int s : statuses) CHECK(s == 503);
    CHECK(metric(port, "meetingbaas_http_handler_busy_total") >= 1);
    CHECK(std::count(retry_after.begin(), retry_after.end(), "1") >= 1);
    // And the server is fine afterwards.
    const auto after = raw_http::exchange(port, valid_webhook(200));
    REQUIRE(after);
    CHECK(after->body == "accepted\n");
}
