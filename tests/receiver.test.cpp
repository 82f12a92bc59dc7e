// SPDX-License-Identifier: MIT
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using meetingbaas::http_headers;
using meetingbaas::receipt_kind;

namespace {

std::string read_file(const std::string& name)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

constexpr const char* api_key = "mb-test-key-0123456789";

http_headers v1_headers(std::string key = api_key)
{
    return http_headers{{"Content-Type", "application/json"}, {"X-Meeting-BaaS-API-Key", std::move(key)}};
}

struct fixed_clock {
    using rep = std::chrono::system_clock::rep;
    using period = std::chrono::system_clock::period;
    using duration = std::chrono::system_clock::duration;
    using time_point = std::chrono::system_clock::time_point;
    std::int64_t seconds = 1789571529;  // the spec's vector 2
    [[nodiscard]] time_point now() const { return time_point(std::chrono::seconds(seconds)); }
};

struct harness {
    meetingbaas::webhook_verifier verifier;
    meetingbaas::memory_idempotency_store store;
    meetingbaas::idempotency_guard<meetingbaas::memory_idempotency_store> guard =
        *meetingbaas::make_idempotency_guard(store);
    meetingbaas::in_memory_job_queue<> queue;
    meetingbaas::sync_metrics metrics;
    std::atomic<int> others{0};
    std::atomic<int> notified{0};

    harness() { verifier.accept_v1(*meetingbaas::api_key_keyring::from_keys({api_key})); }

    auto receiver(meetingbaas::receiver_options options = {})
    {
        auto on_other = [this](const meetingbaas::delivery&, const meetingbaas::verified_body&) { ++others; };
        auto notify = [this] { ++notified; };
        return meetingbaas::webhook_receiver<meetingbaas::webhook_verifier, decltype(guard),
                                             meetingbaas::in_memory_job_queue<>, decltype(on_other),
                                             decltype(notify)>(verifier, guard, queue, options, on_other,
                                                               notify, &metrics);
    }
    std::size_t jobs()
    {
        auto s = queue.stats();
        REQUIRE(s);
        return s->ready + s->leased + s->scheduled;
    }
};

}  // namespace

TEST_CASE("webhook_receiver accepts a calendar.sync_events delivery and enqueues it once", "[receiver]")
{
    harness h;
    auto rx = h.receiver();
    const auto body = read_file("v1.calendar.sync_events.json");
    const auto r = rx.handle("POST", v1_headers(), body);
    CHECK(r.status == 200);
    CHECK(r.kind == receipt_kind::accepted);
    CHECK(r.event_type == "calendar.sync_events");
    CHECK(r.version == meetingbaas::api_version::v1);
    CHECK_FALSE(r.job_id.empty());
    CHECK(h.jobs() == 1);
    CHECK(h.notified == 1);

    auto job = h.queue.lease(1min);
    REQUIRE((job && job->has_value()));
    CHECK((*job)->kind == meetingbaas::calendar_sync_job_kind);
    CHECK((*job)->payload == body);  // the verified bytes, as received
    CHECK((*job)->unique_key == r.key);

    const auto dup = rx.handle("POST", v1_headers(), body);
    CHECK(dup.status == 200);
    CHECK(dup.kind == receipt_kind::duplicate);
    CHECK(h.metrics.duplicates == 1);
    CHECK(h.metrics.deliveries_accepted == 1);
    CHECK(h.metrics.deliveries_received == 2);
    CHECK(h.notified == 1);
}

TEST_CASE("webhook_receiver treats the same sync with another timestamp or event set as new", "[receiver]")
{
    harness h;
    auto rx = h.receiver();
    const std::string a = R"({"event":"calendar.sync_events","data":{"calendar_id":"c1",)"
                          R"("last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":["e1","e2"]}})";
    const std::string same_set_reordered =
        R"({"event":"calendar.sync_events","data":{"calendar_id":"c1",)"
        R"("last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":["e2","e1"]}})";
    const std::string other_set =
        R"({"event":"calendar.sync_events","data":{"calendar_id":"c1",)"
        R"("last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":["e3"]}})";
    const std::string other_time =
        R"({"event":"calendar.sync_events","data":{"calendar_id":"c1",)"
        R"("last_updated_ts":"2026-09-14T08:42:18Z","affected_event_uuids":["e1","e2"]}})";
    CHECK(rx.handle("POST", v1_headers(), a).kind == receipt_kind::accepted);
    CHECK(rx.handle("POST", v1_headers(), same_set_reordered).kind == receipt_kind::duplicate);
    CHECK(rx.handle("POST", v1_headers(), other_set).kind == receipt_kind::accepted);
    CHECK(rx.handle("POST", v1_headers(), other_time).kind == receipt_kind::accepted);
    CHECK(h.jobs() == 3);
}

