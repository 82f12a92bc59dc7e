// SPDX-License-Identifier: MIT
#pragma once

// Calendar sync: turn calendar deliveries into bot schedules and cancellations, v1 and v2 in one engine.
//
//  * v1 `calendar.sync_events`: each affected UUID (GET /calendar_events/{uuid}), or every page of
//    `updated_at_gte = last_updated_ts, status = all`;
//  * v2 `calendar.event_created` (data.instances[]), `calendar.event_updated` (data.affected_instances[]),
//    `calendar.event_cancelled` (data.cancelled_instances[]) and `calendar.events_synced`
//    (data.events[].instances[]): each instance is a unit of work keyed by (calendar_id, event_id), read
//    with GET /v2/calendars/{calendar_id}/events/{event_id} (404: nothing to do).
//
// Per event, under a per-event lock: read the current truth (reconcile, don't replay), skip a state older
// than one already applied (event_state_store), decide (sync_policy.hpp), act once per state change (an
// idempotency key per action), record. A write whose answer was lost (timeout, reset, 5xx) is never sent
// again blindly: the event is read again, and either the write shows (done, counted once) or its claim is
// left to expire before anyone writes again.
//
//  * calendar_sync_processor: one job (kind + verified body) -> sync_report with a verdict;
//  * sync_worker (sync_worker.hpp, included below): leases jobs, runs the processor, settles each job.
//
// Threads: the library starts none. Run one sync_worker per thread you start (each with its own
// api_client, which is not internally synchronized); share the queue, the idempotency guard, the event
// state, the event_locks and the metrics. See docs/calendar-sync.md.

#include <meetingbaas/api/client.hpp>
#include <meetingbaas/api/models.hpp>
#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>
#include <meetingbaas/core/timestamp.hpp>
#include <meetingbaas/events/event.hpp>
#include <meetingbaas/idempotency/guard.hpp>
#include <meetingbaas/idempotency/key.hpp>
#include <meetingbaas/retry/classify.hpp>
#include <meetingbaas/sync/event_state.hpp>
#include <meetingbaas/sync/job_kinds.hpp>
#include <meetingbaas/sync/metrics.hpp>
#include <meetingbaas/sync/sync_policy.hpp>
#include <meetingbaas/sync/sync_report.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace meetingbaas::inline v0 {

// ---------------------------------------------------------------------------------------------------------
// The calendar API the processor needs (api_client satisfies both)

/// The four v1 calls of calendar sync, as meetingbaas::api_client provides them.
template <class A>
concept calendar_sync_api =
    requires(A& a, std::string_view uuid, const v1_event_query& q, const v1_bot_config& c) {
        { a.v1_get_event(uuid) } -> std::same_as<api_result<v1_event>>;
        { a.v1_list_events(q) } -> std::same_as<api_result<std::vector<v1_event>>>;
        { a.v1_schedule_bot(uuid, c) } -> std::same_as<api_result<std::vector<v1_event>>>;
        { a.v1_unschedule_bot(uuid) } -> std::same_as<api_result<std::vector<v1_event>>>;
    };

/// The four v2 calls of calendar sync, as meetingbaas::api_client provides them.
template <class A>
concept calendar_sync_api_v2 = requires(A& a, std::string_view id, const v2_event_query& q,
                                        const v2_bot_target& t, const v2_bot_config& c) {
    { a.v2_get_event(id, id) } -> std::same_as<api_result<v2_event>>;
    { a.v2_list_events(id, q) } -> std::same_as<api_result<std::vector<v2_event_summary>>>;
    { a.v2_schedule_bots(id, t, c) } -> std::same_as<api_result<v2_bot_result>>;
    { a.v2_delete_bots(id, t) } -> std::same_as<api_result<v2_bot_result>>;
};

namespace detail {
/// The API object behind `Api` (a value, a reference or a pointer).
template <class Api>
using sync_api_t = std::remove_cvref_t<std::remove_pointer_t<std::remove_reference_t<Api>>>;
}  // namespace detail

// ---------------------------------------------------------------------------------------------------------
// Options and dependencies

/// Options of a calendar_sync_processor (check them with validate()).
struct calendar_sync_options {
    v1_bot_config bot{.bot_name = "Recorder"};     ///< the body of v1 POST /calendar_events/{uuid}/bot
    v2_bot_config v2_bot{.bot_name = "Recorder"};  ///< v2 POST /v2/calendars/{id}/bots (targeting added)
    /// Lease of an action's idempotency claim. It must outlast one API call with its in-call retries and
    /// per-attempt timeouts (api_client::max_call_duration(): 60 s with the defaults) plus `lease_margin`:
    /// a claim left by a crashed worker, or by a write whose answer was lost, is only taken over once the
    /// request it covered is surely over.
    std::chrono::milliseconds action_lease{std::chrono::seconds(90)};
    /// Slack for timeouts that overshoot and for clock skew between processes sharing a store.
    std::chrono::milliseconds lease_margin{std::chrono::seconds(5)};
    /// calendar.events_synced: when one calendar has at least this many instances, list the window
    /// (GET /v2/calendars/{id}/events, every page, show_cancelled=true) and read single events only for the
    /// instances the listing says need an action (or that it does not show). 0: read every instance. Used
    /// only with a policy that decides_from_listed_fields (default_sync_policy does).
    std::size_t v2_list_threshold = 0;
    parse_options parse{};
};

