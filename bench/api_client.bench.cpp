// SPDX-License-Identifier: MIT
// Client overhead: a GET of one event through api_client + curl_http_client versus the same request
// made with bare libcurl (one reused easy handle, the same headers), in the same run, against the local
// fake_meetingbaas_api server. docs/perf/api.md has the command and the numbers.

#include <meetingbaas/adapters/curl.hpp>
#include <meetingbaas/api_client.hpp>

#include "fake_meetingbaas_api.hpp"

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace {

constexpr const char* event_uuid = "f9dc9fa7-9eb9-4b53-b193-2b6834706c78";

meetingbaas_test::fake_meetingbaas_api& server()
{
    static auto* s = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        auto* api = new meetingbaas_test::fake_meetingbaas_api();  // lives for the whole run
        if (!api->load_fixtures(MEETINGBAAS_TEST_DATA_DIR) || !api->start()) std::abort();
        return api;
    }();
    return *s;
}

std::size_t append(char* data, std::size_t size, std::size_t n, void* out)
{
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

/// The baseline: what an application would write by hand with libcurl.
void bare_libcurl_get_event(benchmark::State& state)
{
    const std::string url = server().base_url() + "/calendar_events/" + event_uuid;
    CURL* h = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "x-meeting-baas-api-key: test-key");
    headers = curl_slist_append(headers, "Accept: application/json");
    std::string body;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    for (auto _ : state) {
        body.clear();
        if (curl_easy_perform(h) != CURLE_OK) state.SkipWithError("curl_easy_perform failed");
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) state.SkipWithError("unexpected status");
        benchmark::DoNotOptimize(body.data());
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
}

/// The baseline plus parsing the body into nlohmann::json (what "a typed event" costs at minimum).
void bare_libcurl_get_event_and_parse_json(benchmark::State& state)
{
    const std::string url = server().base_url() + "/calendar_events/" + event_uuid;
    CURL* h = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "x-meeting-baas-api-key: test-key");
    headers = curl_slist_append(headers, "Accept: application/json");
    std::string body;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    for (auto _ : state) {
        body.clear();
        if (curl_easy_perform(h) != CURLE_OK) state.SkipWithError("curl_easy_perform failed");
        auto doc = nlohmann::json::parse(body, nullptr, false);
        benchmark::DoNotOptimize(doc);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
}

meetingbaas::api_client<meetingbaas::curl_http_client> make_client()
{
    return meetingbaas::api_client<meetingbaas::curl_http_client>(
        meetingbaas::curl_http_client{}, {.api_key = "test-key", .base_url = server().base_url()});
}

/// The client: typed GET (request building, retry bookkeeping, adapter, JSON parse, typed model).
void client_v1_get_event(benchmark::State& state)
{
    auto client = make_client();
    for (auto _ : state) {
        auto event = client.v1_get_event(event_uuid);
        if (!event) state.SkipWithError("v1_get_event failed");
        benchmark::DoNotOptimize(event);
    }
}

/// The client without the typed model: the raw 2xx response through the same path.
void client_send_raw(benchmark::State& state)
{
    auto client = make_client();
    const std::string path = std::string("/calendar_events/") + event_uuid;
    for (auto _ : state) {
        auto response =
            client.send(meetingbaas::http_method::get, path, {}, meetingbaas::request_safety::idempotent);
        if (!response) state.SkipWithError("send failed");
        benchmark::DoNotOptimize(response);
    }
}

/// The parsing alone (no network): what v1_get_event adds on top of the transfer.
void parse_v1_event_only(benchmark::State& state)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/api.v1.get_event.json");
    std::ostringstream s;
    s << in.rdbuf();
    const std::string body = s.str();
    for (auto _ : state) {
        auto event = meetingbaas::parse_v1_event_text(body);  // as v1_get_event does
        benchmark::DoNotOptimize(event);
    }
}

/// Paired: each iteration makes one bare request and one client request, in alternating order, timing
/// each; the counters report the two means and the client's overhead. Load drift on a shared machine
/// hits both halves of each pair alike, which the separate benchmarks above cannot guarantee.
template <bool Typed, bool BareParses = false>
void paired_overhead(benchmark::State& state)
{
    const std::string url = server().base_url() + "/calendar_events/" + event_uuid;
    CURL* h = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "x-meeting-baas-api-key: test-key");
    headers = curl_slist_append(headers, "Accept: application/json");
    std::string body;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    auto client = make_client();
    const std::string path = std::string("/calendar_events/") + event_uuid;

    using clock = std::chrono::steady_clock;
    clock::duration bare{}, ours{};
    auto bare_once = [&] {
        const auto t0 = clock::now();
        body.clear();
        if (curl_easy_perform(h) != CURLE_OK) state.SkipWithError("curl_easy_perform failed");
        if constexpr (BareParses) {
            auto doc = nlohmann::json::parse(body, nullptr, false);
            benchmark::DoNotOptimize(doc);
        }
        benchmark::DoNotOptimize(body.data());
        bare += clock::now() - t0;
    };
    auto ours_once = [&] {
        const auto t0 = clock::now();
        if constexpr (Typed) {
            auto event = client.v1_get_event(event_uuid);
            if (!event) state.SkipWithError("v1_get_event failed");
            benchmark::DoNotOptimize(event);
        } else {
            auto response =
                client.send(meetingbaas::http_method::get, path, {}, meetingbaas::request_safety::idempotent);
            if (!response) state.SkipWithError("send failed");
            benchmark::DoNotOptimize(response);
        }
        ours += clock::now() - t0;
    };
    bool flip = false;
    for (auto _ : state) {
        if (flip) {
            ours_once();
            bare_once();
        } else {
            bare_once();
            ours_once();
        }
        flip = !flip;
    }
    const double n = static_cast<double>(state.iterations());
    const double bare_us = std::chrono::duration<double, std::micro>(bare).count() / n;
    const double ours_us = std::chrono::duration<double, std::micro>(ours).count() / n;
    state.counters["bare_us"] = bare_us;
    state.counters["client_us"] = ours_us;
    state.counters["overhead_pct"] = 100.0 * (ours_us - bare_us) / bare_us;
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
}

}  // namespace

BENCHMARK(paired_overhead<false>)->Name("paired/client_send_raw_vs_bare")->MinTime(2.0);
BENCHMARK(paired_overhead<true>)->Name("paired/client_v1_get_event_vs_bare")->MinTime(2.0);
BENCHMARK(paired_overhead<true, true>)
    ->Name("paired/client_v1_get_event_vs_bare_plus_json_parse")
    ->MinTime(2.0);
BENCHMARK(bare_libcurl_get_event)->UseRealTime()->MinTime(1.0);
BENCHMARK(bare_libcurl_get_event_and_parse_json)->UseRealTime()->MinTime(1.0);
BENCHMARK(client_send_raw)->UseRealTime()->MinTime(1.0);
BENCHMARK(client_v1_get_event)->UseRealTime()->MinTime(1.0);
BENCHMARK(parse_v1_event_only)->MinTime(0.5);

// Run with --benchmark_repetitions=N --benchmark_enable_random_interleaving=true (docs/perf/api.md).
