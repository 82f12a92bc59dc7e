// SPDX-License-Identifier: MIT
// Scale-out end to end (issue 15): three calendar_sync_server processes share one Redis (a private
// redis-server per test), then one PostgreSQL (a database of its own on the server .ci/run starts), and
// one loopback fake API; the test spreads deliveries round-robin over them, as a load balancer would.
//
//   * 200 identical deliveries: one accepted, 199 duplicates, exactly one bot POST per event;
//   * 50 distinct deliveries, one instance SIGKILLed while its jobs are in flight and restarted with the
//     same --instance-id: every event gets exactly one bot, none is lost;
//   * behind a proxy that answers 429 above 5 writes/s, --api-write-rate 5 on three instances: no 429, and
//     no second holds more than the limit (the same proxy throttles instances that each write at 100/s);
//   * the state server stopped while deliveries arrive: 503 (never 200), /healthz 503 naming the backend,
//     and both recover by themselves when it is back.
//
// Facts come from the fake API's call log, the proxy's log, the servers' JSON log lines and /healthz.

#include "adapters/redis_support.hpp"
#include "e2e/e2e_support.hpp"
#include "e2e/scale_support.hpp"

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas_test::fake_meetingbaas_api;
using namespace sync_e2e;

namespace {

/// A private redis-server: stopped (SIGKILL) and started again on the same port.
struct redis_backend {
    redis_test::private_server server;
    static constexpr const char* name = "redis";
    [[nodiscard]] std::string state() const { return server.url(); }
    [[nodiscard]] std::string where() const { return server.url() + "/0"; }  // as the server names it
    void stop() { server.stop_kill(); }
    void start() { REQUIRE(server.start()); }
};

/// A database of its own on the shared PostgreSQL server (stopped with ctl.sh: RUN_SERIAL).
struct postgres_backend {
    scale_test::scratch_database db{pg_test::url()};
    std::optional<scale_test::postgres_stopped> stopped{};
    static constexpr const char* name = "postgres";
    [[nodiscard]] std::string state() const { return db.url(); }
    [[nodiscard]] std::string where() const
    {
        const auto host = db.url().find('@') + 1;
        return db.url().substr(host);  // "127.0.0.1:<port>/<db>"
    }
    void stop()
    {
        const auto ctl = pg_test::ctl();
        if (ctl.empty()) SKIP("MEETINGBAAS_TEST_POSTGRES_CTL is not set: the server cannot be stopped");
        stopped.emplace(ctl);
    }
    void start() { stopped->restart(); }
};

using servers = std::vector<std::unique_ptr<server_process>>;

std::vector<std::string> instance_args(int i, const std::string& rate, std::vector<std::string> more = {})
{
    std::vector<std::string> args{"--instance-id", "inst-" + std::to_string(i), "--api-write-rate", rate};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

template <class Backend>
servers start_three(Backend& b, const std::string& api_url, const std::string& rate)
{
    servers s;
    for (int i = 0; i < 3; ++i) s.push_back(start_server(api_url, b.state(), instance_args(i, rate)));
    return s;
}

std::size_t total_posts(const fake_meetingbaas_api& api, int first, int last)
{
    std::size_t n = 0;
    for (int i = first; i <= last; ++i) n += api.post_count(uuid(i));
    return n;
}

bool each_posted_once(const fake_meetingbaas_api& api, int first, int last)
{
    for (int i = first; i <= last; ++i) {
        if (api.post_count(uuid(i)) != 1) return false;
    }
    return true;
}

std::size_t accepted(const servers& s)
{
    std::size_t n = 0;
    for (const auto& p : s) {
        if (!p) continue;
        n += p->count_events("delivery",
                             [](const nlohmann::json& e) { return e.value("result", "") == "accepted"; });
    }
    return n;
}

template <class Backend>
void duplicate_storm(Backend& b)
{
    fake_meetingbaas_api api({.api_key = api_key});
    for (int i = 1; i <= 5; ++i) api.set_event(meeting(i));
    REQUIRE(api.start());
    auto s = start_three(b, api.base_url(), "5");
    const auto body = sync_delivery({1, 2, 3, 4, 5});
    std::atomic<int> ok{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 6; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 200 / 6 + (t < 200 % 6 ? 1 : 0); ++i) {
                    const auto& target = s[static_cast<std::size_t>((t + i) % 3)];
                    if (post_webhook(target->port(), body, v1_headers()) == 200) ++ok;
                }
            });
        }
    }
    CHECK(ok == 200);
    REQUIRE(eventually([&] { return each_posted_once(api, 1, 5); }, 30s));
    REQUIRE(eventually([&] { return queue_drained(s[0]->port()); }, 30s));
    CHECK(each_posted_once(api, 1, 5));
    CHECK(eventually([&] { return accepted(s) == 1; }, 5s));  // the other 199 were duplicates
    std::size_t duplicates = 0;
    for (const auto& p : s) {
        const auto d = metric(p->port(), "meetingbaas_webhook_duplicates_total");
        REQUIRE(d);
        duplicates += static_cast<std::size_t>(*d);
    }
    CHECK(duplicates == 199);
}

