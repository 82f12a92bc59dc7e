# SPDX-License-Identifier: MIT
# Idempotency: keys, the lease-and-fence state machine, the store concept, memory and SQLite stores.
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_test(sqlite SOURCES adapters/sqlite.test.cpp LIBS meetingbaas::sqlite)
endif()
meetingbaas_add_test(idempotency SOURCES idempotency.test.cpp idempotency_key.test.cpp idempotency_event_keys.test.cpp
                     idempotency_delivery.test.cpp
                     CONCURRENCY)
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_test(sqlite_store SOURCES adapters/sqlite_store.test.cpp LIBS meetingbaas::sqlite CONCURRENCY)
endif()
meetingbaas_add_compile_fail_test(store_missing_erase compile_fail/store_missing_erase.cpp "can_erase_if_fence")
meetingbaas_add_compile_fail_test(store_wrong_cas_type compile_fail/store_wrong_cas_type.cpp
                                  "can_compare_and_set_fence")
