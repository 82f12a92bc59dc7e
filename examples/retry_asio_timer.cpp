// SPDX-License-Identifier: MIT
// Drives the retry step API from a Boost.Asio steady_timer: three calls retry concurrently on ONE thread,
// none of them blocks it. Each call goes to a fake flaky endpoint (a 503 with Retry-After, a dropped
// connection, then a 200), sharing one retry budget, with a deadline, and logs every decision through
// hooks. This is the shape of an event-loop or coroutine HTTP client: attempt -> outcome -> next()
// -> timer.async_wait(delay) -> attempt.

#include <meetingbaas/retry/retrier.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <system_error>

#ifdef BOOST_NO_EXCEPTIONS
// With -fno-exceptions Boost routes its errors here; this example never triggers them.
#include <boost/throw_exception.hpp>
#include <cstdlib>
namespace boost {
BOOST_NORETURN void throw_exception(const std::exception&)
{
    std::abort();
}
BOOST_NORETURN void throw_exception(const std::exception&, const boost::source_location&)
{
    std::abort();
}
}  // namespace boost
#endif

using namespace std::chrono_literals;
namespace mb = meetingbaas;
namespace asio = boost::asio;

namespace {

// [policy]
constexpr auto policy = mb::checked(mb::retry_policy<>{
    .backoff = {.initial = 20ms, .multiplier = 2.0, .maximum = 200ms},
    .jitter = mb::full_jitter,
    .stop = mb::stop_after_attempts(5) | mb::stop_after_elapsed(2s),
    .max_retry_after = 100ms,
});
// [policy]

/// Observability: print every decision. Any type with on_attempt/on_retry/on_give_up/on_success works.
struct print_hooks {
    int call;
    void on_attempt(const mb::retry_event& e) const { std::printf("call %d: attempt %u\n", call, e.attempt); }
    void on_retry(const mb::retry_event& e) const
    {
        std::printf("call %d: attempt %u %s -> retry in %lld ms (%s)\n", call, e.attempt,
                    mb::to_string(e.classification).data(), static_cast<long long>(e.delay.count()),
                    mb::to_string(e.source).data());
    }
    void on_give_up(const mb::retry_event& e) const
    {
        std::printf("call %d: gave up after %u attempts: %s\n", call, e.attempt,
                    mb::to_string(e.reason).data());
    }
    void on_success(const mb::retry_event& e) const
    {
        std::printf("call %d: succeeded on attempt %u\n", call, e.attempt);
    }
};

/// A fake asynchronous HTTP call: answers after 5 ms of simulated latency, on the io_context.
void fake_async_call(asio::io_context& io, int call, std::uint32_t attempt,
                     std::function<void(mb::attempt_outcome)> done)
{
    auto latency = std::make_shared<asio::steady_timer>(io, 5ms);
    latency->async_wait([latency, call, attempt, done = std::move(done)](const std::error_code&) {
        if (attempt == 1) return done(mb::attempt_outcome::http(503, 30ms, "FST_ERR_TOO_MANY_REQUESTS"));
        if (attempt == 2 && call != 2) return done(mb::attempt_outcome::not_sent());  // connect refused
        done(mb::attempt_outcome::http(200));
    });
}

/// One retried operation, alive until it finishes.
// [operation]
class operation : public std::enable_shared_from_this<operation> {
public:
    operation(asio::io_context& io, int call, mb::retry_budget& budget, int& finished)
        : io_(io), timer_(io),
          retrier_(policy, mb::retry_effects{.hooks = print_hooks{call}, .budget = &budget}), call_(call),
          finished_(finished)
    {
        retrier_.start(
            {.idempotence = mb::idempotence::idempotent, .deadline = std::chrono::steady_clock::now() + 2s});
    }

    void attempt()
    {
        const mb::attempt_permit permit = retrier_.begin_attempt();
        if (!permit) return finish();
        fake_async_call(io_, call_, permit.attempt, [self = shared_from_this()](mb::attempt_outcome outcome) {
            self->on_outcome(outcome);
        });
    }

private:
    void on_outcome(const mb::attempt_outcome& outcome)
    {
        const mb::retry_decision d = retrier_.next(outcome);
        if (!d) return finish();
        timer_.expires_after(d.delay);  // wait without blocking the thread
        timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
            if (!ec) self->attempt();
        });
    }
    void finish() { ++finished_; }

    asio::io_context& io_;
    asio::steady_timer timer_;
    mb::retrier<mb::exponential_backoff, mb::retry_effects<std::chrono::steady_clock, mb::this_thread_sleeper,
                                                           mb::splitmix64, print_hooks>>
        retrier_;
    int call_;
    int& finished_;
};
// [operation]

}  // namespace

int main()
{
    asio::io_context io;  // run by this thread only
    mb::retry_budget budget(mb::meetingbaas_budget_config);
    int finished = 0;
    for (int call = 1; call <= 3; ++call) {
        auto op = std::make_shared<operation>(io, call, budget, finished);
        asio::post(io, [op] { op->attempt(); });
    }
    const auto start = std::chrono::steady_clock::now();
    io.run();
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::printf("%d calls finished in %lld ms on one thread; budget left: %.1f tokens\n", finished,
                static_cast<long long>(took.count()), budget.tokens());
    return finished == 3 && took < 2s ? 0 : 1;
}
