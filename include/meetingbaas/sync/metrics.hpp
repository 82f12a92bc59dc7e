// SPDX-License-Identifier: MIT
#pragma once

// Counters for a webhook receiver and its calendar-sync workers, rendered in the Prometheus text
// exposition format (version 0.0.4). Lock-free: every counter is a relaxed std::atomic, so the
// acknowledgement path pays one atomic increment per counter it touches. The calendar-sync counters carry
// an `api_version` label ("v1", "v2"): `sum(meetingbaas_bots_scheduled_total)` is the total.

#include <meetingbaas/core/api_version.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0 {

/// Why the receiver refused a delivery (one label value per reason on /metrics).
enum class reject_reason {
    too_large = 0,       ///< 413: over the body limit
    unauthenticated,     ///< 401: missing or wrong API key, bad signature, stale timestamp
    malformed,           ///< 400: not a valid event envelope
    method_not_allowed,  ///< 405: not a POST
    unavailable,         ///< 503: storage failed or a concurrent duplicate is still being claimed
};

constexpr std::string_view to_string(reject_reason r) noexcept
{
    switch (r) {
        case reject_reason::too_large: return "too_large";
        case reject_reason::unauthenticated: return "unauthenticated";
        case reject_reason::malformed: return "malformed";
        case reject_reason::method_not_allowed: return "method_not_allowed";
        case reject_reason::unavailable: return "unavailable";
    }
    return "(invalid reject_reason)";
}

/// The calendar-sync counters of one API generation (sync_metrics keeps one set for v1, one for v2).
struct sync_counters {
    std::atomic<std::uint64_t> jobs_done{0};
    std::atomic<std::uint64_t> jobs_retried{0};
    std::atomic<std::uint64_t> jobs_dead_lettered{0};
    std::atomic<std::uint64_t> bots_scheduled{
        0};  ///< bots the API confirmed scheduled (a series counts each)
    std::atomic<std::uint64_t> bots_cancelled{0};
    std::atomic<std::uint64_t> events_stale{0};     ///< ignored: older than what was already applied
    std::atomic<std::uint64_t> events_rejected{0};  ///< actions the API refused for good (per-event errors,
                                                    ///< 409, other 4xx, the daily bot cap)
    std::atomic<std::uint64_t> writes_unconfirmed{0};  ///< writes whose answer was lost (timeout, reset,
                                                       ///< 5xx): the event was read again before any retry
};

/// The counters /metrics exposes. Share one instance between the receiver, the workers and the API
/// client wrapper; every member may be updated from any thread. The calendar-sync counters are kept per
/// API generation (`v1`, `v2`; sync(version) picks one) and rendered with an `api_version` label.
class sync_metrics {
public:
    std::atomic<std::uint64_t> deliveries_received{0};  ///< every request to the webhook endpoint
    std::atomic<std::uint64_t> deliveries_accepted{0};  ///< 200 and enqueued (or handed to the app)
    std::atomic<std::uint64_t> duplicates{0};           ///< 200 without new work
    std::atomic<std::uint64_t> unknown_events{0};       ///< well-formed, not a calendar job
    std::atomic<std::uint64_t> api_transport_errors{0};
    sync_counters v1;  ///< calendar.sync_events jobs
    sync_counters v2;  ///< calendar.event_* and calendar.events_synced jobs

    /// The counters of `version` (unknown counts as v1, the generation of untyped legacy jobs).
    [[nodiscard]] sync_counters& sync(api_version version) noexcept
    {
        return version == api_version::v2 ? v2 : v1;
    }
    [[nodiscard]] const sync_counters& sync(api_version version) const noexcept
    {
        return version == api_version::v2 ? v2 : v1;
    }

