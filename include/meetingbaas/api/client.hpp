// SPDX-License-Identifier: MIT
#pragma once

// meetingbaas::api_client: a typed Meeting BaaS calendar-API client (v1 and v2) over any http_client.
// Errors are values (api_error), retries go through the retry policies of retry.hpp.
// Spec: meetingbaas-api.md §4. See docs/api-client.md.

#include <meetingbaas/api/detail/url.hpp>
#include <meetingbaas/api/http.hpp>
#include <meetingbaas/api/models.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/version.hpp>
#include <meetingbaas/retry/budget.hpp>
#include <meetingbaas/retry/retrier.hpp>
#include <meetingbaas/retry/retry_after.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

/// Why an API call failed: a value, never an exception.
///
/// `code` says what kind of failure it is:
///  * errc::transport_error: no answer (see `transport`, `may_have_been_sent`);
///  * errc::api_error: a non-2xx answer with a recognisable error body (v1's varied bodies, v2's
///    `{success:false, code, message, retryAfter}`): see `provider_code`, `message`;
///  * errc::http_status: a non-2xx answer without a recognisable error body;
///  * errc::malformed_response: a 2xx answer whose body does not match the schema (`where` is the JSON
///    Pointer of the offending value);
///  * errc::pagination_loop: a repeated cursor, too many pages, or a `next` URL on another host;
///  * errc::invalid_argument / errc::invalid_url: the call or the client's options are unusable;
///  * errc::retries_exhausted / deadline_exceeded / budget_exhausted: the retry policy gave up; the last
///    attempt's failure is described by the other fields and `last_attempt_code`.
struct api_error {
    errc code{};
    int http_status = 0;          ///< 0 when no HTTP answer arrived
    std::string provider_code{};  ///< e.g. "FST_ERR_DAILY_BOT_CAP_REACHED", "BotNotFound"; empty if none
    std::string message{};        ///< the provider's or the transport's message, for logs
    std::optional<std::chrono::milliseconds> retry_after{};  ///< max(Retry-After header, body retryAfter)
    std::string where{};      ///< JSON Pointer for malformed_response; otherwise the field or parameter
    std::string operation{};  ///< e.g. "GET /calendar_events/{uuid}"
    std::optional<transport_errc> transport{};  ///< set for transport failures
    bool may_have_been_sent = true;             ///< false only when the request surely did not leave
    std::uint32_t attempts = 0;                 ///< attempts made (1 without retries)
    errc last_attempt_code{};  ///< the last attempt's code (equals `code` unless retries gave up)

    /// The v2 daily bot cap (429 FST_ERR_DAILY_BOT_CAP_REACHED): final, do not retry within seconds.
    [[nodiscard]] bool is_daily_bot_cap() const noexcept
    {
        return provider_code == "FST_ERR_DAILY_BOT_CAP_REACHED" || provider_code == "DAILY_BOT_CAP_REACHED";
    }
    [[nodiscard]] bool is_not_found() const noexcept { return http_status == 404; }

    /// As a plain meetingbaas::error (code, where = operation or pointer, message with the details).
    [[nodiscard]] error to_error() const
    {
        std::string text;
        if (http_status != 0) text += "HTTP " + std::to_string(http_status);
        if (!provider_code.empty()) text += (text.empty() ? "" : " ") + provider_code;
        if (!message.empty()) text += (text.empty() ? "" : ": ") + message;
        std::string at = operation;
        if (!where.empty()) at += (at.empty() ? "" : " ") + where;
        return error{code, std::move(at), std::move(text)};
    }

    friend bool operator==(const api_error&, const api_error&) = default;
};

/// What the retry classifier sees of an API failure (the one mapping, used by api_client's in-call
/// retries, the calendar-sync processor and the worker). A wrapper from giving up
/// (retries_exhausted, deadline_exceeded, budget_exhausted) is judged by the last attempt it wraps, so
/// giving up on a transient failure stays transient. `api_code` points into `e`.
///
///  * transport_error: transport_not_sent / transport_maybe_sent (may_have_been_sent);
///  * http_status, api_error: the status, the server's pushback and the provider code;
///  * malformed_response (a 2xx whose body does not fit), pagination_loop, an unusable `next` URL:
///    invalid_answer (transient: the server did answer);
///  * cancelled (shutdown), or a retry wrapper with no attempt left: cancelled (transient);
///  * storage_error and other local codes: local_failure (transient);
///  * invalid_argument, invalid_url of the configuration: invalid_request (permanent).
[[nodiscard]] inline attempt_outcome outcome_of(const api_error& e) noexcept
{
    errc code = e.code;
    if (code == errc::retries_exhausted || code == errc::deadline_exceeded ||
        code == errc::budget_exhausted) {
        code = e.last_attempt_code;
        if (code == errc::retries_exhausted || code == errc::deadline_exceeded ||
            code == errc::budget_exhausted || code == errc{}) {
            return attempt_outcome::cancelled();  // no attempt could run (no time left): not a verdict on it
        }
    }
    switch (code) {
        case errc::transport_error:
            return e.may_have_been_sent ? attempt_outcome::maybe_sent() : attempt_outcome::not_sent();
        case errc::http_status:
        case errc::api_error:
            if (e.http_status == 0) return attempt_outcome::invalid_answer();
            return attempt_outcome::http(e.http_status, e.retry_after, e.provider_code);
        case errc::malformed_response:
        case errc::pagination_loop: return attempt_outcome::invalid_answer(e.http_status);
        case errc::invalid_url:
            return e.where == "next" ? attempt_outcome::invalid_answer(e.http_status)
                                     : attempt_outcome::invalid_request();
        case errc::invalid_argument: return attempt_outcome::invalid_request();
        case errc::cancelled: return attempt_outcome::cancelled();
        default: return attempt_outcome::local_failure(e.retry_after);
    }
}

