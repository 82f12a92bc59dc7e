// SPDX-License-Identifier: MIT
// Client overhead: a GET of one event through api_client + curl_http_client versus the same request
// made with bare libcurl (one reused easy handle, the same headers), in the same run, against the local
// fake_meetingbaas_api server. docs/perf/api.md has the command and the numbers.

#include <meetingbaas/adapters/curl.hpp>
#include <meetingbaas/api/client.hpp>

#include "fake_meetingbaas_api.hpp"

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

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

/// The User-Agent line api_client sends by default: the baseline sends the same request.
const std::string& user_agent_line()
{
    static const std::string line = "User-Agent: " + meetingbaas::api_client_options{}.user_agent;
    return line;
}

std::size_t append(char* data, std::size_t size, std::size_t n, void* out)
{
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

/// The baseline: what an application would write by hand with libcurl: one reused easy handle, the same
/// URL and headers as the client, the body appended to a reused string. `share` (optional) attaches a
/// libcurl share handle.
class bare_get {
public:
    explicit bare_get(CURLSH* share = nullptr)
        : url_(server().base_url() + "/calendar_events/" + event_uuid), handle_(curl_easy_init())
    {
        headers_ = curl_slist_append(nullptr, "x-meeting-baas-api-key: test-key");
        headers_ = curl_slist_append(headers_, "Accept: application/json");
        headers_ = curl_slist_append(headers_, user_agent_line().c_str());
        if (share != nullptr) curl_easy_setopt(handle_, CURLOPT_SHARE, share);
        curl_easy_setopt(handle_, CURLOPT_URL, url_.c_str());
        curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers_);
        curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, &append);
        curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &body_);
    }
    bare_get(const bare_get&) = delete;
    bare_get& operator=(const bare_get&) = delete;
    ~bare_get()
    {
        curl_easy_cleanup(handle_);
        curl_slist_free_all(headers_);
    }

    /// One GET; false on a transport error or a status other than 200.
    bool perform()
    {
        body_.clear();
        if (curl_easy_perform(handle_) != CURLE_OK) return false;
        long status = 0;
        curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &status);
        return status == 200;
    }
    [[nodiscard]] const std::string& body() const noexcept { return body_; }

private:
    std::string url_;
    CURL* handle_;
    curl_slist* headers_ = nullptr;
    std::string body_;
};

void bare_libcurl_get_event(benchmark::State& state)
{
    bare_get bare;
    for (auto _ : state) {
        if (!bare.perform()) state.SkipWithError("bare GET failed");
        benchmark::DoNotOptimize(bare.body().data());
    }
}

/// The baseline plus parsing the body into nlohmann::json (what "a typed event" costs at minimum).
void bare_libcurl_get_event_and_parse_json(benchmark::State& state)
{
    bare_get bare;
    for (auto _ : state) {
        if (!bare.perform()) state.SkipWithError("bare GET failed");
        auto doc = nlohmann::json::parse(bare.body(), nullptr, false);
        benchmark::DoNotOptimize(doc);
    }
}

meetingbaas::api_client<meetingbaas::curl_http_client> make_client(CURLSH* share = nullptr)
{
    return meetingbaas::api_client<meetingbaas::curl_http_client>(
        meetingbaas::curl_http_client{{.share = share}},
        {.api_key = "test-key", .base_url = server().base_url()});
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

/// The same decode of the body as the test server sends it (compact JSON, as nlohmann's dump()).
void parse_v1_event_only_compact(benchmark::State& state)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/api.v1.get_event.json");
    const std::string body = nlohmann::json::parse(in).dump();
    for (auto _ : state) {
        auto event = meetingbaas::parse_v1_event_text(body);
        benchmark::DoNotOptimize(event);
    }
}

/// The baseline of the decode: the DOM path (nlohmann parse + typed model), which the streaming path
/// replaced and which remains its fallback for bodies it does not take.
void parse_v1_event_dom_compact(benchmark::State& state)
{
    std::ifstream in(std::string(MEETINGBAAS_TEST_DATA_DIR) + "/api.v1.get_event.json");
    const std::string body = nlohmann::json::parse(in).dump();
    for (auto _ : state) {
        auto doc = meetingbaas::detail::parse_json_body(body);
        if (!doc) state.SkipWithError("parse failed");
        auto event = meetingbaas::parse_v1_event(std::move(*doc));
        benchmark::DoNotOptimize(event);
    }
}

/// Thread CPU time of the calling thread (the server runs on its own threads).
std::chrono::nanoseconds thread_cpu_now()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

