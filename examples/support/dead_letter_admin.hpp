// SPDX-License-Identifier: MIT
#pragma once

// The dead-letter endpoints of the example server, for any meetingbaas::job_queue:
//
//   GET  /admin/dead-letters[?limit=N]          the oldest N (default 100, at most 1000), JSON
//   POST /admin/dead-letters/{id}/requeue       due now, attempt count reset; 404 when there is no such one
//   POST /admin/dead-letters/requeue-all[?limit=N]   the oldest N (default 1000), and how many remain
//
// Every request needs "Authorization: Bearer <token>" with the token the server was given
// (--admin-token); without a token the endpoints do not exist. A separate token rather than the Meeting
// BaaS API key: the API key is shared with the provider (it signs v1 webhooks), so whoever can send
// webhooks would also administer the queue, and rotating one would force rotating the other.

#include "http_server.hpp"
#include "json_log.hpp"

#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/sync/job_queue.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace support {

namespace detail {

/// Compares in time independent of where the strings differ.
inline bool same_secret(std::string_view a, std::string_view b) noexcept
{
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^
                                      static_cast<unsigned char>(b.empty() ? 0 : b[i % b.size()]));
    }
    return diff == 0;
}

inline http_response json_reply(int status, const nlohmann::json& body)
{
    return {status, body.dump() + "\n", "application/json"};
}

inline std::size_t limit_of(const http_request& req, std::size_t fallback, std::size_t max)
{
    const auto v = req.query("limit");
    if (!v || v->empty() || v->size() > 6) return fallback;
    std::size_t n = 0;
    for (const char c : *v) {
        if (c < '0' || c > '9') return fallback;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    return n == 0 ? fallback : std::min(n, max);
}

inline std::string timestamp(meetingbaas::queue_time t)
{
    return meetingbaas::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(t));
}

}  // namespace detail

/// Registers the /admin/dead-letters routes on `server` (handler pool: they use storage). `on_requeue` is
/// called after jobs were made due (wake the workers).
template <meetingbaas::job_queue Queue, class OnRequeue>
void add_dead_letter_routes(http_server& server, Queue& queue, std::string token, json_log& log,
                            OnRequeue on_requeue)
{
    auto authorized = [token = std::move(token)](const http_request& req) {
        const auto h = req.find("authorization");
        constexpr std::string_view scheme = "Bearer ";
        return h && h->size() > scheme.size() && h->substr(0, scheme.size()) == scheme &&
               detail::same_secret(h->substr(scheme.size()), token);
    };
    auto unauthorized = [] {
        auto r = detail::json_reply(401, {{"error", "missing or wrong Authorization: Bearer token"}});
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    };
    auto failed = [](const meetingbaas::error& e) {
        return detail::json_reply(e.code == meetingbaas::errc::not_found ? 404 : 503,
                                  {{"error", meetingbaas::to_string(e)}});
    };

    server.route("GET", "/admin/dead-letters",
                 [&queue, authorized, unauthorized, failed](const http_request& req) {
                     if (!authorized(req)) return unauthorized();
                     auto dead = queue.dead_letters(detail::limit_of(req, 100, 1000));
                     if (!dead) return failed(dead.error());
                     nlohmann::json list = nlohmann::json::array();
                     for (const auto& d : *dead) {
                         list.push_back({{"id", d.id},
                                         {"kind", d.kind},
                                         {"reason", d.reason},
                                         {"attempts", d.attempts},
                                         {"enqueued_at", detail::timestamp(d.enqueued_at)},
                                         {"failed_at", detail::timestamp(d.failed_at)},
                                         {"payload_bytes", d.payload.size()}});
                     }
                     return detail::json_reply(200, {{"dead_letters", std::move(list)}});
                 });

    server.route(
        "POST", "/admin/dead-letters/*",
        [&queue, &log, authorized, unauthorized, failed, on_requeue](const http_request& req) mutable {
            if (!authorized(req)) return unauthorized();
            std::string_view rest = req.path().substr(std::string_view("/admin/dead-letters/").size());
            if (rest == "requeue-all") {
                auto dead = queue.dead_letters(detail::limit_of(req, 1000, 100'000));
                if (!dead) return failed(dead.error());
                std::size_t done = 0;
                for (const auto& d : *dead) {
                    if (auto r = queue.requeue_dead_letter(d.id); !r) return failed(r.error());
                    ++done;
                }
                if (done > 0) on_requeue();
                log.write("admin", {{"action", "requeue_all"}, {"jobs", done}});
                auto stats = queue.stats();
                return detail::json_reply(200, {{"requeued", done}, {"remaining", stats ? stats->dead : 0}});
            }
            constexpr std::string_view suffix = "/requeue";
            if (rest.size() <= suffix.size() || rest.substr(rest.size() - suffix.size()) != suffix) {
                return detail::json_reply(404, {{"error", "no such admin endpoint"}});
            }
            const std::string id(rest.substr(0, rest.size() - suffix.size()));
            if (auto r = queue.requeue_dead_letter(id); !r) return failed(r.error());
            on_requeue();
            log.write("admin", {{"action", "requeue"}, {"job", id}});
            return detail::json_reply(200, {{"requeued", nlohmann::json::array({id})}});
        });
}

}  // namespace support
