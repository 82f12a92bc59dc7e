# SPDX-License-Identifier: MIT
# The README's quick start (parse, claim the idempotency key, call the API with retries).
meetingbaas_add_example(quickstart SOURCES quickstart.cpp)
