// SPDX-License-Identifier: MIT
#pragma once

// A real HTTP server on 127.0.0.1 that plays the Meeting BaaS calendar API, v1 (spec §4.1) and v2 (spec
// §4.2), for tests, benchmarks and demos. cpp-httplib server on its own threads; link meetingbaas::httplib
// (needs exceptions, like every cpp-httplib user).
//
//   meetingbaas_test::fake_meetingbaas_api api({.api_key = "test-key", .page_size = 2});
//   api.load_fixtures(MEETINGBAAS_TEST_DATA_DIR);     // the api.v1.* events and their calendar
//   api.load_v2_fixtures(MEETINGBAAS_TEST_DATA_DIR);  // the calendar and events of the v2 fixtures
//   if (!api.start()) ...;                            // binds an ephemeral port
//   api.base_url();                                   // "http://127.0.0.1:<port>"
//   api.inject(fake_meetingbaas_api::fault::status_503, 2);   // the next 2 requests get a 503
//   api.set_faults({.p_503 = 0.1, .seed = 42});                // or random faults, seeded
//   api.post_count(uuid); api.v2_bot(event_id); api.calls(); api.stop();
//
// v1 endpoints: GET /calendars/, POST /calendars/resync_all, GET /calendar_events/ (filters calendar_id
// [required], start_date_gte, start_date_lte, updated_at_gte, status upcoming|past|all [default
// upcoming, relative to options.now], cursor; pages of options.page_size with `next` as a cursor, an
// absolute URL or a path), GET /calendar_events/{uuid}, POST|PATCH|DELETE /calendar_events/{uuid}/bot
// (?all_occurrences applies to every event of the same recurring series), and /_echo (any method: the
// request as JSON). Errors use v1's `{"error": "..."}` bodies.
//
// v2 endpoints (success bodies `{success: true, data, ...}`, errors `{success: false, error, code,
// statusCode, message}`):
//  * GET /v2/calendars (limit 1..250, default 50; cursor);
//  * GET /v2/calendars/{calendar_id}/events (limit, cursor, start_date and end_date [bounds of the start
//    time, inclusive], status [comma list of confirmed,cancelled,tentative], show_cancelled [default true]):
//    events ordered by start time then event_id; `cursor` is base64("<start_time>::<event_id>") of the
//    page's last event and continues after it, `prev_cursor` is "-" + base64(...) of its first event and
//    pages backwards; both null at the ends;
//  * GET /v2/calendars/{calendar_id}/events/{event_id} (404 unless the event is in that calendar);
//  * POST|PATCH|DELETE /v2/calendars/{calendar_id}/bots with the JSON body {series_id, all_occurrences,
//    event_id (when all_occurrences is false), bot fields...} (DELETE has a body too; another content type
//    gets 415, as from Fastify). One bot per event is kept (v2_bot()); `bot_scheduled` follows it. POST
//    answers 201, PATCH and DELETE 200, all with `{success: true, data: [{event_id}], errors: [{event_id,
//    code, message, details}]}`: with all_occurrences every event of the series starting at or after
//    options.now is targeted, and each one that cannot be done is an entry of `errors`
//    (BOT_ALREADY_EXISTS, NO_MEETING_URL, EVENT_CANCELLED, BOT_NOT_FOUND, BOT_STATUS) while the others
//    succeed. A single event_id that is unknown, or not in the series, is a 404, as the API documents
//    ("Returns 404 if the event series or event is not found"); so is a single event without a bot for
//    PATCH and DELETE, and for them a single event starting within 4 minutes of options.now is a 409
//    FST_ERR_BOT_STATUS. Not documented, so this fake's choices [I]: the 404 codes
//    (FST_ERR_CALENDAR_NOT_FOUND, ..._CALENDAR_EVENT_NOT_FOUND, ..._EVENT_SERIES_NOT_FOUND,
//    ..._CALENDAR_BOT_NOT_FOUND), the per-event codes other than BOT_ALREADY_EXISTS, and the status of
//    a wrong key (401; the spec names FST_ERR_FORBIDDEN for a bad or missing key, which it uses).
//
// Every request needs `x-meeting-baas-api-key: <options.api_key>` (else 401; on v2 routes with the v2
// body). Injected faults apply to every route; on v2 routes the 503 and 429 bodies are in the v2 shape,
// and a 429 also carries the body's `retryAfter` (seconds, as api.v2.error.429.json) and x-ratelimit-*
// headers.
// All methods are thread-safe.

#include <meetingbaas/api/detail/url.hpp>
#include <meetingbaas/auth/detail/base64.hpp>
#include <meetingbaas/core/timestamp.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace meetingbaas_test {

/// How `next` is spelled on list pages.
enum class fake_api_next_style { cursor, absolute_url, relative_url };

/// What can go wrong with one request.
enum class fake_api_fault {
    none,
    status_503,  ///< 503 {"error":"Service Unavailable"}
    status_429,  ///< 429 {"error":"TooManyRequests"} with Retry-After: fault_settings::retry_after
    slow,        ///< the normal answer, after fake_api_faults::slow_delay
    drop,        ///< headers promise a body, then the connection closes without it (not handled)
    drop_after,  ///< the request is handled (a write is applied), then the answer is lost the same way
    malformed,   ///< 200 with a body that fits no schema of the API (not handled)
    daily_cap,   ///< 429 FST_ERR_DAILY_BOT_CAP_REACHED (v2 body), with retryAfter (not handled)
};

/// Random faults (each request draws once, in this order), from a seeded engine.
struct fake_api_faults {
    double p_503 = 0.0;
    double p_429 = 0.0;
    double p_slow = 0.0;
    double p_drop = 0.0;
    double p_drop_after = 0.0;
    double p_malformed = 0.0;
    std::chrono::seconds retry_after{1};
    std::chrono::milliseconds slow_delay{1500};
    std::uint64_t seed = 1;
    /// Whether an injected 429 carries the Retry-After header (v2 routes always put retryAfter in the
    /// body): turn it off to check that a client honours the v2 body alone.
    bool retry_after_header = true;
    /// Only requests with one of these methods get faults (random and injected); empty: every request.
    std::vector<std::string> methods{};
};

struct fake_api_options {
    std::string api_key = "test-key";
    int port = 0;  ///< 0: an ephemeral port; otherwise this one (e.g. a port a client was refused on)
    std::size_t page_size = 100;
    fake_api_next_style next = fake_api_next_style::cursor;
    std::string now = "2026-09-15T00:00:00Z";  ///< "now" of the status filter
};

class fake_meetingbaas_api {
public:
    using next_style = fake_api_next_style;
    using fault = fake_api_fault;
    using fault_settings = fake_api_faults;
    using options = fake_api_options;

