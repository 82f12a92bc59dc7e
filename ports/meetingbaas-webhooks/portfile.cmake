# SPDX-License-Identifier: MIT
# vcpkg overlay port that builds the checkout it sits in: no tag, no hash, no download.
#   vcpkg install "meetingbaas-webhooks[sqlite,curl]" --overlay-ports=<repository>/ports
# vcpkg does not notice edits to the checkout (its binary cache keys on this port's files): after changing
# the library, reinstall with --no-binarycaching or bump "port-version" in vcpkg.json.
# The curated registry's port downloads a release instead (vcpkg_from_github with REF and SHA512): see
# docs/integration.md, "Releasing".
# tests/package/run.cmake (MODE=port) runs this file itself, with the vcpkg functions simulated.
set(VCPKG_BUILD_TYPE release)

get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/meetingbaas/webhooks.hpp")
  message(FATAL_ERROR "the overlay port must stay at <repository>/ports/${PORT}: no library at ${SOURCE_PATH}")
endif()

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    sqlite  MEETINGBAAS_WITH_SQLITE
    curl    MEETINGBAAS_WITH_CURL
    httplib MEETINGBAAS_WITH_HTTPLIB
    openssl MEETINGBAAS_WITH_OPENSSL
    redis   MEETINGBAAS_WITH_REDIS
    postgres MEETINGBAAS_WITH_POSTGRES)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DMEETINGBAAS_BUILD_TESTS=OFF
    -DMEETINGBAAS_BUILD_EXAMPLES=OFF
    -DMEETINGBAAS_BUILD_BENCHMARKS=OFF
    -DMEETINGBAAS_INSTALL=ON
    -DMEETINGBAAS_INSTALL_CMAKEDIR=share/meetingbaas-webhooks)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME meetingbaas-webhooks CONFIG_PATH share/meetingbaas-webhooks)
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/debug")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