/// The class of an API failure under `classify` (the default http_classifier): transient, throttled or
/// permanent (never success: a failure is a failure).
template <retry_classifier Classifier = http_classifier>
[[nodiscard]] failure_class classify(const api_error& e, const Classifier& classify_outcome = {})
{
    const failure_class c = std::invoke(classify_outcome, outcome_of(e));
    return c == failure_class::success ? failure_class::transient : c;
}

/// True when the failed request may nevertheless have been applied by the server (a timeout or a reset
/// after sending, a 500/502/504, an unusable 2xx): before repeating a write, read the state again.
[[nodiscard]] inline bool may_have_been_applied(const api_error& e) noexcept
{
    return !proves_not_applied(outcome_of(e));
}

/// "api_error at GET /calendar_events/{uuid}: HTTP 404 BotNotFound: ...", for logs. Never contains the key.
inline std::string to_string(const api_error& e)
{
    auto text = to_string(e.to_error());
    if (e.attempts > 1) text += " (after " + std::to_string(e.attempts) + " attempts)";
    return text;
}

/// The result of an API call.
template <class T>
using api_result = result<T, api_error>;

/// Options of an api_client (a plain aggregate).
struct api_client_options {
    std::string api_key{};                                 ///< sent as x-meeting-baas-api-key; required
    std::string base_url = "https://api.meetingbaas.com";  ///< scheme://host[:port][/prefix], no trailing '/'
    std::string user_agent = "meetingbaas-webhooks/" + std::to_string(version_major) + "." +
                             std::to_string(version_minor) + "." + std::to_string(version_patch);
    std::chrono::milliseconds timeout{30'000};  ///< per attempt (the official SDK uses 30 s)
    std::size_t max_pages = 10'000;             ///< a list call stops with pagination_loop beyond this
    /// In-call retries (meetingbaas_api_policy: full-jitter exponential backoff from 500 ms, capped at 10 s,
    /// at most 5 attempts within 60 s, Retry-After honoured up to 30 s). `no_retry_policy` for none.
    retry_policy<exponential_backoff> retry = meetingbaas_api_policy;
};

/// One attempt, no retry (e.g. when the application retries at a higher level, such as a job queue).
inline constexpr retry_policy<exponential_backoff> no_retry_policy =
    checked(retry_policy<exponential_backoff>{.stop = stop_after_attempts(1)});

namespace detail {

/// A single-line, printable excerpt of an unrecognised error body, for logs.
inline std::string body_excerpt(std::string_view body, std::size_t limit = 200)
{
    std::string out{};
    for (const char c : body.substr(0, limit)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? c : ' ';
    }
    if (body.size() > limit) out += "...";
    return out;
}

/// True for "BotNotFound"-style identifiers (letters, digits, '_', no spaces): v1 names its errors so.
inline bool looks_like_error_code(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 80) return false;
    for (const char c : s) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

/// Reads the provider's error fields from a JSON error body; returns false when nothing was recognised.
// NOLINTNEXTLINE(misc-no-recursion): bounded; parse_json_body rejects nesting over max_api_json_depth
inline bool read_error_body(const nlohmann::json& body, api_error& e)
{
    if (!body.is_object()) {
        if (body.is_string() && !body.get_ref<const std::string&>().empty()) {
            e.message = body.get<std::string>();
            return true;
        }
        return false;
    }
    bool found = false;
    auto text = [&body](const char* key) -> const std::string* {
        const auto it = body.find(key);
        return (it != body.end() && it->is_string()) ? &it->get_ref<const std::string&>() : nullptr;
    };
    if (const auto* code = text("code"); code != nullptr && !code->empty()) {
        e.provider_code = *code;
        found = true;
    }
    if (const auto* message = text("message"); message != nullptr && !message->empty()) {
        e.message = *message;
        found = true;
    }
    if (const auto err = body.find("error"); err != body.end()) {
        if (err->is_string() && !err->get_ref<const std::string&>().empty()) {
            const auto& s = err->get_ref<const std::string&>();
            if (e.provider_code.empty() && looks_like_error_code(s))
                e.provider_code = s;               // v1 "InvalidApiKey"
            if (e.message.empty()) e.message = s;  // v2 "Rate Limited"
            found = true;
        } else if (err->is_object()) {
            api_error inner;
            if (read_error_body(*err, inner)) {
                if (e.provider_code.empty()) e.provider_code = std::move(inner.provider_code);
                if (e.message.empty()) e.message = std::move(inner.message);
                e.retry_after = combine_pushback(e.retry_after, inner.retry_after);
                found = true;
            }
        }
    }
    if (const auto* detail_text = text("detail"); detail_text != nullptr && e.message.empty()) {
        e.message = *detail_text;
        found = true;
    }
    if (const auto* details = text("details"); details != nullptr && !details->empty()) {
        e.message += e.message.empty() ? *details : " (" + *details + ")";
    }
    if (const auto ra = body.find("retryAfter"); ra != body.end()) {
        std::optional<std::int64_t> seconds;
        if (ra->is_number_unsigned()) {
            seconds = static_cast<std::int64_t>(std::min<std::uint64_t>(ra->get<std::uint64_t>(), INT64_MAX));
        } else if (ra->is_number_integer()) {
            seconds = ra->get<std::int64_t>();
        } else if (ra->is_number_float()) {
            const double d = ra->get<double>();
            if (d >= 0 && d < 9.0e18) seconds = static_cast<std::int64_t>(d + 0.999);  // round up: a floor
        }
        if (seconds) {
            if (auto delay = retry_after_from_seconds(*seconds))
                e.retry_after = combine_pushback(e.retry_after, *delay);
        }
    }
    return found;
}

}  // namespace detail

/// Builds the api_error for a non-2xx answer: the Retry-After header, then the body (v1 or v2 shape).
/// `now` is the wall-clock time used for an HTTP-date Retry-After.
[[nodiscard]] inline api_error api_error_from_response(const http_response& response, std::string operation,
                                                       std::chrono::sys_seconds now)
{
    api_error e;
    e.code = errc::http_status;
    e.http_status = response.status;
    e.operation = std::move(operation);
    e.may_have_been_sent = true;
    if (const auto header = response.headers.find("Retry-After")) {
        if (auto delay = parse_retry_after(*header, now)) e.retry_after = *delay;
    }
    if (!response.body.empty()) {
        const auto doc = detail::parse_json_body(response.body);
        if (doc && detail::read_error_body(*doc, e)) {
            e.code = errc::api_error;
        } else if (!doc) {
            e.message = detail::body_excerpt(response.body);
        }
    }
    e.last_attempt_code = e.code;
    return e;
}

/// The api_error for a transport failure.
[[nodiscard]] inline api_error api_error_from_transport(const transport_error& t, std::string operation)
{
    api_error e;
    e.code = errc::transport_error;
    e.last_attempt_code = e.code;
    e.operation = std::move(operation);
    e.transport = t.kind;
    e.may_have_been_sent = t.may_have_been_sent;
    e.message = std::string(to_string(t.kind)) + ": " + t.message;
    return e;
}

/// The api_error for a 2xx answer whose body does not fit the schema.
[[nodiscard]] inline api_error api_error_from_malformed(const error& parse_error, int status,
                                                        std::string operation)
{
    api_error e;
    e.code = errc::malformed_response;
    e.last_attempt_code = e.code;
    e.http_status = status;
    e.operation = std::move(operation);
    e.where = parse_error.where;
    e.message = std::string(to_string(parse_error.code));
    if (!parse_error.message.empty()) e.message += ": " + parse_error.message;
    return e;
}

/// Whether sending a request twice is harmless; decides whether a failure after the request may have
/// reached the server can be retried.
enum class request_safety {
    idempotent,      ///< GET, DELETE, PATCH of a whole state
    safe_to_repeat,  ///< not idempotent in HTTP terms, but documented as harmless to repeat
    unsafe,          ///< only retried when the failure proves it was not applied (proves_not_applied:
                     ///< connect failed, 408, 425, 429, 503)
};

/// Checks an api_client_options: a non-empty API key and a user agent without control characters, an
/// http(s) base_url without a query, a valid retry policy, a positive timeout and max_pages. Errors:
/// errc::invalid_argument or errc::invalid_url, `where` = the field ("retry/backoff/multiplier" for the
/// policy).
[[nodiscard]] inline result<void> validate(const api_client_options& o)
{
    auto has_control = [](std::string_view v) {
        for (const char c : v) {
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
        }
        return false;
    };
    if (o.api_key.empty()) return error{errc::invalid_argument, "api_key", "the API key is empty"};
    if (has_control(o.api_key))
        return error{errc::invalid_argument, "api_key", "the API key contains control characters"};
    if (has_control(o.user_agent))
        return error{errc::invalid_argument, "user_agent", "the user agent contains control characters"};
    auto base = std::string_view(o.base_url);
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    const auto parts = detail::split_url(base);
    if (!parts || parts->target.find('?') != std::string_view::npos) {
        return error{errc::invalid_url, "base_url", "base_url must be an http(s) URL without a query"};
    }
    if (o.timeout <= std::chrono::milliseconds::zero())
        return error{errc::invalid_argument, "timeout", "the per-attempt timeout must be positive"};
    if (o.max_pages == 0) return error{errc::invalid_argument, "max_pages", "must be at least 1"};
    if (const auto v = o.retry.check()) {
        return error{errc::invalid_argument, "retry" + std::string(v.field), std::string(v.problem)};
    }
    return {};
}

/// A typed client of the Meeting BaaS calendar API over `Client` (any http_client; use `Client&` to keep
/// an application-owned client by reference), retrying in-call as `options.retry` says, with the effects
/// `Effects` (a retry_effects: clock, sleeper, random source, hooks, classifier, budget).
///
///     meetingbaas::api_client api(meetingbaas::curl_http_client{}, {.api_key = key},
///                                 meetingbaas::retry_effects{.sleeper =
///                                 meetingbaas::stop_aware_sleeper(token)});
///
/// Every call returns api_result<T>: the typed answer, or an api_error. Nothing throws (exceptions from
/// the application's own http_client, sleeper or hooks pass through unchanged). Not internally
/// synchronized: one api_client per thread, or serialise calls. Calls block until done, retry waits
/// included (the sleeper decides how to wait; an interruptible sleeper such as stop_aware_sleeper ends the
/// call with errc::cancelled when stopped).
///
/// Retries: GET, PATCH and the v1 DELETE are idempotent and resync_all is safe to repeat (spec §4.3), so
/// they are retried after transport failures, 408, 425, 500, 502, 504, an unusable answer, and 429, 503
/// (waiting at least Retry-After). The bot writes (v1 schedule POST, v2 POST and DELETE of calendar bots)
/// are retried only when the failure proves that they were not applied (connect failed, 408, 425, 429,
/// 503): after a timeout or a dropped connection the call fails with that error (may_have_been_applied()
/// is true), and the caller reads the event again before writing again (calendar_sync_processor does).
/// Other statuses, and the daily-bot-cap 429, are final.
/// Each attempt's timeout is min(options.timeout, time left before the policy's elapsed limit).
template <http_client Client, retry_effect_set Effects = retry_effects<>>
class api_client {
public:
    using effects_type = Effects;

