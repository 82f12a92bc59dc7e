// SPDX-License-Identifier: MIT
// Verification cost of a v2 (Svix) delivery, built-in HMAC-SHA256 vs OpenSSL, in one run; plus the v1
// API-key keyring check and raw SHA-256 throughput. Run:
//   build/bench/bench/meetingbaas.bench.verify --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <meetingbaas/adapters/openssl.hpp>
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/detail/base64.hpp>
#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/auth/signer.hpp>
#include <meetingbaas/core/detail/sha256.hpp>
#include <meetingbaas/core/headers.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view secret = "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f";
constexpr std::string_view id = "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA";
constexpr std::string_view ts = "1789571529";
constexpr std::int64_t now = 1789571529;

std::string make_body(std::size_t size)
{
    std::string body = R"({"event":"bot.completed","data":{"transcript":")";
    while (body.size() + 3 < size) body.push_back(static_cast<char>('a' + body.size() % 26));
    body += "\"}}";
    body.resize(size);
    return body;
}

meetingbaas::http_headers headers_for(std::string_view body)
{
    const auto signer = meetingbaas::svix_signer::from_secret(secret);
    if (!signer) std::abort();
    auto headers = signer->sign(id, now, body);
    if (!headers || headers->timestamp != ts) std::abort();
    return headers->to_headers();
}

template <class Backend>
void verify_svix(benchmark::State& state)
{
    const std::string body = make_body(static_cast<std::size_t>(state.range(0)));
    const auto headers = headers_for(body);
    auto verifier = meetingbaas::basic_svix_verifier<Backend>::from_secrets({secret});
    if (!verifier) std::abort();
    for (auto _ : state) {
        auto r = verifier->verify_at(headers, body, now);
        if (!r) std::abort();
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.SetLabel(std::string(Backend::name));
}

void verify_svix_builtin(benchmark::State& state)
{
    verify_svix<meetingbaas::builtin_hmac_sha256>(state);
}
void verify_svix_openssl(benchmark::State& state)
{
    verify_svix<meetingbaas::openssl_hmac_sha256>(state);
}

void sha256_builtin(benchmark::State& state)
{
    const std::string body = make_body(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto d = meetingbaas::detail::sha256(body);
        benchmark::DoNotOptimize(d);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

/// The portable (no SHA-NI) compression function alone, as used on CPUs without the SHA extensions.
void sha256_portable(benchmark::State& state)
{
    const std::string body = make_body(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        std::array<std::uint32_t, 8> s{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        meetingbaas::detail::sha256_compress_portable(s, reinterpret_cast<const std::uint8_t*>(body.data()),
                                                      body.size() / 64);
        benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void api_key_check(benchmark::State& state)
{
    auto ring = meetingbaas::api_key_keyring::from_keys(
        {"mb_key_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "mb_key_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"});
    if (!ring) std::abort();
    const meetingbaas::http_headers headers{
        {"content-type", "application/json"},
        {"x-meeting-baas-api-key", "mb_key_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"}};
    for (auto _ : state) {
        auto r = ring->check(headers);
        if (!r) std::abort();
        benchmark::DoNotOptimize(r);
    }
}

}  // namespace

BENCHMARK(verify_svix_builtin)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(verify_svix_openssl)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(sha256_builtin)->Arg(64 * 1024);
BENCHMARK(sha256_portable)->Arg(64 * 1024);
BENCHMARK(api_key_check);