    /// One handled request.
    struct call {
        std::string method;
        std::string target;  ///< path and query as received
        int status = 0;      ///< 0 when the connection was dropped
        fault injected = fault::none;
        std::chrono::steady_clock::time_point at;
        int remote_port =
            -1;              ///< the client's port: equal ports on successive calls mean a reused connection
        std::string body{};  ///< the request body as received (e.g. the JSON of a v2 DELETE)
    };

    explicit fake_meetingbaas_api(options opts = {}) : options_(std::move(opts)), random_(1)
    {
        install_routes();
    }
    fake_meetingbaas_api(const fake_meetingbaas_api&) = delete;
    fake_meetingbaas_api& operator=(const fake_meetingbaas_api&) = delete;
    ~fake_meetingbaas_api() { stop(); }

    /// Binds 127.0.0.1 on an ephemeral port and serves on a background thread. False if binding failed.
    bool start()
    {
        if (thread_.joinable()) return true;
        stopping_ = false;
        server_.set_tcp_nodelay(true);  // without it, Nagle + delayed ACK add 40 ms to every answer
        server_.set_keep_alive_max_count(100000);
        server_.set_keep_alive_timeout(5);
        if (options_.port > 0) {
            port_ = server_.bind_to_port("127.0.0.1", options_.port) ? options_.port : -1;
        } else {
            port_ = server_.bind_to_any_port("127.0.0.1");
        }
        if (port_ <= 0) return false;
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 500 && !server_.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return server_.is_running();
    }