template <class Backend>
void kill_one_instance(Backend& b)
{
    fake_meetingbaas_api api({.api_key = api_key});
    for (int i = 1; i <= 50; ++i) api.set_event(meeting(i));
    REQUIRE(api.start());
    api.set_faults({.p_slow = 1.0, .slow_delay = 100ms});  // every call takes 100 ms: jobs stay in flight
    auto s = start_three(b, api.base_url(), "50");
    for (int i = 1; i <= 25; ++i)
        CHECK(post_webhook(s[static_cast<std::size_t>(i % 3)]->port(), sync_delivery({i}), v1_headers()) ==
              200);
    REQUIRE(eventually([&] { return total_posts(api, 1, 50) >= 8; }, 30s));
    s[1]->send_signal(SIGKILL);
    const auto status = s[1]->wait_exit(5s);
    REQUIRE(status.has_value());
    CHECK(*status == -SIGKILL);
    const auto dead_port = s[1]->port();
    s[1].reset();
    CHECK(total_posts(api, 1, 50) < 25);  // it died mid-way
    // The load balancer moves the dead instance's share to the others; a delivery sent to it gets no answer
    // and is sent again (as the sender retries).
    for (int i = 26; i <= 50; ++i) {
        if (i % 3 == 1) CHECK(post_webhook(dead_port, sync_delivery({i}), v1_headers()) == 0);
        CHECK(post_webhook(s[i % 2 == 0 ? 0 : 2]->port(), sync_delivery({i}), v1_headers()) == 200);
    }
    // Restarted under the same name: the jobs it held are due again at once, for any instance.
    s[1] = start_server(api.base_url(), b.state(), instance_args(1, "50"));
    const auto listening = s[1]->events("listening");
    REQUIRE(listening.size() == 1);
    const auto requeued = listening[0].value("requeued_jobs", 0);
    CAPTURE(requeued);
    CHECK(requeued >= 1);
    api.set_faults({});
    // Events whose POST was in flight wait for the dead process's action claim (15 s); by then its POST has
    // landed, the event shows its bot and is not posted again.
    REQUIRE(eventually([&] { return each_posted_once(api, 1, 50); }, 90s));
    REQUIRE(eventually([&] { return queue_drained(s[0]->port()); }, 30s));
    for (int i = 1; i <= 50; ++i) {
        CAPTURE(i);
        CHECK(api.post_count(uuid(i)) == 1);
    }
}

template <class Backend>
void paced_writes(Backend& b, bool with_control)
{
    fake_meetingbaas_api api({.api_key = api_key});
    constexpr int n = 30;
    for (int i = 1; i <= 2 * n; ++i) api.set_event(meeting(i));
    REQUIRE(api.start());
    {
        scale_test::rate_limited_proxy proxy("127.0.0.1", api.port(), 5.0, 2.0);
        auto s = start_three(b, proxy.base_url(), "5");
        for (int i = 1; i <= n; ++i)
            CHECK(post_webhook(s[static_cast<std::size_t>(i % 3)]->port(), sync_delivery({i}),
                               v1_headers()) == 200);
        REQUIRE(eventually([&] { return each_posted_once(api, 1, n); }, 60s));
        const auto writes = proxy.writes();
        REQUIRE(writes.size() >= static_cast<std::size_t>(n));
        CHECK(proxy.throttled() == 0);
        const auto span = std::chrono::duration<double>(writes.back().at - writes.front().at).count();
        const double rate = static_cast<double>(writes.size() - 1) / span;
        CAPTURE(writes.size(), span, rate);
        CHECK(rate <= 5.05);
        CHECK(rate >= 4.0);  // and the limit is used, not just respected
        CHECK(proxy.max_in_window(1s) <= 6);
    }
    if (!with_control) return;
    // Control: the same proxy, three instances each allowed 100 writes/s: the API does throttle them.
    scale_test::rate_limited_proxy proxy("127.0.0.1", api.port(), 5.0, 2.0);
    auto s = start_three(b, proxy.base_url(), "100");
    for (int i = n + 1; i <= 2 * n; ++i)
        CHECK(post_webhook(s[static_cast<std::size_t>(i % 3)]->port(), sync_delivery({i}), v1_headers()) ==
              200);
    CHECK(eventually([&] { return proxy.throttled() > 0; }, 20s));
}

