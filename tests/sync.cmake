# SPDX-License-Identifier: MIT
# Area "sync": job queue, receiver, calendar-sync processor and their end-to-end tests.
meetingbaas_add_test(job_queue SOURCES job_queue.test.cpp CONCURRENCY)
meetingbaas_add_test(metrics SOURCES metrics.test.cpp CONCURRENCY)
meetingbaas_add_compile_fail_test(job_queue_without_lease compile_fail/job_queue_without_lease.cpp "can_lease_jobs")
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_test(sqlite_queue SOURCES adapters/sqlite_queue.test.cpp LIBS meetingbaas::sqlite)
  # Issue 12 section 3: WAL bound under load, retention, health, full disk, corruption. Serial: it measures
  # file sizes and fills (simulated or tmpfs) disks.
  meetingbaas_add_test(sqlite_maintenance SOURCES adapters/sqlite_maintenance.test.cpp LIBS meetingbaas::sqlite
                       CONCURRENCY RUN_SERIAL)
endif()
meetingbaas_add_test(calendar_sync SOURCES calendar_sync.test.cpp CONCURRENCY)
meetingbaas_add_test(receiver SOURCES receiver.test.cpp CONCURRENCY)

# The example server's support library (examples/support), the parts that need neither Beast nor SQLite.
meetingbaas_add_test(server_support SOURCES server_support.test.cpp
                     "${PROJECT_SOURCE_DIR}/examples/support/json_log.cpp"
                     "${PROJECT_SOURCE_DIR}/examples/support/server_config.cpp" CONCURRENCY)
if(TARGET meetingbaas.tests.server_support)
  target_include_directories(meetingbaas.tests.server_support PRIVATE "${PROJECT_SOURCE_DIR}/examples")
endif()

# End-to-end: the calendar_sync_server example as a child process, over loopback HTTP, against the fake API.
# (examples/ is configured after tests/: the conditions of examples/sync.cmake are repeated here.)
find_path(MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR boost/beast/http.hpp)
if(TARGET meetingbaas::httplib AND TARGET meetingbaas::sqlite AND MEETINGBAAS_BUILD_EXAMPLES
   AND MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR
   AND NOT MEETINGBAAS_ONLY_CONCURRENCY_TESTS AND NOT CMAKE_CXX_FLAGS MATCHES "-fno-exceptions")
  meetingbaas_add_test(e2e_calendar_sync SOURCES e2e/calendar_sync_server.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::sqlite LABELS e2e RUN_SERIAL)
  # The server's operations (admin endpoints, startup validation, SIGHUP, /healthz) and its HTTP front end
  # under abuse (slow and idle clients, oversized and ambiguous requests, a port in use).
  meetingbaas_add_test(e2e_server_operations SOURCES e2e/server_operations.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::sqlite LABELS e2e RUN_SERIAL)
  meetingbaas_add_test(e2e_http_abuse SOURCES e2e/http_abuse.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::sqlite LABELS e2e RUN_SERIAL)
  # Issue 12 section 1: transient API faults never dead-letter an accepted webhook (the server binary).
  meetingbaas_add_test(e2e_faults SOURCES e2e/faults.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::sqlite LABELS e2e RUN_SERIAL)
  # Issue 14: v2 (Svix-signed calendar.event_*) through the server binary, next to v1 on the same endpoint.
  meetingbaas_add_test(e2e_v2_server SOURCES e2e/v2_server.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::sqlite LABELS e2e RUN_SERIAL)
  foreach(_mb_e2e IN ITEMS e2e_calendar_sync e2e_server_operations e2e_http_abuse e2e_faults e2e_v2_server)
    target_include_directories(meetingbaas.tests.${_mb_e2e} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
    target_compile_definitions(meetingbaas.tests.${_mb_e2e} PRIVATE
                               "CALENDAR_SYNC_SERVER_PATH=\"$<TARGET_FILE:calendar_sync_server>\"")
    add_dependencies(meetingbaas.tests.${_mb_e2e} calendar_sync_server)
  endforeach()
endif()
# v2 calendar sync over real loopback HTTP (api_client + cpp-httplib adapter) against the stateful fake API.
if(TARGET meetingbaas::httplib AND NOT CMAKE_CXX_FLAGS MATCHES "-fno-exceptions")
  meetingbaas_add_test(calendar_sync_v2 SOURCES calendar_sync_v2.test.cpp LIBS meetingbaas::httplib
                       LABELS network CONCURRENCY)
endif()
