# SPDX-License-Identifier: MIT
# Foundation: error, result, version.
meetingbaas_add_test(core SOURCES error.test.cpp result.test.cpp version.test.cpp)
