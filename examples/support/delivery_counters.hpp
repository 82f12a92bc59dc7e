// SPDX-License-Identifier: MIT
#pragma once

// Deliveries to the webhook endpoint by API generation and result, for /metrics:
//
//   meetingbaas_webhook_deliveries_total{api_version="v2",result="accepted"} 12
//   meetingbaas_webhook_deliveries_total{api_version="v2",result="unauthenticated"} 2
//
// The library's own series (meetingbaas_webhook_deliveries_received_total, ..._rejected_total{reason})
// stay as they are; these split the same deliveries by generation. The generation of a delivery that
// was refused before it was parsed (a bad signature, an unknown key) is the one its authentication
// headers claim (meetingbaas::detect_api_version: Svix / Standard Webhooks headers are v2, the API-key
// header is v1, neither is "unknown").

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/sync/metrics.hpp>
#include <meetingbaas/sync/receiver.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace support {

class delivery_counters {
public:
    /// Counts one answered delivery: its generation (parsed, else claimed by `headers`) and its result.
    template <class Headers>
    void count(const meetingbaas::receipt& r, const Headers& headers) noexcept
    {
        const auto version = r.version != meetingbaas::api_version::unknown
                                 ? r.version
                                 : meetingbaas::detect_api_version(headers);
        count(version, slot_of(r));
    }

    /// Counts a delivery the HTTP layer refused before the receiver saw it (413 on a body over the limit).
    void count_refused(meetingbaas::api_version version, meetingbaas::reject_reason reason) noexcept
    {
        count(version, first_reason + static_cast<std::size_t>(reason));
    }

    [[nodiscard]] std::uint64_t value(meetingbaas::api_version version,
                                      std::string_view result) const noexcept
    {
        for (std::size_t s = 0; s < slots; ++s) {
            if (name_of(s) == result) return counts_[row(version)][s].load(std::memory_order_relaxed);
        }
        return 0;
    }

    /// The Prometheus text of the series (every generation and result, zeros included).
    [[nodiscard]] std::string to_prometheus() const
    {
        std::string out =
            "# HELP meetingbaas_webhook_deliveries_total Deliveries answered, by API generation and result.\n"
            "# TYPE meetingbaas_webhook_deliveries_total counter\n";
        for (const auto v : {meetingbaas::api_version::v1, meetingbaas::api_version::v2,
                             meetingbaas::api_version::unknown}) {
            for (std::size_t s = 0; s < slots; ++s) {
                out += "meetingbaas_webhook_deliveries_total{api_version=\"";
                out += meetingbaas::to_string(v);
                out += "\",result=\"";
                out += name_of(s);
                out += "\"} ";
                out += std::to_string(counts_[row(v)][s].load(std::memory_order_relaxed));
                out += '\n';
            }
        }
        return out;
    }

private:
    // Slots: accepted, duplicate, other_event, then one per reject_reason.
    static constexpr std::size_t first_reason = 3;
    static constexpr std::size_t slots = first_reason + 5;
    static_assert(static_cast<std::size_t>(meetingbaas::reject_reason::unavailable) == 4,
                  "one slot per reject_reason");

    static std::size_t row(meetingbaas::api_version v) noexcept
    {
        return v == meetingbaas::api_version::v1 ? 0 : v == meetingbaas::api_version::v2 ? 1 : 2;
    }
    static std::size_t slot_of(const meetingbaas::receipt& r) noexcept
    {
        switch (r.kind) {
            case meetingbaas::receipt_kind::accepted: return 0;
            case meetingbaas::receipt_kind::duplicate: return 1;
            case meetingbaas::receipt_kind::other_event: return 2;
            case meetingbaas::receipt_kind::rejected: break;
        }
        return first_reason +
               static_cast<std::size_t>(r.reason.value_or(meetingbaas::reject_reason::unavailable));
    }
    static std::string_view name_of(std::size_t slot) noexcept
    {
        switch (slot) {
            case 0: return "accepted";
            case 1: return "duplicate";
            case 2: return "other_event";
            default:
                return meetingbaas::to_string(static_cast<meetingbaas::reject_reason>(slot - first_reason));
        }
    }
    void count(meetingbaas::api_version version, std::size_t slot) noexcept
    {
        counts_[row(version)][slot].fetch_add(1, std::memory_order_relaxed);
    }

    std::array<std::array<std::atomic<std::uint64_t>, slots>, 3> counts_{};
};

}  // namespace support
