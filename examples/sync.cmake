# SPDX-License-Identifier: MIT
# Area "sync": the calendar-sync example server (its HTTP front end on Boost.Beast, its plumbing in
# support/, SQLite state, cpp-httplib as the API client), the demo's fake API server, and the minimal
# Boost.Beast receiver.
find_path(MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR boost/beast/http.hpp)

# The server's support library (examples/support): the hardened HTTP server, the JSON-lines logger,
# configuration, the lock file, signals and housekeeping. Asio and Beast need exceptions: it is skipped
# when the whole build is without them, and keeps them when only the examples are (the server is a
# NEEDS_EXCEPTIONS example, MEETINGBAAS_EXAMPLES_NOEXCEPT).
if(MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR AND (NOT MEETINGBAAS_NOEXCEPT_BUILD OR MEETINGBAAS_EXAMPLES_NOEXCEPT))
  add_library(meetingbaas_server_support STATIC
              support/http_server.cpp support/json_log.cpp support/process.cpp support/server_config.cpp)
  target_include_directories(meetingbaas_server_support PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
  target_include_directories(meetingbaas_server_support SYSTEM PUBLIC "${MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR}")
  target_link_libraries(meetingbaas_server_support PUBLIC meetingbaas::webhooks Threads::Threads
                        PRIVATE meetingbaas_example_flags)
endif()

if(TARGET meetingbaas::httplib AND TARGET meetingbaas::sqlite AND TARGET meetingbaas_server_support)
  meetingbaas_add_example(calendar_sync_server SOURCES calendar_sync_server.cpp
                          REQUIRES meetingbaas::httplib meetingbaas::sqlite meetingbaas_server_support
                          ARGS --help NEEDS_EXCEPTIONS)
  # --state redis://... and postgresql://... when those adapters are built (docs/scale-out.md).
  foreach(_mb_state IN ITEMS redis postgres)
    if(TARGET calendar_sync_server AND TARGET meetingbaas::${_mb_state})
      string(TOUPPER "${_mb_state}" _mb_state_upper)
      target_link_libraries(calendar_sync_server PRIVATE meetingbaas::${_mb_state})
      target_compile_definitions(calendar_sync_server PRIVATE MEETINGBAAS_SERVER_WITH_${_mb_state_upper}=1)
    endif()
  endforeach()
elseif(NOT MEETINGBAAS_NOEXCEPT_BUILD)
  message(STATUS "meetingbaas: example calendar_sync_server skipped (needs the sqlite and httplib adapters "
                 "and the Boost.Beast headers)")
endif()

# The README demo: the stand-in API (tests/support/fake_meetingbaas_api.hpp) in-process, the server as a child.
if(TARGET calendar_sync_server)
  meetingbaas_add_example(calendar_sync_demo SOURCES demo/calendar_sync_demo.cpp
                          REQUIRES meetingbaas::httplib meetingbaas::sqlite NEEDS_EXCEPTIONS)
  target_include_directories(calendar_sync_demo PRIVATE "${PROJECT_SOURCE_DIR}/tests" "${PROJECT_SOURCE_DIR}/tests/support")
  target_compile_definitions(calendar_sync_demo PRIVATE "CALENDAR_SYNC_SERVER_PATH=\"$<TARGET_FILE:calendar_sync_server>\"")
  add_dependencies(calendar_sync_demo calendar_sync_server)
endif()

# The receiver and the retry step API in a single-threaded Boost.Beast/Asio server (Boost headers only).
if(MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR)
  meetingbaas_add_example(beast_receiver SOURCES beast_receiver.cpp NEEDS_EXCEPTIONS)
  if(TARGET beast_receiver)
    target_include_directories(beast_receiver SYSTEM PRIVATE "${MEETINGBAAS_BOOST_BEAST_INCLUDE_DIR}")
  endif()
else()
  message(STATUS "meetingbaas: example beast_receiver skipped (Boost.Beast headers missing)")
endif()

# The stand-in API as a process (bench/load.sh).
if(TARGET meetingbaas::httplib)
  meetingbaas_add_example(fake_meetingbaas_api_server SOURCES demo/fake_meetingbaas_api_server.cpp
                          REQUIRES meetingbaas::httplib NEEDS_EXCEPTIONS NO_TEST)
  if(TARGET fake_meetingbaas_api_server)
    target_include_directories(fake_meetingbaas_api_server PRIVATE "${PROJECT_SOURCE_DIR}/tests/support")
  endif()
endif()

# v2 calendar sync in one process: queue, worker, processor, against the loopback stand-in API.
if(TARGET meetingbaas::httplib)
  meetingbaas_add_example(calendar_sync_v2 SOURCES calendar_sync_v2.cpp REQUIRES meetingbaas::httplib NEEDS_EXCEPTIONS)
  if(TARGET calendar_sync_v2)
    target_include_directories(calendar_sync_v2 PRIVATE "${PROJECT_SOURCE_DIR}/tests/support")
  endif()
endif()
