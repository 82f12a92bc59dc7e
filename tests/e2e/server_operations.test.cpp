// SPDX-License-Identifier: MIT
// Operating calendar_sync_server (issue 12 §1 and §3, server side), against the real binary: configuration
// refused at start with a clear message and exit status, error messages with the system's or SQLite's
// reason, SIGHUP, /healthz following whether deliveries can be stored, and the dead-letter admin
// endpoints.
#include "e2e/e2e_support.hpp"
#include "e2e/raw_http.hpp"

#include <meetingbaas/adapters/sqlite/database.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using meetingbaas_test::fake_meetingbaas_api;
using namespace sync_e2e;

namespace {

constexpr const char* admin_token = "e2e-admin-token-0123456789";

/// Runs the server with `args` (and `env`) until it exits; its status and output.
std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args,
                                        const std::vector<std::string>& env = {})
{
    auto p = server_process::spawn(CALENDAR_SYNC_SERVER_PATH, args, env);
    REQUIRE(p);
    const auto status = p->wait_exit(10s);
    REQUIRE(status);
    return {*status, p->output()};
}

std::string bearer(const std::string& token)
{
    return "Authorization: Bearer " + token;
}

/// One admin request on a new connection; status 0 when there was no reply.
raw_http::reply admin(int port, const std::string& method, const std::string& target,
                      const std::string& token = admin_token)
{
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!token.empty()) request += bearer(token) + "\r\n";
    if (method == "POST") request += "Content-Length: 0\r\n";
    return raw_http::exchange(port, request + "\r\n").value_or(raw_http::reply{});
}

/// The port of the "listening" line in a JSON log file, 0 while there is none.
int port_in_log_file(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (const int port = server_process::listening_port(line); port > 0) return port;
    }
    return 0;
}

std::size_t lines_with(const std::string& path, const std::string& needle)
{
    std::ifstream in(path);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) n += line.find(needle) != std::string::npos ? 1U : 0U;
    return n;
}

}  // namespace

TEST_CASE("calendar_sync_server refuses an unusable --api-base-url at start", "[e2e][config]")
{
    temp_dir dir;
    const std::vector<std::pair<std::string, std::string>> cases{
        {"not a url", "is not an absolute http(s) URL"},
        {"ftp://x", "has the scheme \"ftp\"; only http and https are supported"},
        {"", "is empty"},
        {"http://", "is not an absolute http(s) URL"},
        {"https://api.example.com/v1?x=1", "must not have a query"},
        {"http://user:pw-7x9q@api.example.com", "is not an absolute http(s) URL"},
    };
    for (const auto& [url, why] : cases) {
        CAPTURE(url);
        const auto [status, output] = run_to_exit(
            {"--listen", "127.0.0.1:0", "--state", dir.state(), "--api-key", api_key, "--api-base-url", url});
        CHECK(status == 2);
        CHECK_THAT(output, ContainsSubstring("calendar_sync_server: --api-base-url " + why));
        CHECK_THAT(output, !ContainsSubstring("pw-7x9q"));  // a password in a URL is never echoed
        CHECK_THAT(output, !ContainsSubstring("\"event\":\"listening\""));
    }
    // The same from the environment.
    const auto [status, output] =
        run_to_exit({"--listen", "127.0.0.1:0", "--state", dir.state(), "--api-key", api_key},
                    {"MEETINGBAAS_API_BASE_URL=ftp://x"});
    CHECK(status == 2);
    CHECK_THAT(output, ContainsSubstring("(from MEETINGBAAS_API_BASE_URL)"));
    // Other flags are checked too.
    const auto [workers_status, workers_output] =
        run_to_exit({"--state", dir.state(), "--api-key", api_key, "--workers", "0"});
    CHECK(workers_status == 2);
    CHECK_THAT(workers_output, ContainsSubstring("--workers must be a number from 1 to 64"));
    const auto [token_status, token_output] =
        run_to_exit({"--state", dir.state(), "--api-key", api_key, "--admin-token", "short"});
    CHECK(token_status == 2);
    CHECK_THAT(token_output, ContainsSubstring("--admin-token must have at least 16 characters"));
}

