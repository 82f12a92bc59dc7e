// SPDX-License-Identifier: MIT
// The example server's scale-out flags (examples/support/server_config.cpp, shared_state.hpp): --state
// naming a backend, --api-write-rate, --instance-id, and their environment variables.

#include "support/server_config.hpp"
#include "support/shared_state.hpp"

#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct env_var {
    std::string name;
    env_var(std::string n, const char* value) : name(std::move(n)) { ::setenv(name.c_str(), value, 1); }
    env_var(const env_var&) = delete;
    env_var& operator=(const env_var&) = delete;
    ~env_var() { ::unsetenv(name.c_str()); }
};

meetingbaas::result<support::server_config, std::string> parse(std::vector<std::string> args)
{
    args.insert(args.begin(), {"calendar_sync_server", "--api-key", "k"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    bool help = false;
    return support::parse_server_config(static_cast<int>(argv.size()), argv.data(), help);
}

}  // namespace

TEST_CASE("scale flags: --state names the backend", "[scale]")
{
    using support::state_backend;
    CHECK(support::backend_of("./calendar-sync.sqlite3") == state_backend::sqlite);
    CHECK(support::backend_of("/var/lib/x/redis://not-a-url") == state_backend::sqlite);
    CHECK(support::backend_of("redis://:pw@cache:6379/2") == state_backend::redis);
    CHECK(support::backend_of("postgresql://app@db/webhooks") == state_backend::postgres);
    CHECK(support::backend_of("postgres://app@db/webhooks") == state_backend::postgres);
    CHECK(support::name_of(state_backend::postgres) == "postgres");

    auto flag = parse({"--state", "redis://127.0.0.1:6379/1"});
    REQUIRE(flag);
    CHECK(flag->state == "redis://127.0.0.1:6379/1");
    const env_var state("MEETINGBAAS_STATE", "postgresql://app@db/webhooks");
    auto from_env = parse({});
    REQUIRE(from_env);
    CHECK(from_env->state == "postgresql://app@db/webhooks");
    auto flag_wins = parse({"--state", "/tmp/s.sqlite3"});
    REQUIRE(flag_wins);
    CHECK(flag_wins->state == "/tmp/s.sqlite3");
}

TEST_CASE("scale flags: --api-write-rate takes writes per second above 0 up to 1000 and defaults to 5",
          "[scale]")
{
    auto defaults = parse({});
    REQUIRE(defaults);
    CHECK(defaults->api_write_rate == 5.0);
    for (const auto& [text, value] : std::vector<std::pair<std::string, double>>{
             {"5", 5.0}, {"0.5", 0.5}, {"2.25", 2.25}, {"1000", 1000.0}, {"20.", 20.0}, {".5", 0.5}}) {
        CAPTURE(text);
        auto c = parse({"--api-write-rate", text});
        REQUIRE(c);
        CHECK(c->api_write_rate == value);
    }
    for (const char* bad : {"0", "0.0", "-1", "abc", "1000.5", "", ".", "5/s", "1e3", "1.2.3"}) {
        CAPTURE(bad);
        auto c = parse({"--api-write-rate", bad});
        REQUIRE_FALSE(c);
        CHECK(c.error().starts_with("--api-write-rate must be"));
    }
    const env_var rate("MEETINGBAAS_API_WRITE_RATE", "12.5");
    auto from_env = parse({});
    REQUIRE(from_env);
    CHECK(from_env->api_write_rate == 12.5);
    const env_var broken("MEETINGBAAS_API_WRITE_RATE", "fast");
    auto refused = parse({});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().find("(from MEETINGBAAS_API_WRITE_RATE)") != std::string::npos);
}

TEST_CASE("scale flags: --instance-id takes a stable name of letters, digits and . _ : -", "[scale]")
{
    auto none = parse({});
    REQUIRE(none);
    CHECK(none->instance_id.empty());
    auto pod = parse({"--instance-id", "web-0.eu_west:1"});
    REQUIRE(pod);
    CHECK(pod->instance_id == "web-0.eu_west:1");
    for (const std::string& bad :
         {std::string(), std::string("a b"), std::string("x{y}"), std::string(101, 'a')}) {
        auto c = parse({"--instance-id", bad});
        REQUIRE_FALSE(c);
        CHECK(c.error().starts_with("--instance-id must be"));
    }
    const env_var id("MEETINGBAAS_INSTANCE_ID", "pod-7");
    auto from_env = parse({});
    REQUIRE(from_env);
    CHECK(from_env->instance_id == "pod-7");
}
