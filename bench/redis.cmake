# SPDX-License-Identifier: MIT
# Redis (issue 15): begin+complete through the Redis store vs a bare hiredis SET NX / SET loop, on the server
# in MEETINGBAAS_BENCH_REDIS_URL or MEETINGBAAS_TEST_REDIS_URL. See docs/perf/scale-out.md.
meetingbaas_add_benchmark(redis_idempotency SOURCES redis_idempotency.bench.cpp REQUIRES meetingbaas::redis)
