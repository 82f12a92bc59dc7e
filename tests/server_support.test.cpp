// SPDX-License-Identifier: MIT
// Unit tests of the example server's support library (examples/support): the JSON-lines logger, the
// recent-keys memory, configuration parsing and the storage health window. The HTTP front end and the
// rest are tested against the server binary (tests/e2e).
#include "support/housekeeping.hpp"
#include "support/json_log.hpp"
#include "support/recent_keys.hpp"
#include "support/server_config.hpp"
#include "support/storage_health.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using Catch::Matchers::ContainsSubstring;
using namespace std::chrono_literals;

namespace {

struct temp_path {
    std::filesystem::path dir;
    temp_path()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mb-support-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    temp_path(const temp_path&) = delete;
    temp_path& operator=(const temp_path&) = delete;
    ~temp_path()
    {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

std::vector<std::string> read_lines(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

struct env_var {
    std::string name;
    env_var(std::string n, const char* value) : name(std::move(n)) { ::setenv(name.c_str(), value, 1); }
    env_var(const env_var&) = delete;
    env_var& operator=(const env_var&) = delete;
    ~env_var() { ::unsetenv(name.c_str()); }
};

meetingbaas::result<support::server_config, std::string> parse(std::vector<std::string> args)
{
    args.insert(args.begin(), "calendar_sync_server");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    bool help = false;
    return support::parse_server_config(static_cast<int>(argv.size()), argv.data(), help);
}

}  // namespace

TEST_CASE("json_log lines are valid JSON whatever the values contain", "[support][log]")
{
    const std::string invalid_utf8 = "a\xff\xfe"
                                     "b\xc3";  // stray bytes and a cut sequence
    const auto line =
        support::json_log::format("delivery", {{"text", "quote \" backslash \\ newline \n tab \t bell \x07"},
                                               {"utf8", "Réunion 東京 🎉"},
                                               {"invalid", invalid_utf8},
                                               {"long", std::string(5000, 'x')},
                                               {"empty", ""},
                                               {"status", 413},
                                               {"count", std::size_t{18446744073709551615u}},
                                               {"negative", -3},
                                               {"flag", true}});
    const auto j = nlohmann::json::parse(line);  // throws if it is not valid JSON (UTF-8 included)
    CHECK(j["event"] == "delivery");
    CHECK(j["text"] == "quote \" backslash \\ newline \n tab \t bell \x07");
    CHECK(j["utf8"] == "Réunion 東京 🎉");
    CHECK(j["invalid"] == "a\xEF\xBF\xBD\xEF\xBF\xBD"
                          "b\xEF\xBF\xBD");
    CHECK(j["long"].get<std::string>().size() == 1003);  // 1,000 bytes and "..."
    CHECK_FALSE(j.contains("empty"));
    CHECK(j["status"] == 413);
    CHECK(j["count"] == 18446744073709551615u);
    CHECK(j["negative"] == -3);
    CHECK(j["flag"] == true);
    CHECK(j["ts"].get<std::string>().size() == 27);  // 2026-12-06T07:47:51.531213Z
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("json_log keeps every line whole and in order per thread, across threads", "[support][log]")
{
    temp_path tmp;
    const auto path = tmp.dir / "out.log";
    constexpr int threads = 4;
    constexpr int per_thread = 5000;
    {
        auto log = support::json_log::open({.path = path.string()});
        REQUIRE(log);
        std::vector<std::jthread> writers;
        for (int t = 0; t < threads; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    (*log)->write("line", {{"thread", t},
                                           {"i", i},
                                           {"pad", std::string(static_cast<std::size_t>(i % 300), 'p')}});
                }
            });
        }
        writers.clear();
        CHECK((*log)->dropped() == 0);
    }  // the destructor writes what is pending
    const auto lines = read_lines(path);
    REQUIRE(lines.size() == threads * per_thread);
    std::map<int, int> next;
    for (const auto& l : lines) {
        const auto j = nlohmann::json::parse(l);
        const int t = j["thread"];
        CHECK(j["i"] == next[t]);
        next[t] = j["i"].get<int>() + 1;
    }
}

TEST_CASE("json_log writes a line within milliseconds, and write_now before returning", "[support][log]")
{
    temp_path tmp;
    const auto path = tmp.dir / "out.log";
    auto log = support::json_log::open({.path = path.string()});
    REQUIRE(log);
    (*log)->write_now("first", {});
    CHECK(read_lines(path).size() == 1);
    (*log)->write("second", {});
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (read_lines(path).size() < 2 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(1ms);
    CHECK(read_lines(path).size() == 2);
}

TEST_CASE("json_log reopens its file for log rotation", "[support][log]")
{
    temp_path tmp;
    const auto path = tmp.dir / "out.log";
    auto log = support::json_log::open({.path = path.string()});
    REQUIRE(log);
    (*log)->write_now("before", {});
    std::filesystem::rename(path, tmp.dir / "out.log.1");
    (*log)->write_now("still_old_file", {});
    REQUIRE((*log)->reopen());
    (*log)->write_now("after", {});
    const auto rotated = read_lines(tmp.dir / "out.log.1");
    const auto fresh = read_lines(path);
    REQUIRE(rotated.size() == 2);
    REQUIRE(fresh.size() == 1);
    CHECK_THAT(fresh[0], ContainsSubstring("\"event\":\"after\""));
    // A file that cannot be created: a reason, and the old descriptor keeps working.
    auto bad = support::json_log::open({.path = (tmp.dir / "missing" / "x.log").string()});
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error(), ContainsSubstring("No such file or directory (errno 2)"));
}

TEST_CASE("json_log drops and counts lines when its output is stuck, and never blocks the caller",
          "[support][log]")
{
    temp_path tmp;
    const auto fifo = tmp.dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // nobody reads yet
    REQUIRE(reader >= 0);
    std::atomic<bool> drained{false};
    {
        auto log = support::json_log::open({.path = fifo.string(), .max_pending_bytes = 64 * 1024});
        REQUIRE(log);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < 20'000; ++i) (*log)->write("x", {{"i", i}, {"pad", std::string(100, 'p')}});
        CHECK(std::chrono::steady_clock::now() - start < 5s);  // the pipe is full: nothing waited for it
        CHECK((*log)->dropped() > 0);
        // Drain the pipe so that the writer thread can finish.
        std::thread drain([&] {
            ::fcntl(reader, F_SETFL, 0);
            char buf[65536];
            while (::read(reader, buf, sizeof buf) > 0) {
            }
            drained = true;
        });
        drain.detach();
    }
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!drained && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
    CHECK(drained);
    ::close(reader);
}

TEST_CASE("recent_keys remembers within its bounds and its age", "[support][recent_keys]")
{
    support::recent_keys recent(1000, 3600s);
    CHECK_FALSE(recent.find("k"));
    recent.remember("k", "42");
    CHECK(recent.find("k") == "42");
    for (int i = 0; i < 20'000; ++i) recent.remember("key-" + std::to_string(i), std::to_string(i));
    std::size_t known = 0;
    for (int i = 0; i < 20'000; ++i) known += recent.find("key-" + std::to_string(i)) ? 1U : 0U;
    CHECK(known <= 1000 + 16);  // two generations of capacity/2, per shard (rounded up)
    CHECK(known >= 400);        // the most recent ones are kept
    CHECK(recent.find("key-19999") == "19999");

    support::recent_keys short_lived(1000, 0s);
    short_lived.remember("k", "1");
    std::this_thread::sleep_for(2ms);
    CHECK_FALSE(short_lived.find("k"));
}

TEST_CASE("recent_keys is safe to share between threads", "[support][recent_keys]")
{
    support::recent_keys recent(10'000);
    // Catch2 3.7's assertions are not thread-safe: the threads count, the test thread checks.
    std::atomic<int> found{0};
    std::atomic<int> wrong{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 5000; ++i) {
                    std::string key = "k";  // not "k" + to_string(...): a GCC 12 -O3 false positive
                    key += std::to_string((i * 7 + t) % 3000);
                    if (const auto id = recent.find(key)) {
                        ++found;
                        if (*id != key.substr(1)) ++wrong;
                    } else {
                        recent.remember(key, key.substr(1));
                    }
                }
            });
        }
    }
    CHECK(wrong == 0);
    CHECK(found > 0);
}

