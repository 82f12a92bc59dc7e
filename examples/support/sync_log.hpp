// SPDX-License-Identifier: MIT
#pragma once

// The example server's log lines about its work, one JSON object each (support/json_log.hpp):
//
//   {"ts":..,"event":"delivery","status":200,"result":"accepted","event_type":"calendar.sync_events",
//    "version":"v1","job":"12"}
//   {"ts":..,"event":"delivery","status":401,"result":"rejected","version":"unknown",
//    "detail":"not_configured (svix-signature)","why":"a v2 (Svix-signed) delivery, but no --webhook-secret
//    .."}
//   {"ts":..,"event":"action","action":"schedule","event_uuid":"..","name":"..","start":"..",
//    "result":"applied","reason":"..","job":"12","worker":0}
//   {"ts":..,"event":"job","job":"12","attempt":1,"approach":"get","events":3,"result":"done"}
//      result: done | retry (with "reason" and "retry_at") | dead_letter ("reason") | lease_lost ("detail")
//
// Only ids, statuses, names and reasons: never a key, a signature or a secret (the receiver's details
// name what was wrong, not the values).

#include "delivery_counters.hpp"
#include "json_log.hpp"

#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/calendar_sync.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <string>
#include <string_view>

namespace support {

/// Why a refusal needs the operator, in words, or "" (e.g. a v2 delivery to a server without a secret).
[[nodiscard]] inline std::string_view refusal_hint(const meetingbaas::receipt& r) noexcept
{
    if (r.status != 401 || !r.detail.starts_with("not_configured")) return {};
    if (r.detail.find("(svix-") != std::string::npos || r.detail.find("(webhook-") != std::string::npos) {
        return "a v2 (Svix-signed) delivery, but no --webhook-secret is configured; set it "
               "(or MEETINGBAAS_WEBHOOK_SECRET) to the endpoint's whsec_ secret";
    }
    return "no key or secret is configured for this kind of delivery";
}

inline void log_delivery(json_log& log, const meetingbaas::receipt& r)
{
    log.write("delivery", {{"status", r.status},
                           {"result", meetingbaas::to_string(r.kind)},
                           {"event_type", r.event_type},
                           {"version", meetingbaas::to_string(r.version)},
                           {"job", r.job_id},
                           {"detail", r.detail},
                           {"why", refusal_hint(r)}});
}

/// Counts an answered delivery by generation and result (/metrics) and logs it.
template <class Headers>
void record_delivery(json_log& log, delivery_counters& counters, const meetingbaas::receipt& r,
                     const Headers& headers)
{
    counters.count(r, headers);
    log_delivery(log, r);
}

inline void log_step(json_log& log, const meetingbaas::worker_step& step, int worker)
{
    namespace mb = meetingbaas;
    for (const auto& e : step.report.events) {
        const std::string error = e.error ? mb::to_string(*e.error) : std::string();
        log.write("action", {{"action", mb::to_string(e.action)},
                             {"event_uuid", e.uuid},
                             {"name", e.name},
                             {"start", e.start_time},
                             {"result", mb::to_string(e.outcome)},
                             {"reason", e.reason},
                             {"error", error},
                             {"job", step.job_id},
                             {"worker", worker}});
    }
    std::string_view result;
    std::string reason;
    std::string retry_at;
    switch (step.settled) {
        case mb::worker_step::settlement::acknowledged: result = "done"; break;
        case mb::worker_step::settlement::retried:
            result = "retry";
            reason = step.report.verdict.reason;
            if (step.retry_at) {
                retry_at = mb::format_timestamp(
                    std::chrono::time_point_cast<std::chrono::microseconds>(*step.retry_at));
            }
            break;
        case mb::worker_step::settlement::dead_lettered:
            result = "dead_letter";
            reason = step.settle_detail;
            break;
        case mb::worker_step::settlement::lost:
            result = "lease_lost";
            reason = step.settle_detail;
            break;
        case mb::worker_step::settlement::none: result = "none"; break;
    }
    log.write("job", {{"job", step.job_id},
                      {"attempt", step.attempt},
                      {"approach", step.report.listed ? "list" : "get"},
                      {"events", step.report.events.size()},
                      {"result", result},
                      {"reason", reason},
                      {"retry_at", retry_at},
                      {"worker", worker}});
}

}  // namespace support
