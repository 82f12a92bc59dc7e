# SPDX-License-Identifier: MIT
# The README's quick start and the programs of docs/getting-started.md, compiled (and run) from the markdown
# itself: the blocks marked `<!-- compile: <name> -->` (cmake/doc-snippets.cmake).
include("${PROJECT_SOURCE_DIR}/cmake/doc-snippets.cmake")
meetingbaas_extract_doc_program("${PROJECT_SOURCE_DIR}/README.md" quickstart
                                "${CMAKE_CURRENT_BINARY_DIR}/doc/quickstart.cpp")
meetingbaas_add_example(quickstart SOURCES "${CMAKE_CURRENT_BINARY_DIR}/doc/quickstart.cpp")
# docs/getting-started.md: the receiver (built, not run: it listens until stopped) and its test (run).
foreach(program IN ITEMS getting_started_receiver getting_started_test)
  meetingbaas_extract_doc_program("${PROJECT_SOURCE_DIR}/docs/getting-started.md" ${program}
                                  "${CMAKE_CURRENT_BINARY_DIR}/doc/${program}.cpp")
endforeach()
meetingbaas_add_example(getting_started_receiver SOURCES "${CMAKE_CURRENT_BINARY_DIR}/doc/getting_started_receiver.cpp"
                        REQUIRES meetingbaas::httplib NO_TEST NEEDS_EXCEPTIONS)
meetingbaas_add_example(getting_started_test SOURCES "${CMAKE_CURRENT_BINARY_DIR}/doc/getting_started_test.cpp"
                        REQUIRES meetingbaas::httplib NEEDS_EXCEPTIONS)
