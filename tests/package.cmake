# SPDX-License-Identifier: MIT
# Consumption tests: find_package from an install prefix, add_subdirectory, FetchContent (tarball,
# FETCHCONTENT_SOURCE_DIR override, and docs/integration.md's block from a local git repository) and the vcpkg
# port's steps. All offline; each builds a real consumer.
if(MEETINGBAAS_TEST_PACKAGING AND NOT MEETINGBAAS_ONLY_CONCURRENCY_TESTS)
  foreach(mode IN ITEMS install add_subdirectory fetch_tarball fetch_override docs_fetch_content port)
    add_test(NAME meetingbaas.package.${mode}
             COMMAND "${CMAKE_COMMAND}" -DMODE=${mode} "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}"
                     "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/package/${mode}" "-DCXX=${CMAKE_CXX_COMPILER}"
                     "-DGENERATOR=${CMAKE_GENERATOR}" -P "${CMAKE_CURRENT_SOURCE_DIR}/package/run.cmake")
    set_tests_properties(meetingbaas.package.${mode} PROPERTIES LABELS package TIMEOUT 600
                         ENVIRONMENT "CXXFLAGS=;LDFLAGS=")
  endforeach()
endif()
