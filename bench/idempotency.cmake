# SPDX-License-Identifier: MIT
# begin+complete: memory store vs the seed's mutex+unordered_set, bytes per key, SQLite store (issue 5).
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_benchmark(idempotency SOURCES idempotency.bench.cpp LIBS meetingbaas::sqlite)
  target_compile_definitions(meetingbaas.bench.idempotency PRIVATE MEETINGBAAS_BENCH_SQLITE)
else()
  meetingbaas_add_benchmark(idempotency SOURCES idempotency.bench.cpp)
endif()
