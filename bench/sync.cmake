# SPDX-License-Identifier: MIT
# Area "sync": the acknowledgement path (verify, parse, claim, enqueue) in-process; see docs/perf/sync.md.
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_benchmark(ack_path SOURCES ack_path.bench.cpp REQUIRES meetingbaas::sqlite)
endif()
# Processing rate of a 500-instance v2 calendar.events_synced against the loopback fake API, vs a hand-written
# loop over the same client (issue 14; docs/perf/sync.md).
meetingbaas_add_benchmark(sync_v2 SOURCES sync_v2.bench.cpp REQUIRES meetingbaas::httplib)
