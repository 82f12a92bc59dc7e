# SPDX-License-Identifier: MIT
# Retry with backoff (issue 6).
# Blocking retry() with the Meeting BaaS default policy (docs/retries.md opens with it).
meetingbaas_add_example(retry_quickstart SOURCES retry_quickstart.cpp)
# The AWS "exponential backoff and jitter" experiment (10 runs per cell as a test; docs use 100).
meetingbaas_add_example(retry_jitter_simulation SOURCES retry_jitter_simulation.cpp ARGS --runs 10)
# The step API driven by a Boost.Asio steady_timer (Boost headers only; Debian's libboost-dev).
find_path(MEETINGBAAS_BOOST_ASIO_INCLUDE_DIR boost/asio/steady_timer.hpp)
if(MEETINGBAAS_BOOST_ASIO_INCLUDE_DIR)
  meetingbaas_add_example(retry_asio_timer SOURCES retry_asio_timer.cpp)
  target_include_directories(retry_asio_timer SYSTEM PRIVATE "${MEETINGBAAS_BOOST_ASIO_INCLUDE_DIR}")
else()
  message(STATUS "meetingbaas: example retry_asio_timer skipped (Boost.Asio headers missing)")
endif()
