# SPDX-License-Identifier: MIT
# Retry with backoff (issue 6): backoff.hpp, retry_after.hpp, retry_budget.hpp, retry.hpp.
meetingbaas_add_test(retry SOURCES retry.test.cpp retry_backoff.test.cpp retry_after.test.cpp
                     retry_properties.test.cpp retry_alloc.test.cpp)
meetingbaas_add_test(retry_budget SOURCES retry_budget.test.cpp CONCURRENCY)
meetingbaas_add_compile_fail_test(retry_checked_rejects_invalid_policy compile_fail/retry_checked_invalid.cpp
                                  "invalid_retry_policy_parameter")
meetingbaas_add_compile_fail_test(retry_clock_requires_now compile_fail/retry_clock_without_now.cpp "retry_clock")
