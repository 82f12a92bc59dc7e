// SPDX-License-Identifier: MIT
// Must not compile: send() returns a bare http_response instead of http_result (no transport errors);
// the diagnostic must name has_http_result.
#include <meetingbaas/api/http.hpp>

struct client_without_errors {
    meetingbaas::http_response send(const meetingbaas::http_request&) { return {}; }
};

static_assert(meetingbaas::http_client<client_without_errors>);

int main() {}