    /// Cheap: no I/O. It checks the options once (validate()): a bad API key, user agent, base URL or
    /// retry policy is reported by validate() and by every call (invalid_argument / invalid_url), and
    /// the client then sends nothing. It prepares the request headers.
    explicit api_client(Client client, api_client_options options, Effects effects = Effects{})
        : client_(std::forward<Client>(client)), options_(std::move(options)),
          retrier_(options_.retry.check() ? no_retry_policy : options_.retry, std::move(effects))
    {
        prepare();
    }

    /// The options' problem, if any (see validate(const api_client_options&)): a client that fails this
    /// refuses every call.
    [[nodiscard]] result<void> validate() const
    {
        if (config_problem_.code == errc{}) return {};
        return error{config_problem_.code, config_problem_.where, config_problem_.message};
    }

    /// The longest one call may take, in-call retries and per-attempt timeouts included
    /// (max_call_duration of options().retry and options().timeout). A lease held across one call (an
    /// action's idempotency claim) must be longer.
    [[nodiscard]] std::chrono::milliseconds max_call_duration() const noexcept
    {
        return meetingbaas::max_call_duration(options_.retry, options_.timeout);
    }

    [[nodiscard]] const api_client_options& options() const noexcept { return options_; }
    /// The underlying HTTP client (e.g. to inspect a test fake).
    [[nodiscard]] std::remove_reference_t<Client>& http() noexcept { return client_; }

