# SPDX-License-Identifier: MIT
# Events area (issue 3): parse every fixture, visit the result.
meetingbaas_add_example(parse_events SOURCES parse_events.cpp)
