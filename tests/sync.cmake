# SPDX-License-Identifier: MIT
# Area "sync": job queue, receiver, calendar-sync processor and their end-to-end tests.
meetingbaas_add_test(job_queue SOURCES job_queue.test.cpp CONCURRENCY)
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_test(sqlite_queue SOURCES adapters/sqlite_queue.test.cpp LIBS meetingbaas::sqlite)
endif()
meetingbaas_add_test(calendar_sync SOURCES calendar_sync.test.cpp CONCURRENCY)
meetingbaas_add_test(receiver SOURCES receiver.test.cpp CONCURRENCY)
