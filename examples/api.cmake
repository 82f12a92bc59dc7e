# SPDX-License-Identifier: MIT
# The API client (issue 7).
meetingbaas_add_example(api_reconcile SOURCES api_reconcile.cpp)
meetingbaas_add_example(api_adapters SOURCES api_adapters.cpp REQUIRES meetingbaas::curl meetingbaas::httplib
                        NEEDS_EXCEPTIONS)
if(TARGET api_adapters)
  target_include_directories(api_adapters PRIVATE "${PROJECT_SOURCE_DIR}/tests/support")
endif()
meetingbaas_add_example(api_curl_unreachable SOURCES api_curl_unreachable.cpp REQUIRES meetingbaas::curl)
