# SPDX-License-Identifier: MIT
# HTTP-client concept, typed API client, libcurl and cpp-httplib adapters (issue 7).
meetingbaas_add_test(http SOURCES http.test.cpp detail/url.test.cpp)
meetingbaas_add_test(api_client SOURCES api_client.test.cpp api_client_reuse.test.cpp)
# Adapters, against fake_meetingbaas_api (a cpp-httplib server on loopback, hence meetingbaas::httplib).
if(TARGET meetingbaas::curl AND TARGET meetingbaas::httplib)
  meetingbaas_add_test(adapter_curl SOURCES adapters/curl.test.cpp adapters/curl_reuse.test.cpp LIBS meetingbaas::curl meetingbaas::httplib
                       LABELS network CONCURRENCY)
endif()
if(TARGET meetingbaas::httplib)
  meetingbaas_add_test(adapter_httplib SOURCES adapters/httplib.test.cpp LIBS meetingbaas::httplib
                       LABELS network CONCURRENCY)
endif()
# Concept diagnostics name the failing piece.
meetingbaas_add_compile_fail_test(http_client_without_send compile_fail/http_client_without_send.cpp "can_send_http")
meetingbaas_add_compile_fail_test(http_client_wrong_result compile_fail/http_client_wrong_result.cpp "has_http_result")
