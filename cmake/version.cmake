# SPDX-License-Identifier: MIT
# include/meetingbaas/core/version.hpp is the single source of truth for the version.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../include/meetingbaas/core/version.hpp" _mb_version_lines
     REGEX "^#define MEETINGBAAS_VERSION_(MAJOR|MINOR|PATCH) [0-9]+")
foreach(_mb_line IN LISTS _mb_version_lines)
  string(REGEX MATCH "MEETINGBAAS_VERSION_(MAJOR|MINOR|PATCH) ([0-9]+)" _mb_unused "${_mb_line}")
  set(_mb_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
endforeach()
set(MEETINGBAAS_VERSION "${_mb_MAJOR}.${_mb_MINOR}.${_mb_PATCH}")
unset(_mb_version_lines)
unset(_mb_line)
unset(_mb_unused)
