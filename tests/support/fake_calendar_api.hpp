// SPDX-License-Identifier: MIT
#pragma once
// An in-process stand-in for the four v1 calls of calendar sync (satisfies meetingbaas::calendar_sync_api),
// with scripted faults and per-event POST/DELETE counters. For processor unit tests; the end-to-end tests
// use the loopback HTTP fake instead.

#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/models.hpp>
#include <meetingbaas/core/timestamp.hpp>

#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sync_test {

/// A v1 Event as JSON, with the fields the processor reads.
inline nlohmann::json make_event(const std::string& uuid, const std::string& name, const std::string& start,
                                 const std::string& end, const std::string& last_updated,
                                 const std::string& meeting_url, bool deleted = false, bool with_bot = false)
{
    nlohmann::json e = {{"uuid", uuid},
                        {"calendar_uuid", "62cf1c20-6d72-4a52-9217-c391ec23d7bf"},
                        {"google_id", "g-" + uuid},
                        {"name", name},
                        {"start_time", start},
                        {"end_time", end},
                        {"deleted", deleted},
                        {"is_organizer", true},
                        {"is_recurring", false},
                        {"recurring_event_id", nullptr},
                        {"last_updated_at", last_updated},
                        {"meeting_url", meeting_url},
                        {"attendees", nlohmann::json::array()},
                        {"bot_param", nullptr},
                        {"raw", nlohmann::json::object()}};
    if (with_bot) {
        e["bot_param"] = {{"bot_name", "Recorder"},
                          {"extra", nlohmann::json::object()},
                          {"transcription_custom_parameters", nullptr},
                          {"webhook_url", nullptr}};
    }
    return e;
}

class fake_calendar {
public:
    /// When true (the real API's behaviour), a POST sets bot_param and a DELETE clears it, and both move
    /// last_updated_at forward by one second.
    bool apply_writes = true;

    void put(const nlohmann::json& event)
    {
        std::lock_guard lock(mutex_);
        events_[event["uuid"].get<std::string>()] = event;
    }
    nlohmann::json get(const std::string& uuid)
    {
        std::lock_guard lock(mutex_);
        return events_[uuid];
    }
    void fail_next(meetingbaas::api_error e)
    {
        std::lock_guard lock(mutex_);
        faults_.push_back(std::move(e));
    }
    /// The next write is applied (as the real API would), but its answer is lost: it returns this error
    /// (by default a dropped connection after sending).
    void lose_next_answer()
    {
        lose_next_answer(transport_error(true, meetingbaas::transport_errc::connection_dropped));
    }
    void lose_next_answer(meetingbaas::api_error e)
    {
        std::lock_guard lock(mutex_);
        lost_answers_.push_back(std::move(e));
    }
    int posts(const std::string& uuid)
    {
        std::lock_guard lock(mutex_);
        return posts_[uuid];
    }
    int deletes(const std::string& uuid)
    {
        std::lock_guard lock(mutex_);
        return deletes_[uuid];
    }
    int total_posts()
    {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& [k, v] : posts_) n += v;
        return n;
    }
    std::vector<meetingbaas::v1_event_query> list_queries()
    {
        std::lock_guard lock(mutex_);
        return queries_;
    }
    int gets()
    {
        std::lock_guard lock(mutex_);
        return gets_;
    }

    meetingbaas::api_result<meetingbaas::v1_event> get_event(std::string_view uuid)
    {
        std::lock_guard lock(mutex_);
        ++gets_;
        if (auto f = take_fault()) return *f;
        const auto it = events_.find(std::string(uuid));
        if (it == events_.end()) return not_found("GET /calendar_events/{uuid}");
        return parse(it->second);
    }

    meetingbaas::api_result<std::vector<meetingbaas::v1_event>> list(const meetingbaas::v1_event_query& q)
    {
        std::lock_guard lock(mutex_);
        queries_.push_back(q);
        if (auto f = take_fault()) return *f;
        std::optional<meetingbaas::utc_time> gte;
        if (q.updated_at_gte) {
            auto t = meetingbaas::parse_timestamp(*q.updated_at_gte);
            if (t) gte = t->time;
        }
        std::vector<meetingbaas::v1_event> out;
        for (const auto& [uuid, json] : events_) {
            auto e = parse(json);
            if (!e) return e.error();
            if (gte && e->last_updated_at.time < *gte) continue;
            out.push_back(std::move(*e));
        }
        return out;
    }

    meetingbaas::api_result<std::vector<meetingbaas::v1_event>> write(std::string_view uuid, bool schedule)
    {
        std::lock_guard lock(mutex_);
        ++(schedule ? posts_ : deletes_)[std::string(uuid)];
        if (auto f = take_fault()) return *f;
        const auto it = events_.find(std::string(uuid));
        if (it == events_.end()) return not_found(schedule ? "POST /calendar_events/{uuid}/bot" : "DELETE");
        std::optional<meetingbaas::api_error> lost;
        if (!lost_answers_.empty()) {
            lost = std::move(lost_answers_.front());
            lost_answers_.pop_front();
        }
        if (apply_writes) {
            auto& e = it->second;
            if (schedule) {
                e["bot_param"] = {{"bot_name", "Recorder"},
                                  {"extra", nlohmann::json::object()},
                                  {"transcription_custom_parameters", nullptr},
                                  {"webhook_url", nullptr}};
            } else {
                e["bot_param"] = nullptr;
            }
            auto t = meetingbaas::parse_timestamp(e["last_updated_at"].get<std::string>());
            if (t) e["last_updated_at"] = meetingbaas::format_timestamp(t->time + std::chrono::seconds(1));
        }
        if (lost) return *lost;
        auto parsed = parse(it->second);
        if (!parsed) return parsed.error();
        return std::vector<meetingbaas::v1_event>{std::move(*parsed)};
    }

    static meetingbaas::api_error http_error(int status,
                                             std::optional<std::chrono::milliseconds> retry_after = {})
    {
        meetingbaas::api_error e;
        e.code = e.last_attempt_code = meetingbaas::errc::http_status;
        e.http_status = status;
        e.retry_after = retry_after;
        e.operation = "fake";
        e.attempts = 1;
        return e;
    }

    /// A transport failure: a dropped connection after sending (`maybe_sent`), or a refused connect.
    static meetingbaas::api_error
    transport_error(bool maybe_sent,
                    meetingbaas::transport_errc kind = meetingbaas::transport_errc::connection_dropped)
    {
        meetingbaas::api_error e;
        e.code = e.last_attempt_code = meetingbaas::errc::transport_error;
        e.transport = maybe_sent ? kind : meetingbaas::transport_errc::connect_failed;
        e.may_have_been_sent = maybe_sent;
        e.operation = "fake";
        e.message = maybe_sent ? "connection_dropped: scripted" : "connect_failed: scripted";
        e.attempts = 1;
        return e;
    }

    /// The api_client's give-up after `attempts` dropped connections (retries_exhausted wrapping them).
    static meetingbaas::api_error gave_up_after_drops(std::uint32_t attempts = 3)
    {
        auto e = transport_error(true);
        e.code = meetingbaas::errc::retries_exhausted;
        e.attempts = attempts;
        return e;
    }

    /// A 2xx whose body does not fit the schema.
    static meetingbaas::api_error malformed_2xx(int status = 200)
    {
        meetingbaas::api_error e;
        e.code = e.last_attempt_code = meetingbaas::errc::malformed_response;
        e.http_status = status;
        e.where = "/uuid";
        e.message = "missing_field: required field is absent";
        e.operation = "fake";
        e.attempts = 1;
        return e;
    }

