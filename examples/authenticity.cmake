# SPDX-License-Identifier: MIT
# Authenticity: verifying v1 / v2 / callback deliveries before parsing (self-checking; exit 0 = ok).
meetingbaas_add_example(verify_webhook SOURCES verify_webhook.cpp)