    void rejected(reject_reason r) noexcept { rejected_[index(r)].fetch_add(1, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t rejected_count(reject_reason r) const noexcept
    {
        return rejected_[index(r)].load(std::memory_order_relaxed);
    }

    /// Counts one API answer by status (100..599; anything else is counted as 0, "invalid").
    void api_call(int status) noexcept
    {
        const auto i = status >= 100 && status < 600 ? static_cast<std::size_t>(status) : std::size_t{0};
        api_by_status_[i].fetch_add(1, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t api_calls(int status) const noexcept
    {
        const auto i = status >= 100 && status < 600 ? static_cast<std::size_t>(status) : std::size_t{0};
        return api_by_status_[i].load(std::memory_order_relaxed);
    }

    /// The Prometheus text format, every metric prefixed with `prefix` (default "meetingbaas_").
    [[nodiscard]] std::string to_prometheus(std::string_view prefix = "meetingbaas_") const
    {
        std::string out;
        out.reserve(2048);
        const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
            append_header(out, prefix, name, help);
            append_name(out, prefix, name);
            out += ' ';
            out += std::to_string(v);
            out += '\n';
        };
        counter("webhook_deliveries_received_total", "Requests to the webhook endpoint.",
                load(deliveries_received));
        counter("webhook_deliveries_accepted_total", "Deliveries accepted with new work.",
                load(deliveries_accepted));
        counter("webhook_duplicates_total", "Deliveries answered 200 as duplicates.", load(duplicates));
        counter("webhook_unknown_events_total", "Well-formed deliveries of other event types.",
                load(unknown_events));
        append_header(out, prefix, "webhook_rejected_total", "Deliveries refused, by reason.");
        for (std::size_t i = 0; i < rejected_.size(); ++i) {
            append_name(out, prefix, "webhook_rejected_total");
            out += "{reason=\"";
            out += to_string(static_cast<reject_reason>(i));
            out += "\"} ";
            out += std::to_string(rejected_[i].load(std::memory_order_relaxed));
            out += '\n';
        }
        const auto by_version = [&](std::string_view name, std::string_view help,
                                    std::atomic<std::uint64_t> sync_counters::* member) {
            append_header(out, prefix, name, help);
            for (const api_version v : {api_version::v1, api_version::v2}) {
                append_name(out, prefix, name);
                out += "{api_version=\"";
                out += to_string(v);
                out += "\"} ";
                out += std::to_string(load(sync(v).*member));
                out += '\n';
            }
        };
        by_version("jobs_done_total", "Jobs processed to completion.", &sync_counters::jobs_done);
        by_version("jobs_retried_total", "Jobs put back for a later attempt.", &sync_counters::jobs_retried);
        by_version("jobs_dead_lettered_total", "Jobs moved to the dead-letter table.",
                   &sync_counters::jobs_dead_lettered);
        by_version("bots_scheduled_total",
                   "Bots scheduled (v1 POST /calendar_events/{uuid}/bot, v2 POST "
                   "/v2/calendars/{id}/bots), as confirmed by the API.",
                   &sync_counters::bots_scheduled);
        by_version("bots_cancelled_total",
                   "Bots cancelled (v1 DELETE /calendar_events/{uuid}/bot, v2 DELETE "
                   "/v2/calendars/{id}/bots), as confirmed by the API.",
                   &sync_counters::bots_cancelled);
        by_version("events_stale_total", "Events ignored as older than the state already applied.",
                   &sync_counters::events_stale);
        by_version("events_rejected_total", "Actions the API refused for good (kept in the dead letters).",
                   &sync_counters::events_rejected);
        by_version("writes_unconfirmed_total",
                   "Writes whose answer was lost; the event was read again before any retry.",
                   &sync_counters::writes_unconfirmed);
        append_header(out, prefix, "api_calls_total", "Meeting BaaS API answers, by HTTP status.");
        for (std::size_t i = 0; i < api_by_status_.size(); ++i) {
            const auto v = api_by_status_[i].load(std::memory_order_relaxed);
            if (v == 0) continue;
            append_name(out, prefix, "api_calls_total");
            out += "{status=\"";
            out += i == 0 ? std::string("invalid") : std::to_string(i);
            out += "\"} ";
            out += std::to_string(v);
            out += '\n';
        }
        counter("api_transport_errors_total", "API calls that got no answer.", load(api_transport_errors));
        return out;
    }

private:
    static constexpr std::size_t index(reject_reason r) noexcept { return static_cast<std::size_t>(r); }
    static std::uint64_t load(const std::atomic<std::uint64_t>& a) noexcept
    {
        return a.load(std::memory_order_relaxed);
    }
    static void append_name(std::string& out, std::string_view prefix, std::string_view name)
    {
        out += prefix;
        out += name;
    }
    static void append_header(std::string& out, std::string_view prefix, std::string_view name,
                              std::string_view help)
    {
        out += "# HELP ";
        append_name(out, prefix, name);
        out += ' ';
        out += help;
        out += "\n# TYPE ";
        append_name(out, prefix, name);
        out += " counter\n";
    }

    std::array<std::atomic<std::uint64_t>, 5> rejected_{};
    std::array<std::atomic<std::uint64_t>, 600> api_by_status_{};
};

}  // namespace meetingbaas::inline v0
