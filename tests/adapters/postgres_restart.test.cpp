// SPDX-License-Identifier: MIT
// The PostgreSQL server goes away and comes back (.ci/services.sh's ctl.sh stop / start): calls in flight
// and calls while it is down fail with clear errors, never success; everything recovers by itself when it
// returns, with the data it had. Runs serially (RUN_SERIAL): other tests must not see the server stop.
#include <meetingbaas/adapters/postgres/event_state.hpp>
#include <meetingbaas/adapters/postgres/idempotency_store.hpp>
#include <meetingbaas/adapters/postgres/job_queue.hpp>
#include <meetingbaas/adapters/postgres/rate_limiter.hpp>

#include "postgres_test_env.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstdlib>
#include <future>
#include <string>

using namespace std::chrono_literals;
namespace mb = meetingbaas;

namespace {

/// Stops the server; starts it again at the latest when destroyed (also when a check failed).
class stopped_server {
public:
    explicit stopped_server(std::string ctl) : ctl_(std::move(ctl)) { stop(); }
    stopped_server(const stopped_server&) = delete;
    stopped_server& operator=(const stopped_server&) = delete;
    stopped_server(stopped_server&&) = delete;
    stopped_server& operator=(stopped_server&&) = delete;
    ~stopped_server()
    {
        if (stopped_)
            (void)std::system((ctl_ + " start").c_str());  // NOLINT(cert-env33-c): test control script
    }
    void stop()
    {
        REQUIRE(std::system((ctl_ + " stop").c_str()) == 0);  // NOLINT(cert-env33-c)
        stopped_ = true;
    }
    void start()
    {
        REQUIRE(std::system((ctl_ + " start").c_str()) == 0);  // NOLINT(cert-env33-c)
        stopped_ = false;
    }

private:
    std::string ctl_;
    bool stopped_ = false;
};

mb::utc_time at(std::int64_t us)
{
    return mb::utc_time(std::chrono::microseconds(us));
}

}  // namespace

TEST_CASE("postgres: the server stops and comes back; stores fail clearly, then recover by themselves",
          "[postgres_restart]")
{
    const auto url = pg_test::url();
    const auto ctl = pg_test::ctl();
    if (ctl.empty()) SKIP("MEETINGBAAS_TEST_POSTGRES_CTL is not set: cannot stop and start the server");
    pg_test::scratch_schema schema(url);
    mb::pg::pool_options po;
    po.conninfo = url;
    po.max_connections = 4;
    po.retry_connect_after = 100ms;
    auto pool = mb::pg::pool::create(po);
    REQUIRE(pool);
    auto store = mb::postgres_idempotency_store::open(*pool, {.schema = schema.name()});
    auto queue = mb::postgres_job_queue<>::open(*pool, {}, {.schema = schema.name()});
    auto state = mb::postgres_event_state::open(*pool, {.schema = schema.name()});
    auto limiter =
        mb::postgres_rate_limiter<>::open(*pool, {.schema = schema.name(), .limits = {.per_second = 1000}});
    REQUIRE((store && queue && state && limiter));
    const mb::record_view claim{
        mb::record_state::in_progress, mb::work_outcome::none, 1, at(1'000), "fp", {}};
    REQUIRE(*store->insert_if_absent("before", claim, at(0)));
    REQUIRE(queue->enqueue({"k", "kept", "job-1", std::nullopt}));
    REQUIRE(state->record_applied("evt", at(42)));
    // Warm the LISTEN session (its first wait reports the fresh connection).
    REQUIRE(queue->wait_for_work(50ms));

    // A call in flight while the server shuts down.
    // No Catch2 assertion on this thread (Catch2 3.7's are not thread-safe): a failed acquire is returned.
    auto in_flight = std::async(std::launch::async, [&]() -> mb::result<mb::pg::result_set> {
        auto h = (*pool)->acquire();
        if (!h) return h.error();
        return (*h)->exec("SELECT pg_sleep(30)", "in flight");
    });
    auto admin = pg_test::admin(url);
    REQUIRE(pg_test::eventually([&] {
        return pg_test::scalar(
                   admin, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'") == "1";
    }));
    stopped_server server(ctl);
    auto lost = in_flight.get();
    REQUIRE_FALSE(lost);
    CHECK(mb::pg::outcome_unknown(lost.error()));
    INFO(mb::to_string(lost.error()));

    // While it is down: every primitive is an error (never success), and quickly.
    const auto t0 = std::chrono::steady_clock::now();
    auto ins = store->insert_if_absent("during", claim, at(0));
    REQUIRE_FALSE(ins);
    CHECK(ins.error().code == mb::errc::storage_error);
    CHECK_FALSE(store->load("before", at(0)));
    CHECK_FALSE(store->health());
    auto enq = queue->enqueue({"k", "lost?", "job-2", std::nullopt});
    REQUIRE_FALSE(enq);
    CHECK(enq.error().code == mb::errc::storage_error);
    CHECK_FALSE(queue->lease(1min));
    CHECK_FALSE(queue->health());
    CHECK_FALSE(state->record_applied("evt", at(43)));
    CHECK_FALSE(limiter->try_acquire());
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    auto down = store->health();
    REQUIRE_FALSE(down);
    CHECK(down.error().message.find("cannot connect to 127.0.0.1") != std::string::npos);
    auto listen_down = queue->wait_for_work(100ms);
    CHECK_FALSE(listen_down);

    server.start();

    // Back: everything recovers without being told, with the data from before.
    REQUIRE(pg_test::eventually([&] { return static_cast<bool>(store->health()); }, 15s));
    auto kept = store->load("before", at(0));
    REQUIRE((kept && kept->has_value()));
    CHECK((*kept)->fingerprint == "fp");
    auto again = queue->enqueue({"k", "kept", "job-1", std::nullopt});
    REQUIRE(again);
    CHECK_FALSE(again->inserted);  // the job from before the restart is still there
    auto v = state->applied_version("evt");
    REQUIRE((v && v->has_value()));
    CHECK(**v == at(42));
    CHECK(limiter->try_acquire());
    // The LISTEN session reconnects on the next wait (a wake-up: notifications may have been missed) ...
    REQUIRE(pg_test::eventually(
        [&] {
            auto w = queue->wait_for_work(100ms);
            return w && *w;
        },
        10s));
    // ... and notifications wake it again.
    auto waiter = std::async(std::launch::async, [&] { return queue->wait_for_work(5s); });
    std::this_thread::sleep_for(50ms);
    REQUIRE(queue->enqueue({"k", "after", "job-3", std::nullopt}));
    auto woke = waiter.get();
    REQUIRE(woke);
    CHECK(*woke);
}
