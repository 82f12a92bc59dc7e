# SPDX-License-Identifier: MIT
# Runs ports/meetingbaas-webhooks/portfile.cmake as vcpkg would, without vcpkg (which cannot be installed on
# the CI machines): the vcpkg helper functions the portfile calls are simulated here with the options and
# checks vcpkg applies (TOOLCHAIN.md §5). Run as `cmake -P`:
#   -DPORTFILE=<portfile.cmake> -DPACKAGES_DIR=<staging prefix> -DBUILDTREES_DIR=<scratch dir>
#   -DCXX=<compiler> -DGENERATOR=<generator> [-DFEATURES=<feature;feature...>]
cmake_minimum_required(VERSION 3.21)
foreach(var PORTFILE PACKAGES_DIR BUILDTREES_DIR CXX GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "vcpkg_port_steps.cmake: -D${var}= is required")
  endif()
endforeach()

get_filename_component(port_dir "${PORTFILE}" DIRECTORY)
file(READ "${port_dir}/vcpkg.json" manifest)
string(JSON PORT GET "${manifest}" name)
string(JSON VERSION GET "${manifest}" version)
set(CURRENT_PACKAGES_DIR "${PACKAGES_DIR}")
set(CURRENT_BUILDTREES_DIR "${BUILDTREES_DIR}")
set(TARGET_TRIPLET x64-linux)
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}")
file(MAKE_DIRECTORY "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}")

function(port_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "port step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  if("${out}${err}" MATCHES "Manually-specified variables were not used")
    message(STATUS "note: some of vcpkg's standard options are unused by the project (vcpkg only warns)")
  endif()
endfunction()

# vcpkg_from_github and friends: the overlay port must build the checkout it sits in.
foreach(downloader vcpkg_from_github vcpkg_from_gitlab vcpkg_from_git vcpkg_download_distfile)
  cmake_language(EVAL CODE "function(${downloader})\n message(FATAL_ERROR \"the overlay port calls ${downloader}: it must build its own checkout\")\nendfunction()")
endforeach()

function(vcpkg_check_features)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS" "FEATURES")
  set(options "")
  set(pairs ${arg_FEATURES})
  while(pairs)
    list(POP_FRONT pairs feature option)
    if(feature IN_LIST FEATURES)
      list(APPEND options "-D${option}=ON")
    else()
      list(APPEND options "-D${option}=OFF")
    endif()
  endwhile()
  set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE;MAYBE_UNUSED_VARIABLES")
  if(NOT IS_ABSOLUTE "${arg_SOURCE_PATH}" OR NOT EXISTS "${arg_SOURCE_PATH}/CMakeLists.txt")
    message(FATAL_ERROR "vcpkg_cmake_configure: SOURCE_PATH '${arg_SOURCE_PATH}' is not a CMake project")
  endif()
  set_property(GLOBAL PROPERTY port_source_path "${arg_SOURCE_PATH}")
  # What vcpkg_cmake_configure always passes (a release-only port: VCPKG_BUILD_TYPE release).
  port_run("${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel"
           -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE=Release
           "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" -DCMAKE_INSTALL_LIBDIR=lib
           -DCMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION=ON -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
           -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DFETCHCONTENT_FULLY_DISCONNECTED=ON
           ${arg_OPTIONS} ${arg_OPTIONS_RELEASE})
endfunction()

function(vcpkg_cmake_install)
  port_run("${CMAKE_COMMAND}" --build "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")
  port_run("${CMAKE_COMMAND}" --install "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")
endfunction()

function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
  if(NOT arg_PACKAGE_NAME)
    set(arg_PACKAGE_NAME "${PORT}")
  endif()
  if(NOT arg_CONFIG_PATH)
    set(arg_CONFIG_PATH "share/${arg_PACKAGE_NAME}")
  endif()
  set(from "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
  if(NOT EXISTS "${from}/${arg_PACKAGE_NAME}Config.cmake")
    message(FATAL_ERROR "vcpkg_cmake_config_fixup: no ${arg_PACKAGE_NAME}Config.cmake in ${arg_CONFIG_PATH}")
  endif()
  set(to "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
  if(NOT from STREQUAL to)
    file(COPY "${from}/" DESTINATION "${to}")
    file(REMOVE_RECURSE "${from}")
  endif()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
  set(text "")
  foreach(f IN LISTS arg_FILE_LIST)
    file(READ "${f}" content)
    string(APPEND text "${content}")
  endforeach()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

include("${PORTFILE}")

# What vcpkg's post-build checks would refuse.
get_property(source_path GLOBAL PROPERTY port_source_path)
foreach(f include/meetingbaas/webhooks.hpp "share/${PORT}/copyright" "share/${PORT}/usage"
          "share/${PORT}/meetingbaas-webhooksConfig.cmake" "share/${PORT}/meetingbaas-webhooksConfigVersion.cmake"
          "share/${PORT}/meetingbaas-webhooksTargets.cmake")
  if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/${f}")
    message(FATAL_ERROR "the port's package lacks ${f}")
  endif()
endforeach()
foreach(d lib debug bin share/cmake)
  if(EXISTS "${CURRENT_PACKAGES_DIR}/${d}")
    message(FATAL_ERROR "the port's package has ${d}/ (a header-only port must not)")
  endif()
endforeach()
message(STATUS "port ${PORT} ${VERSION} built from ${source_path} (features: ${FEATURES})")
