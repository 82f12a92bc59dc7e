# SPDX-License-Identifier: MIT
# SQLite state maintenance (issue 12): integrity check, housekeeping thread, health for /healthz.
if(TARGET meetingbaas::sqlite)
  meetingbaas_add_example(state_maintenance SOURCES state_maintenance.cpp REQUIRES meetingbaas::sqlite)
endif()