TEST_CASE("calendar_sync_server says why it cannot use its state: errno, lock, SQLite's reason",
          "[e2e][config]")
{
    temp_dir dir;
    {
        const auto [status, output] =
            run_to_exit({"--listen", "127.0.0.1:0", "--state",
                         (dir.path / "missing" / "state.sqlite3").string(), "--api-key", api_key});
        CHECK(status == 1);
        CHECK_THAT(output, ContainsSubstring("No such file or directory (errno 2)"));
    }
    {
        // A state file with a damaged page: refused at start with SQLite's own finding.
        const auto path = dir.file("damaged.sqlite3");
        {
            auto db = meetingbaas::sqlite::open(path, {.wal = false});
            REQUIRE(db);
            REQUIRE(db->exec("CREATE TABLE t(x BLOB); CREATE INDEX t_x ON t(x);"));
            REQUIRE(db->exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                             "INSERT INTO t SELECT randomblob(200) FROM n"));
        }
        {
            std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(4096 * 5);
            const std::string garbage(4096 * 3, '\x5a');
            f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
        }
        const auto [status, output] =
            run_to_exit({"--listen", "127.0.0.1:0", "--state", path, "--api-key", api_key});
        CHECK(status == 1);
        CHECK_THAT(output, ContainsSubstring("cannot use the state " + path));
        CHECK_THAT(output, ContainsSubstring("database file is corrupt: "));  // with SQLite's findings
    }
    {
        // Not a database at all.
        const auto path = dir.file("text.sqlite3");
        std::ofstream(path) << std::string(8192, 'x');
        const auto [status, output] =
            run_to_exit({"--listen", "127.0.0.1:0", "--state", path, "--api-key", api_key});
        CHECK(status == 1);
        CHECK_THAT(output, ContainsSubstring("file is not a database"));
    }
}

TEST_CASE("SIGHUP reopens --log-file (log rotation) and never stops the server", "[e2e][signals]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    api.set_event(meeting(1));
    REQUIRE(api.start());
    temp_dir dir;
    const auto log = dir.file("server.log");
    auto server = server_process::spawn(CALENDAR_SYNC_SERVER_PATH,
                                        {"--listen", "127.0.0.1:0", "--state", dir.state(), "--log-file", log,
                                         "--api-base-url", api.base_url()},
                                        {std::string("MEETINGBAAS_API_KEY=") + api_key});
    REQUIRE(server);
    REQUIRE(eventually([&] { return port_in_log_file(log) > 0; }, 10s));
    const int port = port_in_log_file(log);

    std::filesystem::rename(log, log + ".1");  // what logrotate does
    server->send_signal(SIGHUP);
    REQUIRE(eventually([&] { return lines_with(log, "\"event\":\"sighup\"") == 1; }, 5s));
    CHECK(lines_with(log, "reopened the log file") == 1);
    CHECK(post_webhook(port, sync_delivery({1}), v1_headers()) == 200);
    CHECK(eventually([&] { return lines_with(log, "\"event\":\"delivery\"") == 1; }, 5s));
    CHECK(lines_with(log + ".1", "\"event\":\"delivery\"") == 0);
    CHECK(lines_with(log + ".1", "\"event\":\"listening\"") == 1);

    // A second SIGHUP, while nothing was rotated: still running, same file.
    server->send_signal(SIGHUP);
    CHECK(eventually([&] { return lines_with(log, "\"event\":\"sighup\"") == 2; }, 5s));
    CHECK_FALSE(server->wait_exit(300ms));
    server->send_signal(SIGTERM);
    const auto status = server->wait_exit(10s);
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(lines_with(log, "\"event\":\"stopped\"") == 1);
}

TEST_CASE("SIGHUP without a log file is logged and ignored", "[e2e][signals]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state());
    server->send_signal(SIGHUP);
    REQUIRE(server->wait_for_event(
        "sighup",
        [](const nlohmann::json& e) { return e.value("action", "").find("ignored") != std::string::npos; },
        5s));
    int status = 0;
    CHECK(get_path(server->port(), "/healthz", &status));
    CHECK(status == 200);
    CHECK_FALSE(server->wait_exit(200ms));
}

