// SPDX-License-Identifier: MIT
// A minimal consumer: compiled by each consumption test (find_package, add_subdirectory, FetchContent, port).
#include <meetingbaas/webhooks.hpp>

#include <cstdio>

int main()
{
    const meetingbaas::result<int> r =
        meetingbaas::error{meetingbaas::errc::missing_field, "/data", "absent"};
    std::printf("meetingbaas-webhooks %d.%d.%d: %s\n", meetingbaas::version_major, meetingbaas::version_minor,
                meetingbaas::version_patch, meetingbaas::to_string(r.error()).c_str());
    return r.has_value() ? 1 : 0;
}
