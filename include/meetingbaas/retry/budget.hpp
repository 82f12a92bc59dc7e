// SPDX-License-Identifier: MIT
#pragma once

// A retry budget shared by many calls: gRPC's retryThrottling token bucket (gRFC A6).
//
// The bucket starts full with `max_tokens`. Every retryable failure takes one token, every success
// gives back `token_ratio`, and retries are allowed only while more than half the bucket is left. When
// a backend is healthy the budget never binds; when most calls fail the bucket drains and callers stop
// retrying, so the backend sees ~1x the offered load instead of max_attempts x (a "retry storm").
// With token_ratio = 0.1 retries settle at about 10 % of successes: the Google SRE book's per-client
// retry budget. See docs/retries.md.

#include <meetingbaas/core/assert.hpp>
#include <meetingbaas/retry/backoff.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>

namespace meetingbaas::inline v0 {

/// Parameters of a retry_budget; gRPC limits: 0 < max_tokens <= 1000, 0 < token_ratio <= max_tokens,
/// both kept to three decimal places (the bucket counts thousandths of a token).
struct retry_budget_config {
    double max_tokens = 10.0;
    double token_ratio = 0.1;

    constexpr policy_violation check() const noexcept
    {
        if (!detail::is_finite(max_tokens) || !(max_tokens >= 0.001) || max_tokens > 1000.0) {
            return {"/budget/max_tokens", "must be in [0.001, 1000]"};
        }
        if (!detail::is_finite(token_ratio) || !(token_ratio >= 0.001) || token_ratio > max_tokens) {
            return {"/budget/token_ratio", "must be in [0.001, max_tokens]"};
        }
        return {};
    }
};

/// A thread-safe token bucket shared by every call to one backend. Lock-free; never allocates; the
/// token count never goes below zero nor above max_tokens. Not copyable or movable: share it by
/// reference (for example, one per API host, owned by the client object).
class retry_budget {
public:
    /// Precondition: !config.check() (check it first when the config comes from a file).
    explicit retry_budget(retry_budget_config config = {}) noexcept
        : max_(to_milli(config.max_tokens)), ratio_(to_milli(config.token_ratio)), tokens_(max_)
    {
        MEETINGBAAS_ASSERT(!config.check());
        if (max_ < 1) max_ = 1;
        if (ratio_ < 1) ratio_ = 1;
        tokens_.store(max_, std::memory_order_relaxed);
    }
    retry_budget(const retry_budget&) = delete;
    retry_budget& operator=(const retry_budget&) = delete;
    ~retry_budget() = default;

    /// A call succeeded (or failed permanently: the backend did its job): refill by token_ratio.
    void on_success() noexcept
    {
        std::int32_t t = tokens_.load(std::memory_order_relaxed);
        std::int32_t next = 0;
        do {
            next = t + ratio_ > max_ ? max_ : t + ratio_;
        } while (!tokens_.compare_exchange_weak(t, next, std::memory_order_relaxed));
    }

    /// An attempt failed in a retryable way: take one token (never below zero).
    void on_failure() noexcept
    {
        std::int32_t t = tokens_.load(std::memory_order_relaxed);
        std::int32_t next = 0;
        do {
            next = t > 1000 ? t - 1000 : 0;
        } while (!tokens_.compare_exchange_weak(t, next, std::memory_order_relaxed));
    }

    /// True while more than half of the bucket is left (gRPC: retries are throttled at or below
    /// max_tokens / 2).
    [[nodiscard]] bool allow_retry() const noexcept
    {
        return 2 * tokens_.load(std::memory_order_relaxed) > max_;
    }

    /// The current token count, e.g. for metrics.
    [[nodiscard]] double tokens() const noexcept
    {
        return static_cast<double>(tokens_.load(std::memory_order_relaxed)) / 1000.0;
    }
    [[nodiscard]] double max_tokens() const noexcept { return static_cast<double>(max_) / 1000.0; }

private:
    static std::int32_t to_milli(double v) noexcept
    {
        if (!(v > 0.0)) return 0;
        if (v > 1000.0) return 1'000'000;
        return static_cast<std::int32_t>(std::lround(v * 1000.0));
    }

    std::int32_t max_;
    std::int32_t ratio_;
    std::atomic<std::int32_t> tokens_;
};

}  // namespace meetingbaas::inline v0
