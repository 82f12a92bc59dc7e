// SPDX-License-Identifier: MIT
// The Redis adapter without a server: URL parsing, script hashing, the EVALSHA / NOSCRIPT / EVAL sequence,
// error classification, and what the stores do with replies a server (or a client adapter) got wrong.
#include <meetingbaas/adapters/redis.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <array>
#include <csignal>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace mb = meetingbaas;
namespace redis = meetingbaas::redis;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;

namespace {

/// A connection that records each command and answers from a script of replies.
struct scripted_connection {
    std::vector<std::vector<std::string>> sent;
    std::deque<redis::command_result> replies;

    redis::command_result command(std::span<const std::string_view> argv)
    {
        sent.emplace_back(argv.begin(), argv.end());
        if (replies.empty()) return redis::command_failure{redis::failure_kind::not_sent, "script exhausted"};
        auto r = std::move(replies.front());
        replies.pop_front();
        return r;
    }
};
static_assert(redis::connection<scripted_connection>);
static_assert(redis::connection<scripted_connection&>);

redis::reply strings(std::initializer_list<const char*> items)
{
    std::vector<redis::reply> v;
    for (const char* s : items) v.push_back(redis::reply::of_string(s));
    return redis::reply::of_array(std::move(v));
}

}  // namespace

TEST_CASE("redis::parse_url reads host, port, credentials and database", "[redis_unit]")
{
    auto a = redis::parse_url("redis://127.0.0.1:6390");
    REQUIRE(a);
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 6390);
    CHECK(a->username.empty());
    CHECK(a->password.empty());
    CHECK(a->db == 0);

    auto b = redis::parse_url("redis://alice:s%3Acr%40t@cache.internal:7000/3");
    REQUIRE(b);
    CHECK(b->host == "cache.internal");
    CHECK(b->port == 7000);
    CHECK(b->username == "alice");
    CHECK(b->password == "s:cr@t");
    CHECK(b->db == 3);
    CHECK(b->describe() == "redis://alice@cache.internal:7000/3");  // never the password

    auto c = redis::parse_url("redis://:only-password@localhost");
    REQUIRE(c);
    CHECK(c->username.empty());
    CHECK(c->password == "only-password");
    CHECK(c->port == 6379);

    auto d = redis::parse_url("redis://secret@[::1]:6380/");
    REQUIRE(d);
    CHECK(d->host == "::1");
    CHECK(d->port == 6380);
    CHECK(d->password == "secret");
    CHECK(d->describe() == "redis://[::1]:6380/0");
}

TEST_CASE("redis::parse_url rejects what it cannot honour", "[redis_unit]")
{
    const char* url =
        GENERATE("", "http://host", "redis://", "redis://:6379", "redis://host:", "redis://host:0",
                 "redis://host:65536", "redis://host:12ab", "redis://host/db", "redis://host/1/2",
                 "redis://host?timeout=1", "redis://[::1", "redis://[::1]x", "redis://ho st",
                 "redis://user:%zz@host", "redis://host/99999999999");
    CAPTURE(url);
    auto r = redis::parse_url(url);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == mb::errc::invalid_url);
    auto tls = redis::parse_url("rediss://host:6380");
    REQUIRE_FALSE(tls);
    CHECK(tls.error().code == mb::errc::unsupported);
    CHECK(redis::is_redis_url("redis://x"));
    CHECK_FALSE(redis::is_redis_url("/var/lib/state.sqlite3"));
}

TEST_CASE("redis::parse_url never repeats the password in an error", "[redis_unit]")
{
    auto r = redis::parse_url("redis://u:hunter2@host:99999");
    REQUIRE_FALSE(r);
    CHECK_THAT(mb::to_string(r.error()), !ContainsSubstring("hunter2"));
}

