# SPDX-License-Identifier: MIT
# Consumption tests, run by ctest as `cmake -P`: each builds a real consumer project, offline.
#   -DMODE=install|add_subdirectory|fetch_tarball|fetch_override|port
#   -DSOURCE_DIR=<this repository> -DWORK_DIR=<scratch dir> -DCXX=<compiler> -DGENERATOR=<generator>
cmake_minimum_required(VERSION 3.21)
foreach(var MODE SOURCE_DIR WORK_DIR CXX GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}= is required")
  endif()
endforeach()
set(PACKAGE_TESTS "${SOURCE_DIR}/tests/package")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect_failure regex)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "command was expected to fail: ${ARGN}")
  endif()
  if(NOT "${out}${err}" MATCHES "${regex}")
    message(FATAL_ERROR "failure did not match '${regex}':\n${out}\n${err}")
  endif()
endfunction()

# Configure, build and run one consumer project.
function(build_consumer name source_dir)
  set(bin "${WORK_DIR}/${name}")
  run("${CMAKE_COMMAND}" -S "${source_dir}" -B "${bin}" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX}"
      -DFETCHCONTENT_FULLY_DISCONNECTED=OFF -DFETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS ${ARGN})
  run("${CMAKE_COMMAND}" --build "${bin}")
  run("${bin}/consumer")
  message(STATUS "${name}: ${last_output}")
endfunction()

# Install the library the way a packager does: tests and examples off, relative destinations only.
function(stage_install prefix)
  set(bin "${WORK_DIR}/library-build")
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${bin}" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX}"
      -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${prefix}" -DCMAKE_INSTALL_LIBDIR=lib
      -DCMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION=ON -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
      -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DFETCHCONTENT_FULLY_DISCONNECTED=ON ${ARGN})
  run("${CMAKE_COMMAND}" --build "${bin}")
  run("${CMAKE_COMMAND}" --install "${bin}")
endfunction()

