// SPDX-License-Identifier: MIT
#include "server_config.hpp"

#include <meetingbaas/api/detail/url.hpp>

#include <cstdlib>
#include <functional>
#include <optional>

namespace support {

std::string_view server_usage() noexcept
{
    return "usage: calendar_sync_server --api-key KEY [options]\n"
           "  --listen HOST:PORT        address to serve on (default 127.0.0.1:8080; port 0: any free port)\n"
           "  --api-base-url URL        Meeting BaaS API, http(s)://host[:port][/prefix]\n"
           "                            (default https://api.meetingbaas.com) [MEETINGBAAS_API_BASE_URL]\n"
           "  --api-key KEY             API key; also checks v1 webhooks (required) [MEETINGBAAS_API_KEY]\n"
           "  --webhook-secret whsec_.. enables v2 (Svix) signature checks; several secrets separated by\n"
           "                            commas during a rotation [MEETINGBAAS_WEBHOOK_SECRET]\n"
           "  --state PATH|URL          where idempotency records and the job queue live: a SQLite file\n"
           "                            (default ./calendar-sync.sqlite3; one server), or a state shared by\n"
           "                            several servers: redis://[user:password@]host:port[/db] or\n"
           "                            postgresql://user@host:port/db (libpq URI) [MEETINGBAAS_STATE]\n"
           "  --api-write-rate N        API writes (POST/PATCH/DELETE) per second, shared by every worker\n"
           "                            and, on Redis/PostgreSQL state, every server (default 5)\n"
           "                            [MEETINGBAAS_API_WRITE_RATE]\n"
           "  --instance-id NAME        this server's stable name on shared state (e.g. the pod name): a\n"
           "                            restart frees the jobs it held at once (default: unique per "
           "process)\n"
           "                            [MEETINGBAAS_INSTANCE_ID]\n"
           "  --bot-name NAME           bot name for scheduled recordings (default \"Recorder\")\n"
           "  --workers N               processing threads (default 2)\n"
           "  --admin-token TOKEN       enables /admin/dead-letters (Authorization: Bearer TOKEN; at least\n"
           "                            16 characters; default off) [MEETINGBAAS_ADMIN_TOKEN]\n"
           "  --log-file PATH           JSON log lines go to PATH (reopened on SIGHUP) instead of stdout\n"
           "  --max-connections N       open client connections at most (default 10000)\n"
           "  --http-threads N          I/O threads of the HTTP server (default 2)\n"
           "  --handler-threads N       threads that store deliveries and answer /healthz, /metrics "
           "(default\n"
           "                            4; 0: all on the I/O threads, for measurements only)\n"
           "  --idle-timeout SECONDS    close a keep-alive connection idle this long (default 15)\n"
           "  --request-timeout SECONDS a request's head, then its body, must arrive within this (default "
           "10)\n";
}

namespace {

std::optional<long> parse_number(std::string_view s, long lo, long hi)
{
    if (s.empty() || s.size() > 9) return std::nullopt;
    long v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    if (v < lo || v > hi) return std::nullopt;
    return v;
}

/// A decimal rate ("5", "0.5", "12.25") in (0, 1000].
std::optional<double> parse_rate(std::string_view s)
{
    if (s.empty() || s.size() > 12) return std::nullopt;
    double whole = 0;
    double scale = 0;
    for (const char c : s) {
        if (c == '.' && scale == 0) {
            scale = 1;
            continue;
        }
        if (c < '0' || c > '9') return std::nullopt;
        if (scale == 0) {
            whole = whole * 10 + (c - '0');
        } else {
            scale /= 10;
            whole += (c - '0') * scale;
        }
    }
    if (s == "." || !(whole > 0) || whole > 1000) return std::nullopt;
    return whole;
}

std::vector<std::string> split_secrets(std::string_view s)
{
    std::vector<std::string> out;
    while (!s.empty()) {
        const auto comma = s.find(',');
        std::string_view one = s.substr(0, comma);
        while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
        while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
        if (!one.empty()) out.emplace_back(one);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

/// One option: its flag, its environment variable ("" = none), and what to do with a value (returns
/// the problem, or "").
struct option {
    std::string_view flag;
    std::string_view env;
    std::function<std::string(const std::string&)> set;
};

std::function<std::string(const std::string&)> number(std::string_view flag, long lo, long hi,
                                                      std::function<void(long)> store)
{
    return [flag, lo, hi, store = std::move(store)](const std::string& v) -> std::string {
        const auto n = parse_number(v, lo, hi);
        if (!n)
            return std::string(flag) + " must be a number from " + std::to_string(lo) + " to " +
                   std::to_string(hi);
        store(*n);
        return {};
    };
}

}  // namespace

std::string check_api_base_url(std::string_view url)
{
    if (url.empty()) return "is empty";
    const auto parts = meetingbaas::detail::split_url(url);
    if (!parts) {
        const auto scheme = url.find("://");
        if (scheme != std::string_view::npos && scheme > 0) {
            const auto s = url.substr(0, scheme);
            if (s != "http" && s != "https" && s != "HTTP" && s != "HTTPS") {
                return "has the scheme \"" + std::string(s) + "\"; only http and https are supported";
            }
        }
        return "is not an absolute http(s) URL with a host (no user-info, spaces or fragment)";
    }
    if (parts->target.find('?') != std::string_view::npos) return "must not have a query";
    return {};
}

meetingbaas::result<server_config, std::string> parse_server_config(int argc, char** argv, bool& help)
{
    // server_config is an aggregate, so a std::string would construct it: errors go through unexpected.
    const auto bad = [](std::string message) { return meetingbaas::unexpected(std::move(message)); };
    server_config cfg;
    help = false;
    bool base_url_given = false;
    std::string secrets;
    const std::vector<option> options{
        {"--listen", "",
         [&](const std::string& v) -> std::string {
             const auto colon = v.rfind(':');
             if (colon == std::string::npos || colon == 0) return "--listen needs HOST:PORT";
             const auto port = parse_number(std::string_view(v).substr(colon + 1), 0, 65535);
             if (!port) return "--listen: the port must be a number from 0 to 65535";
             cfg.listen_host = v.substr(0, colon);
             if (cfg.listen_host.size() > 2 && cfg.listen_host.front() == '[' &&
                 cfg.listen_host.back() == ']') {
                 cfg.listen_host = cfg.listen_host.substr(1, cfg.listen_host.size() - 2);  // [::1]:8080
             }
             cfg.listen_port = static_cast<unsigned short>(*port);
             return {};
         }},
        {"--api-base-url", "MEETINGBAAS_API_BASE_URL",
         [&](const std::string& v) -> std::string {
             cfg.api_base_url = v;
             base_url_given = true;
             return {};
         }},
        {"--api-key", "MEETINGBAAS_API_KEY",
         [&](const std::string& v) -> std::string {
             cfg.api_key = v;
             return {};
         }},
        {"--webhook-secret", "MEETINGBAAS_WEBHOOK_SECRET",
         [&](const std::string& v) -> std::string {
             secrets = v;
             return {};
         }},
        {"--state", "MEETINGBAAS_STATE",
         [&](const std::string& v) -> std::string {
             if (v.empty()) return "--state must not be empty";
             cfg.state = v;
             return {};
         }},
        {"--api-write-rate", "MEETINGBAAS_API_WRITE_RATE",
         [&](const std::string& v) -> std::string {
             const auto rate = parse_rate(v);
             if (!rate) return "--api-write-rate must be a number of writes per second above 0, at most 1000";
             cfg.api_write_rate = *rate;
             return {};
         }},
        {"--instance-id", "MEETINGBAAS_INSTANCE_ID",
         [&](const std::string& v) -> std::string {
             const bool ok = !v.empty() && v.size() <= 100 &&
                             v.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 "0123456789._:-") == std::string::npos;
             if (!ok) return "--instance-id must be 1 to 100 letters, digits, '.', '_', ':' or '-'";
             cfg.instance_id = v;
             return {};
         }},
        {"--bot-name", "",
         [&](const std::string& v) -> std::string {
             if (v.empty()) return "--bot-name must not be empty";
             cfg.bot_name = v;
             return {};
         }},
        {"--workers", "", number("--workers", 1, 64, [&](long n) { cfg.workers = static_cast<int>(n); })},
        {"--admin-token", "MEETINGBAAS_ADMIN_TOKEN",
         [&](const std::string& v) -> std::string {
             if (!v.empty() && v.size() < 16) return "--admin-token must have at least 16 characters";
             cfg.admin_token = v;
             return {};
         }},
        {"--log-file", "",
         [&](const std::string& v) -> std::string {
             cfg.log_file = v;
             return {};
         }},
        {"--max-connections", "",
         number("--max-connections", 8, 1'000'000,
                [&](long n) { cfg.max_connections = static_cast<std::size_t>(n); })},
        {"--http-threads", "",
         number("--http-threads", 1, 64, [&](long n) { cfg.http_threads = static_cast<std::size_t>(n); })},
        {"--handler-threads", "",
         number("--handler-threads", 0, 256,
                [&](long n) { cfg.handler_threads = static_cast<std::size_t>(n); })},
        {"--idle-timeout", "",
         number("--idle-timeout", 1, 3600, [&](long n) { cfg.idle_timeout = std::chrono::seconds(n); })},
        {"--request-timeout", "",
         number("--request-timeout", 1, 3600,
                [&](long n) { cfg.request_timeout = std::chrono::seconds(n); })},
    };

    // The environment first, then the flags (which win).
    for (const auto& o : options) {
        if (o.env.empty()) continue;
        const char* v = std::getenv(std::string(o.env).c_str());
        if (v == nullptr) continue;
        if (auto problem = o.set(v); !problem.empty())
            return bad(problem + " (from " + std::string(o.env) + ")");
    }
    bool base_url_from_env = base_url_given;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            help = true;
            return cfg;
        }
        const auto eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        const option* match = nullptr;
        for (const auto& o : options) {
            if (o.flag == name) match = &o;
        }
        if (match == nullptr) return bad("unknown option " + std::string(name));
        std::string value;
        if (eq != std::string_view::npos) {
            value = std::string(arg.substr(eq + 1));
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return bad("missing value for " + std::string(name));
        }
        if (auto problem = match->set(value); !problem.empty()) return bad(problem);
        if (match->flag == "--api-base-url") base_url_from_env = false;
    }

    if (cfg.api_key.empty()) return bad("--api-key (or MEETINGBAAS_API_KEY) is required");
    if (auto problem = check_api_base_url(cfg.api_base_url); !problem.empty()) {
        const bool echo = cfg.api_base_url.find('@') == std::string::npos;  // never echo a password
        return bad("--api-base-url " + problem + (base_url_given ? "" : " (the default)") +
                   (echo ? ": \"" + cfg.api_base_url.substr(0, 200) + "\"" : std::string()) +
                   (base_url_from_env ? " (from MEETINGBAAS_API_BASE_URL)" : ""));
    }
    while (cfg.api_base_url.back() == '/') cfg.api_base_url.pop_back();  // a valid URL does not end in "//"
    cfg.api_origin = meetingbaas::detail::origin_of(*meetingbaas::detail::split_url(cfg.api_base_url));
    cfg.webhook_secrets = split_secrets(secrets);
    return cfg;
}

}  // namespace support
