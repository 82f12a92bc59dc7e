// SPDX-License-Identifier: MIT
#pragma once

// A real HTTP server on 127.0.0.1 that plays the Meeting BaaS v1 calendar API (spec §4.1), for tests,
// benchmarks and demos. cpp-httplib server on its own threads; link meetingbaas::httplib (needs
// exceptions, like every cpp-httplib user).
//
//   meetingbaas_test::fake_meetingbaas_api api({.api_key = "test-key", .page_size = 2});
//   api.load_fixtures(MEETINGBAAS_TEST_DATA_DIR);   // the api.v1.* events and their calendar
//   if (!api.start()) ...;                          // binds an ephemeral port
//   api.base_url();                                 // "http://127.0.0.1:<port>"
//   api.inject(fake_meetingbaas_api::fault::status_503, 2);   // the next 2 requests get a 503
//   api.set_faults({.p_503 = 0.1, .seed = 42});                // or random faults, seeded
//   api.post_count(uuid); api.calls(); api.stop();
//
// Endpoints: GET /calendars/, POST /calendars/resync_all, GET /calendar_events/ (filters calendar_id
// [required], start_date_gte, start_date_lte, updated_at_gte, status upcoming|past|all [default
// upcoming, relative to options.now], cursor; pages of options.page_size with `next` as a cursor, an
// absolute URL or a path), GET /calendar_events/{uuid}, POST|PATCH|DELETE /calendar_events/{uuid}/bot
// (?all_occurrences applies to every event of the same recurring series), and /_echo (any method: the
// request as JSON). Errors use v1's
// `{"error": "..."}` bodies. Every request needs `x-meeting-baas-api-key: <options.api_key>` (else 401).
// All methods are thread-safe.

#include <meetingbaas/detail/url.hpp>
#include <meetingbaas/timestamp.hpp>

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
    drop,        ///< headers promise a body, then the connection closes without it
};

/// Random faults (each request draws once, in this order), from a seeded engine.
struct fake_api_faults {
    double p_503 = 0.0;
    double p_429 = 0.0;
    double p_slow = 0.0;
    double p_drop = 0.0;
    std::chrono::seconds retry_after{1};
    std::chrono::milliseconds slow_delay{1500};
    std::uint64_t seed = 1;
};

struct fake_api_options {
    std::string api_key = "test-key";
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
            -1;  ///< the client's port: equal ports on successive calls mean a reused connection
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
        port_ = server_.bind_to_any_port("127.0.0.1");
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
        calendars_[string_of(calendar, "uuid")] = std::move(calendar);
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

    fault draw_fault()
    {
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
        return fault::none;
    }

    /// Wraps a route: faults, the API-key check, the handler, the call log.
    handler wrap(handler inner)
    {
        return [this, inner = std::move(inner)](const httplib::Request& req, httplib::Response& res) {
            fault f = fault::none;
            fault_settings settings;
            {
                const std::lock_guard lock(mutex_);
                f = draw_fault();
                settings = faults_;
            }
            if (f == fault::slow) {
                std::unique_lock lock(mutex_);
                wake_.wait_for(lock, settings.slow_delay, [this] { return stopping_; });
            }
            if (f == fault::status_503) {
                error_reply(res, 503, "Service Unavailable");
            } else if (f == fault::status_429) {
                res.set_header("Retry-After", std::to_string(settings.retry_after.count()));
                error_reply(res, 429, "TooManyRequests");
            } else if (f == fault::drop) {
                res.status = 200;
                res.set_content_provider(1024, "application/json",
                                         [](std::size_t, std::size_t, httplib::DataSink&) {
                                             return false;
                                         });  // closes the connection
            } else if (req.get_header_value("x-meeting-baas-api-key") != options_.api_key) {
                error_reply(res, 401, "InvalidApiKey");
            } else {
                inner(req, res);
            }
            const std::lock_guard lock(mutex_);
            calls_.push_back(call{req.method, req.target.empty() ? req.path : req.target,
                                  f == fault::drop ? 0 : res.status, f, std::chrono::steady_clock::now(),
                                  req.remote_port});
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

    options options_;
    httplib::Server server_;
    std::thread thread_;
    int port_ = -1;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::map<std::string, nlohmann::json> events_;
    std::map<std::string, nlohmann::json> calendars_;
    std::map<std::string, std::size_t> post_counts_;
    std::map<std::string, std::size_t> patch_counts_;
    std::map<std::string, std::size_t> delete_counts_;
    std::vector<call> calls_;
    fault_settings faults_;
    std::deque<fault> scripted_;
    std::mt19937_64 random_;
};

}  // namespace meetingbaas_test