/// Checks the options on their own: positive action_lease, non-negative lease_margin, bot names set.
/// (calendar_sync_processor::validate() also checks the lease against the API client's call bound.)
/// Errors: errc::invalid_argument, `where` = the field.
[[nodiscard]] inline result<void> validate(const calendar_sync_options& o)
{
    if (o.action_lease <= std::chrono::milliseconds::zero()) {
        return error{errc::invalid_argument, "calendar_sync_options.action_lease", "must be positive"};
    }
    if (o.lease_margin < std::chrono::milliseconds::zero()) {
        return error{errc::invalid_argument, "calendar_sync_options.lease_margin", "must not be negative"};
    }
    if (o.bot.bot_name.empty()) {
        return error{errc::invalid_argument, "calendar_sync_options.bot.bot_name", "a bot name is required"};
    }
    if (o.v2_bot.bot_name.empty()) {
        return error{errc::invalid_argument, "calendar_sync_options.v2_bot.bot_name",
                     "a bot name is required"};
    }
    return {};
}

/// What a calendar_sync_processor works with. Designated initializers and class template argument
/// deduction spell it; the references come first and are required, the rest has defaults:
///
///     meetingbaas::calendar_sync_processor processor(meetingbaas::calendar_sync_deps{
///         .api = &api, .guard = guard, .state = state, .locks = locks,
///         .options = options, .metrics = &metrics});
///
/// `api` is held as given: a pointer (the application owns the client), or a value moved in.
template <class Api, class Guard, class State, class Policy = default_sync_policy,
          wall_clock Clock = std::chrono::system_clock>
struct calendar_sync_deps {
    Api api;                              ///< an api_client (or any calendar_sync_api / calendar_sync_api_v2)
    Guard& guard;                         ///< idempotency guard for the action keys (shared)
    State& state;                         ///< event_state_store: the newest state applied per event (shared)
    event_locks& locks;                   ///< per-event locks of this process (shared)
    calendar_sync_options options{};      ///< bot configuration, leases
    Policy policy{};                      ///< what to do about one event
    sync_metrics* metrics = nullptr;      ///< counters (optional, shared)
    [[no_unique_address]] Clock clock{};  ///< a wall_clock (core/clock.hpp): "now" for decisions
};

/// The idempotency key of one v1 action on one state of an event: `calendar_sync.<action>|<uuid>|<t>`.
[[nodiscard]] inline idempotency_key action_key(sync_action action, std::string_view event_uuid,
                                                utc_time last_updated_at)
{
    const std::string ns = "calendar_sync." + std::string(to_string(action));
    return make_key(ns, event_uuid, format_timestamp(last_updated_at));
}

/// The idempotency key of one v2 action on one state of an instance:
/// `calendar_sync.v2.<action>|<calendar_id>|<event_id>|<updated_at>|<digest of status, meeting_url,
/// start_time, end_time>`; for schedule_series, once per series: `calendar_sync.v2.schedule_series|
/// <calendar_id>|<series_id>`.
[[nodiscard]] inline idempotency_key v2_action_key(sync_action action, std::string_view calendar_id,
                                                   const v2_event& e)
{
    const std::string ns = "calendar_sync.v2." + std::string(to_string(action));
    if (action == sync_action::schedule_series) return make_key(ns, calendar_id, e.series_id);
    std::string state = e.status;
    state += '\n';
    state += e.meeting_url.value_or("");
    state += '\n';
    state += e.start_time.text;
    state += '\n';
    state += e.end_time.text;
    const std::optional<utc_time> version =
        e.updated_at ? std::optional<utc_time>(e.updated_at->time) : std::nullopt;
    return make_key(ns, calendar_id, e.event_id, version, hashed_part{state});
}

/// The key under which the event state store keeps a v2 instance: "v2/<calendar_id>/<event_id>" (v1 events
/// are kept under their uuid).
[[nodiscard]] inline std::string v2_state_key(std::string_view calendar_id, std::string_view event_id)
{
    std::string key = "v2/";
    key += calendar_id;
    key += '/';
    key += event_id;
    return key;
}

/// A heartbeat the processor calls between units of work (the worker extends the job's lease in it). It
/// returns false when the job was lost (its lease expired and another worker took it): the processor stops.
/// A non-owning reference to a callable; empty: always true.
class sync_progress {
public:
    sync_progress() = default;
    template <class F>
        requires(!std::same_as<std::remove_cvref_t<F>, sync_progress>) && std::invocable<F&> &&
                    std::convertible_to<std::invoke_result_t<F&>, bool>
    sync_progress(F& f) noexcept  // NOLINT(google-explicit-constructor): a function_ref
        : context_(static_cast<void*>(&f)),
          call_([](void* c) { return static_cast<bool>((*static_cast<F*>(c))()); })
    {}
    bool operator()() const { return call_ == nullptr || call_(context_); }

private:
    void* context_ = nullptr;
    bool (*call_)(void*) = nullptr;
};

// ---------------------------------------------------------------------------------------------------------
// The processor

/// Processes calendar jobs of both generations. Not thread-safe itself (it owns or points to the caller's
/// api_client): create one per worker thread; the guard, state store, locks and metrics it refers to are
/// shared and thread-safe.
///
/// Construct it from a calendar_sync_deps. A configuration that breaks its own invariants (validate())
/// is not accepted silently: create() refuses it, and a processor constructed with it anyway processes no
/// job (every job gets a retry verdict naming the problem, so no work is lost, and sync_worker refuses to
/// lease for it).
template <class Api, class Guard, event_state_store State, sync_policy Policy = default_sync_policy,
          wall_clock Clock = std::chrono::system_clock>
    requires calendar_sync_api<detail::sync_api_t<Api>> || calendar_sync_api_v2<detail::sync_api_t<Api>>
class calendar_sync_processor {
    using api_type = detail::sync_api_t<Api>;

public:
    using deps_type = calendar_sync_deps<Api, Guard, State, Policy, Clock>;

