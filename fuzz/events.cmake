# SPDX-License-Identifier: MIT
# Events area (issue 3). Seed corpora: fuzz/corpus/parse_delivery/ (the webhook fixtures and tricky
# bodies), fuzz/corpus/timestamp/. Run each for 60 s: -max_total_time=60.
meetingbaas_add_fuzzer(parse_delivery SOURCES parse_delivery.fuzz.cpp)
meetingbaas_add_fuzzer(timestamp SOURCES timestamp.fuzz.cpp)
