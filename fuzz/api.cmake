# SPDX-License-Identifier: MIT
# API answers through the typed client: status, Retry-After and body from the fuzzer (issue 7).
# Seed corpus: fuzz/corpus/api_response/.
meetingbaas_add_fuzzer(api_response SOURCES api_response.fuzz.cpp)
