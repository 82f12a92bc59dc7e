// SPDX-License-Identifier: MIT
#pragma once

// A scripted http_client for unit tests: answers are queued in advance, requests are recorded.
// Copies share one script (so a test keeps a handle after moving the client into an api_client).

#include <meetingbaas/api/http.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace meetingbaas_test {

class fake_http_client {
public:
    fake_http_client() : state_(std::make_shared<state>()) {}

    /// Queues a response.
    fake_http_client& respond(int status, std::string body, meetingbaas::http_headers headers = {})
    {
        meetingbaas::http_response r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        state_->script.emplace_back(std::move(r));
        return *this;
    }

    /// Queues a transport failure.
    fake_http_client& fail(meetingbaas::transport_errc kind, bool may_have_been_sent,
                           std::string message = "scripted")
    {
        state_->script.emplace_back(
            meetingbaas::transport_error{kind, may_have_been_sent, std::move(message)});
        return *this;
    }

    /// Pops the next scripted answer; an empty script is a transport error (so a test notices).
    meetingbaas::http_result send(const meetingbaas::http_request& request)
    {
        state_->requests.push_back(request);
        if (state_->script.empty()) {
            return meetingbaas::transport_error{meetingbaas::transport_errc::other, false,
                                                "fake_http_client: no scripted answer left"};
        }
        auto next = std::move(state_->script.front());
        state_->script.pop_front();
        return next;
    }

    [[nodiscard]] const std::vector<meetingbaas::http_request>& requests() const noexcept
    {
        return state_->requests;
    }
    [[nodiscard]] std::size_t remaining() const noexcept { return state_->script.size(); }

private:
    struct state {
        std::deque<meetingbaas::http_result> script;
        std::vector<meetingbaas::http_request> requests;
    };
    std::shared_ptr<state> state_;
};

static_assert(meetingbaas::http_client<fake_http_client>);

}  // namespace meetingbaas_test
