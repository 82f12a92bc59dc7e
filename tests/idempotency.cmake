# SPDX-License-Identifier: MIT
# Idempotency: keys, the lease-and-fence state machine, the store concept, memory and SQLite stores.
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_test(sqlite SOURCES adapters/sqlite.test.cpp LIBS meetingbaas::sqlite)
endif()
meetingbaas_add_test(idempotency SOURCES idempotency.test.cpp idempotency_key.test.cpp CONCURRENCY)
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_test(sqlite_store SOURCES adapters/sqlite_store.test.cpp LIBS meetingbaas::sqlite CONCURRENCY)
endif()
