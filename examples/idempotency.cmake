# SPDX-License-Identifier: MIT
# Idempotency (issue 5): deduplicating deliveries in memory, and a durable SQLite store.
meetingbaas_add_example(idempotency_webhook SOURCES idempotency_webhook.cpp)
meetingbaas_add_example(idempotency_sqlite SOURCES idempotency_sqlite.cpp REQUIRES meetingbaas::sqlite)