TEST_CASE("server configuration: flags, environment, and refusals that name the problem", "[support][config]")
{
    SECTION("defaults and flags")
    {
        auto cfg = parse({"--api-key", "k", "--listen", "0.0.0.0:9000", "--workers=3", "--webhook-secret",
                          "whsec_a, whsec_b,,", "--api-base-url", "http://127.0.0.1:8081/prefix/"});
        REQUIRE(cfg);
        CHECK(cfg->listen_host == "0.0.0.0");
        CHECK(cfg->listen_port == 9000);
        CHECK(cfg->workers == 3);
        CHECK(cfg->webhook_secrets == std::vector<std::string>{"whsec_a", "whsec_b"});
        CHECK(cfg->api_base_url == "http://127.0.0.1:8081/prefix");
        CHECK(cfg->api_origin == "http://127.0.0.1:8081");
        CHECK(cfg->admin_token.empty());
        auto ipv6 = parse({"--api-key", "k", "--listen", "[::1]:0"});
        REQUIRE(ipv6);
        CHECK(ipv6->listen_host == "::1");
    }
    SECTION("the environment, and flags over it")
    {
        env_var key("MEETINGBAAS_API_KEY", "from-env");
        env_var url("MEETINGBAAS_API_BASE_URL", "https://api.example.com");
        auto cfg = parse({});
        REQUIRE(cfg);
        CHECK(cfg->api_key == "from-env");
        CHECK(cfg->api_base_url == "https://api.example.com");
        auto flag = parse({"--api-key", "from-flag"});
        REQUIRE(flag);
        CHECK(flag->api_key == "from-flag");
    }
    SECTION("refusals")
    {
        const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
            {{}, "--api-key (or MEETINGBAAS_API_KEY) is required"},
            {{"--api-key", "k", "--bogus", "1"}, "unknown option --bogus"},
            {{"--api-key", "k", "--workers"}, "missing value for --workers"},
            {{"--api-key", "k", "--workers", "65"}, "--workers must be a number from 1 to 64"},
            {{"--api-key", "k", "--listen", "8080"}, "--listen needs HOST:PORT"},
            {{"--api-key", "k", "--listen", "h:70000"},
             "--listen: the port must be a number from 0 to 65535"},
            {{"--api-key", "k", "--api-base-url", "ftp://x"}, "--api-base-url has the scheme \"ftp\""},
            {{"--api-key", "k", "--api-base-url", "not a url"},
             "--api-base-url is not an absolute http(s) URL"},
            {{"--api-key", "k", "--api-base-url", ""}, "--api-base-url is empty"},
            {{"--api-key", "k", "--admin-token", "short"}, "--admin-token must have at least 16 characters"},
            {{"--api-key", "k", "--state", ""}, "--state must not be empty"},
            {{"--api-key", "k", "--max-connections", "1"}, "--max-connections must be a number from 8"},
        };
        for (const auto& [args, message] : cases) {
            CAPTURE(args);
            const auto cfg = parse(args);
            REQUIRE_FALSE(cfg);
            CHECK_THAT(cfg.error(), ContainsSubstring(message));
        }
        const auto with_password = parse({"--api-key", "k", "--api-base-url", "http://u:pw-secret@h"});
        REQUIRE_FALSE(with_password);
        CHECK_THAT(with_password.error(), !ContainsSubstring("pw-secret"));
    }
}