    /// True when v1 jobs can be processed (the API has the v1 calls and the policy a v1 overload).
    static constexpr bool handles_v1 = calendar_sync_api<api_type> && v1_sync_policy<Policy>;
    /// True when v2 jobs can be processed.
    static constexpr bool handles_v2 = calendar_sync_api_v2<api_type> && v2_sync_policy<Policy>;

    explicit calendar_sync_processor(deps_type deps)
        : api_(std::forward<Api>(deps.api)), guard_(&deps.guard), state_(&deps.state), locks_(&deps.locks),
          options_(std::move(deps.options)), policy_(std::move(deps.policy)), metrics_(deps.metrics),
          clock_(std::move(deps.clock))
    {
        if (auto ok = check(); !ok) config_error_ = std::move(ok).error();
    }

    /// A processor, or the reason its configuration is refused (see validate()).
    [[nodiscard]] static result<calendar_sync_processor> create(deps_type deps)
    {
        calendar_sync_processor p(std::move(deps));
        if (p.config_error_) return *p.config_error_;
        return p;
    }

    /// Checks the configuration: the options (validate(calendar_sync_options)), the API client's own
    /// options when it has validate(), and that the action lease outlasts one API call:
    /// action_lease >= api.max_call_duration() + lease_margin (when the API reports its bound), and is not
    /// longer than the guard's retention. Errors: errc::invalid_argument with `where` naming the field.
    [[nodiscard]] result<void> validate() const
    {
        if (config_error_) return *config_error_;
        return {};
    }

    /// The longest one unit of work may take: a read, a write, and a read again after a lost answer
    /// (3 x the API's max_call_duration, or 0 when the API does not report one). A job lease renewed
    /// between units must be longer (sync_worker checks it).
    [[nodiscard]] std::chrono::milliseconds max_unit_duration() const
    {
        if constexpr (requires(const api_type& a) {
                          { a.max_call_duration() } -> std::convertible_to<std::chrono::milliseconds>;
                      }) {
            return detail::sat_mul(std::chrono::milliseconds(api().max_call_duration()), 3.0);
        } else {
            return std::chrono::milliseconds(0);
        }
    }

    /// Processes one job: `kind` is the job's kind (job_kinds.hpp), `payload` the verified delivery body.
    /// Stops between events when `stop` is requested or `progress` returns false (the verdict is then
    /// retry: the job resumes later). An unknown kind, a payload that does not parse or does not match
    /// the kind, or a generation this processor cannot handle fails for good.
    sync_report process_job(std::string_view kind, std::string_view payload, const std::stop_token& stop = {},
                            sync_progress progress = {})
    {
        const api_version version = calendar_job_version(kind);
        if (version == api_version::unknown) {
            sync_report r;
            r.job_kind = std::string(kind);
            r.verdict = permanent_verdict("unknown job kind \"" + std::string(kind.substr(0, 80)) + "\"");
            return r;
        }
        parse_options parse = options_.parse;
        parse.version = version;
        auto parsed = parse_delivery(payload, parse);
        if (!parsed) {
            sync_report r;
            r.version = version;
            r.job_kind = std::string(kind);
            r.verdict = permanent_verdict("unparsable job payload: " + to_string(parsed.error()));
            return r;
        }
        if (event_name(parsed->event) != kind) {
            sync_report r;
            r.version = version;
            r.job_kind = std::string(kind);
            r.verdict = permanent_verdict("the payload is a " + std::string(event_name(parsed->event)) +
                                          " delivery, not " + std::string(kind));
            return r;
        }
        return dispatch(*parsed, stop, progress);
    }

    /// Processes one delivery body (a verified calendar delivery of either generation), dispatching on its
    /// event type. A body that does not parse, or another event type, fails for good.
    sync_report process_body(std::string_view body, const std::stop_token& stop = {},
                             sync_progress progress = {})
    {
        auto parsed = parse_delivery(body, options_.parse);
        if (!parsed) {
            sync_report r;
            r.verdict = permanent_verdict("unparsable job payload: " + to_string(parsed.error()));
            return r;
        }
        return dispatch(*parsed, stop, progress);
    }

    /// Processes one parsed v1 delivery: fetch, decide, act, record.
    sync_report process(const calendar_sync_events& sync, const std::stop_token& stop = {},
                        sync_progress progress = {})
    {
        sync_report report;
        report.version = api_version::v1;
        report.job_kind = std::string(v1_calendar_job_kind);
        report.calendar_id = sync.calendar_id;
        if constexpr (!handles_v1) {
            (void)stop;
            (void)progress;
            report.verdict = permanent_verdict("this processor does not handle v1 calendar jobs (its API or "
                                               "policy has no v1 support)");
            return report;
        } else {
            if (config_error_) return refused(std::move(report));
            const run_scope scope(*this, stop, progress);
            std::vector<v1_unit> units;
            std::optional<api_error> fetch_failure;
            if (!sync.affected_event_uuids || sync.affected_event_uuids->empty()) {
                report.listed = true;
                v1_event_query query;
                query.calendar_id = sync.calendar_id;
                query.updated_at_gte = sync.last_updated_ts.text;  // the provider's own text (spec section 5)
                query.status = v1_event_status::all;
                auto listed = api().v1_list_events(query);
                if (!listed) {
                    fetch_failure = std::move(listed).error();
                } else {
                    for (auto& e : *listed) {
                        v1_unit u;
                        u.uuid = e.uuid;
                        u.event = std::move(e);
                        units.push_back(std::move(u));
                    }
                }
            } else {
                std::set<std::string_view> seen;
                for (const auto& uuid : *sync.affected_event_uuids) {
                    if (!seen.insert(uuid).second) continue;
                    units.push_back(v1_unit{uuid, std::nullopt, std::nullopt});
                }
            }
            const bool interrupted = run_units(units, report);
            report.verdict = judge(report, fetch_failure, interrupted);
            return report;
        }
    }

