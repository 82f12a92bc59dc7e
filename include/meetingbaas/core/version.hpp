// SPDX-License-Identifier: MIT
#pragma once

// NOLINTBEGIN(cppcoreguidelines-macro-usage): version macros are on the allowed list
#define MEETINGBAAS_VERSION_MAJOR 0  // single source of truth; cmake/version.cmake parses these
#define MEETINGBAAS_VERSION_MINOR 1
#define MEETINGBAAS_VERSION_PATCH 0
// NOLINTEND(cppcoreguidelines-macro-usage)

namespace meetingbaas::inline v0 {  // bump with MEETINGBAAS_VERSION_MAJOR
inline constexpr int version_major = MEETINGBAAS_VERSION_MAJOR;
inline constexpr int version_minor = MEETINGBAAS_VERSION_MINOR;
inline constexpr int version_patch = MEETINGBAAS_VERSION_PATCH;
}  // namespace meetingbaas::inline v0
