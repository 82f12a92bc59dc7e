# SPDX-License-Identifier: MIT
# PostgreSQL shared state (issue 15): pool, idempotency store, job queue with LISTEN/NOTIFY, event state, rate
# limiter. Runs against MEETINGBAAS_TEST_POSTGRES_URL (.ci/services.sh); says "skipped" without it.
meetingbaas_add_example(postgres_state SOURCES postgres_state.cpp REQUIRES meetingbaas::postgres)
