# SPDX-License-Identifier: MIT
meetingbaas_add_test(retry SOURCES retry.test.cpp retry_backoff.test.cpp)
