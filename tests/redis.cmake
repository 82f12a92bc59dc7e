# SPDX-License-Identifier: MIT
# Redis (issue 15): the hiredis client, the idempotency store, job queue, event state and write-rate limiter
# against a real redis-server. .ci/run starts one and passes MEETINGBAAS_TEST_REDIS_URL; the tests that
# restart or kill a server start private ones (redis-server from PATH). Without them a test is skipped with
# a line saying so, except under CI=true, where that fails.
meetingbaas_add_test(rate_limit SOURCES rate_limit.test.cpp CONCURRENCY)
if(TARGET meetingbaas::redis)
  meetingbaas_add_test(redis_unit SOURCES adapters/redis_unit.test.cpp LIBS meetingbaas::redis)
  meetingbaas_add_test(redis_store SOURCES adapters/redis_store.test.cpp LIBS meetingbaas::redis
                       LABELS redis CONCURRENCY)
endif()
if(TARGET meetingbaas::redis)
  meetingbaas_add_test(redis_queue SOURCES adapters/redis_queue.test.cpp LIBS meetingbaas::redis
                       LABELS redis CONCURRENCY)
endif()
if(TARGET meetingbaas::redis)
  meetingbaas_add_test(redis_faults SOURCES adapters/redis_faults.test.cpp LIBS meetingbaas::redis LABELS redis)
endif()
