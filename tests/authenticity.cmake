# SPDX-License-Identifier: MIT
# Authenticity: header views, v1 API-key keyring, v2 Svix signatures, the crypto in detail/.
meetingbaas_add_test(authenticity
  SOURCES headers.test.cpp authenticity.test.cpp signer.test.cpp detail/sha256.test.cpp detail/hmac.test.cpp
          detail/base64.test.cpp)
# Separate executable: it replaces the global operator new to count allocations.
meetingbaas_add_test(authenticity_alloc SOURCES authenticity_alloc.test.cpp)
if(TARGET meetingbaas::openssl)
  # The same HMAC / Svix cases as detail/hmac.test.cpp, against the OpenSSL backend.
  meetingbaas_add_test(authenticity_openssl SOURCES adapters/openssl.test.cpp LIBS meetingbaas::openssl)
  # Concurrent verify() on shared verifiers, both backends (also run under ThreadSanitizer).
  meetingbaas_add_test(authenticity_threads SOURCES authenticity_threads.test.cpp LIBS meetingbaas::openssl CONCURRENCY)
endif()

# Interop with the official JavaScript libraries (npm svix and standardwebhooks, installed into the build
# tree by the test): our signatures verify with them, theirs with us. Skipped without node/npm, except in CI.
if(NOT MEETINGBAAS_ONLY_CONCURRENCY_TESTS)
  add_executable(meetingbaas.interop.svix interop/svix_interop.cpp)
  target_compile_definitions(meetingbaas.interop.svix PRIVATE
    "MEETINGBAAS_TEST_DATA_DIR=\"${MEETINGBAAS_TEST_DATA_DIR}\"")
  target_link_libraries(meetingbaas.interop.svix PRIVATE meetingbaas::webhooks meetingbaas_test_flags)
  add_test(NAME meetingbaas.interop.svix
           COMMAND "${CMAKE_COMMAND}" "-DTOOL=$<TARGET_FILE:meetingbaas.interop.svix>"
                   "-DSCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/interop/svix_interop.mjs"
                   "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/interop" -P "${CMAKE_CURRENT_SOURCE_DIR}/interop/run.cmake")
  set_tests_properties(meetingbaas.interop.svix PROPERTIES LABELS "interop;network" TIMEOUT 300
                       SKIP_REGULAR_EXPRESSION "meetingbaas-interop: SKIPPED")
endif()
