# SPDX-License-Identifier: MIT
# Scale-out of the example server (issue 15): its Redis and PostgreSQL state bundles
# (examples/support/{redis,postgres}_state.hpp) against real servers, and several server processes sharing
# one state. A private redis-server per test; a database per test on the PostgreSQL server .ci/run starts,
# which one test stops and restarts (RUN_SERIAL).
# The scale-out flags of the server's configuration (no adapter needed).
meetingbaas_add_test(scale_config SOURCES scale_config.test.cpp "${PROJECT_SOURCE_DIR}/examples/support/server_config.cpp")
if(TARGET meetingbaas.tests.scale_config)
  target_include_directories(meetingbaas.tests.scale_config PRIVATE "${PROJECT_SOURCE_DIR}/examples")
endif()

if(TARGET meetingbaas::redis AND TARGET meetingbaas::postgres AND NOT MEETINGBAAS_ONLY_CONCURRENCY_TESTS)
  meetingbaas_add_test(scale_state SOURCES e2e/shared_state.test.cpp
                       "${PROJECT_SOURCE_DIR}/examples/support/json_log.cpp"
                       LIBS meetingbaas::redis meetingbaas::postgres LABELS scale RUN_SERIAL)
  if(TARGET meetingbaas.tests.scale_state)
    target_include_directories(meetingbaas.tests.scale_state PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}"
                               "${PROJECT_SOURCE_DIR}/examples")
  endif()
endif()

# Three calendar_sync_server processes on one Redis, then one PostgreSQL (examples/ is configured after
# tests/: the conditions of examples/sync.cmake are repeated here, as in tests/sync.cmake).
find_path(MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR boost/beast/http.hpp)
if(TARGET meetingbaas::redis AND TARGET meetingbaas::postgres AND TARGET meetingbaas::httplib
   AND TARGET meetingbaas::sqlite AND MEETINGBAAS_BUILD_EXAMPLES AND MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR
   AND NOT MEETINGBAAS_ONLY_CONCURRENCY_TESTS AND NOT CMAKE_CXX_FLAGS MATCHES "-fno-exceptions")
  meetingbaas_add_test(e2e_scale_out SOURCES e2e/scale_out.test.cpp
                       LIBS meetingbaas::httplib meetingbaas::redis meetingbaas::postgres LABELS e2e RUN_SERIAL)
  target_include_directories(meetingbaas.tests.e2e_scale_out PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_compile_definitions(meetingbaas.tests.e2e_scale_out PRIVATE
                             "CALENDAR_SYNC_SERVER_PATH=\"$<TARGET_FILE:calendar_sync_server>\"")
  add_dependencies(meetingbaas.tests.e2e_scale_out calendar_sync_server)
endif()