TEST_CASE("storage_health: a failed delivery counts for its window, unless a later one is stored",
          "[support][health]")
{
    support::storage_health health;
    const auto ok_probe = [] { return meetingbaas::result<void, std::string>{}; };
    CHECK(health.check(ok_probe).status == 200);
    health.failed("disk full");
    auto r = health.check(ok_probe);
    CHECK(r.status == 503);
    CHECK_THAT(r.body, ContainsSubstring("disk full"));
    CHECK_FALSE(health.writable());
    health.stored();
    CHECK(health.check(ok_probe).status == 200);
    CHECK(health.writable());
    health.failed("locked");
    CHECK(health.check(ok_probe, 0s).status == 200);  // outside its window: the probe decides
    const auto failing_probe = [] {
        return meetingbaas::result<void, std::string>{meetingbaas::unexpected(std::string("no space"))};
    };
    r = health.check(failing_probe, 0s);
    CHECK(r.status == 503);
    CHECK_THAT(r.body, ContainsSubstring("no space"));
}

TEST_CASE("housekeeping runs tasks at their period or when they ask, logs what they did once",
          "[support][housekeeping]")
{
    temp_path tmp;
    const auto path = tmp.dir / "out.log";
    std::atomic<int> fast{0};
    std::atomic<int> failing{0};
    std::atomic<int> at_stop{0};
    {
        auto log = support::json_log::open({.path = path.string()});
        REQUIRE(log);
        support::housekeeping hk(**log);
        std::vector<support::maintenance_task> tasks;
        // Asks to run again 2 ms later, though its period is 100 ms.
        tasks.push_back(
            {"fast", 100ms, [&]() -> meetingbaas::result<support::maintenance_outcome, std::string> {
                 return support::maintenance_outcome{static_cast<std::uint64_t>(++fast == 1 ? 3 : 0), 2ms};
             }});
        tasks.push_back(
            {"failing", 5ms, [&]() -> meetingbaas::result<support::maintenance_outcome, std::string> {
                 ++failing;
                 return meetingbaas::unexpected(std::string("disk full"));
             }});
        tasks.push_back({"final", std::chrono::hours(1),
                         [&]() -> meetingbaas::result<support::maintenance_outcome, std::string> {
                             ++at_stop;
                             return support::maintenance_outcome{};
                         },
                         true});
        hk.add(std::move(tasks));
        hk.start();
        std::this_thread::sleep_for(300ms);
        hk.stop();
        CHECK(at_stop == 1);  // only at stop: its period is an hour
    }
    CHECK(fast >= 10);  // by its period alone: 3 at most
    CHECK(failing >= 5);
    std::size_t done = 0;
    std::size_t errors = 0;
    for (const auto& l : read_lines(path)) {
        const auto j = nlohmann::json::parse(l);
        if (j["event"] == "housekeeping") {
            CHECK(j["task"] == "fast");
            CHECK(j["count"] == 3);
            ++done;
        }
        if (j["event"] == "housekeeping_error") {
            CHECK(j["task"] == "failing");
            CHECK(j["error"] == "disk full");
            ++errors;
        }
    }
    CHECK(done == 1);    // only runs that did something are logged
    CHECK(errors == 1);  // the same error again is not logged again within a minute
}