    /// Stops serving (wakes slow replies) and joins the thread. Idempotent.
    void stop()
    {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) {
            server_.stop();
            thread_.join();
        }
    }

    [[nodiscard]] int port() const noexcept { return port_; }
    [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] const options& settings() const noexcept { return options_; }

    void set_page_size(std::size_t n)
    {
        const std::lock_guard lock(mutex_);
        options_.page_size = n == 0 ? 1 : n;
    }
    void set_next_style(next_style s)
    {
        const std::lock_guard lock(mutex_);
        options_.next = s;
    }

    /// Inserts or replaces an event (keyed by its "uuid"); adds its calendar if unknown.
    void set_event(nlohmann::json event)
    {
        const std::lock_guard lock(mutex_);
        const auto uuid = string_of(event, "uuid");
        const auto calendar = string_of(event, "calendar_uuid");
        if (!calendar.empty() && !calendars_.contains(calendar)) {
            calendars_[calendar] = nlohmann::json{{"uuid", calendar},
                                                  {"name", "Calendar " + calendar.substr(0, 8)},
                                                  {"email", "owner@example.test"},
                                                  {"google_id", "primary"},
                                                  {"resource_id", nullptr}};
        }
        events_[uuid] = std::move(event);
    }

    bool remove_event(const std::string& uuid)
    {
        const std::lock_guard lock(mutex_);
        return events_.erase(uuid) > 0;
    }

    [[nodiscard]] std::optional<nlohmann::json> event(const std::string& uuid) const
    {
        const std::lock_guard lock(mutex_);
        const auto it = events_.find(uuid);
        if (it == events_.end()) return std::nullopt;
        return it->second;
    }

    /// Every event, ordered by uuid.
    [[nodiscard]] std::vector<nlohmann::json> events() const
    {
        const std::lock_guard lock(mutex_);
        std::vector<nlohmann::json> out;
        for (const auto& [uuid, e] : events_) out.push_back(e);
        return out;
    }

    void set_calendar(nlohmann::json calendar)
    {
        const std::lock_guard lock(mutex_);
        const auto uuid = string_of(calendar, "uuid");  // first: operator= takes its argument by value
        calendars_[uuid] = std::move(calendar);
    }

    /// Loads the events of api.v1.list_events.page.json and api.v1.get_event.json from `data_dir`.
    /// False when a file is missing or not the expected JSON.
    bool load_fixtures(const std::string& data_dir)
    {
        const auto page = read_json(data_dir + "/api.v1.list_events.page.json");
        const auto one = read_json(data_dir + "/api.v1.get_event.json");
        if (!page.is_object() || !one.is_object()) return false;
        const auto data = page.find("data");
        if (data == page.end() || !data->is_array()) return false;
        for (const auto& e : *data) set_event(e);
        set_event(one);
        return true;
    }

    [[nodiscard]] std::size_t post_count(const std::string& uuid) const { return count(post_counts_, uuid); }
    [[nodiscard]] std::size_t patch_count(const std::string& uuid) const
    {
        return count(patch_counts_, uuid);
    }
    [[nodiscard]] std::size_t delete_count(const std::string& uuid) const
    {
        return count(delete_counts_, uuid);
    }

    /// The requests handled so far, in order of completion.
    [[nodiscard]] std::vector<call> calls() const
    {
        const std::lock_guard lock(mutex_);
        return calls_;
    }
    void clear_calls()
    {
        const std::lock_guard lock(mutex_);
        calls_.clear();
    }

    void set_faults(const fault_settings& f)
    {
        const std::lock_guard lock(mutex_);
        faults_ = f;
        random_.seed(f.seed);
    }
    [[nodiscard]] fault_settings faults() const
    {
        const std::lock_guard lock(mutex_);
        return faults_;
    }

    /// The next `times` requests get `f` (before any random fault).
    void inject(fault f, std::size_t times = 1)
    {
        const std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < times; ++i) scripted_.push_back(f);
    }

    /// A copy of the fixture event `templ` with another uuid, start time and last_updated_at.
    static nlohmann::json make_event(nlohmann::json templ, const std::string& uuid,
                                     const std::string& start_time, const std::string& last_updated_at)
    {
        templ["uuid"] = uuid;
        templ["start_time"] = start_time;
        templ["end_time"] = start_time;
        templ["last_updated_at"] = last_updated_at;
        templ["deleted"] = false;
        templ["bot_param"] = nullptr;
        return templ;
    }

    // ----------------------------------------------------------------------------------------------
    // v2 state
    // ----------------------------------------------------------------------------------------------

    /// Inserts or replaces a v2 calendar connection (keyed by its "calendar_id").
    void set_v2_calendar(nlohmann::json calendar)
    {
        const std::lock_guard lock(mutex_);
        const auto id = string_of(calendar, "calendar_id");  // first: operator= takes its argument by value
        v2_calendars_[id] = std::move(calendar);
    }

    /// Inserts or replaces a v2 event (the details object of GET .../events/{event_id}, keyed by its
    /// "event_id"); adds a calendar for its "calendar_id" if unknown. Its "bot_scheduled" is ignored:
    /// the fake answers whether it keeps a bot for the event.
    void set_v2_event(nlohmann::json event)
    {
        const std::lock_guard lock(mutex_);
        const auto calendar = string_of(event, "calendar_id");
        if (!calendar.empty() && !v2_calendars_.contains(calendar)) {
            v2_calendars_[calendar] = nlohmann::json{{"calendar_id", calendar},
                                                     {"calendar_platform", "google"},
                                                     {"account_email", "owner@example.test"},
                                                     {"status", "active"},
                                                     {"synced_at", nullptr},
                                                     {"created_at", "2026-09-14T08:30:02.118Z"}};
        }
        const auto id = string_of(event, "event_id");  // first: operator= takes its argument by value
        v2_events_[id] = std::move(event);
    }

    /// A v2 event's details as GET would answer them, or nullopt.
    [[nodiscard]] std::optional<nlohmann::json> v2_event(const std::string& event_id) const
    {
        const std::lock_guard lock(mutex_);
        const auto it = v2_events_.find(event_id);
        if (it == v2_events_.end()) return std::nullopt;
        return v2_with_bot_state(it->second);
    }

    /// The bot configuration kept for a v2 event (the POST body without the targeting fields, PATCHes
    /// merged in), or nullopt when none is scheduled.
    [[nodiscard]] std::optional<nlohmann::json> v2_bot(const std::string& event_id) const
    {
        const std::lock_guard lock(mutex_);
        const auto it = v2_bots_.find(event_id);
        if (it == v2_bots_.end()) return std::nullopt;
        return it->second;
    }

    /// How many POSTs (one event, all_occurrences false) and DELETEs targeted `event_id`, and how many
    /// all_occurrences POSTs targeted `series_id` (requests handled; a dropped one before handling is not).
    [[nodiscard]] std::size_t v2_post_count(const std::string& event_id) const
    {
        return count(v2_post_counts_, event_id);
    }
    [[nodiscard]] std::size_t v2_delete_count(const std::string& event_id) const
    {
        return count(v2_delete_counts_, event_id);
    }
    [[nodiscard]] std::size_t v2_series_post_count(const std::string& series_id) const
    {
        return count(v2_series_post_counts_, series_id);
    }
    /// Forgets the request counters (v1 and v2) and the call log, e.g. after a test's setup.
    void reset_counts()
    {
        const std::lock_guard lock(mutex_);
        post_counts_.clear();
        patch_counts_.clear();
        delete_counts_.clear();
        v2_post_counts_.clear();
        v2_delete_counts_.clear();
        v2_series_post_counts_.clear();
        calls_.clear();
    }

    /// Every POST and DELETE of one event, summed over events.
    [[nodiscard]] std::size_t v2_writes() const
    {
        const std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& [id, c] : v2_post_counts_) n += c;
        for (const auto& [id, c] : v2_delete_counts_) n += c;
        for (const auto& [id, c] : v2_series_post_counts_) n += c;
        return n;
    }

    /// From now on, POST and DELETE answer an entry of `errors` for `event_id` (a partial success) with this
    /// code and message, instead of acting on it. An empty code clears it.
    void set_v2_item_error(const std::string& event_id, std::string code, std::string message = "refused")
    {
        const std::lock_guard lock(mutex_);
        if (code.empty()) {
            v2_item_errors_.erase(event_id);
        } else {
            v2_item_errors_[event_id] = {std::move(code), std::move(message)};
        }
    }

    /// Changes fields of a stored v2 event (as the provider does) and moves its updated_at forward by one
    /// second (or to `updated_at` when given). False when the event is unknown.
    bool update_v2_event(const std::string& event_id, const nlohmann::json& changes,
                         std::optional<std::string> updated_at = std::nullopt)
    {
        const std::lock_guard lock(mutex_);
        const auto it = v2_events_.find(event_id);
        if (it == v2_events_.end()) return false;
        for (auto f = changes.begin(); f != changes.end(); ++f) it->second[f.key()] = f.value();
        if (updated_at) {
            it->second["updated_at"] = *updated_at;
        } else if (const auto t = time_of(it->second, "updated_at")) {
            it->second["updated_at"] = meetingbaas::format_timestamp(*t + std::chrono::seconds(1));
        }
        return true;
    }

    /// Forgets every v2 bot (e.g. between benchmark iterations).
    void clear_v2_bots()
    {
        const std::lock_guard lock(mutex_);
        v2_bots_.clear();
    }

    /// Removes a v2 event (GET answers 404 from now on).
    bool remove_v2_event(const std::string& event_id)
    {
        const std::lock_guard lock(mutex_);
        v2_bots_.erase(event_id);
        return v2_events_.erase(event_id) > 0;
    }

    /// Loads the v2 calendar of v2.calendar.connection_created.json and the events of
    /// v2.calendar.events_synced.json (every instance of every series) from `data_dir`, as the v2 API
    /// would serve them. False when a file is missing or not the expected JSON.
    bool load_v2_fixtures(const std::string& data_dir)
    {
        const auto connection = read_json(data_dir + "/v2.calendar.connection_created.json");
        const auto synced = read_json(data_dir + "/v2.calendar.events_synced.json");
        if (!connection.is_object() || !synced.is_object()) return false;
        const auto calendar = connection.find("data");
        const auto data = synced.find("data");
        if (calendar == connection.end() || !calendar->is_object() || data == synced.end() ||
            !data->is_object())
            return false;
        const auto series = data->find("events");
        if (series == data->end() || !series->is_array()) return false;
        auto connection_data = *calendar;
        connection_data["synced_at"] = nullptr;
        set_v2_calendar(connection_data);
        for (const auto& s : *series) {
            const auto instances = s.find("instances");
            if (instances == s.end() || !instances->is_array()) return false;
            for (const auto& instance : *instances) {
                set_v2_event(v2_event_from_instance(connection_data, s, instance));
            }
        }
        return true;
    }

    /// The v2 event details of one instance of a calendar.events_synced series (fields the webhook lacks
    /// are null, or the connection's: organizer and attendee are the connected account).
    static nlohmann::json v2_event_from_instance(const nlohmann::json& connection,
                                                 const nlohmann::json& series, const nlohmann::json& instance)
    {
        const auto account = string_of(connection, "account_email");
        return nlohmann::json{
            {"event_id", instance.value("event_id", "")},
            {"series_id", series.value("series_id", "")},
            {"event_type", series.value("event_type", "")},
            {"title", instance.value("title", "")},
            {"description", nullptr},
            {"location", nullptr},
            {"start_time", instance.value("start", "")},
            {"end_time", instance.value("end", "")},
            {"timezone", nullptr},
            {"is_all_day", instance.value("is_all_day", false)},
            {"status", instance.value("status", "confirmed")},
            {"is_exception", instance.value("is_exception", false)},
            {"organizer_email", account},
            {"organizer_name", nullptr},
            {"attendees", nlohmann::json::array({nlohmann::json{{"email", account},
                                                                {"name", nullptr},
                                                                {"response_status", "accepted"},
                                                                {"organizer", true},
                                                                {"self", true}}})},
            {"meeting_url", instance.contains("meeting_url") ? instance["meeting_url"] : nlohmann::json()},
            {"meeting_platform",
             instance.contains("meeting_platform") ? instance["meeting_platform"] : nlohmann::json()},
            {"calendar_id", string_of(connection, "calendar_id")},
            {"calendar_platform", string_of(connection, "calendar_platform")},
            {"bot_scheduled", false},
            {"raw_payload", nullptr},
            {"created_at", string_of(connection, "created_at")},
            {"updated_at", string_of(connection, "created_at")},
        };
    }

    /// A copy of the v2 event `templ` with another event_id, series_id and start time (end_time =
    /// start_time, as make_event does), and no bot.
    static nlohmann::json make_v2_event(nlohmann::json templ, const std::string& event_id,
                                        const std::string& series_id, const std::string& start_time)
    {
        templ["event_id"] = event_id;
        templ["series_id"] = series_id;
        templ["start_time"] = start_time;
        templ["end_time"] = start_time;
        templ["bot_scheduled"] = false;
        return templ;
    }

