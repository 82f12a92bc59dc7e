# SPDX-License-Identifier: MIT
# vcpkg overlay port: vcpkg install meetingbaas-webhooks --overlay-ports=<repo>/ports
# Header-only: one INTERFACE target plus optional adapter targets, chosen by features.
set(VCPKG_BUILD_TYPE release)

vcpkg_from_github(
  OUT_SOURCE_PATH SOURCE_PATH
  REPO meetingbaas-webhooks/meetingbaas-webhooks
  REF "v${VERSION}"
  SHA512 0  # placeholder until the first tagged release: vcpkg prints the real hash on first install
  HEAD_REF main)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    sqlite  MEETINGBAAS_WITH_SQLITE
    curl    MEETINGBAAS_WITH_CURL
    httplib MEETINGBAAS_WITH_HTTPLIB
    openssl MEETINGBAAS_WITH_OPENSSL
    redis   MEETINGBAAS_WITH_REDIS
    postgres MEETINGBAAS_WITH_POSTGRES)

# tests/package/run.cmake (MODE=port) reads the block below and performs the same configure and install.
vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS ${FEATURE_OPTIONS}
# BEGIN OPTIONS
    -DMEETINGBAAS_BUILD_TESTS=OFF
    -DMEETINGBAAS_BUILD_EXAMPLES=OFF
    -DMEETINGBAAS_BUILD_BENCHMARKS=OFF
    -DMEETINGBAAS_INSTALL=ON
    -DMEETINGBAAS_INSTALL_CMAKEDIR=share/meetingbaas-webhooks
# END OPTIONS
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME meetingbaas-webhooks CONFIG_PATH share/meetingbaas-webhooks)
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/debug")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
