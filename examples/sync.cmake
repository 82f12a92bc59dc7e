# SPDX-License-Identifier: MIT
# Area "sync": the calendar-sync example server (cpp-httplib + SQLite), the demo's fake API server, and the
# Boost.Beast receiver.
if(TARGET meetingbaas::httplib AND TARGET meetingbaas::sqlite)
  meetingbaas_add_example(calendar_sync_server SOURCES calendar_sync_server.cpp
                          REQUIRES meetingbaas::httplib meetingbaas::sqlite ARGS --help NEEDS_EXCEPTIONS)
endif()