    /// Processes one parsed v2 calendar.event_created / event_updated / event_cancelled delivery: each
    /// instance is read, decided and acted on.
    sync_report process(const calendar_event_change_v2& change, const std::stop_token& stop = {},
                        sync_progress progress = {})
    {
        sync_report report;
        report.version = api_version::v2;
        report.job_kind = std::string(v2_calendar_job_kinds[static_cast<std::size_t>(change.change)]);
        report.calendar_id = change.calendar_id;
        if constexpr (!handles_v2) {
            (void)stop;
            (void)progress;
            report.verdict = permanent_verdict("this processor does not handle v2 calendar jobs (its API or "
                                               "policy has no v2 support)");
            return report;
        } else {
            if (config_error_) return refused(std::move(report));
            const run_scope scope(*this, stop, progress);
            std::vector<v2_unit> units;
            std::set<std::string_view> seen;
            for (const auto& instance : change.instances) {
                if (!seen.insert(instance.event_id).second) continue;
                units.push_back(v2_unit{change.calendar_id, instance.event_id, change.series_id.value_or(""),
                                        v2_series_hint{change.series_bot_scheduled}, std::nullopt});
            }
            const bool interrupted = run_units(units, report);
            report.verdict = judge(report, std::nullopt, interrupted);
            return report;
        }
    }

    /// Processes one parsed v2 calendar.events_synced delivery: every instance of every series (each with
    /// its series' id), read one by one, or judged from the listing of the window when there are at least
    /// options().v2_list_threshold of them.
    sync_report process(const calendar_events_synced_v2& synced, const std::stop_token& stop = {},
                        sync_progress progress = {})
    {
        sync_report report;
        report.version = api_version::v2;
        report.job_kind = std::string(v2_calendar_job_kinds[3]);
        report.calendar_id = synced.calendar_id;
        if constexpr (!handles_v2) {
            (void)stop;
            (void)progress;
            report.verdict = permanent_verdict("this processor does not handle v2 calendar jobs (its API or "
                                               "policy has no v2 support)");
            return report;
        } else {
            if (config_error_) return refused(std::move(report));
            const run_scope scope(*this, stop, progress);
            std::vector<v2_unit> units;
            std::set<std::string_view> seen;
            std::optional<utc_time> first_start;
            std::optional<utc_time> last_start;
            for (const auto& series : synced.events) {
                for (const auto& instance : series.instances) {
                    if (!seen.insert(instance.event_id).second) continue;
                    units.push_back(v2_unit{synced.calendar_id, instance.event_id,
                                            series.series_id.value_or(""),
                                            v2_series_hint{series.series_bot_scheduled}, std::nullopt});
                    if (!first_start || instance.start.time < *first_start) first_start = instance.start.time;
                    if (!last_start || instance.start.time > *last_start) last_start = instance.start.time;
                }
            }
            if constexpr (decides_from_listed_fields<Policy>) {
                if (options_.v2_list_threshold > 0 && units.size() >= options_.v2_list_threshold &&
                    first_start && last_start) {
                    report.listed =
                        prejudge_from_listing(synced.calendar_id, *first_start, *last_start, units);
                }
            }
            const bool interrupted = run_units(units, report);
            report.verdict = judge(report, std::nullopt, interrupted);
            return report;
        }
    }

    [[nodiscard]] api_type& api() noexcept
    {
        if constexpr (std::is_pointer_v<std::remove_reference_t<Api>>) {
            return *api_;
        } else {
            return api_;
        }
    }
    [[nodiscard]] const api_type& api() const noexcept
    {
        if constexpr (std::is_pointer_v<std::remove_reference_t<Api>>) {
            return *api_;
        } else {
            return api_;
        }
    }
    [[nodiscard]] const calendar_sync_options& options() const noexcept { return options_; }
    [[nodiscard]] const Policy& policy() const noexcept { return policy_; }

private:
    // ---- units of work ------------------------------------------------------------------------------------

    struct v1_unit {
        std::string uuid;
        std::optional<v1_event> event;             ///< already read (listed), or read under the lock
        std::optional<sync_decision> prejudged{};  ///< (v2 only; always empty for v1)
    };
    struct v2_unit {
        std::string calendar_id;
        std::string event_id;
        std::string series_id;  ///< from the delivery; the event as read wins when it names one
        v2_series_hint hint;
        std::optional<v2_event> event;  ///< read under the lock (or judged from the listing: `prejudged`)
        std::optional<sync_decision> prejudged{};  ///< the listing showed nothing to do
    };

    enum class read_status { found, gone, failed };
    struct read_result {
        read_status status = read_status::found;
        std::optional<api_error> error{};
    };

    /// One read's answer (v1 or v2 get_event): the event into `into`, 404 as gone, anything else failed.
    template <class Event>
    static read_result take_read(api_result<Event> e, std::optional<Event>& into)
    {
        if (e) {
            into = std::move(*e);
            return {};
        }
        if (e.error().is_not_found()) return {read_status::gone, std::nullopt};
        return {read_status::failed, std::move(e).error()};
    }

    enum class write_status { applied, already, gone, rejected, failed };
    struct write_result {
        write_status status = write_status::applied;
        std::optional<api_error> error{};
        std::uint64_t count = 1;  ///< bots scheduled or cancelled (a series may count several)
        std::string detail{};     ///< what the API said, for the reason
    };

    /// Holds stop and progress for the duration of one job.
    class run_scope {
    public:
        run_scope(calendar_sync_processor& p, const std::stop_token& stop, sync_progress progress) : p_(p)
        {
            p_.stop_ = stop;
            p_.progress_ = progress;
        }
        run_scope(const run_scope&) = delete;
        run_scope& operator=(const run_scope&) = delete;
        ~run_scope()
        {
            p_.stop_ = {};
            p_.progress_ = {};
        }

