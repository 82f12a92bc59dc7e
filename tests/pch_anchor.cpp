// SPDX-License-Identifier: MIT
// The target that builds the tests' precompiled header (tests/CMakeLists.txt, MEETINGBAAS_TEST_PCH); every
// test executable reuses it. Its own TU only checks that the header was force-included.
#ifndef MEETINGBAAS_VERSION_MAJOR
#error "the tests' precompiled header (with <meetingbaas/webhooks.hpp>) was not included"
#endif
