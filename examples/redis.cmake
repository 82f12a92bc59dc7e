# SPDX-License-Identifier: MIT
# Redis (issue 15): two replicas sharing one Redis state. Runs against MEETINGBAAS_TEST_REDIS_URL (.ci/run
# starts a server); without it the example exits 77, which CTest reports as skipped.
if(TARGET meetingbaas::redis)
  meetingbaas_add_example(redis_replicas SOURCES redis_replicas.cpp REQUIRES meetingbaas::redis)
  if(TARGET redis_replicas AND TEST meetingbaas.examples.redis_replicas)
    set_tests_properties(meetingbaas.examples.redis_replicas PROPERTIES SKIP_RETURN_CODE 77 LABELS "example;redis")
  endif()
endif()
