# SPDX-License-Identifier: MIT
# Events area (issue 3). Corpora: fuzz/corpus/<name>/ (seeds, grown by deep runs: fuzz/run.sh --deep).
meetingbaas_add_fuzzer(parse_delivery SOURCES parse_delivery.fuzz.cpp)
meetingbaas_add_fuzzer(timestamp SOURCES timestamp.fuzz.cpp)
# Numbers (issue 12 section 4): the range rule, typed and skipped, against strtod and nlohmann.
meetingbaas_add_fuzzer(json_number SOURCES json_number.fuzz.cpp)