    private:
        calendar_sync_processor& p_;
    };

    sync_report dispatch(const delivery& d, const std::stop_token& stop, sync_progress progress)
    {
        if (const auto* v1 = std::get_if<calendar_sync_events>(&d.event)) return process(*v1, stop, progress);
        if (const auto* change = std::get_if<calendar_event_change_v2>(&d.event))
            return process(*change, stop, progress);
        if (const auto* synced = std::get_if<calendar_events_synced_v2>(&d.event))
            return process(*synced, stop, progress);
        sync_report r;
        r.verdict = permanent_verdict("job payload is a " + std::string(event_name(d.event)) +
                                      " delivery, not a calendar job");
        return r;
    }

    /// Reconciles every unit, with the heartbeat in between. True when interrupted (stop or lost lease).
    template <class Unit>
    bool run_units(std::vector<Unit>& units, sync_report& report)
    {
        current_version_ = version_of_unit<Unit>();
        for (auto& u : units) {
            if (stop_.stop_requested() || !progress_()) return true;
            report.events.push_back(reconcile(u));
        }
        return false;
    }

    // ---- the shared engine --------------------------------------------------------------------------------

    template <class Unit>
    event_report reconcile(Unit& u)
    {
        event_report r = base_report(u);
        auto lock = locks_->lock(state_key(u));

        if (u.prejudged) {  // the listing showed nothing to do
            r.action = u.prejudged->action;
            r.reason = std::move(u.prejudged->reason);
            r.outcome = event_outcome::applied;
            return r;
        }
        if (!u.event) {
            auto read = read_event(u);
            if (read.status == read_status::gone)
                return gone(std::move(r), "the API no longer knows this event");
            if (read.status == read_status::failed)
                return failed(std::move(r), std::move(*read.error), "read");
        }
        describe(u, r);

        const std::string key = state_key(u);
        const std::optional<utc_time> version = version_of(u);
        auto applied = state_->applied_version(key);
        if (!applied) return storage_failure(std::move(r), applied.error());
        if (version && *applied && *version < **applied) {
            r.outcome = event_outcome::stale;
            r.reason = "older than the state already applied (" + format_timestamp(**applied) + ")";
            count(&sync_counters::events_stale);
            return r;
        }

        const utc_time now = current_time();
        sync_decision d = decide(u, now);
        r.action = d.action;
        r.reason = std::move(d.reason);
        if (d.action == sync_action::none) {
            if (auto ok = record(key, version); !ok) return storage_failure(std::move(r), ok.error());
            r.outcome = event_outcome::applied;
            return r;
        }

        auto begun = guard_->begin_for(key_of(u, d.action), fingerprint{}, options_.action_lease);
        if (!begun) return storage_failure(std::move(r), begun.error());
        switch (begun->status) {
            case begin_status::completed:
            case begin_status::mismatch:  // cannot happen without a fingerprint; treat as done
                if (auto ok = record(key, version); !ok) return storage_failure(std::move(r), ok.error());
                r.outcome = event_outcome::already_done;
                return r;
            case begin_status::in_progress:
                r.outcome = event_outcome::busy;
                r.reason = "another worker holds the " + std::string(to_string(d.action)) + " of this event";
                r.classification = failure_class::transient;
                if (begun->record) r.retry_after = until(begun->record->expires_at, now);
                return r;
            case begin_status::acquired: break;
        }

        write_result w = write(u, d.action);
        switch (w.status) {
            case write_status::applied:
            case write_status::already: {
                if (auto ok = guard_->complete(begun->claim); !ok)
                    return storage_failure(std::move(r), ok.error());
                if (auto ok = record(key, version); !ok) return storage_failure(std::move(r), ok.error());
                if (w.status == write_status::applied) {
                    count_write(d.action, w.count);
                    r.outcome = event_outcome::applied;
                } else {
                    r.outcome = event_outcome::already_done;
                    r.reason += "; the API says: " + w.detail;
                }
                return r;
            }
            case write_status::gone:
                (void)guard_->release(begun->claim);
                return gone(std::move(r),
                            "the event disappeared before the " + std::string(to_string(d.action)));
            case write_status::rejected:
                // Final for this event. The key is released so that an operator who re-queues the dead letter
                // (or a later change of the event) may act again.
                (void)guard_->release(begun->claim);
                count(&sync_counters::events_rejected);
                r.outcome = event_outcome::rejected;
                r.classification = failure_class::permanent;
                r.reason = "the API refused the " + std::string(to_string(d.action)) + ": " + w.detail;
                r.error = std::move(w.error);
                return r;
            case write_status::failed: break;
        }

        api_error cause = std::move(*w.error);
        if (!may_have_been_applied(cause)) {
            // The failure proves the write was not applied (not sent, 408, 425, 429, 503): free the key, and
            // let the job-level retry act again.
            (void)guard_->release(begun->claim);
            return failed(std::move(r), std::move(cause), std::string(to_string(d.action)));
        }

        // The answer was lost: the write may have been applied. Never send it again blindly: read the event.
        count(&sync_counters::writes_unconfirmed);
        const auto claim_left = [&] { return until(begun->claim.lease_until, current_time()); };
        if (!stop_.stop_requested()) {
            auto again = read_event(u);
            if (again.status == read_status::gone) {
                (void)guard_->release(begun->claim);
                return gone(std::move(r),
                            "the event disappeared after the " + std::string(to_string(d.action)));
            }
            if (again.status == read_status::found && effect_visible(u, d.action)) {
                if (auto ok = guard_->complete(begun->claim); !ok)
                    return storage_failure(std::move(r), ok.error());
                if (auto ok = record(key, version_of(u)); !ok)
                    return storage_failure(std::move(r), ok.error());
                count_write(d.action, 1);
                describe(u, r);
                r.outcome = event_outcome::applied;
                r.confirmed_by_reread = true;
                r.reason += "; the answer was lost, reading the event again shows it done";
                return r;
            }
        }
        // Not visible (yet), or shutting down: the write may still land. Keep the claim until it expires, so
        // that nobody writes again before the request is surely over; then the next attempt reads again.
        r.outcome = event_outcome::busy;
        r.classification = failure_class::transient;
        r.retry_after = claim_left();
        r.reason = "the " + std::string(to_string(d.action)) +
                   " may have been applied (its answer was lost): read again when its claim ends";
        r.error = std::move(cause);
        return r;
    }

