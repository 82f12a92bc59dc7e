# SPDX-License-Identifier: MIT
# Events area (issue 3): typed parsing vs nlohmann DOM parsing of the same bytes.
meetingbaas_add_benchmark(parse SOURCES parse.bench.cpp)
