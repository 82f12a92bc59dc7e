// SPDX-License-Identifier: MIT
// Must not compile: the type has no send(); the diagnostic must name can_send_http.
#include <meetingbaas/api/client.hpp>

struct client_without_send {
    meetingbaas::http_result get(const meetingbaas::http_request&) { return meetingbaas::http_response{}; }
};

int main()
{
    // explicit template argument: with CTAD, Clang does not explain the failed constraint
    meetingbaas::api_client<client_without_send> client(client_without_send{}, {.api_key = "k"});
    (void)client;
}