private:
    using handler = std::function<void(const httplib::Request&, httplib::Response&)>;

    static std::string string_of(const nlohmann::json& j, const char* key)
    {
        const auto it = j.find(key);
        return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
    }

    static nlohmann::json read_json(const std::string& path)
    {
        std::ifstream in(path, std::ios::binary);
        if (!in) return nlohmann::json();
        std::ostringstream s;
        s << in.rdbuf();
        return nlohmann::json::parse(s.str(), nullptr, false);
    }

    std::size_t count(const std::map<std::string, std::size_t>& m, const std::string& uuid) const
    {
        const std::lock_guard lock(mutex_);
        const auto it = m.find(uuid);
        return it == m.end() ? 0 : it->second;
    }

    static void json_reply(httplib::Response& res, int status, const nlohmann::json& body)
    {
        res.status = status;
        res.set_content(body.dump(), "application/json");
    }
    static void error_reply(httplib::Response& res, int status, const std::string& message)
    {
        json_reply(res, status, nlohmann::json{{"error", message}});
    }

    /// Which API a route belongs to: decides the shape of error bodies.
    enum class generation { v1, v2 };

    static const char* v2_error_name(int status)
    {
        switch (status) {
            case 400: return "Bad Request";
            case 401: return "Unauthorized";
            case 404: return "Not Found";
            case 409: return "Conflict";
            case 415: return "Unsupported Media Type";
            case 429: return "Rate Limited";  // as in api.v2.error.429.json
            case 503: return "Service Unavailable";
            default: return "Error";
        }
    }

    /// A v2 error body: {success: false, error, code, statusCode, message[, retryAfter]}.
    static void v2_error_reply(httplib::Response& res, int status, std::string_view code,
                               const std::string& message,
                               std::optional<std::chrono::seconds> retry_after = std::nullopt)
    {
        nlohmann::json body{{"success", false},
                            {"error", v2_error_name(status)},
                            {"code", code},
                            {"statusCode", status},
                            {"message", message}};
        if (retry_after) body["retryAfter"] = retry_after->count();
        json_reply(res, status, body);
    }

    fault draw_fault(const std::string& method)
    {
        if (!faults_.methods.empty() &&
            std::find(faults_.methods.begin(), faults_.methods.end(), method) == faults_.methods.end()) {
            return fault::none;
        }
        if (!scripted_.empty()) {
            const auto f = scripted_.front();
            scripted_.pop_front();
            return f;
        }
        std::uniform_real_distribution<double> u(0.0, 1.0);
        if (faults_.p_503 > 0 && u(random_) < faults_.p_503) return fault::status_503;
        if (faults_.p_429 > 0 && u(random_) < faults_.p_429) return fault::status_429;
        if (faults_.p_slow > 0 && u(random_) < faults_.p_slow) return fault::slow;
        if (faults_.p_drop > 0 && u(random_) < faults_.p_drop) return fault::drop;
        if (faults_.p_drop_after > 0 && u(random_) < faults_.p_drop_after) return fault::drop_after;
        if (faults_.p_malformed > 0 && u(random_) < faults_.p_malformed) return fault::malformed;
        return fault::none;
    }

    /// Wraps a route: faults, the API-key check, the handler, the call log. `gen` picks the error bodies.
    handler wrap(handler inner, generation gen = generation::v1)
    {
        return [this, gen, inner = std::move(inner)](const httplib::Request& req, httplib::Response& res) {
            fault f = fault::none;
            fault_settings settings;
            {
                const std::lock_guard lock(mutex_);
                f = draw_fault(req.method);
                settings = faults_;
            }
            if (f == fault::slow) {
                std::unique_lock lock(mutex_);
                wake_.wait_for(lock, settings.slow_delay, [this] { return stopping_; });
            }
            const bool v2 = gen == generation::v2;
            if (f == fault::status_503) {
                if (v2) {
                    v2_error_reply(res, 503, "FST_ERR_SERVICE_UNAVAILABLE", "Service Unavailable");
                } else {
                    error_reply(res, 503, "Service Unavailable");
                }
            } else if (f == fault::status_429) {
                const auto seconds = std::to_string(settings.retry_after.count());
                if (settings.retry_after_header) res.set_header("Retry-After", seconds);
                if (v2) {  // spec §4.3: rate-limit headers, and the body of api.v2.error.429.json
                    res.set_header("x-ratelimit-limit", "5");
                    res.set_header("x-ratelimit-remaining", "0");
                    res.set_header("x-ratelimit-reset", seconds);
                    v2_error_reply(
                        res, 429, "FST_ERR_TOO_MANY_REQUESTS",
                        "Rate limit exceeded. Maximum 5 requests per second allowed. Retry after " + seconds +
                            " seconds",
                        settings.retry_after);
                } else {
                    error_reply(res, 429, "TooManyRequests");
                }
            } else if (f == fault::daily_cap) {
                res.set_header("Retry-After", "3600");
                v2_error_reply(res, 429, "FST_ERR_DAILY_BOT_CAP_REACHED", "Daily bot cap reached",
                               std::chrono::seconds(3600));
            } else if (f == fault::malformed) {
                json_reply(res, 200, nlohmann::json{{"unexpected", true}});
            } else if (f == fault::drop) {
                res.status = 200;
                res.set_content_provider(1024, "application/json",
                                         [](std::size_t, std::size_t, httplib::DataSink&) {
                                             return false;
                                         });  // closes the connection
            } else if (f == fault::drop_after &&
                       req.get_header_value("x-meeting-baas-api-key") == options_.api_key) {
                inner(req, res);  // the write is applied...
                res.status = 200;
                res.body.clear();  // ...and its answer lost
                res.set_content_provider(1024, "application/json",
                                         [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
            } else if (req.get_header_value("x-meeting-baas-api-key") != options_.api_key) {
                if (v2) {
                    v2_error_reply(res, 401, "FST_ERR_FORBIDDEN", "Invalid or missing API key");
                } else {
                    error_reply(res, 401, "InvalidApiKey");
                }
            } else {
                inner(req, res);
            }
            const std::lock_guard lock(mutex_);
            calls_.push_back(call{req.method, req.target.empty() ? req.path : req.target,
                                  f == fault::drop || f == fault::drop_after ? 0 : res.status, f,
                                  std::chrono::steady_clock::now(), req.remote_port, req.body});
        };
    }

    void install_routes()
    {
        // /_echo: any method; answers {method, target, body, headers} (for adapter tests, e.g. DELETE
        // bodies).
        const auto echo = wrap([](const httplib::Request& req, httplib::Response& res) {
            auto headers = nlohmann::json::object();
            for (const auto& [name, value] : req.headers) headers[name] = value;
            res.set_header("X-Echo", "yes");
            json_reply(res, 200,
                       nlohmann::json{{"method", req.method},
                                      {"target", req.target},
                                      {"body", req.body},
                                      {"headers", headers}});
        });
        server_.Get("/_echo", echo);
        server_.Post("/_echo", echo);
        server_.Put("/_echo", echo);
        server_.Patch("/_echo", echo);
        server_.Delete("/_echo", echo);
        server_.Get("/calendars/", wrap([this](const httplib::Request&, httplib::Response& res) {
                        const std::lock_guard lock(mutex_);
                        auto list = nlohmann::json::array();
                        for (const auto& [id, c] : calendars_) list.push_back(c);
                        json_reply(res, 200, list);
                    }));
        server_.Post(
            "/calendars/resync_all", wrap([this](const httplib::Request&, httplib::Response& res) {
                const std::lock_guard lock(mutex_);
                auto synced = nlohmann::json::array();
                for (const auto& [id, c] : calendars_) synced.push_back(id);
                json_reply(res, 200,
                           nlohmann::json{{"synced_calendars", synced}, {"errors", nlohmann::json::array()}});
            }));
        const auto list =
            wrap([this](const httplib::Request& req, httplib::Response& res) { list_events(req, res); });
        server_.Get("/calendar_events/", list);
        server_.Get("/calendar_events", list);
        server_.Get(R"(/calendar_events/([^/]+))",
                    wrap([this](const httplib::Request& req, httplib::Response& res) {
                        const std::lock_guard lock(mutex_);
                        const auto it = events_.find(req.matches[1].str());
                        if (it == events_.end()) return error_reply(res, 404, "Event not found");
                        json_reply(res, 200, it->second);
                    }));
        server_.Post(R"(/calendar_events/([^/]+)/bot)",
                     wrap([this](const httplib::Request& req, httplib::Response& res) {
                         bot_call(req, res, "POST");
                     }));
        server_.Patch(R"(/calendar_events/([^/]+)/bot)",
                      wrap([this](const httplib::Request& req, httplib::Response& res) {
                          bot_call(req, res, "PATCH");
                      }));
        server_.Delete(R"(/calendar_events/([^/]+)/bot)",
                       wrap([this](const httplib::Request& req, httplib::Response& res) {
                           bot_call(req, res, "DELETE");
                       }));

        // v2 (spec §4.2)
        server_.Get("/v2/calendars", wrap([this](const httplib::Request& req,
                                                 httplib::Response& res) { v2_list_calendars(req, res); },
                                          generation::v2));
        server_.Get(
            R"(/v2/calendars/([^/]+)/events)",
            wrap([this](const httplib::Request& req, httplib::Response& res) { v2_list_events(req, res); },
                 generation::v2));
        server_.Get(
            R"(/v2/calendars/([^/]+)/events/([^/]+))",
            wrap([this](const httplib::Request& req, httplib::Response& res) { v2_get_event(req, res); },
                 generation::v2));
        server_.Post(R"(/v2/calendars/([^/]+)/bots)",
                     wrap([this](const httplib::Request& req,
                                 httplib::Response& res) { v2_bot_call(req, res, "POST"); },
                          generation::v2));
        server_.Patch(R"(/v2/calendars/([^/]+)/bots)",
                      wrap([this](const httplib::Request& req,
                                  httplib::Response& res) { v2_bot_call(req, res, "PATCH"); },
                           generation::v2));
        server_.Delete(R"(/v2/calendars/([^/]+)/bots)",
                       wrap([this](const httplib::Request& req,
                                   httplib::Response& res) { v2_bot_call(req, res, "DELETE"); },
                            generation::v2));
    }

    static std::optional<meetingbaas::utc_time> time_of(const nlohmann::json& e, const char* key)
    {
        const auto t = meetingbaas::parse_timestamp(string_of(e, key));
        if (!t) return std::nullopt;
        return t->time;
    }

    void list_events(const httplib::Request& req, httplib::Response& res)
    {
        const std::lock_guard lock(mutex_);
        const auto calendar_id = req.get_param_value("calendar_id");
        if (calendar_id.empty()) return error_reply(res, 400, "calendar_id is required");
        std::optional<meetingbaas::utc_time> bounds[3];
        const char* names[3] = {"start_date_gte", "start_date_lte", "updated_at_gte"};
        for (int i = 0; i < 3; ++i) {
            if (!req.has_param(names[i])) continue;
            const auto t = meetingbaas::parse_timestamp(req.get_param_value(names[i]));
            if (!t) return error_reply(res, 400, std::string("invalid ") + names[i]);
            bounds[i] = t->time;
        }
        const auto status = req.has_param("status") ? req.get_param_value("status") : std::string("upcoming");
        if (status != "upcoming" && status != "past" && status != "all")
            return error_reply(res, 400, "invalid status");
        const auto now = meetingbaas::parse_timestamp(options_.now);

        std::vector<const nlohmann::json*> matching;
        for (const auto& [uuid, e] : events_) {
            if (string_of(e, "calendar_uuid") != calendar_id) continue;
            const auto start = time_of(e, "start_time");
            const auto end = time_of(e, "end_time");
            const auto updated = time_of(e, "last_updated_at");
            if (bounds[0] && (!start || *start < *bounds[0])) continue;
            if (bounds[1] && (!start || *start > *bounds[1])) continue;
            if (bounds[2] && (!updated || *updated < *bounds[2])) continue;
            if (status == "upcoming" && now && end && *end < now->time) continue;
            if (status == "past" && now && end && *end >= now->time) continue;
            matching.push_back(&e);
        }
        std::sort(matching.begin(), matching.end(),
                  [](const nlohmann::json* a, const nlohmann::json* b) {  // keys are unique
                      const auto ka = string_of(*a, "start_time") + string_of(*a, "uuid");
                      const auto kb = string_of(*b, "start_time") + string_of(*b, "uuid");
                      return ka < kb;
                  });

        std::size_t offset = 0;
        if (req.has_param("cursor")) {
            const auto cursor = req.get_param_value("cursor");
            if (cursor.rfind("page-", 0) != 0) return error_reply(res, 400, "invalid cursor");
            offset = static_cast<std::size_t>(std::strtoull(cursor.c_str() + 5, nullptr, 10));
        }
        auto page = nlohmann::json::object();
        page["data"] = nlohmann::json::array();
        for (std::size_t i = offset; i < matching.size() && i < offset + options_.page_size; ++i) {
            page["data"].push_back(*matching[i]);
        }
        const std::size_t next_offset = offset + options_.page_size;
        if (next_offset < matching.size()) {
            const std::string cursor = "page-" + std::to_string(next_offset);
            std::string query = "?calendar_id=" + meetingbaas::detail::percent_encode(calendar_id);
            for (const char* p : {"start_date_gte", "start_date_lte", "updated_at_gte", "status"}) {
                if (req.has_param(p))
                    query += std::string("&") + p + "=" +
                             meetingbaas::detail::percent_encode(req.get_param_value(p));
            }
            query += "&cursor=" + cursor;
            switch (options_.next) {
                case next_style::cursor: page["next"] = cursor; break;
                case next_style::absolute_url: page["next"] = base_url() + "/calendar_events/" + query; break;
                case next_style::relative_url: page["next"] = "/calendar_events/" + query; break;
            }
        } else {
            page["next"] = nullptr;
        }
        json_reply(res, 200, page);
    }

    void bot_call(const httplib::Request& req, httplib::Response& res, std::string_view method)
    {
        const std::lock_guard lock(mutex_);
        const auto uuid = req.matches[1].str();
        const auto it = events_.find(uuid);
        if (it == events_.end()) return error_reply(res, 404, "Event not found");
        const bool all = req.get_param_value("all_occurrences") == "true";
        nlohmann::json body;
        if (method != "DELETE") {
            body = nlohmann::json::parse(req.body, nullptr, false);
            if (!body.is_object()) return error_reply(res, 400, "the body must be a JSON object");
            if (method == "POST" && (!body.contains("bot_name") || !body["bot_name"].is_string())) {
                return error_reply(res, 400, "bot_name is required");
            }
            if (method == "PATCH" && it->second["bot_param"].is_null())
                return error_reply(res, 404, "BotNotFound");
        }
        std::vector<nlohmann::json*> targets{&it->second};
        const auto series = string_of(it->second, "recurring_event_id");
        if (all && !series.empty()) {
            targets.clear();
            for (auto& [id, e] : events_) {
                if (string_of(e, "recurring_event_id") == series) targets.push_back(&e);
            }
        }
        auto answer = nlohmann::json::array();
        for (auto* e : targets) {
            if (method == "DELETE") {
                (*e)["bot_param"] = nullptr;
            } else {
                nlohmann::json stored = method == "PATCH" ? (*e)["bot_param"] : nlohmann::json::object();
                for (auto f = body.begin(); f != body.end(); ++f) {
                    if (f.key() == "speech_to_text") {
                        const auto& stt = f.value();
                        stored["speech_to_text_provider"] =
                            stt.is_object() ? nlohmann::json(stt.value("provider", "Default"))
                                            : (stt.is_string() ? stt : nlohmann::json("Default"));
                        stored["speech_to_text_api_key"] =
                            stt.is_object() && stt.contains("api_key") ? stt["api_key"] : nlohmann::json();
                    } else {
                        stored[f.key()] = f.value();
                    }
                }
                for (const char* k : {"extra", "transcription_custom_parameters", "webhook_url"}) {
                    if (!stored.contains(k))
                        stored[k] =
                            std::string_view(k) == "extra" ? nlohmann::json::object() : nlohmann::json();
                }
                (*e)["bot_param"] = std::move(stored);
            }
            answer.push_back(*e);
        }
        auto& counts = method == "POST" ? post_counts_ : (method == "PATCH" ? patch_counts_ : delete_counts_);
        ++counts[uuid];
        json_reply(res, 200, answer);
    }

    // ----------------------------------------------------------------------------------------------
    // v2 handlers (each takes mutex_)
    // ----------------------------------------------------------------------------------------------

    /// A v2 list item with its sort key: (time, id), the time also as text for the cursor.
    struct v2_item {
        meetingbaas::utc_time time{};
        std::string id;
        std::string time_text;
        nlohmann::json body;
    };

    static bool v2_before(const v2_item& a, const v2_item& b)
    {
        return std::tie(a.time, a.id) < std::tie(b.time, b.id);
    }

    /// base64("<isoDate>::<id>"), spec §4.2.
    static std::string v2_cursor_of(const v2_item& item)
    {
        return meetingbaas::detail::base64_encode(item.time_text + "::" + item.id);
    }

    /// The key a cursor (without its leading '-') stands for, or nullopt if it is not one of ours.
    static std::optional<v2_item> v2_cursor_key(std::string_view cursor)
    {
        const auto bytes = meetingbaas::detail::base64_decode(cursor);
        if (!bytes) return std::nullopt;
        const std::string text(bytes->begin(), bytes->end());
        const auto sep = text.find("::");
        if (sep == std::string::npos) return std::nullopt;
        const auto time = meetingbaas::parse_timestamp(std::string_view(text).substr(0, sep));
        if (!time) return std::nullopt;
        v2_item key;
        key.time = time->time;
        key.id = text.substr(sep + 2);
        key.time_text = text.substr(0, sep);
        return key;
    }

    /// Answers one page of `items` (sorted) in the v2 envelope: limit 1..250 (default 50) and the v2
    /// cursor form (forward after the cursor's item, or backwards before it with a leading '-').
    static void v2_page_reply(const std::vector<v2_item>& items, const httplib::Request& req,
                              httplib::Response& res)
    {
        std::size_t limit = 50;
        if (req.has_param("limit")) {
            const auto text = req.get_param_value("limit");
            char* end = nullptr;
            const auto n = std::strtol(text.c_str(), &end, 10);
            if (text.empty() || end != text.c_str() + text.size())
                return v2_error_reply(res, 400, "FST_ERR_VALIDATION", "querystring/limit must be integer");
            if (n < 1 || n > 250) {
                return v2_error_reply(res, 400, "FST_ERR_VALIDATION",
                                      n < 1 ? "querystring/limit must be >= 1"
                                            : "querystring/limit must be <= 250");
            }
            limit = static_cast<std::size_t>(n);
        }
        std::size_t begin = 0;
        std::size_t end = std::min(limit, items.size());
        if (const auto cursor = req.get_param_value("cursor"); !cursor.empty()) {
            const bool backwards = cursor.front() == '-';
            const auto key = v2_cursor_key(backwards ? std::string_view(cursor).substr(1) : cursor);
            if (!key) return v2_error_reply(res, 400, "FST_ERR_VALIDATION", "Invalid cursor");
            if (backwards) {  // the `limit` items before the key
                end = static_cast<std::size_t>(std::lower_bound(items.begin(), items.end(), *key, v2_before) -
                                               items.begin());
                begin = end > limit ? end - limit : 0;
            } else {  // the `limit` items after the key
                begin = static_cast<std::size_t>(
                    std::upper_bound(items.begin(), items.end(), *key, v2_before) - items.begin());
                end = std::min(begin + limit, items.size());
            }
        }
        auto data = nlohmann::json::array();
        for (std::size_t i = begin; i < end; ++i) data.push_back(items[i].body);
        const bool more_after = end > begin && end < items.size();
        const bool more_before = end > begin && begin > 0;
        // Built with append: GCC 12 at -O3 flags "-" + std::string&& with a false -Wrestrict (GCC bug
        // 105651).
        std::string prev_cursor;
        if (more_before) prev_cursor.append("-").append(v2_cursor_of(items[begin]));
        json_reply(
            res, 200,
            nlohmann::json{
                {"success", true},
                {"data", std::move(data)},
                {"cursor", more_after ? nlohmann::json(v2_cursor_of(items[end - 1])) : nlohmann::json()},
                {"prev_cursor", more_before ? nlohmann::json(std::move(prev_cursor)) : nlohmann::json()}});
    }

    /// The stored event with `bot_scheduled` set from the bot state. Caller holds mutex_.
    nlohmann::json v2_with_bot_state(const nlohmann::json& event) const
    {
        auto out = event;
        out["bot_scheduled"] = v2_bots_.contains(string_of(event, "event_id"));
        return out;
    }

    void v2_list_calendars(const httplib::Request& req, httplib::Response& res)
    {
        const std::lock_guard lock(mutex_);
        std::vector<v2_item> items;
        for (const auto& [id, c] : v2_calendars_) {
            v2_item item;
            item.id = id;
            item.time_text = string_of(c, "created_at");
            if (const auto t = time_of(c, "created_at")) item.time = *t;
            item.body = nlohmann::json::object();
            for (const char* k :
                 {"calendar_id", "calendar_platform", "account_email", "status", "synced_at", "created_at"}) {
                item.body[k] = c.contains(k) ? c[k] : nlohmann::json();
            }
            items.push_back(std::move(item));
        }
        std::sort(items.begin(), items.end(), v2_before);
        v2_page_reply(items, req, res);
    }

    void v2_list_events(const httplib::Request& req, httplib::Response& res)
    {
        const std::lock_guard lock(mutex_);
        const auto calendar_id = req.matches[1].str();
        if (!v2_calendars_.contains(calendar_id))
            return v2_error_reply(res, 404, "FST_ERR_CALENDAR_NOT_FOUND", "Calendar not found");
        bool show_cancelled = true;
        if (req.has_param("show_cancelled")) {
            const auto v = req.get_param_value("show_cancelled");
            if (v != "true" && v != "false")
                return v2_error_reply(res, 400, "FST_ERR_VALIDATION",
                                      "querystring/show_cancelled must be boolean");
            show_cancelled = v == "true";
        }
        std::optional<meetingbaas::utc_time> bounds[2];
        const char* names[2] = {"start_date", "end_date"};
        for (int i = 0; i < 2; ++i) {
            if (!req.has_param(names[i])) continue;
            const auto t = meetingbaas::parse_timestamp(req.get_param_value(names[i]));
            if (!t) {
                return v2_error_reply(res, 400, "FST_ERR_VALIDATION",
                                      std::string("querystring/") + names[i] +
                                          " must match format \"date-time\"");
            }
            bounds[i] = t->time;
        }
        std::vector<std::string> statuses;
        if (req.has_param("status")) {
            const auto param = req.get_param_value("status");
            std::string_view list = param;
            while (!list.empty()) {
                const auto comma = list.find(',');
                const auto one = list.substr(0, comma);
                if (one != "confirmed" && one != "cancelled" && one != "tentative")
                    return v2_error_reply(res, 400, "FST_ERR_VALIDATION", "querystring/status is invalid");
                statuses.emplace_back(one);
                list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            }
        }
        std::vector<v2_item> items;
        for (const auto& [id, e] : v2_events_) {
            if (string_of(e, "calendar_id") != calendar_id) continue;
            const auto status = string_of(e, "status");
            if (!show_cancelled && status == "cancelled") continue;
            if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), status) == statuses.end())
                continue;
            const auto start = time_of(e, "start_time");
            if (bounds[0] && (!start || *start < *bounds[0])) continue;
            if (bounds[1] && (!start || *start > *bounds[1])) continue;
            v2_item item;
            item.id = id;
            item.time_text = string_of(e, "start_time");
            if (start) item.time = *start;
            item.body = nlohmann::json::object();
            for (const char* k :
                 {"event_id", "series_id", "event_type", "title", "start_time", "end_time", "status",
                  "is_exception", "meeting_url", "meeting_platform", "calendar_id", "created_at"}) {
                item.body[k] = e.contains(k) ? e[k] : nlohmann::json();
            }
            item.body["bot_scheduled"] = v2_bots_.contains(id);
            items.push_back(std::move(item));
        }
        std::sort(items.begin(), items.end(), v2_before);
        v2_page_reply(items, req, res);
    }

    void v2_get_event(const httplib::Request& req, httplib::Response& res)
    {
        const std::lock_guard lock(mutex_);
        const auto calendar_id = req.matches[1].str();
        if (!v2_calendars_.contains(calendar_id))
            return v2_error_reply(res, 404, "FST_ERR_CALENDAR_NOT_FOUND", "Calendar not found");
        const auto it = v2_events_.find(req.matches[2].str());
        if (it == v2_events_.end() || string_of(it->second, "calendar_id") != calendar_id)
            return v2_error_reply(res, 404, "FST_ERR_CALENDAR_EVENT_NOT_FOUND", "Calendar event not found");
        json_reply(res, 200, nlohmann::json{{"success", true}, {"data", v2_with_bot_state(it->second)}});
    }

    /// POST|PATCH|DELETE /v2/calendars/{calendar_id}/bots.
    void v2_bot_call(const httplib::Request& req, httplib::Response& res, std::string_view method)
    {
        const std::lock_guard lock(mutex_);
        const auto calendar_id = req.matches[1].str();
        if (!v2_calendars_.contains(calendar_id))
            return v2_error_reply(res, 404, "FST_ERR_CALENDAR_NOT_FOUND", "Calendar not found");
        // Fastify's content-type parsing and body validation
        const bool json_type = req.get_header_value("Content-Type").starts_with("application/json");
        if (req.body.empty()) {
            if (json_type) {
                return v2_error_reply(res, 400, "FST_ERR_CTP_EMPTY_JSON_BODY",
                                      "Body cannot be empty when content-type is set to 'application/json'");
            }
            return v2_error_reply(res, 400, "FST_ERR_VALIDATION", "body must be object");
        }
        if (!json_type) {
            return v2_error_reply(res, 415, "FST_ERR_CTP_INVALID_MEDIA_TYPE",
                                  "Unsupported Media Type: " + req.get_header_value("Content-Type"));
        }
        auto body = nlohmann::json::parse(req.body, nullptr, false);
        if (!body.is_object()) return v2_error_reply(res, 400, "FST_ERR_VALIDATION", "body must be object");
        const auto series_id = body.find("series_id");
        if (series_id == body.end() || !series_id->is_string())
            return v2_error_reply(res, 400, "FST_ERR_VALIDATION",
                                  "body must have required property 'series_id'");
        const auto all = body.find("all_occurrences");
        if (all == body.end() || !all->is_boolean()) {
            return v2_error_reply(res, 400, "FST_ERR_VALIDATION",
                                  "body must have required property 'all_occurrences'");
        }
        const bool all_occurrences = all->get<bool>();
        const auto event_id = body.find("event_id");
        if (!all_occurrences && (event_id == body.end() || !event_id->is_string())) {
            return v2_error_reply(res, 400, "FST_ERR_VALIDATION",
                                  "body/event_id is required when all_occurrences is false");
        }
        if (const auto name = body.find("bot_name"); name != body.end() || method == "POST") {
            const bool ok = name != body.end() && name->is_string() &&
                            !name->get_ref<const std::string&>().empty() &&
                            name->get_ref<const std::string&>().size() <= 255;
            if (!ok) {
                return v2_error_reply(res, 400, "FST_ERR_VALIDATION",
                                      name == body.end()
                                          ? "body must have required property 'bot_name'"
                                          : "body/bot_name must be a string of 1 to 255 characters");
            }
        }

        // the series, in start order
        std::vector<v2_item> series;
        for (const auto& [id, e] : v2_events_) {
            if (string_of(e, "calendar_id") != calendar_id ||
                string_of(e, "series_id") != series_id->get<std::string>())
                continue;
            v2_item item;
            item.id = id;
            if (const auto t = time_of(e, "start_time")) item.time = *t;
            series.push_back(std::move(item));
        }
        std::sort(series.begin(), series.end(), v2_before);
        if (series.empty())
            return v2_error_reply(res, 404, "FST_ERR_EVENT_SERIES_NOT_FOUND", "Event series not found");
        const auto now = meetingbaas::parse_timestamp(options_.now);
        std::vector<std::string> targets;
        if (all_occurrences) {
            for (const auto& item : series) {
                if (!now || item.time >= now->time) targets.push_back(item.id);
            }
        } else {
            const auto wanted = event_id->get<std::string>();
            const bool in_series = std::any_of(series.begin(), series.end(),
                                               [&wanted](const v2_item& i) { return i.id == wanted; });
            if (!in_series)
                return v2_error_reply(res, 404, "FST_ERR_CALENDAR_EVENT_NOT_FOUND",
                                      "Calendar event not found");
            targets.push_back(wanted);
        }

        nlohmann::json config = body;
        for (const char* k : {"series_id", "all_occurrences", "event_id"}) config.erase(k);
        auto data = nlohmann::json::array();
        auto errors = nlohmann::json::array();
        auto fail = [&errors](const std::string& id, const char* code, const char* message) {
            errors.push_back(
                nlohmann::json{{"event_id", id}, {"code", code}, {"message", message}, {"details", nullptr}});
        };
        if (all_occurrences && method == "POST") ++v2_series_post_counts_[series_id->get<std::string>()];
        if (!all_occurrences && method == "POST") ++v2_post_counts_[targets.front()];
        if (!all_occurrences && method == "DELETE") ++v2_delete_counts_[targets.front()];
        for (const auto& id : targets) {
            const auto& event = v2_events_.at(id);
            const auto bot = v2_bots_.find(id);
            if (const auto refused = v2_item_errors_.find(id);
                refused != v2_item_errors_.end() && method != "PATCH") {
                fail(id, refused->second.first.c_str(), refused->second.second.c_str());
                continue;
            }
            if (method == "POST") {
                if (bot != v2_bots_.end()) {
                    fail(id, "BOT_ALREADY_EXISTS", "A bot is already scheduled for this event");
                } else if (string_of(event, "status") == "cancelled") {
                    fail(id, "EVENT_CANCELLED", "The event is cancelled");
                } else if (string_of(event, "meeting_url").empty()) {
                    fail(id, "NO_MEETING_URL", "The event has no meeting URL");
                } else {
                    v2_bots_[id] = config;
                    data.push_back(nlohmann::json{{"event_id", id}});
                }
                continue;
            }
            // PATCH and DELETE: the bot must exist, and join at least 4 minutes from now
            const auto start = time_of(event, "start_time");
            const bool too_close = now && start && *start - now->time < std::chrono::minutes(4);
            if (bot == v2_bots_.end()) {
                if (!all_occurrences)
                    return v2_error_reply(res, 404, "FST_ERR_CALENDAR_BOT_NOT_FOUND",
                                          "Calendar bot not found");
                fail(id, "BOT_NOT_FOUND", "No bot is scheduled for this event");
            } else if (too_close) {
                if (!all_occurrences) {
                    return v2_error_reply(
                        res, 409, "FST_ERR_BOT_STATUS",
                        "The bot joins in less than 4 minutes and can no longer be changed");
                }
                fail(id, "BOT_STATUS", "The bot joins in less than 4 minutes and can no longer be changed");
            } else {
                if (method == "PATCH") {
                    for (auto f = config.begin(); f != config.end(); ++f) bot->second[f.key()] = f.value();
                } else {
                    v2_bots_.erase(bot);
                }
                data.push_back(nlohmann::json{{"event_id", id}});
            }
        }
        json_reply(
            res, method == "POST" ? 201 : 200,
            nlohmann::json{{"success", true}, {"data", std::move(data)}, {"errors", std::move(errors)}});
    }

    options options_;
    httplib::Server server_;
    std::thread thread_;
    int port_ = -1;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::map<std::string, nlohmann::json> events_;
    std::map<std::string, nlohmann::json> calendars_;
    std::map<std::string, nlohmann::json> v2_calendars_;
    std::map<std::string, nlohmann::json> v2_events_;  ///< details, by event_id
    std::map<std::string, nlohmann::json> v2_bots_;    ///< bot configuration, by event_id
    std::map<std::string, std::size_t> post_counts_;
    std::map<std::string, std::size_t> patch_counts_;
    std::map<std::string, std::size_t> delete_counts_;
    std::map<std::string, std::size_t> v2_post_counts_;         ///< by event_id (one-event POSTs)
    std::map<std::string, std::size_t> v2_delete_counts_;       ///< by event_id (one-event DELETEs)
    std::map<std::string, std::size_t> v2_series_post_counts_;  ///< by series_id (all_occurrences POSTs)
    std::map<std::string, std::pair<std::string, std::string>>
        v2_item_errors_;  ///< event_id -> code, message
    std::vector<call> calls_;
    fault_settings faults_;
    std::deque<fault> scripted_;
    std::mt19937_64 random_;
};

}  // namespace meetingbaas_test
