# SPDX-License-Identifier: MIT
# Redis (issue 15): the hiredis client, the idempotency store, job queue, event state and write-rate limiter
# against a real redis-server. .ci/run starts one and passes MEETINGBAAS_TEST_REDIS_URL; the tests that
# restart, kill or lock down a server start private ones (redis-server from PATH, or
# MEETINGBAAS_TEST_REDIS_SERVER). Without them a test is skipped with a line saying so, except under
# CI=true, where that fails. Keys live under a per-test prefix, so the tests may run in parallel.
meetingbaas_add_test(rate_limit SOURCES rate_limit.test.cpp CONCURRENCY)
if(TARGET meetingbaas::redis)
  meetingbaas_add_test(redis_unit SOURCES adapters/redis_unit.test.cpp LIBS meetingbaas::redis)
  meetingbaas_add_test(redis_store SOURCES adapters/redis_store.test.cpp LIBS meetingbaas::redis
                       LABELS redis CONCURRENCY)
  meetingbaas_add_test(redis_queue SOURCES adapters/redis_queue.test.cpp LIBS meetingbaas::redis
                       LABELS redis CONCURRENCY)
  meetingbaas_add_test(redis_rate_limit SOURCES adapters/redis_rate_limit.test.cpp LIBS meetingbaas::redis
                       LABELS redis CONCURRENCY)
  meetingbaas_add_test(redis_faults SOURCES adapters/redis_faults.test.cpp LIBS meetingbaas::redis LABELS redis)
  meetingbaas_add_test(redis_processes SOURCES adapters/redis_processes.test.cpp LIBS meetingbaas::redis
                       LABELS redis)
endif()
