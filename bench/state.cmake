# SPDX-License-Identifier: MIT
# State-file size (issue 12 section 3): a tool, not a Google Benchmark (it runs for minutes and prints
# sizes); see docs/perf/state.md. Built with the benchmarks so that it cannot rot; bench/run.sh skips it.
if(TARGET meetingbaas::sqlite)
  add_executable(meetingbaas.tool.state_size state_size.cpp)
  target_include_directories(meetingbaas.tool.state_size PRIVATE "${PROJECT_SOURCE_DIR}/tests/support")
  target_link_libraries(meetingbaas.tool.state_size PRIVATE meetingbaas::webhooks meetingbaas::sqlite
                        Threads::Threads)
endif()
