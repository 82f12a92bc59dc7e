# SPDX-License-Identifier: MIT
# PostgreSQL adapter (issue 15): idempotency store, job queue, event state, rate limiter, connection layer.
# They run against the server that .ci/run starts (.ci/services.sh: MEETINGBAAS_TEST_POSTGRES_URL); without
# it each test case is skipped with a line saying so (a failure when CI=true).
if(TARGET meetingbaas::postgres)
  meetingbaas_add_test(postgres_store SOURCES adapters/postgres_store.test.cpp
                       LIBS meetingbaas::postgres LABELS postgres CONCURRENCY)
endif()
if(TARGET meetingbaas::postgres)
  meetingbaas_add_test(postgres_queue SOURCES adapters/postgres_queue.test.cpp
                       LIBS meetingbaas::postgres LABELS postgres CONCURRENCY)
endif()
if(TARGET meetingbaas::postgres)
  meetingbaas_add_test(postgres_rate_limit SOURCES adapters/postgres_rate_limit.test.cpp
                       LIBS meetingbaas::postgres LABELS postgres CONCURRENCY)
endif()
if(TARGET meetingbaas::postgres)
  meetingbaas_add_test(postgres_connection SOURCES adapters/postgres_connection.test.cpp
                       LIBS meetingbaas::postgres LABELS postgres CONCURRENCY)
endif()
# Stops and restarts the server: nothing else may run at the same time.
if(TARGET meetingbaas::postgres)
  meetingbaas_add_test(postgres_restart SOURCES adapters/postgres_restart.test.cpp
                       LIBS meetingbaas::postgres LABELS postgres RUN_SERIAL)
endif()
