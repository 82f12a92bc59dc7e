# SPDX-License-Identifier: MIT
# Scale-out of the example server (issue 15): its Redis and PostgreSQL state bundles
# (examples/support/{redis,postgres}_state.hpp) against real servers, and several server processes sharing
# one state. A private redis-server per test; a database per test on the PostgreSQL server .ci/run starts,
# which one test stops and restarts (RUN_SERIAL).
if(TARGET meetingbaas::redis AND TARGET meetingbaas::postgres AND NOT MEETINGBAAS_ONLY_CONCURRENCY_TESTS)
  meetingbaas_add_test(scale_state SOURCES e2e/shared_state.test.cpp
                       LIBS meetingbaas::redis meetingbaas::postgres LABELS scale RUN_SERIAL)
  if(TARGET meetingbaas.tests.scale_state)
    target_include_directories(meetingbaas.tests.scale_state PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}"
                               "${PROJECT_SOURCE_DIR}/examples")
  endif()
endif()