if(MODE STREQUAL "install")
  stage_install("${WORK_DIR}/prefix" -DMEETINGBAAS_BUILD_TESTS=OFF -DMEETINGBAAS_BUILD_EXAMPLES=OFF)
  foreach(f include/meetingbaas/webhooks.hpp share/cmake/meetingbaas-webhooks/meetingbaas-webhooksConfig.cmake
            share/cmake/meetingbaas-webhooks/meetingbaas-webhooksConfigVersion.cmake
            share/cmake/meetingbaas-webhooks/meetingbaas-webhooksTargets.cmake)
    if(NOT EXISTS "${WORK_DIR}/prefix/${f}")
      message(FATAL_ERROR "install tree lacks ${f}")
    endif()
  endforeach()
  if(EXISTS "${WORK_DIR}/prefix/lib")
    message(FATAL_ERROR "a header-only install must not create lib/")
  endif()
  build_consumer(find_package "${PACKAGE_TESTS}/find_package" "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
  # Every adapter whose dependency is on this machine is available as a component.
  file(GLOB adapter_files RELATIVE "${WORK_DIR}/prefix/share/cmake/meetingbaas-webhooks"
       "${WORK_DIR}/prefix/share/cmake/meetingbaas-webhooks/meetingbaas-webhooks-*-targets.cmake")
  set(components "")
  foreach(f IN LISTS adapter_files)
    string(REGEX REPLACE "^meetingbaas-webhooks-([a-z]+)-targets.cmake$" "\\1" c "${f}")
    list(APPEND components ${c})
  endforeach()
  message(STATUS "installed adapter components: ${components}")
  if(components)
    string(REPLACE ";" "\\;" components_arg "${components}")
    build_consumer(find_package_components "${PACKAGE_TESTS}/find_package"
                   "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" "-DMB_COMPONENTS=${components_arg}")
  endif()
  # 0.x: only the same minor version is compatible; a request for 1.0 must be rejected.
  expect_failure("meetingbaas-webhooks" "${CMAKE_COMMAND}" -S "${PACKAGE_TESTS}/find_package"
                 -B "${WORK_DIR}/find_package_v1" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX}"
                 "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DMB_REQUEST_VERSION=1.0)
  # A component that does not exist must fail the find.
  expect_failure("meetingbaas-webhooks" "${CMAKE_COMMAND}" -S "${PACKAGE_TESTS}/find_package"
                 -B "${WORK_DIR}/find_package_bad_component" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX}"
                 "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DMB_COMPONENTS=no_such_adapter)
elseif(MODE STREQUAL "add_subdirectory")
  build_consumer(add_subdirectory "${PACKAGE_TESTS}/add_subdirectory" "-DMB_SOURCE_DIR=${SOURCE_DIR}")
elseif(MODE STREQUAL "fetch_tarball" OR MODE STREQUAL "fetch_override")
  # A local copy of what a release archive holds.
  set(copy "${WORK_DIR}/meetingbaas-webhooks-src")
  file(MAKE_DIRECTORY "${copy}")
  file(COPY "${SOURCE_DIR}/CMakeLists.txt" "${SOURCE_DIR}/LICENSE" "${SOURCE_DIR}/cmake" "${SOURCE_DIR}/include"
       DESTINATION "${copy}")
  if(MODE STREQUAL "fetch_tarball")
    set(tarball "${WORK_DIR}/meetingbaas-webhooks.tar.gz")
    run("${CMAKE_COMMAND}" -E chdir "${WORK_DIR}" "${CMAKE_COMMAND}" -E tar czf "${tarball}" meetingbaas-webhooks-src)
    file(SHA256 "${tarball}" sha)
    build_consumer(fetch_tarball "${PACKAGE_TESTS}/fetch_content" "-DMB_URL=file://${tarball}" "-DMB_SHA256=${sha}")
  else()
    build_consumer(fetch_override "${PACKAGE_TESTS}/fetch_content"
                   "-DFETCHCONTENT_SOURCE_DIR_MEETINGBAAS-WEBHOOKS=${copy}")
  endif()
elseif(MODE STREQUAL "port")
  # The vcpkg port's steps without vcpkg: the portfile's own OPTIONS, a staged install, relocation
  # (packages/ -> installed/), no absolute paths left, and a find_package consumer against the relocated tree.
  set(port "${SOURCE_DIR}/ports/meetingbaas-webhooks")
  foreach(f portfile.cmake vcpkg.json usage)
    if(NOT EXISTS "${port}/${f}")
      message(FATAL_ERROR "port lacks ${f}")
    endif()
  endforeach()
  file(READ "${port}/vcpkg.json" manifest)
  string(JSON port_name GET "${manifest}" name)
  string(JSON port_license GET "${manifest}" license)
  if(NOT port_name STREQUAL "meetingbaas-webhooks" OR NOT port_license STREQUAL "MIT")
    message(FATAL_ERROR "vcpkg.json: name '${port_name}', license '${port_license}'")
  endif()
  string(JSON port_version GET "${manifest}" version)
  file(READ "${SOURCE_DIR}/include/meetingbaas/core/version.hpp" version_header)
  string(REGEX MATCH "MAJOR ([0-9]+)" _ "${version_header}")
  set(major "${CMAKE_MATCH_1}")
  string(REGEX MATCH "MINOR ([0-9]+)" _ "${version_header}")
  set(minor "${CMAKE_MATCH_1}")
  string(REGEX MATCH "PATCH ([0-9]+)" _ "${version_header}")
  if(NOT port_version STREQUAL "${major}.${minor}.${CMAKE_MATCH_1}")
    message(FATAL_ERROR "vcpkg.json version ${port_version} differs from version.hpp")
  endif()
  # Take the OPTIONS the portfile passes to vcpkg_cmake_configure, so this test follows the portfile.
  file(READ "${port}/portfile.cmake" portfile)
  string(REGEX MATCH "# BEGIN OPTIONS\n(.*)# END OPTIONS" _ "${portfile}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "portfile.cmake: no '# BEGIN OPTIONS' ... '# END OPTIONS' block")
  endif()
  string(REGEX REPLACE "[ \t\r\n]+" ";" port_options "${CMAKE_MATCH_1}")
  list(FILTER port_options EXCLUDE REGEX "^$|^OPTIONS$")
  string(REGEX MATCH "CONFIG_PATH ([^ \n)]+)" _ "${portfile}")
  set(config_path "${CMAKE_MATCH_1}")
  message(STATUS "portfile options: ${port_options}; config path: ${config_path}")
  stage_install("${WORK_DIR}/packages" ${port_options})
  if(NOT EXISTS "${WORK_DIR}/packages/${config_path}/meetingbaas-webhooksConfig.cmake")
    message(FATAL_ERROR "the config is not where the portfile's vcpkg_cmake_config_fixup looks: ${config_path}")
  endif()
  file(COPY "${WORK_DIR}/packages/" DESTINATION "${WORK_DIR}/installed")
  file(REMOVE_RECURSE "${WORK_DIR}/packages" "${WORK_DIR}/library-build")
  file(GLOB_RECURSE installed_files "${WORK_DIR}/installed/*")
  foreach(f IN LISTS installed_files)
    file(READ "${f}" content)
    string(FIND "${content}" "${WORK_DIR}" pos)
    if(pos GREATER -1)
      message(FATAL_ERROR "absolute path of the staging tree in ${f}")
    endif()
  endforeach()
  build_consumer(port_consumer "${PACKAGE_TESTS}/find_package" "-DCMAKE_PREFIX_PATH=${WORK_DIR}/installed")
else()
  message(FATAL_ERROR "run.cmake: unknown MODE ${MODE}")
endif()
message(STATUS "${MODE}: ok")
