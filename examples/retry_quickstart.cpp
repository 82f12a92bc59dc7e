// SPDX-License-Identifier: MIT
// Quick start for retry.hpp: wrap a call to the Meeting BaaS API in the ready-made policy, with a shared
// budget and a deadline, and report why it stopped. The "HTTP call" is a stand-in that answers 429
// (with Retry-After), then 503, then 200; a real adapter fills attempt_outcome from its response.

#include <meetingbaas/retry/retrier.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>

using namespace std::chrono_literals;
namespace mb = meetingbaas;

namespace {

struct http_response {
    int status;
    std::optional<std::string_view> retry_after;  // the Retry-After header, if any
    std::string_view code;                        // the v2 error body's "code", if any
};

// [quickstart]
/// Translate a response into what the retry policy needs: status, server pushback, API error code.
mb::attempt_outcome to_outcome(const http_response& r)
{
    std::optional<std::chrono::milliseconds> pushback;
    if (r.retry_after) {
        if (auto parsed = mb::parse_retry_after(*r.retry_after)) pushback = *parsed;  // garbage: ignored
    }
    return mb::attempt_outcome::http(r.status, pushback, r.code);
}

int schedule_bot(mb::retry_budget& budget)
{
    int calls = 0;
    auto send = [&] {  // stands in for client.post("/v2/bots", body)
        ++calls;
        if (calls == 1) return http_response{429, "0", "FST_ERR_TOO_MANY_REQUESTS"};
        if (calls == 2) return http_response{503, std::nullopt, {}};
        return http_response{201, std::nullopt, {}};
    };
    const auto result = mb::retry(mb::meetingbaas_api_policy, send, to_outcome,
                                  {.idempotence = mb::idempotence::idempotent,  // POST /bots deduplicates
                                   .deadline = std::chrono::steady_clock::now() + 10s},
                                  mb::retry_effects{.budget = &budget});  // other effects: the defaults
    if (result.decision.reason != mb::stop_reason::succeeded) {
        std::printf("gave up after %u attempts: %s\n", result.attempts,
                    mb::to_string(result.decision.reason).data());
        return 1;
    }
    std::printf("status %d after %u attempts, %lld ms of backoff\n", result.last->status, result.attempts,
                static_cast<long long>(result.slept.count()));
    return 0;
}
// [quickstart]

}  // namespace

int main()
{
    mb::retry_budget budget(mb::meetingbaas_budget_config);  // one per API key, shared by all calls
    return schedule_bot(budget);
}
