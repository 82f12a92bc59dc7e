# SPDX-License-Identifier: MIT
# Job queue throughput (enqueue + lease + acknowledge), every backend built here, 1 and 2 workers.
# See docs/perf/scale-out.md.
meetingbaas_add_benchmark(queue_throughput SOURCES queue_throughput.bench.cpp)
if(TARGET meetingbaas.bench.queue_throughput)
  if(TARGET meetingbaas::sqlite)
    target_link_libraries(meetingbaas.bench.queue_throughput PRIVATE meetingbaas::sqlite)
    target_compile_definitions(meetingbaas.bench.queue_throughput PRIVATE MEETINGBAAS_BENCH_SQLITE)
  endif()
  if(TARGET meetingbaas::redis)
    target_link_libraries(meetingbaas.bench.queue_throughput PRIVATE meetingbaas::redis)
    target_compile_definitions(meetingbaas.bench.queue_throughput PRIVATE MEETINGBAAS_BENCH_REDIS)
  endif()
  if(TARGET meetingbaas::postgres)
    target_link_libraries(meetingbaas.bench.queue_throughput PRIVATE meetingbaas::postgres)
    target_compile_definitions(meetingbaas.bench.queue_throughput PRIVATE MEETINGBAAS_BENCH_POSTGRES)
  endif()
endif()