TEST_CASE("webhook_receiver rejects with the right status and enqueues nothing", "[receiver]")
{
    harness h;
    meetingbaas::receiver_options options;
    options.max_body_bytes = 4096;
    auto rx = h.receiver(options);
    const auto body = read_file("v1.calendar.sync_events.json");

    SECTION("413 over the limit, before verification")
    {
        const auto r = rx.handle("POST", http_headers{}, std::string(4097, '{'));
        CHECK(r.status == 413);
        CHECK(r.reason == meetingbaas::reject_reason::too_large);
        CHECK(h.metrics.rejected_count(meetingbaas::reject_reason::too_large) == 1);
    }
    SECTION("401 without the API key header")
    {
        const auto r = rx.handle("POST", http_headers{{"Content-Type", "application/json"}}, body);
        CHECK(r.status == 401);
        CHECK(r.reason == meetingbaas::reject_reason::unauthenticated);
    }
    SECTION("401 with a wrong API key, and the key never appears in the receipt")
    {
        const auto r = rx.handle("POST", v1_headers("forged-key-value"), body);
        CHECK(r.status == 401);
        CHECK_THAT(r.detail + r.body + r.key, !Catch::Matchers::ContainsSubstring("forged-key-value"));
        CHECK_THAT(r.detail + r.body + r.key, !Catch::Matchers::ContainsSubstring(api_key));
    }
    SECTION("400 for a body that is not an event envelope")
    {
        const auto bad = GENERATE(
            as<std::string>{}, "", "not json", "[]", R"({"event":"calendar.sync_events"})",
            R"({"event":"calendar.sync_events","data":{"calendar_id":"c"}})",
            R"({"event":"calendar.sync_events","data":{"calendar_id":"c","last_updated_ts":"yesterday"}})");
        CAPTURE(bad);
        const auto r = rx.handle("POST", v1_headers(), bad);
        CHECK(r.status == 400);
        CHECK(r.reason == meetingbaas::reject_reason::malformed);
        CHECK_FALSE(r.detail.empty());
    }
    SECTION("405 for another method")
    {
        CHECK(rx.handle("GET", v1_headers(), "").status == 405);
    }
    CHECK(h.jobs() == 0);
    CHECK(h.metrics.deliveries_accepted == 0);
}

TEST_CASE("webhook_receiver answers 200 to other events and hands each to the application once", "[receiver]")
{
    harness h;
    auto rx = h.receiver();
    const auto name =
        GENERATE(as<std::string>{}, "v1.complete.json", "v1.failed.json", "v1.bot.status_change.json");
    CAPTURE(name);
    const auto body = read_file(name);
    const auto r = rx.handle("POST", v1_headers(), body);
    CHECK(r.status == 200);
    CHECK(r.kind == receipt_kind::other_event);
    CHECK(h.others == 1);
    CHECK(rx.handle("POST", v1_headers(), body).kind == receipt_kind::duplicate);
    CHECK(h.others == 1);

    const std::string unknown = R"({"event":"calendar.something_new","data":{"x":1}})";
    const auto u = rx.handle("POST", v1_headers(), unknown);
    CHECK(u.status == 200);
    CHECK(u.kind == receipt_kind::other_event);
    CHECK(u.event_type == "calendar.something_new");
    CHECK(h.others == 2);
    CHECK(h.jobs() == 0);
}

