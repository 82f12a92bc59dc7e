# SPDX-License-Identifier: MIT
# PostgreSQL (issue 15): begin+complete through the PostgreSQL store vs bare libpq (unpaired and paired), and
# the pool's own cost, on the server in MEETINGBAAS_TEST_POSTGRES_URL. Queue throughput: queue.cmake.
# See docs/perf/scale-out.md.
meetingbaas_add_benchmark(postgres SOURCES postgres.bench.cpp REQUIRES meetingbaas::postgres)