    // ----------------------------------------------------------------------------------------------
    // v1 calendar API (spec §4.1)
    // ----------------------------------------------------------------------------------------------

    /// GET /calendars/
    api_result<std::vector<v1_calendar>> v1_list_calendars()
    {
        constexpr std::string_view op = "GET /calendars/";
        auto url = endpoint("/calendars/", op);
        if (!url) return url.error();
        auto doc = call_json(http_method::get, std::move(*url), {}, op, request_safety::idempotent);
        if (!doc) return doc.error();
        return parsed(detail::parse_array<v1_calendar>(doc->body, "",
                                                       [](const nlohmann::json& j, const std::string& p) {
                                                           return parse_v1_calendar(j, p);
                                                       }),
                      doc->status, op);
    }

    /// GET /calendar_events/: one page. `query.calendar_id` is required (invalid_argument otherwise).
    api_result<v1_event_page> v1_list_events_page(const v1_event_query& query)
    {
        constexpr std::string_view op = "GET /calendar_events/";
        auto url = v1_events_url(query, op);
        if (!url) return url.error();
        return v1_fetch_page(std::move(*url), op);
    }

    /// GET /calendar_events/, every page: calls `on_page(v1_event_page&&)` per page, in order. `next` is
    /// followed as a cursor, or as a URL when it starts with "http" or "/" (only on the configured
    /// origin: another host stops with pagination_loop). A `next` seen before, or more than
    /// options().max_pages pages, stops with pagination_loop. `on_page` may return false to stop early
    /// (or return void). Returns the number of pages delivered.
    template <class OnPage>
    api_result<std::size_t> v1_for_each_event_page(const v1_event_query& query, OnPage&& on_page)
    {
        constexpr std::string_view op = "GET /calendar_events/";
        auto url = v1_events_url(query, op);
        if (!url) return url.error();
        std::set<std::string> seen;
        if (query.cursor) seen.insert(*query.cursor);
        std::size_t pages = 0;
        std::string next_url = std::move(*url);
        for (;;) {
            auto page = v1_fetch_page(next_url, op);
            if (!page) return page.error();
            ++pages;
            std::optional<std::string> next = std::move(page->next);
            if constexpr (std::is_same_v<std::invoke_result_t<OnPage&, v1_event_page&&>, void>) {
                on_page(std::move(*page));
            } else {
                if (!static_cast<bool>(on_page(std::move(*page)))) return pages;
            }
            if (!next) return pages;
            if (!seen.insert(*next).second) {
                return pagination_error(op, "the next cursor repeated: " + detail::body_excerpt(*next, 120));
            }
            if (pages >= options_.max_pages) {
                return pagination_error(op, "more than max_pages (" + std::to_string(options_.max_pages) +
                                                ") pages");
            }
            auto followed = follow_next(query, *next, op);
            if (!followed) return followed.error();
            next_url = std::move(*followed);
        }
    }

    /// GET /calendar_events/, every page, concatenated.
    api_result<std::vector<v1_event>> v1_list_events(const v1_event_query& query)
    {
        std::vector<v1_event> all;
        auto pages = v1_for_each_event_page(query, [&all](v1_event_page&& page) {
            for (auto& e : page.data) all.push_back(std::move(e));
        });
        if (!pages) return pages.error();
        return all;
    }

    /// GET /calendar_events/{uuid}
    api_result<v1_event> v1_get_event(std::string_view event_uuid)
    {
        constexpr std::string_view op = "GET /calendar_events/{uuid}";
        auto url = endpoint_with_id("/calendar_events/", event_uuid, "", op);
        if (!url) return url.error();
        auto response = execute(http_method::get, std::move(*url), {}, op, request_safety::idempotent);
        if (!response) return response.error();
        return parsed(parse_v1_event_text(response->body), response->status, op);
    }

