# SPDX-License-Identifier: MIT
# PostgreSQL adapter (issue 15): begin+complete vs bare libpq, queue throughput with 1 and 2 workers
# (memory, SQLite, PostgreSQL in the same run). Needs MEETINGBAAS_TEST_POSTGRES_URL; see docs/perf/scale-out.md.
if(TARGET meetingbaas::postgres AND TARGET meetingbaas::sqlite)
  meetingbaas_add_benchmark(postgres SOURCES postgres.bench.cpp REQUIRES meetingbaas::postgres meetingbaas::sqlite)
endif()
