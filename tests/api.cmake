# SPDX-License-Identifier: MIT
# HTTP-client concept, typed API client, libcurl and cpp-httplib adapters (issue 7).
meetingbaas_add_test(http SOURCES http.test.cpp)
meetingbaas_add_test(api_client SOURCES api_client.test.cpp)
