// SPDX-License-Identifier: MIT
#include <meetingbaas/sync/metrics.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <thread>
#include <vector>

using Catch::Matchers::ContainsSubstring;

TEST_CASE("sync_metrics renders counters in the Prometheus text format", "[metrics]")
{
    meetingbaas::sync_metrics m;
    m.deliveries_received += 3;
    m.duplicates += 1;
    m.rejected(meetingbaas::reject_reason::unauthenticated);
    m.rejected(meetingbaas::reject_reason::unauthenticated);
    m.api_call(200);
    m.api_call(429);
    m.api_call(42);  // out of range: counted as "invalid"
    const auto text = m.to_prometheus();
    CHECK_THAT(text, ContainsSubstring("# TYPE meetingbaas_webhook_deliveries_received_total counter\n"
                                       "meetingbaas_webhook_deliveries_received_total 3\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_webhook_duplicates_total 1\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_webhook_rejected_total{reason=\"unauthenticated\"} 2\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_webhook_rejected_total{reason=\"too_large\"} 0\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_api_calls_total{status=\"429\"} 1\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_api_calls_total{status=\"invalid\"} 1\n"));
    CHECK_THAT(text, !ContainsSubstring("status=\"503\""));  // statuses never seen are left out
    CHECK(m.api_calls(200) == 1);
    CHECK(m.rejected_count(meetingbaas::reject_reason::unauthenticated) == 2);
    CHECK_THAT(m.to_prometheus("app_"), ContainsSubstring("app_jobs_done_total{api_version=\"v1\"} 0\n"));
}

TEST_CASE("sync_metrics splits the calendar-sync counters by API version, under the same names", "[metrics]")
{
    meetingbaas::sync_metrics m;
    m.v1.bots_scheduled += 9;
    m.v1.bots_cancelled += 1;
    m.sync(meetingbaas::api_version::v2).bots_scheduled += 3;
    m.sync(meetingbaas::api_version::v2).jobs_done += 4;
    m.sync(meetingbaas::api_version::unknown).jobs_retried += 2;  // untyped jobs count as v1
    m.v2.events_rejected += 1;
    m.v2.writes_unconfirmed += 5;
    const auto text = m.to_prometheus();
    CHECK_THAT(text, ContainsSubstring("# TYPE meetingbaas_bots_scheduled_total counter\n"
                                       "meetingbaas_bots_scheduled_total{api_version=\"v1\"} 9\n"
                                       "meetingbaas_bots_scheduled_total{api_version=\"v2\"} 3\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_bots_cancelled_total{api_version=\"v1\"} 1\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_jobs_done_total{api_version=\"v2\"} 4\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_jobs_retried_total{api_version=\"v1\"} 2\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_events_rejected_total{api_version=\"v2\"} 1\n"));
    CHECK_THAT(text, ContainsSubstring("meetingbaas_writes_unconfirmed_total{api_version=\"v2\"} 5\n"));
    // No unlabelled series next to the labelled ones (a sum over the name would count twice).
    CHECK_THAT(text, !ContainsSubstring("meetingbaas_bots_scheduled_total 1"));
    CHECK_THAT(text, !ContainsSubstring("meetingbaas_bots_scheduled_total 9"));
}

TEST_CASE("sync_metrics counts from many threads without losing increments", "[metrics]")
{
    meetingbaas::sync_metrics m;
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 10000; ++i) {
                    m.deliveries_received.fetch_add(1, std::memory_order_relaxed);
                    m.api_call(503);
                    m.rejected(meetingbaas::reject_reason::malformed);
                }
            });
        }
    }
    CHECK(m.deliveries_received == 40000);
    CHECK(m.api_calls(503) == 40000);
    CHECK(m.rejected_count(meetingbaas::reject_reason::malformed) == 40000);
}