    // ---- v1 -----------------------------------------------------------------------------------------------

    static event_report base_report(const v1_unit& u)
    {
        event_report r;
        r.uuid = u.uuid;
        return r;
    }
    static std::string state_key(const v1_unit& u) { return u.uuid; }
    static void describe(const v1_unit& u, event_report& r)
    {
        r.name = u.event->name;
        r.start_time = u.event->start_time.text;
    }
    static std::optional<utc_time> version_of(const v1_unit& u) { return u.event->last_updated_at.time; }
    sync_decision decide(const v1_unit& u, utc_time now) const
    {
        if constexpr (v1_sync_policy<Policy>) {
            return policy_(*u.event, now);
        } else {
            (void)u;
            (void)now;
            return {};
        }
    }
    static idempotency_key key_of(const v1_unit& u, sync_action a)
    {
        return action_key(a, u.uuid, u.event->last_updated_at.time);
    }
    static bool effect_visible(const v1_unit& u, sync_action a)
    {
        return a == sync_action::cancel ? !u.event->bot_param.has_value() : u.event->bot_param.has_value();
    }

    read_result read_event(v1_unit& u)
    {
        if constexpr (calendar_sync_api<api_type>) {
            return take_read(api().v1_get_event(u.uuid), u.event);
        } else {
            (void)u;
            return {read_status::gone, std::nullopt};
        }
    }

    write_result write(v1_unit& u, sync_action a)
    {
        if constexpr (calendar_sync_api<api_type>) {
            auto call = a == sync_action::schedule ? api().v1_schedule_bot(u.uuid, options_.bot)
                                                   : api().v1_unschedule_bot(u.uuid);
            if (call) return {};
            return from_api_failure(std::move(call).error());
        } else {
            (void)u;
            (void)a;
            return {write_status::gone, std::nullopt, 0, {}};
        }
    }

    // ---- v2 -----------------------------------------------------------------------------------------------

    static event_report base_report(const v2_unit& u)
    {
        event_report r;
        r.uuid = u.event_id;
        r.calendar_id = u.calendar_id;
        r.series_id = u.series_id;
        return r;
    }
    static std::string state_key(const v2_unit& u) { return v2_state_key(u.calendar_id, u.event_id); }
    static void describe(v2_unit& u, event_report& r)
    {
        r.name = u.event->title;
        r.start_time = u.event->start_time.text;
        if (!u.event->series_id.empty()) {
            u.series_id = u.event->series_id;
            r.series_id = u.series_id;
        }
    }
    static std::optional<utc_time> version_of(const v2_unit& u)
    {
        if (u.event && u.event->updated_at) return u.event->updated_at->time;
        return std::nullopt;
    }
    sync_decision decide(const v2_unit& u, utc_time now) const
    {
        if constexpr (v2_sync_policy<Policy>) {
            return policy_(*u.event, u.hint, now);
        } else {
            (void)u;
            (void)now;
            return {};
        }
    }
    static idempotency_key key_of(const v2_unit& u, sync_action a)
    {
        return v2_action_key(a, u.calendar_id, *u.event);
    }
    static bool effect_visible(const v2_unit& u, sync_action a)
    {
        return a == sync_action::cancel ? !u.event->bot_scheduled : u.event->bot_scheduled;
    }

    read_result read_event(v2_unit& u)
    {
        if constexpr (calendar_sync_api_v2<api_type>) {
            return take_read(api().v2_get_event(u.calendar_id, u.event_id), u.event);
        } else {
            (void)u;
            return {read_status::gone, std::nullopt};
        }
    }

    write_result write(v2_unit& u, sync_action a)
    {
        if constexpr (calendar_sync_api_v2<api_type>) {
            v2_bot_target target;
            target.series_id = u.series_id;
            target.all_occurrences = a == sync_action::schedule_series;
            if (!target.all_occurrences) target.event_id = u.event_id;
            auto call = a == sync_action::cancel
                            ? api().v2_delete_bots(u.calendar_id, target)
                            : api().v2_schedule_bots(u.calendar_id, target, options_.v2_bot);
            if (!call) return from_api_failure(std::move(call).error());
            const v2_bot_result& answer = *call;
            const std::string op = a == sync_action::cancel ? "DELETE /v2/calendars/{calendar_id}/bots"
                                                            : "POST /v2/calendars/{calendar_id}/bots";
            for (std::size_t i = 0; i < answer.errors.size(); ++i) {
                const auto& item = answer.errors[i];
                if (item.event_id != u.event_id) continue;
                std::string said = item.code + (item.message.empty() ? "" : ": " + item.message);
                if (item.details && !item.details->empty()) said += " (" + *item.details + ")";
                if (classify_item_error(item.code, a == sync_action::cancel) == failure_class::success) {
                    return {write_status::already, std::nullopt, 0, std::move(said)};
                }
                api_error e;
                e.code = e.last_attempt_code = errc::api_error;
                e.provider_code = item.code;
                e.message = item.message;
                if (item.details && !item.details->empty()) e.message += " (" + *item.details + ")";
                e.operation = op;
                e.where = "/errors/" + std::to_string(i);
                e.attempts = 1;
                return {write_status::rejected, std::move(e), 0, std::move(said)};
            }
            const bool mentioned = std::find(answer.succeeded.begin(), answer.succeeded.end(), u.event_id) !=
                                   answer.succeeded.end();
            if (a == sync_action::schedule_series) {
                // The series' bots: every succeeded occurrence counts (this one may have started already).
                return {write_status::applied, std::nullopt, answer.succeeded.size(), {}};
            }
            if (mentioned) return {};
            // A 2xx that names neither this event's success nor its error: the write may or may not have been
            // applied. Read again (an unusable answer).
            api_error e;
            e.code = e.last_attempt_code = errc::malformed_response;
            e.http_status = a == sync_action::cancel ? 200 : 201;
            e.operation = op;
            e.where = "/data";
            e.message = "the answer names neither a success nor an error for event " + u.event_id;
            return {write_status::failed, std::move(e), 0, {}};
        } else {
            (void)u;
            (void)a;
            return {write_status::gone, std::nullopt, 0, {}};
        }
    }

