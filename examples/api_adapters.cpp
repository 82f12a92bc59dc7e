// SPDX-License-Identifier: MIT
// The libcurl and cpp-httplib adapters against a local stand-in for the Meeting BaaS v1 API (the test
// server of tests/support), with faults injected: a 503 and a 429 with Retry-After are retried, a
// wrong key is not. Then two libcurl clients share one connection pool through a share handle
// (curl_options::share). cpp-httplib needs exceptions, so this example is not built with -fno-exceptions.

#include <meetingbaas/adapters/curl.hpp>
#include <meetingbaas/adapters/httplib.hpp>
#include <meetingbaas/api/client.hpp>

#include "fake_meetingbaas_api.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <set>
#include <string>

namespace {

template <class Http>
int run(const char* name, Http http, meetingbaas_test::fake_meetingbaas_api& server)
{
    meetingbaas::api_client client(std::move(http), {.api_key = "test-key", .base_url = server.base_url()});

    server.inject(meetingbaas_test::fake_api_fault::status_503);
    server.inject(meetingbaas_test::fake_api_fault::status_429);  // Retry-After: 1
    auto events = client.v1_list_events(
        {.calendar_id = "62cf1c20-6d72-4a52-9217-c391ec23d7bf", .status = meetingbaas::v1_event_status::all});
    if (!events) {
        std::printf("%s: %s\n", name, meetingbaas::to_string(events.error()).c_str());
        return 1;
    }
    std::printf("%s: %zu events over %zu requests\n", name, events->size(), server.calls().size());

    meetingbaas::v1_bot_config bot;
    bot.bot_name = "Notetaker";
    auto scheduled = client.v1_schedule_bot("bf23a894-e787-4629-8947-43f4bea4ccd8", bot);
    if (!scheduled || scheduled->empty() || !scheduled->front().bot_param) return 1;

    meetingbaas::api_client<Http&> wrong_key(client.http(),
                                             {.api_key = "not-the-key", .base_url = server.base_url()});
    auto denied = wrong_key.v1_get_event("bf23a894-e787-4629-8947-43f4bea4ccd8");
    if (denied || denied.error().http_status != 401 || denied.error().attempts != 1) return 1;
    std::printf("%s: %s\n", name, meetingbaas::to_string(denied.error()).c_str());
    server.clear_calls();
    return 0;
}

/// Two api_clients (say, one for reads and one for scheduling) on one libcurl share handle: they use
/// one pool of connections. Both run on this thread; clients on several threads would also need
/// CURLSHOPT_LOCKFUNC / CURLSHOPT_UNLOCKFUNC on the share handle.
int shared_pool(meetingbaas_test::fake_meetingbaas_api& server)
{
    CURLSH* share = curl_share_init();
    if (share == nullptr || curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
        return 1;
    std::set<int> connections;
    {
        const meetingbaas::api_client_options options{.api_key = "test-key", .base_url = server.base_url()};
        meetingbaas::api_client reads(meetingbaas::curl_http_client({.share = share}), options);
        meetingbaas::api_client writes(meetingbaas::curl_http_client({.share = share}), options);
        for (int i = 0; i < 3; ++i) {
            if (!reads.v1_get_event("bf23a894-e787-4629-8947-43f4bea4ccd8")) return 1;
            if (!writes.v1_get_event("bf23a894-e787-4629-8947-43f4bea4ccd8")) return 1;
        }
        for (const auto& call : server.calls()) connections.insert(call.remote_port);
    }  // the clients go before the share handle
    curl_share_cleanup(share);
    std::printf("shared pool: 6 requests from 2 clients over %zu connection(s)\n", connections.size());
    server.clear_calls();
    return connections.size() == 1 ? 0 : 1;
}

}  // namespace

int main()
{
    curl_global_init(CURL_GLOBAL_DEFAULT);  // once, before any thread creates a curl_http_client
    meetingbaas_test::fake_meetingbaas_api server({.page_size = 2});
    if (!server.load_fixtures(MEETINGBAAS_EXAMPLE_DATA_DIR) || !server.start()) return 1;
    int failures = run("libcurl", meetingbaas::curl_http_client{}, server);
    failures += run("cpp-httplib", meetingbaas::httplib_http_client{server.base_url()}, server);
    failures += shared_pool(server);
    server.stop();
    curl_global_cleanup();
    return failures == 0 ? 0 : 1;
}
