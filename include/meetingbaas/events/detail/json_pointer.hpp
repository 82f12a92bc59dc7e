// SPDX-License-Identifier: MIT
#pragma once

// JSON Pointer (RFC 6901) building for error locations, shared by the event reader and the API models.

#include <string>
#include <string_view>

namespace meetingbaas::inline v0::detail {

/// Appends `segment` to `out` with JSON Pointer escaping ('~' -> "~0", '/' -> "~1").
inline void append_pointer_segment(std::string& out, std::string_view segment)
{
    out += '/';
    for (const char c : segment) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
}

}  // namespace meetingbaas::inline v0::detail