TEST_CASE("/healthz answers 503 with SQLite's reason while deliveries cannot be stored, and recovers",
          "[e2e][health]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    api.set_event(meeting(1));
    api.set_event(meeting(2));
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state());
    const int port = server->port();
    int status = 0;
    REQUIRE(get_path(port, "/healthz", &status));
    CHECK(status == 200);

    {
        // Another process takes the state's write lock and keeps it: nothing can be stored.
        auto blocker = meetingbaas::sqlite::open(dir.state());
        REQUIRE(blocker);
        REQUIRE(blocker->exec("BEGIN IMMEDIATE"));
        // The probe runs at most once a second and waits up to 2 s for the lock: 503 within a few seconds.
        std::optional<std::string> body;
        CHECK(eventually([&] { return (body = get_path(port, "/healthz", &status)) && status == 503; }, 10s));
        REQUIRE(body);
        CHECK_THAT(*body, ContainsSubstring("database is locked"));
        CHECK(metric(port, "meetingbaas_state_writable") == 0);
        CHECK(post_webhook(port, sync_delivery({1}), v1_headers()) == 503);  // after the 2 s busy timeout
        REQUIRE(blocker->exec("ROLLBACK"));
    }
    // The failed delivery keeps /healthz at 503 (with its reason) until a delivery is stored again.
    const auto body = get_path(port, "/healthz", &status);
    REQUIRE(body);
    CHECK(status == 503);
    CHECK_THAT(*body, ContainsSubstring("storage_error"));
    CHECK(post_webhook(port, sync_delivery({2}), v1_headers()) == 200);
    CHECK(eventually([&] { return get_path(port, "/healthz", &status) && status == 200; }, 5s));
    CHECK(metric(port, "meetingbaas_state_writable") == 1);
    CHECK(metric(port, "meetingbaas_webhook_rejected_total{reason=\"unavailable\"}") == 1);
    // The refused delivery is redelivered by the sender and accepted.
    CHECK(post_webhook(port, sync_delivery({1}), v1_headers()) == 200);
    REQUIRE(eventually([&] { return api.post_count(uuid(1)) == 1 && api.post_count(uuid(2)) == 1; }, 20s));
}

TEST_CASE("/healthz recovers by itself after a storage failure when no delivery comes", "[e2e][health]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state());
    const int port = server->port();
    {
        auto blocker = meetingbaas::sqlite::open(dir.state());
        REQUIRE(blocker);
        REQUIRE(blocker->exec("BEGIN IMMEDIATE"));
        CHECK(post_webhook(port, sync_delivery({1}), v1_headers()) == 503);
        REQUIRE(blocker->exec("ROLLBACK"));
    }
    int status = 0;
    REQUIRE(get_path(port, "/healthz", &status));
    CHECK(status == 503);
    // A load balancer that stopped sending deliveries still sees the server come back (10 s window).
    CHECK(eventually([&] { return get_path(port, "/healthz", &status) && status == 200; }, 15s));
}

TEST_CASE("the state's WAL stays bounded while deliveries keep coming, and /metrics shows its size",
          "[e2e][state]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state());
    const int port = server->port();
    const auto wal = dir.state() + "-wal";
    const auto wal_size = [&]() -> std::uintmax_t {
        std::error_code ec;
        const auto n = std::filesystem::file_size(wal, ec);
        return ec ? 0 : n;
    };
    // Every delivery is new (its own event uuid): one enqueue, then a job processed and completed.
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(std::chrono::seconds(10));
    constexpr int deliveries = 3000;
    std::uintmax_t max_wal = 0;
    for (int i = 0; i < deliveries; ++i) {
        auto r = client.Post("/webhooks/meeting-baas", v1_headers(), sync_delivery({100000 + i}),
                             "application/json");
        REQUIRE(r);
        REQUIRE(r->status == 200);
        if (i % 25 == 0) max_wal = std::max(max_wal, wal_size());
    }
    REQUIRE(eventually([&] { return queue_drained(port); }, 60s));
    max_wal = std::max(max_wal, wal_size());
    UNSCOPED_INFO("largest WAL seen: " << max_wal << " bytes");
    // The maintenance truncates the WAL past 4 MiB, and steps every 100 ms while it grows fast: what comes
    // on top is about 100 ms of writes (8-9 MB seen here in Debug at ~1,000 deliveries/s). Without it,
    // 3,000 deliveries leave a WAL of about 40 MB.
    CHECK(max_wal < std::uintmax_t{16} << 20);
    CHECK(eventually([&] { return wal_size() <= std::uintmax_t{4} << 20; }, 10s));
    const auto gauge = metric(port, "meetingbaas_state_wal_bytes");
    REQUIRE(gauge);
    CHECK(*gauge <= double(std::uintmax_t{16} << 20));
    CHECK(metric(port, "meetingbaas_state_database_bytes").value_or(0) > 0);
}

