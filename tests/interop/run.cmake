# SPDX-License-Identifier: MIT
# Interop test with the official JavaScript libraries, run by ctest as `cmake -P`:
#   -DTOOL=<svix_interop executable> -DSCRIPT=<svix_interop.mjs> -DWORK_DIR=<scratch dir>
# Installs npm `svix` and `standardwebhooks` into WORK_DIR (not into the repository), then:
#   our signer -> both libraries verify;  both libraries sign -> our verifier verifies.
# Without node or npm the test is skipped with a message, except under CI=true, where it fails.
cmake_minimum_required(VERSION 3.21)
foreach(var TOOL SCRIPT WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}= is required")
  endif()
endforeach()
find_program(NODE node)
find_program(NPM npm)
if(NOT NODE OR NOT NPM)
  if("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "node and npm are required in CI (node: ${NODE}, npm: ${NPM})")
  endif()
  message("meetingbaas-interop: SKIPPED: node or npm not found (install nodejs and npm to run this test)")
  return()
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}")
  endif()
endfunction()

file(MAKE_DIRECTORY "${WORK_DIR}/npm")
if(NOT EXISTS "${WORK_DIR}/npm/node_modules/svix/package.json"
   OR NOT EXISTS "${WORK_DIR}/npm/node_modules/standardwebhooks/package.json")
  run("${NPM}" install --prefix "${WORK_DIR}/npm" --no-audit --no-fund --no-save --loglevel=error
      standardwebhooks svix)
endif()
execute_process(COMMAND "${NODE}" --version OUTPUT_VARIABLE node_version OUTPUT_STRIP_TRAILING_WHITESPACE)
file(READ "${WORK_DIR}/npm/node_modules/svix/package.json" svix_manifest)
file(READ "${WORK_DIR}/npm/node_modules/standardwebhooks/package.json" standard_manifest)
string(JSON svix_version GET "${svix_manifest}" version)
string(JSON standard_version GET "${standard_manifest}" version)
message("node ${node_version}, svix ${svix_version}, standardwebhooks ${standard_version}")

run("${TOOL}" gen "${WORK_DIR}/ours.json")
set(ENV{MEETINGBAAS_NPM_PREFIX} "${WORK_DIR}/npm")
run("${NODE}" "${SCRIPT}" "${WORK_DIR}/ours.json" "${WORK_DIR}/theirs.json")
run("${TOOL}" check "${WORK_DIR}/theirs.json")
