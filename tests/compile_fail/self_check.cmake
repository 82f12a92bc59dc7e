# SPDX-License-Identifier: MIT
# Proves that the compile-fail checker (check.cmake) can fail: run by ctest as `cmake -P`.
#   -DCHECK=<check.cmake> -DBUILD_DIR=<build tree> [-DCONFIG=<config>]
#   -DCOMPILES_TARGET=<target whose source compiles> -DCOMPILES_SOURCE=<its source>
#   -DWRONG_TARGET=<target that fails for another reason> -DWRONG_SOURCE=<its source>
# Each case must make the checker fail with the matching explanation (CMake wraps messages: the patterns
# allow any whitespace between words); otherwise this test fails.
cmake_minimum_required(VERSION 3.21)
function(expect_checker_failure target source regex explanation)
  execute_process(COMMAND "${CMAKE_COMMAND}" "-DBUILD_DIR=${BUILD_DIR}" "-DTARGET=${target}"
                          "-DSOURCE=${source}" "-DREGEX=${regex}" "-DCONFIG=${CONFIG}" -P "${CHECK}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "self-check: the checker passed ${target}, which it must fail:\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${explanation}")
    message(FATAL_ERROR "self-check: the checker failed ${target} for another reason:\n${out}${err}")
  endif()
  message(STATUS "self-check: ${target} is refused (${explanation})")
endfunction()
# A source that compiles fails the check, even though its own name matches the regular expression.
expect_checker_failure("${COMPILES_TARGET}" "${COMPILES_SOURCE}" "compiles" "compiled,[ \t\r\n]+but[ \t\r\n]+must")
# A source that fails to compile, but not with the expected diagnostic, fails the check.
expect_checker_failure("${WRONG_TARGET}" "${WRONG_SOURCE}" "can_lease_jobs"
                       "diagnostic[ \t\r\n]+does[ \t\r\n]+not[ \t\r\n]+match")
