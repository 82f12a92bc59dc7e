# SPDX-License-Identifier: MIT
# HTTP-client concept, typed API client, libcurl and cpp-httplib adapters (issue 7).
meetingbaas_add_test(http SOURCES http.test.cpp)
meetingbaas_add_test(api_client SOURCES api_client.test.cpp)
# Adapters, against fake_meetingbaas_api (a cpp-httplib server on loopback, hence meetingbaas::httplib).
if(TARGET meetingbaas::curl AND TARGET meetingbaas::httplib)
  meetingbaas_add_test(adapter_curl SOURCES adapters/curl.test.cpp LIBS meetingbaas::curl meetingbaas::httplib
                       LABELS network CONCURRENCY)
endif()
if(TARGET meetingbaas::httplib)
  meetingbaas_add_test(adapter_httplib SOURCES adapters/httplib.test.cpp LIBS meetingbaas::httplib
                       LABELS network CONCURRENCY)
endif()