    /// POST /calendar_events/{uuid}/bot?all_occurrences=...: schedules a bot; returns the updated
    /// event(s). Retried in-call only when the failure proves it was not applied (a write whose request may
    /// have landed is not sent again blindly: read the event, then decide).
    api_result<std::vector<v1_event>>
    v1_schedule_bot(std::string_view event_uuid, const v1_bot_config& config, bool all_occurrences = false)
    {
        constexpr std::string_view op = "POST /calendar_events/{uuid}/bot";
        if (config.bot_name.empty())
            return argument_error(op, "bot_name", "bot_name is required to schedule");
        return v1_bot_call(http_method::post, event_uuid, config.to_json().dump(), all_occurrences, op,
                           request_safety::unsafe);
    }

    /// PATCH /calendar_events/{uuid}/bot?all_occurrences=...: changes the scheduled bot (unset fields
    /// are left as they are).
    api_result<std::vector<v1_event>> v1_update_bot(std::string_view event_uuid, const v1_bot_config& changes,
                                                    bool all_occurrences = false)
    {
        constexpr std::string_view op = "PATCH /calendar_events/{uuid}/bot";
        return v1_bot_call(http_method::patch, event_uuid, changes.to_json().dump(), all_occurrences, op,
                           request_safety::idempotent);
    }

    /// DELETE /calendar_events/{uuid}/bot?all_occurrences=...: unschedules (idempotent: no error when
    /// no bot was scheduled).
    api_result<std::vector<v1_event>> v1_unschedule_bot(std::string_view event_uuid,
                                                        bool all_occurrences = false)
    {
        constexpr std::string_view op = "DELETE /calendar_events/{uuid}/bot";
        return v1_bot_call(http_method::delete_, event_uuid, {}, all_occurrences, op,
                           request_safety::idempotent);
    }

    /// POST /calendars/resync_all[?days=N]: resyncs every calendar (may trigger calendar.sync_events).
    api_result<v1_resync_result> v1_resync_all(std::optional<int> days = std::nullopt)
    {
        constexpr std::string_view op = "POST /calendars/resync_all";
        if (days && *days <= 0) return argument_error(op, "days", "days must be positive");
        auto url = endpoint("/calendars/resync_all", op);
        if (!url) return url.error();
        if (days) {
            detail::query_builder q;
            q.add("days", std::to_string(*days));
            *url += q.str();
        }
        auto doc = call_json(http_method::post, std::move(*url), {}, op, request_safety::safe_to_repeat);
        if (!doc) return doc.error();
        return parsed(parse_v1_resync_result(doc->body), doc->status, op);
    }

    // ----------------------------------------------------------------------------------------------
    // v2 calendar API (spec §4.2)
    // ----------------------------------------------------------------------------------------------

    /// GET /v2/calendars (one page; `limit` 1..250).
    api_result<v2_page<v2_calendar>> v2_list_calendars_page(int limit = 50,
                                                            std::optional<std::string> cursor = std::nullopt)
    {
        constexpr std::string_view op = "GET /v2/calendars";
        if (limit < 1 || limit > 250) return argument_error(op, "limit", "limit must be in 1..250");
        auto url = endpoint("/v2/calendars", op);
        if (!url) return url.error();
        detail::query_builder q;
        q.add("limit", std::to_string(limit));
        if (cursor) q.add("cursor", *cursor);
        *url += q.str();
        auto doc = call_json(http_method::get, std::move(*url), {}, op, request_safety::idempotent);
        if (!doc) return doc.error();
        return parsed(parse_v2_page<v2_calendar>(doc->body,
                                                 [](const nlohmann::json& j, const std::string& p) {
                                                     return parse_v2_calendar(j, p);
                                                 }),
                      doc->status, op);
    }

    /// GET /v2/calendars/{calendar_id}/events: one page.
    api_result<v2_page<v2_event_summary>> v2_list_events_page(std::string_view calendar_id,
                                                              const v2_event_query& query)
    {
        constexpr std::string_view op = "GET /v2/calendars/{calendar_id}/events";
        if (query.limit < 1 || query.limit > 250)
            return argument_error(op, "limit", "limit must be in 1..250");
        auto url = endpoint_with_id("/v2/calendars/", calendar_id, "/events", op);
        if (!url) return url.error();
        detail::query_builder q;
        q.add("limit", std::to_string(query.limit));
        q.add("show_cancelled", query.show_cancelled ? "true" : "false");
        if (query.start_date) q.add("start_date", *query.start_date);
        if (query.end_date) q.add("end_date", *query.end_date);
        if (query.status) q.add("status", *query.status);
        if (query.cursor) q.add("cursor", *query.cursor);
        *url += q.str();
        auto doc = call_json(http_method::get, std::move(*url), {}, op, request_safety::idempotent);
        if (!doc) return doc.error();
        return parsed(parse_v2_page<v2_event_summary>(doc->body,
                                                      [](const nlohmann::json& j, const std::string& p) {
                                                          return parse_v2_event_summary(j, p);
                                                      }),
                      doc->status, op);
    }

