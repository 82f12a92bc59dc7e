# SPDX-License-Identifier: MIT
# Optional adapter targets. Each wraps one header in include/meetingbaas/adapters/ and links the one
# third-party library it needs; the core target meetingbaas::webhooks never links any of them.
#
#   MEETINGBAAS_WITH_<NAME>    ON (default): build the adapter target when its dependency is found.
#   MEETINGBAAS_REQUIRE_ADAPTERS  ON: a missing dependency is a configure error (our CI sets it).
include("${CMAKE_CURRENT_LIST_DIR}/meetingbaas-adapter-deps.cmake")

option(MEETINGBAAS_REQUIRE_ADAPTERS "Fail when an enabled adapter's dependency is missing" OFF)
set(MEETINGBAAS_ADAPTERS "")
foreach(_mb_adapter IN ITEMS sqlite curl httplib openssl redis postgres)
  string(TOUPPER "${_mb_adapter}" _mb_upper)
  option(MEETINGBAAS_WITH_${_mb_upper} "Build the meetingbaas::${_mb_adapter} adapter target" ON)
  if(NOT MEETINGBAAS_WITH_${_mb_upper})
    continue()
  endif()
  if(MEETINGBAAS_REQUIRE_ADAPTERS)
    meetingbaas_find_adapter_dependency(${_mb_adapter} _mb_found REQUIRED)
  else()
    meetingbaas_find_adapter_dependency(${_mb_adapter} _mb_found)
  endif()
  if(NOT _mb_found)
    message(STATUS "meetingbaas: ${_mb_adapter} not found; meetingbaas::${_mb_adapter} is not built")
    continue()
  endif()
  add_library(meetingbaas_${_mb_adapter} INTERFACE)
  add_library(meetingbaas::${_mb_adapter} ALIAS meetingbaas_${_mb_adapter})
  set_target_properties(meetingbaas_${_mb_adapter} PROPERTIES EXPORT_NAME ${_mb_adapter})
  target_link_libraries(meetingbaas_${_mb_adapter}
                        INTERFACE meetingbaas_webhooks ${MEETINGBAAS_ADAPTER_DEP_${_mb_adapter}})
  list(APPEND MEETINGBAAS_ADAPTERS ${_mb_adapter})
endforeach()
message(STATUS "meetingbaas: adapters built: ${MEETINGBAAS_ADAPTERS}")