template <class Backend>
void state_lost(Backend& b)
{
    fake_meetingbaas_api api({.api_key = api_key});
    for (int i = 1; i <= 3; ++i) api.set_event(meeting(i));
    REQUIRE(api.start());
    auto s = start_three(b, api.base_url(), "5");
    CHECK(post_webhook(s[0]->port(), sync_delivery({1}), v1_headers()) == 200);
    REQUIRE(eventually([&] { return api.post_count(uuid(1)) == 1; }, 20s));

    b.stop();
    for (const auto& p : s) {
        CHECK(post_webhook(p->port(), sync_delivery({2}), v1_headers()) == 503);  // never 200: not stored
        int status = 0;
        const auto body = get_path(p->port(), "/healthz", &status);
        CHECK(status == 503);
        REQUIRE(body);
        CAPTURE(*body);
        CHECK(body->find(std::string(Backend::name) + " " + b.where()) != std::string::npos);
    }

    b.start();
    for (const auto& p : s) {
        CHECK(eventually([&] { return post_webhook(p->port(), sync_delivery({2}), v1_headers()) == 200; },
                         20s));
        CHECK(eventually(
            [&] {
                int status = 0;
                (void)get_path(p->port(), "/healthz", &status);
                return status == 200;
            },
            20s));
    }
    CHECK(eventually([&] { return api.post_count(uuid(2)) == 1; }, 20s));
    CHECK(api.post_count(uuid(2)) == 1);
}

}  // namespace

TEST_CASE("three instances on one Redis: 200 identical deliveries, one bot POST per event", "[e2e][scale]")
{
    redis_backend b;
    duplicate_storm(b);
}

TEST_CASE("three instances on one Redis: one SIGKILLed mid-way and restarted, every event posted once",
          "[e2e][scale]")
{
    redis_backend b;
    kill_one_instance(b);
}

TEST_CASE("three instances on one Redis: writes paced at --api-write-rate 5 in total, no 429", "[e2e][scale]")
{
    redis_backend b;
    paced_writes(b, true);
}

TEST_CASE("three instances on one Redis: Redis stopped -> 503 and /healthz naming redis, then recovery",
          "[e2e][scale]")
{
    redis_backend b;
    state_lost(b);
}

TEST_CASE("three instances on one PostgreSQL: 200 identical deliveries, one bot POST per event",
          "[e2e][scale]")
{
    postgres_backend b;
    duplicate_storm(b);
}

TEST_CASE("three instances on one PostgreSQL: one SIGKILLed mid-way and restarted, every event posted once",
          "[e2e][scale]")
{
    postgres_backend b;
    kill_one_instance(b);
}

TEST_CASE("three instances on one PostgreSQL: writes paced at --api-write-rate 5 in total, no 429",
          "[e2e][scale]")
{
    postgres_backend b;
    paced_writes(b, false);
}

TEST_CASE("three instances on one PostgreSQL: PostgreSQL stopped -> 503 and /healthz naming postgres, then "
          "recovery",
          "[e2e][scale]")
{
    postgres_backend b;
    state_lost(b);
}

TEST_CASE("a state server that is not there stops the start with one clear line and status 1", "[e2e][scale]")
{
    const auto port = std::to_string(redis_test::free_port());
    const std::vector<std::pair<std::string, std::string>> cases{
        {"redis://:secret@127.0.0.1:" + port + "/2",
         "cannot open the state redis://127.0.0.1:" + port + "/2: "},
        {"postgresql://app:secret@127.0.0.1:" + port + "/webhooks",
         "cannot open the state postgres 127.0.0.1:" + port + "/webhooks: "}};
    for (const auto& [state, message] : cases) {
        CAPTURE(state);
        auto p =
            server_process::spawn(CALENDAR_SYNC_SERVER_PATH, {"--listen", "127.0.0.1:0", "--state", state},
                                  {std::string("MEETINGBAAS_API_KEY=") + api_key});
        REQUIRE(p);
        const auto status = p->wait_exit(20s);
        REQUIRE(status.has_value());
        CHECK(*status == 1);
        const auto out = p->output();
        CAPTURE(out);
        CHECK(out.find(message) != std::string::npos);
        CHECK(out.find("secret") == std::string::npos);  // never the password
        CHECK(out.find("listening") == std::string::npos);
    }
}