    /// GET /v2/calendars/{calendar_id}/events, every page (forward cursors; a repeated cursor or more
    /// than max_pages pages stops with pagination_loop).
    api_result<std::vector<v2_event_summary>> v2_list_events(std::string_view calendar_id,
                                                             v2_event_query query)
    {
        constexpr std::string_view op = "GET /v2/calendars/{calendar_id}/events";
        std::vector<v2_event_summary> all;
        std::set<std::string> seen;
        if (query.cursor) seen.insert(*query.cursor);
        for (std::size_t pages = 1;; ++pages) {
            auto page = v2_list_events_page(calendar_id, query);
            if (!page) return page.error();
            for (auto& e : page->data) all.push_back(std::move(e));
            if (!page->cursor) return all;
            if (!seen.insert(*page->cursor).second) {
                return pagination_error(op,
                                        "the cursor repeated: " + detail::body_excerpt(*page->cursor, 120));
            }
            if (pages >= options_.max_pages) {
                return pagination_error(op, "more than max_pages (" + std::to_string(options_.max_pages) +
                                                ") pages");
            }
            query.cursor = std::move(page->cursor);
        }
    }

    /// GET /v2/calendars/{calendar_id}/events/{event_id}
    api_result<v2_event> v2_get_event(std::string_view calendar_id, std::string_view event_id)
    {
        constexpr std::string_view op = "GET /v2/calendars/{calendar_id}/events/{event_id}";
        if (event_id.empty()) return argument_error(op, "event_id", "event_id must not be empty");
        auto url = endpoint_with_id("/v2/calendars/", calendar_id, "/events/", op);
        if (!url) return url.error();
        detail::append_percent_encoded(*url, event_id);
        auto doc = call_json(http_method::get, std::move(*url), {}, op, request_safety::idempotent);
        if (!doc) return doc.error();
        const auto data = doc->body.find("data");
        if (!doc->body.is_object() || data == doc->body.end()) {
            return api_error_from_malformed(error{errc::missing_field, "/data", "required field is absent"},
                                            doc->status, std::string(op));
        }
        return parsed(parse_v2_event(*data, "/data"), doc->status, op);
    }

    /// POST /v2/calendars/{calendar_id}/bots: schedules bots; partial success is a value
    /// (v2_bot_result::errors), not an api_error ("already scheduled" comes back per event). Retried in-call
    /// only when the failure proves it was not applied.
    api_result<v2_bot_result> v2_schedule_bots(std::string_view calendar_id, const v2_bot_target& target,
                                               const v2_bot_config& config)
    {
        constexpr std::string_view op = "POST /v2/calendars/{calendar_id}/bots";
        if (config.bot_name.empty())
            return argument_error(op, "bot_name", "bot_name is required to schedule");
        return v2_bot_call(http_method::post, calendar_id, target, &config, op, request_safety::unsafe);
    }

    /// PATCH /v2/calendars/{calendar_id}/bots (409 when the bot is no longer `scheduled`: final).
    api_result<v2_bot_result> v2_update_bots(std::string_view calendar_id, const v2_bot_target& target,
                                             const v2_bot_config& changes)
    {
        constexpr std::string_view op = "PATCH /v2/calendars/{calendar_id}/bots";
        return v2_bot_call(http_method::patch, calendar_id, target, &changes, op, request_safety::idempotent);
    }

    /// DELETE /v2/calendars/{calendar_id}/bots with the JSON body {series_id, all_occurrences, event_id?}.
    /// A second DELETE of one event answers 404 (no bot left), so it is retried in-call only when the
    /// failure proves it was not applied.
    api_result<v2_bot_result> v2_delete_bots(std::string_view calendar_id, const v2_bot_target& target)
    {
        constexpr std::string_view op = "DELETE /v2/calendars/{calendar_id}/bots";
        return v2_bot_call(http_method::delete_, calendar_id, target, nullptr, op, request_safety::unsafe);
    }

    // ----------------------------------------------------------------------------------------------
    // Raw access
    // ----------------------------------------------------------------------------------------------

    /// Sends `method` to base_url + `path_and_query` (which must start with '/') with the client's
    /// headers, retries and error mapping; returns the 2xx response as is. `body` is sent as JSON when
    /// non-empty.
    api_result<http_response> send(http_method method, std::string_view path_and_query, std::string body,
                                   request_safety safety, std::string_view operation = {})
    {
        const std::string op = operation.empty()
                                   ? std::string(to_string(method)) + " " + std::string(path_and_query)
                                   : std::string(operation);
        if (path_and_query.empty() || path_and_query.front() != '/') {
            return argument_error(op, "path", "the path must start with '/'");
        }
        auto url = endpoint(path_and_query, op);
        if (!url) return url.error();
        return execute(method, std::move(*url), std::move(body), op, safety);
    }

private:
    struct json_answer {
        int status = 0;
        nlohmann::json body;
    };

    static api_error argument_error(std::string_view op, std::string_view where, std::string message)
    {
        api_error e;
        e.code = errc::invalid_argument;
        e.last_attempt_code = e.code;
        e.operation = std::string(op);
        e.where = std::string(where);
        e.message = std::move(message);
        e.may_have_been_sent = false;
        return e;
    }

    static api_error pagination_error(std::string_view op, std::string message)
    {
        api_error e;
        e.code = errc::pagination_loop;
        e.last_attempt_code = e.code;
        e.operation = std::string(op);
        e.where = "next";
        e.message = std::move(message);
        e.may_have_been_sent = false;
        return e;
    }

    template <class T>
    static api_result<T> parsed(result<T> r, int status, std::string_view op)
    {
        if (!r) return api_error_from_malformed(r.error(), status, std::string(op));
        return std::move(*r);
    }

    /// Checks the options once (see the constructor) and builds the headers every request carries.
    void prepare()
    {
        // Header values go on the wire verbatim: a CR or LF would inject header lines (validate() refuses
        // them).
        if (auto ok = meetingbaas::validate(options_); !ok) {
            config_problem_ = {ok.error().code, ok.error().where, ok.error().message};
        }
        auto base = std::string_view(options_.base_url);
        while (!base.empty() && base.back() == '/') base.remove_suffix(1);
        base_url_.assign(base);
        base_headers_.reserve(4);
        base_headers_.add("x-meeting-baas-api-key", options_.api_key);
        base_headers_.add("Accept", "application/json");
        if (!options_.user_agent.empty()) base_headers_.add("User-Agent", options_.user_agent);
        request_.headers = base_headers_;
        request_content_type_ = false;
    }

