# SPDX-License-Identifier: MIT
include(CMakePackageConfigHelpers)
set(MEETINGBAAS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/meetingbaas-webhooks"
    CACHE STRING "Install directory for meetingbaas-webhooksConfig.cmake, relative to the prefix")

install(DIRECTORY include/ DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS meetingbaas_webhooks EXPORT meetingbaas-webhooksTargets)
install(EXPORT meetingbaas-webhooksTargets NAMESPACE meetingbaas::
        DESTINATION "${MEETINGBAAS_INSTALL_CMAKEDIR}")
# Build-tree export: -Dmeetingbaas-webhooks_DIR=<build dir> works without installing.
export(EXPORT meetingbaas-webhooksTargets NAMESPACE meetingbaas::
       FILE "${PROJECT_BINARY_DIR}/meetingbaas-webhooksTargets.cmake")

# One export set per adapter, loaded by the config file only when its dependency is present.
foreach(_mb_adapter IN LISTS MEETINGBAAS_ADAPTERS)
  install(TARGETS meetingbaas_${_mb_adapter} EXPORT meetingbaas-webhooks-${_mb_adapter}-targets)
  install(EXPORT meetingbaas-webhooks-${_mb_adapter}-targets NAMESPACE meetingbaas::
          DESTINATION "${MEETINGBAAS_INSTALL_CMAKEDIR}")
endforeach()

configure_package_config_file(cmake/meetingbaas-webhooksConfig.cmake.in
  "${PROJECT_BINARY_DIR}/meetingbaas-webhooksConfig.cmake"
  INSTALL_DESTINATION "${MEETINGBAAS_INSTALL_CMAKEDIR}")
# 0.x releases may break the API, so until 1.0 only the same minor version is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/meetingbaas-webhooksConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/meetingbaas-webhooksConfig.cmake"
              "${PROJECT_BINARY_DIR}/meetingbaas-webhooksConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/meetingbaas-adapter-deps.cmake"
        DESTINATION "${MEETINGBAAS_INSTALL_CMAKEDIR}")
install(FILES LICENSE DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/meetingbaas-webhooks")
