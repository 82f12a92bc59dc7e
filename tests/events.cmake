# SPDX-License-Identifier: MIT
# Events area: timestamps and typed webhook deliveries (issue 3).
meetingbaas_add_test(timestamp SOURCES timestamp.test.cpp)
meetingbaas_add_test(event SOURCES event.test.cpp detail/json_reader_strings.test.cpp detail/json_reader_numbers.test.cpp)