    /// base_url (without trailing slashes) + path; the options' problem, if any, as an api_error.
    api_result<std::string> endpoint(std::string_view path, std::string_view op) const
    {
        if (config_problem_.code != errc{}) {
            api_error e = argument_error(op, config_problem_.where, config_problem_.message);
            e.code = e.last_attempt_code = config_problem_.code;
            return e;
        }
        std::string url;
        url.reserve(base_url_.size() + path.size() + 64);  // room for an id and a short suffix
        url += base_url_;
        url += path;
        return url;
    }

    /// base_url + prefix + percent-encoded id + suffix.
    api_result<std::string> endpoint_with_id(std::string_view prefix, std::string_view id,
                                             std::string_view suffix, std::string_view op) const
    {
        if (id.empty()) return argument_error(op, "id", "the identifier must not be empty");
        auto url = endpoint(prefix, op);
        if (!url) return url;
        detail::append_percent_encoded(*url, id);
        *url += suffix;
        return url;
    }

    api_result<std::string> v1_events_url(const v1_event_query& query, std::string_view op) const
    {
        if (query.calendar_id.empty()) return argument_error(op, "calendar_id", "calendar_id is required");
        if (query.status && !is_valid(*query.status))
            return argument_error(op, "status", "not a v1_event_status value");
        auto url = endpoint("/calendar_events/", op);
        if (!url) return url;
        *url += v1_events_query(query, query.cursor);
        return url;
    }

    static std::string v1_events_query(const v1_event_query& query, const std::optional<std::string>& cursor)
    {
        detail::query_builder q;
        q.add("calendar_id", query.calendar_id);
        if (query.start_date_gte) q.add("start_date_gte", *query.start_date_gte);
        if (query.start_date_lte) q.add("start_date_lte", *query.start_date_lte);
        if (query.updated_at_gte) q.add("updated_at_gte", *query.updated_at_gte);
        if (query.status) q.add("status", to_string(*query.status));
        if (query.attendee_email) q.add("attendee_email", *query.attendee_email);
        if (query.organizer_email) q.add("organizer_email", *query.organizer_email);
        if (cursor) q.add("cursor", *cursor);
        return q.str();
    }

    /// The URL of the page after one whose `next` is `next` (spec §4.1, "Pagination").
    api_result<std::string> follow_next(const v1_event_query& query, const std::string& next,
                                        std::string_view op) const
    {
        const bool absolute = next.starts_with("http://") || next.starts_with("https://") ||
                              next.starts_with("HTTP://") || next.starts_with("HTTPS://");
        if (absolute) {
            const auto target = detail::split_url(next);
            const auto base = detail::split_url(options_.base_url);
            if (!target || !base) {
                api_error e = pagination_error(op, "the next URL is not a usable http(s) URL");
                e.code = e.last_attempt_code = errc::invalid_url;
                return e;
            }
            if (!detail::same_origin(*target, *base)) {
                return pagination_error(op, "the next URL leaves the configured origin " +
                                                detail::origin_of(*base) + ": " +
                                                detail::body_excerpt(detail::origin_of(*target), 120));
            }
            return next;
        }
        if (next.front() == '/') {
            const auto base = detail::split_url(options_.base_url);
            if (!base) return argument_error(op, "base_url", "base_url is not an http(s) URL");
            for (const char c : next) {
                if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#') {
                    api_error e = pagination_error(op, "the next path has forbidden characters");
                    e.code = e.last_attempt_code = errc::invalid_url;
                    return e;
                }
            }
            if (next.starts_with("//")) return pagination_error(op, "the next path names another host");
            return detail::origin_of(*base) + next;
        }
        auto url = endpoint("/calendar_events/", op);
        if (!url) return url;
        *url += v1_events_query(query, next);
        return url;
    }

    api_result<v1_event_page> v1_fetch_page(std::string url, std::string_view op)
    {
        auto response = execute(http_method::get, std::move(url), {}, op, request_safety::idempotent);
        if (!response) return response.error();
        return parsed(parse_v1_event_page_text(response->body), response->status, op);
    }

    api_result<std::vector<v1_event>> v1_bot_call(http_method method, std::string_view event_uuid,
                                                  std::string body, bool all_occurrences, std::string_view op,
                                                  request_safety safety)
    {
        auto url = endpoint_with_id("/calendar_events/", event_uuid, "/bot", op);
        if (!url) return url.error();
        detail::query_builder q;
        q.add("all_occurrences", all_occurrences ? "true" : "false");
        *url += q.str();
        auto response = execute(method, std::move(*url), std::move(body), op, safety);
        if (!response) return response.error();
        return parsed(parse_v1_event_list_text(response->body), response->status, op);
    }

    api_result<v2_bot_result> v2_bot_call(http_method method, std::string_view calendar_id,
                                          const v2_bot_target& target, const v2_bot_config* config,
                                          std::string_view op, request_safety safety)
    {
        if (target.series_id.empty()) return argument_error(op, "series_id", "series_id is required");
        if (!target.all_occurrences && (!target.event_id || target.event_id->empty())) {
            return argument_error(op, "event_id", "event_id is required when all_occurrences is false");
        }
        auto url = endpoint_with_id("/v2/calendars/", calendar_id, "/bots", op);
        if (!url) return url.error();
        nlohmann::json body = config != nullptr ? config->to_json() : nlohmann::json::object();
        const auto targeting = target.to_json();
        for (auto it = targeting.begin(); it != targeting.end(); ++it) body[it.key()] = it.value();
        auto doc = call_json(method, std::move(*url), body.dump(), op, safety);
        if (!doc) return doc.error();
        return parsed(parse_v2_bot_result(doc->body), doc->status, op);
    }