TEST_CASE("script hashes are the SHA-1 Redis uses", "[redis_unit]")
{
    auto hex = [](std::string_view s) {
        const auto h = redis::detail::sha1_hex(s);
        return std::string(h.data(), h.size());
    };
    CHECK(hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(hex("The quick brown fox jumps over the lazy dog") == "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
    CHECK(hex(std::string(1'000'000, 'a')) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    static constexpr auto compile_time = redis::make_script("t", "return 1");
    STATIC_REQUIRE(compile_time.sha1[0] == 'e');  // e0e1f9fabfc9d4800c877a703b823ac0578ff8db
    CHECK(compile_time.sha1_view() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST_CASE("run_script sends EVALSHA, then EVAL once on NOSCRIPT", "[redis_unit]")
{
    static constexpr auto s = redis::make_script("test.script", "return ARGV[1]");
    const std::array<std::string_view, 1> keys{"k"};
    const std::array<std::string_view, 2> args{"a", std::string_view("b\0c", 3)};

    scripted_connection known;
    known.replies.emplace_back(redis::reply::of_string("a"));
    auto r = redis::run_script(known, s, keys, args, "test");
    REQUIRE(r);
    CHECK(r->str == "a");
    REQUIRE(known.sent.size() == 1);
    CHECK(known.sent[0] == std::vector<std::string>{"EVALSHA", std::string(s.sha1_view()), "1", "k", "a",
                                                    std::string("b\0c", 3)});

    scripted_connection flushed;
    flushed.replies.emplace_back(redis::reply::of_error("NOSCRIPT No matching script. Please use EVAL."));
    flushed.replies.emplace_back(redis::reply::of_integer(7));
    auto again = redis::run_script(flushed, s, keys, args, "test");
    REQUIRE(again);
    CHECK(again->integer == 7);
    REQUIRE(flushed.sent.size() == 2);
    CHECK(flushed.sent[1][0] == "EVAL");
    CHECK(flushed.sent[1][1] == std::string(s.source));

    scripted_connection broken;
    broken.replies.emplace_back(redis::reply::of_error("ERR user_script:1: oops"));
    auto failed = redis::run_script(broken, s, keys, args, "queue::lease");
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == mb::errc::storage_error);
    CHECK(failed.error().where == "queue::lease");
    CHECK_THAT(failed.error().message,
               StartsWith("not applied: redis rejected EVALSHA test.script: ERR user"));
    CHECK_FALSE(redis::outcome_unknown(failed.error()));
}

TEST_CASE("a command without a reply is 'not applied' or 'outcome unknown', never success", "[redis_unit]")
{
    static constexpr auto s = redis::make_script("test.script", "return 1");
    scripted_connection c;
    c.replies.emplace_back(
        redis::command_failure{redis::failure_kind::outcome_unknown, "Connection reset by peer"});
    c.replies.emplace_back(redis::command_failure{redis::failure_kind::not_sent, "Connection refused"});
    auto dropped = redis::run_script(c, s, {}, {}, "w");
    REQUIRE_FALSE(dropped);
    CHECK(dropped.error().code == mb::errc::storage_error);
    CHECK(redis::outcome_unknown(dropped.error()));
    CHECK_THAT(dropped.error().message, ContainsSubstring("Connection reset by peer"));
    auto refused = redis::run_script(c, s, {}, {}, "w");
    REQUIRE_FALSE(refused);
    CHECK_FALSE(redis::outcome_unknown(refused.error()));
    CHECK_THAT(refused.error().message, StartsWith("not applied: could not send EVALSHA test.script"));
    CHECK_FALSE(redis::outcome_unknown(
        mb::error{mb::errc::conflict, "", std::string(redis::outcome_unknown_prefix)}));
}

TEST_CASE("the stores turn malformed replies into storage errors", "[redis_unit]")
{
    scripted_connection c;
    mb::redis_job_queue<scripted_connection&> q(c);
    mb::redis_idempotency_store<scripted_connection&> store(c);
    mb::redis_event_state<scripted_connection&> events(c);

    c.replies.emplace_back(redis::reply::of_integer(1));  // lease: not an array
    auto lease = q.lease(30s);
    REQUIRE_FALSE(lease);
    CHECK(lease.error().code == mb::errc::storage_error);
    CHECK_THAT(lease.error().message, ContainsSubstring("unexpected reply"));

    c.replies.emplace_back(strings({"1", "k", "p", "", "x", "1", "2", "3", ""}));  // attempt not an integer
    CHECK_FALSE(q.lease(30s));

    c.replies.emplace_back(redis::reply::of_array({redis::reply::of_integer(1)}));  // enqueue: 1 element
    CHECK_FALSE(q.enqueue({"k", "p", "", std::nullopt}));

    c.replies.emplace_back(redis::reply::of_status("OK"));  // settle: not an integer
    CHECK_FALSE(q.acknowledge("1", 1));

    c.replies.emplace_back(strings({"x", "y"}));  // next_due: score not a number
    CHECK_FALSE(q.next_due());

    c.replies.emplace_back(strings({"1", "k", "p", "u", "r", "abc", "5", "6"}));  // dead letter: bad attempts
    CHECK_FALSE(q.dead_letters(10));

    c.replies.emplace_back(redis::reply::of_string("1|3|0|2|0|"));  // load: state 3 does not exist
    auto loaded = store.load("k", mb::utc_time{});
    REQUIRE_FALSE(loaded);
    CHECK_THAT(loaded.error().message, ContainsSubstring("malformed record"));

    c.replies.emplace_back(redis::reply::of_array({}));  // load: wrong arity
    CHECK_FALSE(store.load("k", mb::utc_time{}));

    c.replies.emplace_back(redis::reply::of_integer(2));  // insert: neither 0 nor 1
    CHECK_FALSE(store.insert_if_absent("k", {}, mb::utc_time{}));

    c.replies.emplace_back(redis::reply::of_string("12"));  // event state: not 20 digits
    CHECK_FALSE(events.applied_version("e"));

    c.replies.emplace_back(redis::reply::of_error("LOADING Redis is loading the dataset in memory"));
    auto loading = q.stats();
    REQUIRE_FALSE(loading);
    CHECK_THAT(loading.error().message, ContainsSubstring("LOADING"));
    CHECK(c.replies.empty());
}

TEST_CASE("the queue maps script results to not_found and fence_mismatch", "[redis_unit]")
{
    scripted_connection c;
    mb::redis_job_queue<scripted_connection&> q(c, {.prefix = "p:", .name = "n"});
    c.replies.emplace_back(redis::reply::of_integer(0));
    auto missing = q.acknowledge("5", 9);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == mb::errc::not_found);
    c.replies.emplace_back(redis::reply::of_integer(-1));
    auto lost = q.retry_later("5", 9, mb::queue_time{}, "r");
    REQUIRE_FALSE(lost);
    CHECK(lost.error().code == mb::errc::fence_mismatch);
    // Keys declared to the script all carry the queue's hash tag; the prefix goes in ARGV[1].
    REQUIRE(c.sent.size() == 2);
    CHECK(c.sent[0][3] == "p:{n}:due");
    CHECK(c.sent[0][4] == "p:{n}:leased");
    CHECK(c.sent[0][5] == "p:{n}:done");
    CHECK(c.sent[0][6] == "p:{n}:");
    CHECK(c.sent[0][8] == "9");
    CHECK(c.sent[0][9].empty());  // server time: no client clock is sent
}

TEST_CASE("idempotency records pack and unpack whole, binary-safe", "[redis_unit]")
{
    const std::string fp = std::string("fp|with\0bars", 12);
    const std::string data = std::string("HTTP 201|\0\xff", 12) + std::string(1000, 'd');
    const mb::record_view r{mb::record_state::completed,
                            mb::work_outcome::ambiguous,
                            18'446'744'073'709'551'615ULL,
                            mb::utc_time(std::chrono::microseconds(-5)),
                            fp,
                            data};
    const auto packed = mb::detail::encode_record(r);
    CHECK_THAT(packed, StartsWith("18446744073709551615|2|3|-5|12|"));
    const auto back = mb::detail::decode_record(packed);
    REQUIRE(back);
    CHECK(back->view().fence == r.fence);
    CHECK(back->state == r.state);
    CHECK(back->outcome == r.outcome);
    CHECK(back->expires_at == r.expires_at);
    CHECK(back->fingerprint == fp);
    CHECK(back->outcome_data == data);
    for (const char* bad :
         {"", "1|1|0|5", "x|1|0|5|0|", "1|9|0|5|0|", "1|1|7|5|0|", "1|1|0|5|99|short", "1|11|0|5|0|"}) {
        CAPTURE(bad);
        CHECK_FALSE(mb::detail::decode_record(bad));
    }
}

TEST_CASE("record keys carry one hash tag derived from the key", "[redis_unit]")
{
    const auto a = mb::detail::tagged_key("mb:idem:", "v2:msg_1");
    const auto b = mb::detail::tagged_key("mb:idem:", "v2:msg_2");
    const auto braces = mb::detail::tagged_key("mb:idem:", "{x}");
    CHECK_THAT(a, StartsWith("mb:idem:{"));
    CHECK(a.ends_with("}:v2:msg_1"));
    CHECK(a.substr(0, 26) != b.substr(0, 26));
    CHECK(braces.find('{') == 8);
    CHECK(braces.find('}') == 25);  // the first '}' closes our tag, not the key's
}

TEST_CASE("event times encode in time order, microseconds and sign included", "[redis_unit]")
{
    const std::array<std::int64_t, 7> us{
        -5'000'000'000'000'000, -1, 0, 1, 1'789'000'000'000'001, 1'789'000'000'000'002,
        9'000'000'000'000'000};
    std::string previous;
    for (const auto v : us) {
        const auto t = mb::utc_time(std::chrono::microseconds(v));
        const auto s = mb::detail::encode_event_time(t);
        CHECK(s.size() == 20);
        CHECK(s > previous);
        previous = s;
        const auto back = mb::detail::decode_event_time(s);
        REQUIRE(back);
        CHECK(*back == t);
    }
    CHECK_FALSE(mb::detail::decode_event_time("123"));
    CHECK_FALSE(mb::detail::decode_event_time("1234567890123456789x"));
}

TEST_CASE("hiredis replies are copied whole, binary-safe, nested", "[redis_unit]")
{
    redisReply inner_s{};
    inner_s.type = REDIS_REPLY_STRING;
    char bytes[] = {'a', '\0', 'b'};
    inner_s.str = bytes;
    inner_s.len = 3;
    redisReply inner_i{};
    inner_i.type = REDIS_REPLY_INTEGER;
    inner_i.integer = -42;
    redisReply inner_n{};
    inner_n.type = REDIS_REPLY_NIL;
    std::array<redisReply*, 4> elements{&inner_s, &inner_i, &inner_n, nullptr};
    redisReply outer{};
    outer.type = REDIS_REPLY_ARRAY;
    outer.elements = elements.size();
    outer.element = elements.data();
    const auto r = redis::detail::convert(outer);
    REQUIRE(r.is_array());
    REQUIRE(r.elements.size() == 4);
    CHECK(r.elements[0].str == std::string("a\0b", 3));
    CHECK(r.elements[1].integer == -42);
    CHECK(r.elements[2].is_nil());
    CHECK(r.elements[3].is_nil());
    redisReply odd{};
    odd.type = 99;
    CHECK(redis::detail::convert(odd).is_error());
}

TEST_CASE("sigpipe_guard swallows the SIGPIPE of a write to a closed socket", "[redis_unit]")
{
    std::array<int, 2> fds{};
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds.data()) == 0);
    ::close(fds[1]);
    struct sigaction old{};
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    REQUIRE(::sigaction(SIGPIPE, &dfl, &old) == 0);  // a SIGPIPE now would kill this test
    {
        redis::detail::sigpipe_guard guard(true);
        CHECK(::write(fds[0], "x", 1) == -1);
        guard.command_failed();
    }
    sigset_t mask;
    REQUIRE(::pthread_sigmask(SIG_BLOCK, nullptr, &mask) == 0);
    CHECK(sigismember(&mask, SIGPIPE) == 0);  // the mask is restored
    sigset_t pending;
    REQUIRE(::sigpending(&pending) == 0);
    CHECK(sigismember(&pending, SIGPIPE) == 0);  // nothing left to deliver
    ::sigaction(SIGPIPE, &old, nullptr);
    ::close(fds[0]);
}
