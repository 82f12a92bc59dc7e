// SPDX-License-Identifier: MIT
// Fuzzes parse_timestamp, the formatters and time_from_epoch. Checks: the original text is kept; a
// parsed time re-formatted canonically parses back to the same instant (years 0000..9999); the
// whole-second form never rounds up; epoch numbers: non-finite doubles are refused, both zeros are the
// epoch, and an integer means the same instant as an int64 or as a double.
#include <meetingbaas/core/timestamp.hpp>

#include <cmath>
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
        // Numbers (issue 12 section 4): no NaN or infinity is a time; both zeros are the epoch; an integer
        // given as a double is the same instant as given as an integer while the product is exact.
        if (!std::isfinite(f) && b.has_value()) std::abort();
        if (f == 0.0 && (!b.has_value() || *b != mb::utc_time{})) std::abort();
        const double as_double = static_cast<double>(i);
        const auto c = mb::time_from_epoch(as_double, unit);
        const std::int64_t exact_below =
            (unit == mb::epoch_unit::seconds ||
             (unit == mb::epoch_unit::automatic && i > -100'000'000'000 && i < 100'000'000'000))
                ? 9'000'000'000
                : 9'000'000'000'000;
        if (i > -exact_below && i < exact_below && (a.has_value() != c.has_value() || (a && *a != *c))) {
            std::abort();
        }
    }
    return 0;
}