/// The q-quantile (0..1) of `v`, nearest rank.
double quantile(std::vector<double> v, double q)
{
    if (v.empty()) return 0.0;
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    const auto at = v.begin() + static_cast<std::ptrdiff_t>(rank);
    std::nth_element(v.begin(), at, v.end());
    return *at;
}

double median(std::vector<double> v)
{
    if (v.empty()) return 0.0;
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    if (v.size() % 2 == 1) return *mid;
    const double upper = *mid;
    return (*std::max_element(v.begin(), mid) + upper) / 2.0;
}

/// Paired: each iteration makes one bare request and one client request, in alternating order, and
/// times each (wall clock and this thread's CPU time). Load drift on a shared machine hits both halves
/// of each pair alike, which the separate benchmarks above cannot guarantee.
///
/// Counters (per request, microseconds): `bare_us` / `client_us` are medians of the wall times;
/// `diff_us` is the median of the per-pair differences (client - bare), robust to the scheduler
/// hiccups of a loopback round trip that make means drift by tens of percent between repetitions;
/// `overhead_pct` = diff_us / bare_us. `overhead_mean_pct` is the same from means (outlier-sensitive,
/// kept for comparison). `cpu_diff_us` / `cpu_overhead_pct`: the median per-pair difference of thread
/// CPU time, i.e. the work the client adds on the caller's thread. `diff_p10_us` / `diff_p90_us`: the
/// spread of the per-pair differences.
template <bool Typed, bool BareParses = false>
void paired_overhead(benchmark::State& state)
{
    // Both sides share one libcurl connection cache, hence one TCP connection and one server thread:
    // with a connection each, the two halves were served by different server threads whose placement
    // on the 2 cores made one side 20-30 us slower for a whole repetition, whichever side it was.
    // Declared first, destroyed last: the easy handles below must go before their share handle.
    const std::unique_ptr<CURLSH, decltype(&curl_share_cleanup)> share(curl_share_init(),
                                                                       &curl_share_cleanup);
    curl_share_setopt(share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    bare_get bare(share.get());
    auto client = make_client(share.get());
    const std::string path = std::string("/calendar_events/") + event_uuid;

    using clock = std::chrono::steady_clock;
    struct sample {
        double wall_us;
        double cpu_us;
    };
    auto measure = [](auto&& work) {
        const auto c0 = thread_cpu_now();
        const auto t0 = clock::now();
        work();
        const auto t1 = clock::now();
        const auto c1 = thread_cpu_now();
        return sample{std::chrono::duration<double, std::micro>(t1 - t0).count(),
                      std::chrono::duration<double, std::micro>(c1 - c0).count()};
    };
    auto bare_once = [&] {
        if (!bare.perform()) state.SkipWithError("bare GET failed");
        if constexpr (BareParses) {
            auto doc = nlohmann::json::parse(bare.body(), nullptr, false);
            benchmark::DoNotOptimize(doc);
        }
        benchmark::DoNotOptimize(bare.body().data());
    };
    auto ours_once = [&] {
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
    };
    std::vector<double> bare_wall, ours_wall, diff_wall, diff_cpu;
    double bare_sum = 0, ours_sum = 0;
    bool flip = false;
    for (auto _ : state) {
        sample b{}, o{};
        if (flip) {
            o = measure(ours_once);
            b = measure(bare_once);
        } else {
            b = measure(bare_once);
            o = measure(ours_once);
        }
        flip = !flip;
        bare_wall.push_back(b.wall_us);
        ours_wall.push_back(o.wall_us);
        diff_wall.push_back(o.wall_us - b.wall_us);
        diff_cpu.push_back(o.cpu_us - b.cpu_us);
        bare_sum += b.wall_us;
        ours_sum += o.wall_us;
    }
    const double bare_med = median(bare_wall);
    const double diff_med = median(diff_wall);
    state.counters["bare_us"] = bare_med;
    state.counters["client_us"] = median(ours_wall);
    state.counters["diff_us"] = diff_med;
    state.counters["overhead_pct"] = 100.0 * diff_med / bare_med;
    state.counters["overhead_mean_pct"] = 100.0 * (ours_sum - bare_sum) / bare_sum;
    state.counters["diff_p10_us"] = quantile(diff_wall, 0.10);
    state.counters["diff_p90_us"] = quantile(diff_wall, 0.90);
    state.counters["cpu_diff_us"] = median(diff_cpu);
    state.counters["cpu_overhead_pct"] = 100.0 * median(diff_cpu) / bare_med;
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
BENCHMARK(parse_v1_event_only_compact)->MinTime(0.5);
BENCHMARK(parse_v1_event_dom_compact)->MinTime(0.5);

// Run with --benchmark_repetitions=N --benchmark_enable_random_interleaving=true (docs/perf/api.md).
