# SPDX-License-Identifier: MIT
# Authenticity: header views, v1 API-key keyring, v2 Svix signatures, the crypto in detail/.
meetingbaas_add_test(authenticity
  SOURCES headers.test.cpp authenticity.test.cpp detail/sha256.test.cpp detail/hmac.test.cpp detail/base64.test.cpp)
# Separate executable: it replaces the global operator new to count allocations.
meetingbaas_add_test(authenticity_alloc SOURCES authenticity_alloc.test.cpp)
if(TARGET meetingbaas::openssl)
  # The same HMAC / Svix cases as detail/hmac.test.cpp, against the OpenSSL backend.
  meetingbaas_add_test(authenticity_openssl SOURCES adapters/openssl.test.cpp LIBS meetingbaas::openssl)
  # Concurrent verify() on shared verifiers, both backends (also run under ThreadSanitizer).
  meetingbaas_add_test(authenticity_threads SOURCES authenticity_threads.test.cpp LIBS meetingbaas::openssl CONCURRENCY)
endif()
