# SPDX-License-Identifier: MIT
# A compile-fail test, run by ctest as `cmake -P`: builds one target that must NOT compile, and passes only
# if the build fails AND the compiler's diagnostic matches REGEX. The regular expression is matched against
# the build output with the target name and the source path taken out, so that a source named after the
# concept (retry_clock_without_now.cpp) cannot match its own command line.
#   -DBUILD_DIR=<build tree> -DTARGET=<target> -DSOURCE=<source file> -DREGEX=<regex> [-DCONFIG=<config>]
cmake_minimum_required(VERSION 3.21)
foreach(var BUILD_DIR TARGET SOURCE REGEX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check.cmake: -D${var}= is required")
  endif()
endforeach()
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}" ${config_args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(log "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "compile-fail: ${TARGET} compiled, but must not (the source is ${SOURCE})")
endif()
get_filename_component(source_name "${SOURCE}" NAME)
get_filename_component(source_stem "${SOURCE}" NAME_WE)
set(diagnostic "${log}")
foreach(name IN ITEMS "${SOURCE}" "${source_name}" "${source_stem}" "${TARGET}")
  string(REPLACE "${name}" "<source>" diagnostic "${diagnostic}")
endforeach()
if(NOT diagnostic MATCHES "${REGEX}")
  message(FATAL_ERROR "compile-fail: ${TARGET} failed to compile, but the diagnostic does not match "
                      "'${REGEX}':\n${log}")
endif()
message(STATUS "compile-fail: ${TARGET} failed to compile with a diagnostic matching '${REGEX}'")