    /// calendar.events_synced with many instances: list the window once (every page, cancelled included)
    /// and mark the instances the listing shows need nothing. The others (an action, or not listed) are read
    /// one by one as usual. A failed listing changes nothing: every instance is then read. True when listed.
    bool prejudge_from_listing(const std::string& calendar_id, utc_time first_start, utc_time last_start,
                               std::vector<v2_unit>& units)
    {
        if constexpr (calendar_sync_api_v2<api_type> && v2_sync_policy<Policy>) {
            if (!progress_()) return false;
            v2_event_query query;
            query.limit = 250;
            query.show_cancelled = true;
            query.start_date = format_timestamp(first_start);
            query.end_date = format_timestamp(last_start);
            auto listed = api().v2_list_events(calendar_id, query);
            if (!listed) return false;
            std::map<std::string_view, const v2_event_summary*> by_id;
            for (const auto& e : *listed) by_id.emplace(e.event_id, &e);
            const utc_time now = current_time();
            for (auto& u : units) {
                const auto it = by_id.find(u.event_id);
                if (it == by_id.end()) continue;  // not listed: read it (a 404 then says it is gone)
                const v2_event e = from_summary(*it->second);
                sync_decision d = policy_(e, u.hint, now);
                if (d.action == sync_action::none) u.prejudged = std::move(d);
            }
            return true;
        } else {
            (void)calendar_id;
            (void)first_start;
            (void)last_start;
            (void)units;
            return false;
        }
    }

    static v2_event from_summary(const v2_event_summary& s)
    {
        v2_event e;
        e.event_id = s.event_id;
        e.series_id = s.series_id;
        e.event_type = s.event_type;
        e.title = s.title;
        e.start_time = s.start_time;
        e.end_time = s.end_time;
        e.status = s.status;
        e.meeting_url = s.meeting_url;
        e.meeting_platform = s.meeting_platform;
        e.calendar_id = s.calendar_id;
        e.bot_scheduled = s.bot_scheduled;
        e.created_at = s.created_at;
        return e;
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /// Sorts an API failure of a write: 404 gone, permanent rejected, otherwise failed (the caller decides
    /// between "not applied" and "answer lost" with may_have_been_applied()).
    static write_result from_api_failure(api_error e)
    {
        if (e.is_not_found()) return {write_status::gone, std::move(e), 0, {}};
        if (classify(e) == failure_class::permanent) {
            std::string said = e.http_status != 0 ? "HTTP " + std::to_string(e.http_status) : std::string();
            if (!e.provider_code.empty()) said += (said.empty() ? "" : " ") + e.provider_code;
            if (!e.message.empty()) said += (said.empty() ? "" : ": ") + e.message;
            return {write_status::rejected, std::move(e), 0, std::move(said)};
        }
        return {write_status::failed, std::move(e), 0, {}};
    }

    result<void> record(const std::string& key, const std::optional<utc_time>& version)
    {
        if (!version) return {};
        return state_->record_applied(key, *version);
    }

    static event_report gone(event_report r, std::string reason)
    {
        r.outcome = event_outcome::not_found;
        r.reason = std::move(reason);
        return r;
    }

    static event_report failed(event_report r, api_error e, std::string_view during)
    {
        r.outcome = event_outcome::failed;
        r.classification = classify(e);
        r.reason = std::string(during) + " failed (" + std::string(to_string(r.classification)) + ")";
        r.error = std::move(e);
        return r;
    }

    static event_report storage_failure(event_report r, const error& e)
    {
        api_error err;
        err.code = err.last_attempt_code = e.code;
        err.message = e.message;
        err.operation = "state store: " + e.where;
        err.may_have_been_sent = false;
        r.outcome = event_outcome::failed;
        r.classification = failure_class::transient;  // local: it is worth trying again
        if (e.code == errc::invalid_argument) r.classification = failure_class::permanent;
        r.reason = "state store failed";
        r.error = std::move(err);
        return r;
    }

    static std::chrono::milliseconds until(utc_time end, utc_time now)
    {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - now);
        return left > std::chrono::milliseconds(0) ? left : std::chrono::milliseconds(0);
    }

    [[nodiscard]] utc_time current_time() const
    {
        return std::chrono::time_point_cast<std::chrono::microseconds>(wall_now(clock_));
    }

    void count(std::atomic<std::uint64_t> sync_counters::* counter) noexcept
    {
        if (metrics_ != nullptr)
            (metrics_->sync(current_version_).*counter).fetch_add(1, std::memory_order_relaxed);
    }
    void count_write(sync_action a, std::uint64_t n) noexcept
    {
        if (metrics_ == nullptr || n == 0) return;
        auto& c = metrics_->sync(current_version_);
        (a == sync_action::cancel ? c.bots_cancelled : c.bots_scheduled)
            .fetch_add(n, std::memory_order_relaxed);
    }