private:
    std::optional<meetingbaas::api_error> take_fault()
    {
        if (faults_.empty()) return std::nullopt;
        auto f = std::move(faults_.front());
        faults_.pop_front();
        return f;
    }
    static meetingbaas::api_error not_found(std::string op)
    {
        auto e = http_error(404);
        e.operation = std::move(op);
        return e;
    }
    static meetingbaas::api_result<meetingbaas::v1_event> parse(const nlohmann::json& j)
    {
        auto e = meetingbaas::parse_v1_event(j);
        if (!e) {
            meetingbaas::api_error err;
            err.code = meetingbaas::errc::malformed_response;
            err.message = e.error().message;
            return err;
        }
        return std::move(*e);
    }

    std::mutex mutex_;
    std::map<std::string, nlohmann::json> events_;
    std::deque<meetingbaas::api_error> faults_;
    std::deque<meetingbaas::api_error> lost_answers_;
    std::map<std::string, int> posts_;
    std::map<std::string, int> deletes_;
    std::vector<meetingbaas::v1_event_query> queries_;
    int gets_ = 0;
};

/// The calendar_sync_api view of a fake_calendar (cheap to copy: one per worker).
struct fake_calendar_api {
    fake_calendar* calendar;

    meetingbaas::api_result<meetingbaas::v1_event> v1_get_event(std::string_view uuid)
    {
        return calendar->get_event(uuid);
    }
    meetingbaas::api_result<std::vector<meetingbaas::v1_event>>
    v1_list_events(const meetingbaas::v1_event_query& q)
    {
        return calendar->list(q);
    }
    meetingbaas::api_result<std::vector<meetingbaas::v1_event>>
    v1_schedule_bot(std::string_view uuid, const meetingbaas::v1_bot_config&)
    {
        return calendar->write(uuid, true);
    }
    meetingbaas::api_result<std::vector<meetingbaas::v1_event>> v1_unschedule_bot(std::string_view uuid)
    {
        return calendar->write(uuid, false);
    }
};

}  // namespace sync_test