    /// execute() + JSON parsing of the 2xx body.
    api_result<json_answer> call_json(http_method method, std::string url, std::string body,
                                      std::string_view op, request_safety safety)
    {
        auto response = execute(method, std::move(url), std::move(body), op, safety);
        if (!response) return response.error();
        auto doc = detail::parse_json_body(response->body);
        if (!doc) return api_error_from_malformed(doc.error(), response->status, std::string(op));
        return json_answer{response->status, std::move(*doc)};
    }

    /// One attempt: send, then classify (2xx: the response; otherwise an api_error).
    api_result<http_response> attempt(const http_request& request, std::string_view op)
    {
        auto response = client_.send(request);
        if (!response) return api_error_from_transport(response.error(), std::string(op));
        if (response->status >= 200 && response->status < 300) return std::move(*response);
        return api_error_from_response(
            *response, std::string(op),
            std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    }

    /// Sends the request through the retrier: each attempt is classified (retry.hpp), and a retry waits
    /// max(backoff with jitter, Retry-After) through the injected sleeper.
    api_result<http_response> execute(http_method method, std::string url, std::string body,
                                      std::string_view op, request_safety safety)
    {
        if (in_execute_) {  // re-entered (from the HTTP client, a hook or the sleeper): a request of its own
            http_request request;
            request.headers = base_headers_;
            bool content_type = false;
            return execute_with(request, content_type, method, std::move(url), std::move(body), op, safety);
        }
        in_execute_ = true;
        class leave {
        public:
            explicit leave(bool& flag) noexcept : flag_(flag) {}
            leave(const leave&) = delete;
            leave& operator=(const leave&) = delete;
            ~leave() { flag_ = false; }

        private:
            bool& flag_;
        } guard{in_execute_};
        return execute_with(request_, request_content_type_, method, std::move(url), std::move(body), op,
                            safety);
    }

    /// execute() with `request` reused: its headers are base_headers_, plus Content-Type when
    /// `content_type` says so; both are brought in line with `body` here.
    api_result<http_response> execute_with(http_request& request, bool& content_type, http_method method,
                                           std::string url, std::string body, std::string_view op,
                                           request_safety safety)
    {
        request.method = method;
        request.url = std::move(url);
        request.body = std::move(body);
        if (request.body.empty() == content_type) {
            if (content_type) {
                request.headers = base_headers_;
            } else {
                request.headers.add("Content-Type", "application/json");
            }
            content_type = !content_type;
        }
        retrier_.start(
            {safety == request_safety::unsafe ? idempotence::non_idempotent : idempotence::idempotent,
             std::nullopt});
        std::optional<api_result<http_response>> last;
        for (;;) {
            const attempt_permit permit = retrier_.begin_attempt();
            if (!permit) {
                api_error e = last ? std::move(last->error()) : api_error{};
                if (!last) {
                    e.operation = std::string(op);
                    e.may_have_been_sent = false;
                    e.message = "no time left for an attempt";
                }
                e.last_attempt_code = last ? e.code : errc::deadline_exceeded;
                e.code = to_errc(permit.reason) == errc{} ? errc::deadline_exceeded : to_errc(permit.reason);
                e.attempts = retrier_.attempts();
                return e;
            }
            request.timeout = options_.timeout;
            if (permit.time_left && *permit.time_left < request.timeout) {
                request.timeout = std::max(*permit.time_left, std::chrono::milliseconds(1));
            }
            last.emplace(attempt(request, op));
            const retry_decision decision = retrier_.next(attempt_outcome_of(*last));
            if (!decision.retry) {
                if (*last) return std::move(*last);
                api_error e = std::move(last->error());
                e.attempts = decision.attempt;
                // Giving up on a retryable failure reports why; a permanent failure or a request that
                // must not be repeated keeps the attempt's own code (last_attempt_code keeps it anyway).
                if (to_errc(decision.reason) != errc{}) e.code = to_errc(decision.reason);
                return e;
            }
            if (!detail::sleep_for(retrier_.effects().sleeper, decision.delay)) {
                (void)retrier_.abandon();  // stop requested while waiting: end the call now
                api_error e = std::move(last->error());
                e.attempts = decision.attempt;
                e.code = errc::cancelled;
                return e;
            }
        }
    }

    /// What the retry classifier sees of an attempt: the status of a 2xx, or outcome_of(the error). The
    /// api_code view points into `r`.
    static attempt_outcome attempt_outcome_of(const api_result<http_response>& r) noexcept
    {
        if (r) return attempt_outcome::http(r->status);
        return outcome_of(r.error());
    }

    Client client_;
    api_client_options options_;
    std::string base_url_;  ///< options_.base_url without trailing slashes
    struct config_problem {
        errc code{};
        std::string where{};
        std::string message{};
    } config_problem_{};           ///< found by prepare(); reported by every call
    http_headers base_headers_{};  ///< API key, Accept, User-Agent
    http_request request_{};       ///< reused by execute() (its URL buffer and header list)
    bool request_content_type_ = false;
    bool in_execute_ = false;
    retrier<exponential_backoff, Effects> retrier_;
};

}  // namespace meetingbaas::inline v0