TEST_CASE("webhook_receiver verifies v2 Svix signatures and deduplicates by svix-id", "[receiver]")
{
    meetingbaas::basic_webhook_verifier<meetingbaas::builtin_hmac_sha256, fixed_clock> verifier;
    verifier.accept_v2(
        *meetingbaas::basic_svix_verifier<meetingbaas::builtin_hmac_sha256, fixed_clock>::from_secrets(
            {"whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f"}));
    meetingbaas::memory_idempotency_store store;
    auto guard = *meetingbaas::make_idempotency_guard(store);
    meetingbaas::in_memory_job_queue<> queue;
    int others = 0;
    auto on_other = [&](const meetingbaas::delivery&, const meetingbaas::verified_body& v) {
        ++others;
        CHECK(v.delivery_id() == "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA");
    };
    meetingbaas::webhook_receiver<decltype(verifier), decltype(guard), meetingbaas::in_memory_job_queue<>,
                                  decltype(on_other)>
        rx(verifier, guard, queue, {}, on_other);
    const std::string body =
        R"({"event":"bot.failed","data":{"bot_id":"f0c3e290-8374-42fd-92d1-75ac8e695c3c","event_id":null,)"
        R"("error_message":"Bot was not accepted into the meeting","error_code":"BOT_NOT_ACCEPTED",)"
        R"("sent_at":"2026-09-16T15:12:09.331Z"},"extra":null})";
    http_headers headers{{"svix-id", "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA"},
                         {"svix-timestamp", "1789571529"},
                         {"svix-signature", "v1,HS4HPtA64JHC5LQ5pPqUxFvOGjqjvrqR5mo7OFXpD0k="}};
    const auto r = rx.handle("POST", headers, body);
    CHECK(r.status == 200);
    CHECK(r.kind == receipt_kind::other_event);
    CHECK(r.version == meetingbaas::api_version::v2);
    CHECK(rx.handle("POST", headers, body).kind == receipt_kind::duplicate);
    CHECK(others == 1);

    http_headers forged = headers;
    forged.set("svix-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    CHECK(rx.handle("POST", forged, body).status == 401);
    http_headers stale = headers;
    stale.set("svix-timestamp", "1789570000");  // 25 minutes old: outside the tolerance
    CHECK(rx.handle("POST", stale, body).status == 401);
}

TEST_CASE("webhook_receiver answers 503 when the queue fails and accepts the sender's retry", "[receiver]")
{
    struct broken_queue : meetingbaas::in_memory_job_queue<> {
        bool broken = true;
        meetingbaas::result<meetingbaas::enqueue_outcome> enqueue(meetingbaas::job_spec spec)
        {
            if (broken) return meetingbaas::error{meetingbaas::errc::storage_error, "enqueue", "disk full"};
            return in_memory_job_queue::enqueue(std::move(spec));
        }
    };
    meetingbaas::webhook_verifier verifier;
    verifier.accept_v1(*meetingbaas::api_key_keyring::from_keys({api_key}));
    meetingbaas::memory_idempotency_store store;
    auto guard = *meetingbaas::make_idempotency_guard(store);
    broken_queue queue;
    meetingbaas::webhook_receiver<meetingbaas::webhook_verifier, decltype(guard), broken_queue> rx(
        verifier, guard, queue);
    const auto body = read_file("v1.calendar.sync_events.json");
    const auto r = rx.handle("POST", v1_headers(), body);
    CHECK(r.status == 503);
    CHECK_THAT(r.detail, Catch::Matchers::ContainsSubstring("disk full"));
    queue.broken = false;  // the sender retries: nothing was recorded, so it is accepted now
    CHECK(rx.handle("POST", v1_headers(), body).kind == receipt_kind::accepted);
}

TEST_CASE("webhook_receiver enqueues one job for a duplicate storm from 8 threads", "[receiver]")
{
    harness h;
    auto rx = h.receiver();
    const auto body = read_file("v1.calendar.sync_events.json");
    std::atomic<int> ok{0};
    std::atomic<int> accepted{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 25; ++i) {
                    const auto r = rx.handle("POST", v1_headers(), body);
                    if (r.status == 200) ++ok;
                    if (r.kind == receipt_kind::accepted) ++accepted;
                }
            });
        }
    }
    CHECK(ok == 200);
    CHECK(accepted == 1);
    CHECK(h.jobs() == 1);
    CHECK(h.metrics.duplicates == 199);
}
