# SPDX-License-Identifier: MIT
# API client overhead vs bare libcurl, against the loopback fake API (issue 7; docs/perf/api.md).
meetingbaas_add_benchmark(api_client SOURCES api_client.bench.cpp REQUIRES meetingbaas::curl meetingbaas::httplib)
