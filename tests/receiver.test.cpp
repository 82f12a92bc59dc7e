// SPDX-License-Identifier: MIT
#include <meetingbaas/auth/signer.hpp>
#include <meetingbaas/idempotency/memory_store.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
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

constexpr std::string_view v2_secret = "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f";  // the spec's vector 2

struct harness {
    meetingbaas::basic_webhook_verifier<meetingbaas::builtin_hmac_sha256, fixed_clock> verifier;
    meetingbaas::memory_idempotency_store store;
    meetingbaas::idempotency_guard<meetingbaas::memory_idempotency_store> guard{store};
    meetingbaas::in_memory_job_queue<> queue;
    meetingbaas::sync_metrics metrics;
    meetingbaas::svix_signer signer = *meetingbaas::svix_signer::from_secret(v2_secret);
    std::atomic<int> others{0};
    std::atomic<int> notified{0};

    harness()
    {
        verifier.accept_v1(*meetingbaas::api_key_keyring::from_keys({api_key}));
        verifier.accept_v2(
            *meetingbaas::basic_svix_verifier<meetingbaas::builtin_hmac_sha256, fixed_clock>::from_secrets(
                {v2_secret}));
    }

    auto receiver(meetingbaas::receiver_options options = {})
    {
        return meetingbaas::webhook_receiver{
            meetingbaas::receiver_deps{
                .verifier = verifier,
                .guard = guard,
                .queue = queue,
                .on_other = [this](const meetingbaas::delivery&,
                                   const meetingbaas::verified_body&) { ++others; },
                .notify = [this] { ++notified; },
                .metrics = &metrics,
            },
            options};
    }
    /// Headers of a v2 delivery signed with the test secret at the fixed clock's time.
    http_headers v2_headers(std::string_view message_id, std::string_view body) const
    {
        const auto signed_headers = signer.sign(message_id, fixed_clock{}.seconds, body);
        REQUIRE(signed_headers);
        return signed_headers->to_headers();
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
    meetingbaas::idempotency_guard guard{store};
    meetingbaas::in_memory_job_queue<> queue;
    int others = 0;
    meetingbaas::webhook_receiver rx{meetingbaas::receiver_deps{
        .verifier = verifier,
        .guard = guard,
        .queue = queue,
        .on_other =
            [&](const meetingbaas::delivery&, const meetingbaas::verified_body& v) {
                ++others;
                CHECK(v.delivery_id() == "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA");
            },
    }};
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
    meetingbaas::idempotency_guard guard{store};
    broken_queue queue;
    meetingbaas::webhook_receiver rx{
        meetingbaas::receiver_deps{.verifier = verifier, .guard = guard, .queue = queue}};
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

// ---- v2 calendar deliveries go to the queue; v2 claims use both keys (#13 item 6, #14) -----------------

TEST_CASE("webhook_receiver enqueues the four v2 calendar events as jobs named by their wire name",
          "[receiver]")
{
    harness h;
    auto rx = h.receiver();
    const auto name = GENERATE(as<std::string>{}, "calendar.event_created", "calendar.event_updated",
                               "calendar.event_cancelled", "calendar.events_synced");
    CAPTURE(name);
    STATIC_REQUIRE(meetingbaas::v2_calendar_job_kinds.size() == 4);
    CHECK(std::find(meetingbaas::v2_calendar_job_kinds.begin(), meetingbaas::v2_calendar_job_kinds.end(),
                    name) != meetingbaas::v2_calendar_job_kinds.end());
    const auto body = read_file("v2." + name + ".json");
    const auto headers = h.v2_headers("msg_cal_1", body);
    const auto r = rx.handle("POST", headers, body);
    CHECK(r.status == 200);
    CHECK(r.kind == receipt_kind::accepted);
    CHECK(r.version == meetingbaas::api_version::v2);
    CHECK(r.event_type == name);
    CHECK(r.key == meetingbaas::svix_delivery_key("msg_cal_1").str());
    CHECK(h.notified == 1);
    CHECK(h.others == 0);

    auto job = h.queue.lease(1min);
    REQUIRE((job && job->has_value()));
    CHECK((*job)->kind == name);
    CHECK((*job)->payload == body);  // the verified bytes, as received
    CHECK((*job)->unique_key == r.key);
    REQUIRE(h.queue.acknowledge((*job)->id, (*job)->lease_token));

    // A Svix retry (same svix-id, same bytes): 200, nothing enqueued, even after the job was processed.
    const auto retry = rx.handle("POST", headers, body);
    CHECK(retry.status == 200);
    CHECK(retry.kind == receipt_kind::duplicate);
    CHECK(h.jobs() == 0);
    CHECK(h.notified == 1);
    // Another message with the same body is another job: the processor reconciles each one against the API.
    CHECK(rx.handle("POST", h.v2_headers("msg_cal_2", body), body).kind == receipt_kind::accepted);
    CHECK(h.jobs() == 1);
}

TEST_CASE("webhook_receiver hands v2 bot events to the application and treats a resend as a duplicate",
          "[receiver]")
{
    harness h;
    auto rx = h.receiver();
    const std::string first = R"({"event":"bot.failed","data":{"bot_id":"b1","event_id":null,)"
                              R"("error_message":"not accepted","error_code":"BOT_NOT_ACCEPTED",)"
                              R"("sent_at":"2026-09-16T15:12:09.331Z"},"extra":null})";
    // The resend of the same final event: a new message, a new sent_at.
    const std::string resend = R"({"event":"bot.failed","data":{"bot_id":"b1","event_id":null,)"
                               R"("error_message":"not accepted","error_code":"BOT_NOT_ACCEPTED",)"
                               R"("sent_at":"2026-09-16T18:40:00.000Z"},"extra":null})";
    const auto a = rx.handle("POST", h.v2_headers("msg_a", first), first);
    CHECK(a.status == 200);
    CHECK(a.kind == receipt_kind::other_event);
    CHECK(h.others == 1);

    const auto retry = rx.handle("POST", h.v2_headers("msg_a", first), first);
    CHECK(retry.status == 200);
    CHECK(retry.kind == receipt_kind::duplicate);

    const auto b = rx.handle("POST", h.v2_headers("msg_b", resend), resend);
    CHECK(b.status == 200);  // not 422: Svix would retry a legitimate resend for hours
    CHECK(b.kind == receipt_kind::duplicate);
    CHECK(b.detail == "same event, different body (a resend)");
    CHECK(h.others == 1);
    // The resend's own message is now completed: its Svix retries stop at the message key.
    CHECK(rx.handle("POST", h.v2_headers("msg_b", resend), resend).kind == receipt_kind::duplicate);
    CHECK(h.others == 1);
    CHECK(h.jobs() == 0);

    // The same svix-id with another body is not a Svix retry: 422, nothing handed on.
    const auto reuse = rx.handle("POST", h.v2_headers("msg_a", resend), resend);
    CHECK(reuse.status == 422);
    CHECK(reuse.reason == meetingbaas::reject_reason::malformed);
    CHECK(h.others == 1);
}

TEST_CASE("webhook_receiver can treat a payload-key mismatch as a conflict when asked", "[receiver]")
{
    harness h;
    meetingbaas::receiver_options options;
    options.on_payload_mismatch = meetingbaas::payload_mismatch::conflict;
    auto rx = h.receiver(options);
    const std::string first =
        R"({"event":"bot.completed","data":{"bot_id":"b2","sent_at":"2026-09-16T15:00:00Z"}})";
    const std::string other =
        R"({"event":"bot.completed","data":{"bot_id":"b2","sent_at":"2026-09-16T16:00:00Z"}})";
    CHECK(rx.handle("POST", h.v2_headers("msg_1", first), first).kind == receipt_kind::other_event);
    const auto r = rx.handle("POST", h.v2_headers("msg_2", other), other);
    CHECK(r.status == 422);
    // The conflicting message's key was rolled back: once the application resolves it, it can be delivered.
    const auto again = rx.handle("POST", h.v2_headers("msg_2", other), other);
    CHECK(again.status == 422);
    CHECK(h.others == 1);
}

TEST_CASE("webhook_receiver names multi-name events by the name they arrived with", "[receiver]")
{
    harness h;
    auto rx = h.receiver();
    const std::string body = R"({"event":"calendar.connection_deleted","data":{"calendar_id":"c",)"
                             R"("calendar_platform":"google","deleted_at":"2026-09-16T15:00:00Z"}})";
    const auto r = rx.handle("POST", h.v2_headers("msg_conn", body), body);
    CHECK(r.status == 200);
    CHECK(r.kind == receipt_kind::other_event);
    CHECK(r.event_type == "calendar.connection_deleted");
}
