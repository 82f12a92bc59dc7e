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

# End-to-end: the calendar_sync_server example as a child process, over loopback HTTP, against the fake API.
if(TARGET meetingbaas::httplib AND TARGET meetingbaas::sqlite AND MEETINGBAAS_BUILD_EXAMPLES
   AND NOT MEETINGBAAS_ONLY_CONCURRENCY_TESTS AND NOT CMAKE_CXX_FLAGS MATCHES "-fno-exceptions")
  meetingbaas_add_test(e2e_calendar_sync SOURCES e2e/calendar_sync_server.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::sqlite LABELS e2e RUN_SERIAL)
  target_include_directories(meetingbaas.tests.e2e_calendar_sync PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_compile_definitions(meetingbaas.tests.e2e_calendar_sync PRIVATE
                             "CALENDAR_SYNC_SERVER_PATH=\"$<TARGET_FILE:calendar_sync_server>\"")
  add_dependencies(meetingbaas.tests.e2e_calendar_sync calendar_sync_server)
  # Issue 12 section 1: transient API faults never dead-letter an accepted webhook (the server binary).
  meetingbaas_add_test(e2e_faults SOURCES e2e/faults.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::sqlite LABELS e2e RUN_SERIAL)
  target_include_directories(meetingbaas.tests.e2e_faults PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_compile_definitions(meetingbaas.tests.e2e_faults PRIVATE
                             "CALENDAR_SYNC_SERVER_PATH=\"$<TARGET_FILE:calendar_sync_server>\"")
  add_dependencies(meetingbaas.tests.e2e_faults calendar_sync_server)
endif()
# v2 calendar sync over real loopback HTTP (api_client + cpp-httplib adapter) against the stateful fake API.
if(TARGET meetingbaas::httplib AND NOT CMAKE_CXX_FLAGS MATCHES "-fno-exceptions")
  meetingbaas_add_test(calendar_sync_v2 SOURCES calendar_sync_v2.test.cpp LIBS meetingbaas::httplib
                       LABELS network CONCURRENCY)
endif()
