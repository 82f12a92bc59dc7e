// SPDX-License-Identifier: MIT
#pragma once

// The Meeting BaaS API generation a webhook delivery belongs to. Shared by event.hpp (payloads) and
// authenticity.hpp (detect_api_version from headers). Deliberately tiny: no other dependencies.

#include <string_view>

namespace meetingbaas::inline v0 {

/// Which API generation produced a delivery: v1 (x-meeting-baas-api-key), v2 (Svix-signed), or unknown.
enum class api_version { unknown, v1, v2 };

/// "unknown", "v1" or "v2". Never allocates.
constexpr std::string_view to_string(api_version v) noexcept
{
    switch (v) {
        case api_version::unknown: return "unknown";
        case api_version::v1: return "v1";
        case api_version::v2: return "v2";
    }
    return "unknown";
}

}  // namespace meetingbaas::inline v0
