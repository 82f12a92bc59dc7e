# SPDX-License-Identifier: MIT
# One retry decision through the library vs a hand-written loop (issue 6; docs/perf/retry.md).
meetingbaas_add_benchmark(retry SOURCES retry.bench.cpp)