    static job_verdict permanent_verdict(std::string reason)
    {
        job_verdict v;
        v.verdict = job_verdict::kind::fail;
        v.reason = std::move(reason);
        v.classification = failure_class::permanent;
        return v;
    }

    sync_report refused(sync_report r) const
    {
        // A configuration error is not the job's fault: keep the job (retry), naming the problem.
        r.verdict.verdict = job_verdict::kind::retry;
        r.verdict.classification = failure_class::transient;
        r.verdict.reason = "processor configuration refused: " + to_string(*config_error_);
        return r;
    }

    static std::string describe_event(const event_report& e)
    {
        std::string text = "event " + e.uuid + ": " + e.reason;
        if (e.error) text += ": " + to_string(*e.error);
        return text;
    }

    /// The job's verdict: retry when anything transient is left (a failed read or write, a busy key, an
    /// interruption), else fail when an event failed for good or was refused, else done.
    static job_verdict judge(const sync_report& report, const std::optional<api_error>& fetch_failure,
                             bool interrupted)
    {
        if (fetch_failure) {
            job_verdict v;
            v.classification = classify(*fetch_failure);
            v.verdict = v.classification == failure_class::permanent ? job_verdict::kind::fail
                                                                     : job_verdict::kind::retry;
            v.reason = "list events: " + to_string(*fetch_failure);
            v.cause = *fetch_failure;
            return v;
        }
        std::optional<job_verdict> retry;
        std::size_t retry_more = 0;
        std::optional<job_verdict> fail;
        std::size_t fail_more = 0;
        std::optional<std::chrono::milliseconds> longest_wait;
        for (const auto& e : report.events) {
            const bool transient = (e.outcome == event_outcome::failed || e.outcome == event_outcome::busy) &&
                                   is_retryable(e.classification);
            const bool final = e.outcome == event_outcome::rejected ||
                               (e.outcome == event_outcome::failed && !is_retryable(e.classification));
            if (transient) {
                if (e.retry_after && (!longest_wait || *longest_wait < *e.retry_after))
                    longest_wait = e.retry_after;
                if (retry) {
                    ++retry_more;
                    continue;
                }
                job_verdict v;
                v.verdict = job_verdict::kind::retry;
                v.classification = e.classification;
                v.reason = describe_event(e);
                v.cause = e.error;
                retry = std::move(v);
            } else if (final) {
                if (fail) {
                    fail->reason += "; " + describe_event(e);
                    ++fail_more;
                    continue;
                }
                job_verdict v;
                v.verdict = job_verdict::kind::fail;
                v.classification = failure_class::permanent;
                v.reason = describe_event(e);
                v.cause = e.error;
                fail = std::move(v);
            }
        }
        if (retry) {
            if (retry_more > 0)
                retry->reason += " (and " + std::to_string(retry_more) + " more events to retry)";
            retry->retry_after = longest_wait;
            return *retry;
        }
        if (interrupted) {
            job_verdict v;
            v.verdict = job_verdict::kind::retry;
            v.classification = failure_class::transient;
            v.reason =
                "interrupted (shutting down, or the job's lease was lost) before every event was handled";
            return v;
        }
        if (fail) {
            (void)fail_more;
            return *fail;
        }
        return {};
    }

    /// The processor's configuration check (see validate()).
    [[nodiscard]] result<void> check() const
    {
        if (auto ok = meetingbaas::validate(options_); !ok) return ok;
        if constexpr (requires(const api_type& a) {
                          { a.validate() } -> std::same_as<result<void>>;
                      }) {
            if (auto ok = api().validate(); !ok) {
                auto e = std::move(ok).error();
                e.where = "api_client_options." + e.where;
                return e;
            }
        }
        if constexpr (requires(const api_type& a) {
                          { a.max_call_duration() } -> std::convertible_to<std::chrono::milliseconds>;
                      }) {
            const std::chrono::milliseconds call = api().max_call_duration();
            const auto needed = detail::sat_add(call, options_.lease_margin);
            if (options_.action_lease < needed) {
                return error{errc::invalid_argument, "calendar_sync_options.action_lease",
                             "the action lease (" + std::to_string(options_.action_lease.count()) +
                                 " ms) must outlast one API call with its in-call retries (" +
                                 std::to_string(call.count()) +
                                 " ms, max_call_duration of the client's "
                                 "retry policy and timeout) plus lease_margin (" +
                                 std::to_string(options_.lease_margin.count()) + " ms)"};
            }
        }
        if constexpr (requires(const Guard& g) { g.options().retention; }) {
            if (options_.action_lease > guard_->options().retention) {
                return error{errc::invalid_argument, "calendar_sync_options.action_lease",
                             "the action lease must not be longer than the idempotency guard's retention"};
            }
        }
        return {};
    }

    // Which generation's counters count() touches: set by the unit type being reconciled.
    template <class Unit>
    static constexpr api_version version_of_unit() noexcept
    {
        return std::is_same_v<Unit, v2_unit> ? api_version::v2 : api_version::v1;
    }

    Api api_;
    Guard* guard_;
    State* state_;
    event_locks* locks_;
    calendar_sync_options options_;
    Policy policy_;
    sync_metrics* metrics_;
    [[no_unique_address]] Clock clock_;
    std::optional<error> config_error_;
    std::stop_token stop_{};
    sync_progress progress_{};
    api_version current_version_ = api_version::v1;
};

}  // namespace meetingbaas::inline v0

#include <meetingbaas/sync/sync_worker.hpp>  // the worker that drives the processor