TEST_CASE("dead letters are listed and re-queued through the admin endpoints", "[e2e][admin]")
{
    // The API refuses the server's key (401: a permanent failure), so every job is dead-lettered at once.
    fake_meetingbaas_api wrong_key_api({.api_key = "a-different-key"});
    for (int i = 1; i <= 3; ++i) wrong_key_api.set_event(meeting(i));
    REQUIRE(wrong_key_api.start());
    temp_dir dir;
    std::string dead_id;
    {
        auto server = start_server(wrong_key_api, dir.state(), {"--admin-token", admin_token});
        const int port = server->port();
        CHECK(post_webhook(port, sync_delivery({1}), v1_headers()) == 200);
        CHECK(post_webhook(port, sync_delivery({2, 3}), v1_headers()) == 200);
        REQUIRE(eventually([&] { return metric(port, "meetingbaas_queue_jobs{state=\"dead\"}") == 2; }, 20s));

        // Authentication: no token, a wrong one, another scheme.
        CHECK(admin(port, "GET", "/admin/dead-letters", "").status == 401);
        CHECK(admin(port, "GET", "/admin/dead-letters", "not-the-admin-token-at-all").status == 401);
        CHECK(admin(port, "GET", "/admin/dead-letters", api_key).status == 401);
        CHECK(admin(port, "POST", "/admin/dead-letters/requeue-all", "").status == 401);

        const auto listed = admin(port, "GET", "/admin/dead-letters");
        REQUIRE(listed.status == 200);
        const auto list = nlohmann::json::parse(listed.body);
        REQUIRE(list["dead_letters"].size() == 2);
        dead_id = list["dead_letters"][0]["id"].get<std::string>();
        CHECK(list["dead_letters"][0]["kind"] == "calendar.sync_events");
        CHECK_THAT(list["dead_letters"][0]["reason"].get<std::string>(), ContainsSubstring("401"));
        CHECK(list["dead_letters"][0]["attempts"] == 1);
        CHECK(nlohmann::json::parse(admin(port, "GET", "/admin/dead-letters?limit=1").body)["dead_letters"]
                  .size() == 1);
        server->send_signal(SIGTERM);
        REQUIRE(server->wait_exit(10s) == 0);
    }

    // The operator fixes the key (here: an API that accepts it), restarts, and re-queues.
    fake_meetingbaas_api api({.api_key = api_key});
    for (int i = 1; i <= 3; ++i) api.set_event(meeting(i));
    REQUIRE(api.start());
    auto server = start_server(api, dir.state(), {"--admin-token", admin_token});
    const int port = server->port();
    CHECK(admin(port, "POST", "/admin/dead-letters/999999/requeue").status == 404);
    CHECK(admin(port, "POST", "/admin/dead-letters/" + dead_id + "/requeue").status == 200);
    REQUIRE(eventually([&] { return api.post_count(uuid(1)) == 1; }, 20s));
    CHECK(metric(port, "meetingbaas_queue_jobs{state=\"dead\"}") == 1);
    const auto all = admin(port, "POST", "/admin/dead-letters/requeue-all");
    REQUIRE(all.status == 200);
    CHECK(nlohmann::json::parse(all.body)["requeued"] == 1);
    REQUIRE(eventually([&] { return api.post_count(uuid(2)) == 1 && api.post_count(uuid(3)) == 1; }, 20s));
    REQUIRE(eventually([&] { return queue_drained(port); }, 20s));
    CHECK(metric(port, "meetingbaas_queue_jobs{state=\"dead\"}") == 0);
    CHECK(server->count_events(
              "admin", [](const nlohmann::json& e) { return e.value("action", "") == "requeue"; }) == 1);
    CHECK_THAT(server->output(), !ContainsSubstring(admin_token));
    CHECK_THAT(server->output(), !ContainsSubstring(api_key));
}

TEST_CASE("without --admin-token the admin endpoints do not exist", "[e2e][admin]")
{
    fake_meetingbaas_api api({.api_key = api_key});
    REQUIRE(api.start());
    temp_dir dir;
    auto server = start_server(api, dir.state());
    CHECK(admin(server->port(), "GET", "/admin/dead-letters").status == 404);
    CHECK(admin(server->port(), "POST", "/admin/dead-letters/requeue-all").status == 404);
}
