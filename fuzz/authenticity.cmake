# SPDX-License-Identifier: MIT
# Authenticity: the Svix signature-header parser / verifier, and strict base64.
meetingbaas_add_fuzzer(signature_header SOURCES signature_header.fuzz.cpp)
meetingbaas_add_fuzzer(base64 SOURCES base64.fuzz.cpp)
