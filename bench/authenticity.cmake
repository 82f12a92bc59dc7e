# SPDX-License-Identifier: MIT
# Authenticity: Svix verification (1 KiB / 64 KiB) with the built-in and the OpenSSL HMAC, in one run.
meetingbaas_add_benchmark(verify SOURCES verify.bench.cpp REQUIRES meetingbaas::openssl)
