# SPDX-License-Identifier: MIT
# Area "sync": the acknowledgement path (verify, parse, claim, enqueue) in-process; see docs/perf/sync.md.
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_benchmark(ack_path SOURCES ack_path.bench.cpp REQUIRES meetingbaas::sqlite)
endif()
