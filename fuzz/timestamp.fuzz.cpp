// SPDX-License-Identifier: MIT
// Fuzzes parse_timestamp, the formatters and time_from_epoch. Checks: the original text is kept; a
// parsed time re-formatted canonically parses back to the same instant (years 0000..9999); the
// whole-second form never rounds up.
#include <meetingbaas/core/timestamp.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace mb = meetingbaas;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto ts = mb::parse_timestamp(text);
    if (ts.has_value()) {
        if (ts->text != text) std::abort();
        const std::string canonical = mb::format_timestamp(ts->time);
        const auto again = mb::parse_timestamp(canonical);
        const auto min = mb::utc_time{std::chrono::seconds(-62'167'219'200)};
        const auto max = mb::utc_time{std::chrono::seconds(253'402'300'800)};
        if (ts->time >= min && ts->time < max) {
            if (!again.has_value() || again->time != ts->time || again->offset_missing) std::abort();
            const auto secs = mb::parse_timestamp(mb::format_timestamp_seconds(ts->time));
            if (!secs.has_value() || secs->time > ts->time ||
                ts->time - secs->time >= std::chrono::seconds(1)) {
                std::abort();
            }
        }
    } else if (ts.error().code != mb::errc::invalid_timestamp || ts.error().message.empty()) {
        std::abort();
    }

    if (size >= 9) {
        std::int64_t i = 0;
        double f = 0;
        std::memcpy(&i, data + 1, sizeof i);
        std::memcpy(&f, data + 1, sizeof f);
        const auto unit = static_cast<mb::epoch_unit>(data[0] % 3);
        const auto a = mb::time_from_epoch(i, unit);
        const auto b = mb::time_from_epoch(f, unit);
        if (a.has_value()) (void)mb::format_timestamp(*a);
        if (b.has_value()) (void)mb::format_timestamp(*b);
    }
    return 0;
}
