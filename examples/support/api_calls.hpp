// SPDX-License-Identifier: MIT
#pragma once

// The example server's side of the API calls: an http_client wrapper that counts answers by status for
// /metrics and fails fast once shutdown has begun (so that a call in its retry loop ends quickly and the
// job stays queued). In-call retry waits use the library's meetingbaas::stop_aware_sleeper.

#include <meetingbaas/api/http.hpp>
#include <meetingbaas/sync/metrics.hpp>

#include <stop_token>
#include <utility>

namespace support {

template <class Inner>
class observed_client {
public:
    observed_client(Inner inner, std::stop_token stop, meetingbaas::sync_metrics& metrics)
        : inner_(std::move(inner)), stop_(std::move(stop)), metrics_(&metrics)
    {}
    meetingbaas::http_result send(const meetingbaas::http_request& request)
    {
        if (stop_.stop_requested()) {
            return meetingbaas::unexpected(meetingbaas::transport_error{
                meetingbaas::transport_errc::connect_failed, false, "shutting down"});
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
    meetingbaas::sync_metrics* metrics_;
};

}  // namespace support
