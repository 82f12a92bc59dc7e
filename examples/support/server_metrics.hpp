// SPDX-License-Identifier: MIT
#pragma once

// /metrics of the example server: the library's counters (sync_metrics), the deliveries by API generation
// (delivery_counters), the queue's gauges, the HTTP front end's counters, and the server's own (log lines
// dropped, state writable).

#include "delivery_counters.hpp"
#include "http_server.hpp"

#include <meetingbaas/sync/job_queue.hpp>
#include <meetingbaas/sync/metrics.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace support {

struct server_gauges {
    std::uint64_t log_lines_dropped = 0;
    bool state_writable = true;
    std::uint64_t state_wal_bytes = 0;       ///< at the last probe
    std::uint64_t state_database_bytes = 0;  ///< at the last probe
};

template <meetingbaas::job_queue Queue>
std::string render_metrics(const meetingbaas::sync_metrics& metrics, const delivery_counters& deliveries,
                           Queue& queue, const http_server& http, const server_gauges& gauges)
{
    std::string text = metrics.to_prometheus();
    text += deliveries.to_prometheus();
    if (const auto s = queue.stats()) {
        text += "# HELP meetingbaas_queue_jobs Jobs in the queue, by state.\n"
                "# TYPE meetingbaas_queue_jobs gauge\n";
        const std::pair<const char*, std::size_t> rows[] = {{"ready", s->ready},
                                                            {"scheduled", s->scheduled},
                                                            {"leased", s->leased},
                                                            {"dead", s->dead},
                                                            {"completed", s->completed}};
        for (const auto& [name, n] : rows) {
            text += "meetingbaas_queue_jobs{state=\"" + std::string(name) + "\"} " + std::to_string(n) + "\n";
        }
    }
    text += http.metrics_text();
    text += "# HELP meetingbaas_log_lines_dropped_total Log lines dropped because the log output was stuck.\n"
            "# TYPE meetingbaas_log_lines_dropped_total counter\n"
            "meetingbaas_log_lines_dropped_total " +
            std::to_string(gauges.log_lines_dropped) +
            "\n"
            "# HELP meetingbaas_state_writable 1 when the state accepted a write at the last health check.\n"
            "# TYPE meetingbaas_state_writable gauge\n"
            "meetingbaas_state_writable " +
            std::string(gauges.state_writable ? "1" : "0") +
            "\n"
            "# HELP meetingbaas_state_wal_bytes Size of the state's WAL file at the last probe.\n"
            "# TYPE meetingbaas_state_wal_bytes gauge\n"
            "meetingbaas_state_wal_bytes " +
            std::to_string(gauges.state_wal_bytes) +
            "\n"
            "# HELP meetingbaas_state_database_bytes Size of the state's database file at the last probe.\n"
            "# TYPE meetingbaas_state_database_bytes gauge\n"
            "meetingbaas_state_database_bytes " +
            std::to_string(gauges.state_database_bytes) + "\n";
    return text;
}

}  // namespace support
