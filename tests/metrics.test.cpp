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
    CHECK_THAT(m.to_prometheus("app_"), ContainsSubstring("app_jobs_done_total 0\n"));
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
