# SPDX-License-Identifier: MIT
# Retry-After / HTTP-date parsers (issue 6). Seed corpus: fuzz/corpus/retry_after/.
meetingbaas_add_fuzzer(retry_after SOURCES retry_after.fuzz.cpp)
