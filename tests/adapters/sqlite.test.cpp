// SPDX-License-Identifier: MIT
#include <meetingbaas/adapters/sqlite/database.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

namespace sqlite = meetingbaas::sqlite;

namespace {

std::string temp_db_path(const char* name)
{
    const auto path = std::filesystem::temp_directory_path() / (std::string("mb_sqlite_") + name + ".db");
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
    return path.string();
}

}  // namespace

TEST_CASE("sqlite::open applies WAL and synchronous=NORMAL", "[sqlite]")
{
    auto db = sqlite::open(temp_db_path("pragmas"));
    REQUIRE(db);
    auto mode = db->prepare("PRAGMA journal_mode");
    REQUIRE(mode);
    REQUIRE(*mode->step() == sqlite::step_result::row);
    CHECK(mode->column_text(0) == "wal");
    auto sync = db->prepare("PRAGMA synchronous");
    REQUIRE(sync);
    REQUIRE(*sync->step() == sqlite::step_result::row);
    CHECK(sync->column_int64(0) == 1);  // NORMAL
}

TEST_CASE("sqlite statements bind and read every storage class", "[sqlite]")
{
    auto db = sqlite::open(":memory:");
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n)"));
    auto insert = db->prepare("INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5)");
    REQUIRE(insert);
    REQUIRE(insert->bind_int64(1, -9'000'000'000'000));
    REQUIRE(insert->bind_double(2, 2.5));
    REQUIRE(insert->bind_text(3, std::string_view("h\0i", 3)));
    REQUIRE(insert->bind_blob(4, std::string_view("\x01\x00\x02", 3)));
    REQUIRE(insert->bind_null(5));
    REQUIRE(*insert->step() == sqlite::step_result::done);
    CHECK(db->changes() == 1);

    auto select = db->prepare("SELECT i, r, s, b, n FROM t");
    REQUIRE(select);
    REQUIRE(*select->step() == sqlite::step_result::row);
    CHECK(select->column_count() == 5);
    CHECK(select->type_of(0) == sqlite::column_type::integer);
    CHECK(select->column_int64(0) == -9'000'000'000'000);
    CHECK(select->column_double(1) == 2.5);
    CHECK(select->column_text(2) == std::string_view("h\0i", 3));
    CHECK(select->type_of(3) == sqlite::column_type::blob);
    CHECK(select->column_blob(3) == std::string_view("\x01\x00\x02", 3));
    CHECK(select->is_null(4));
    CHECK(*select->step() == sqlite::step_result::done);
}

TEST_CASE("sqlite empty text and blob bind as empty values, not NULL", "[sqlite]")
{
    auto db = sqlite::open(":memory:");
    REQUIRE(db);
    auto s = db->prepare("SELECT typeof(?1), typeof(?2)");
    REQUIRE(s);
    REQUIRE(s->bind_text(1, ""));
    REQUIRE(s->bind_blob(2, std::string_view()));
    REQUIRE(*s->step() == sqlite::step_result::row);
    CHECK(s->column_text(0) == "text");
    CHECK(s->column_text(1) == "blob");
}

TEST_CASE("sqlite errors are storage_error with SQLite's message", "[sqlite]")
{
    auto db = sqlite::open(":memory:");
    REQUIRE(db);
    SECTION("prepare")
    {
        auto s = db->prepare("SELEC 1");
        REQUIRE_FALSE(s);
        CHECK(s.error().code == meetingbaas::errc::storage_error);
        CHECK_THAT(s.error().message, Catch::Matchers::ContainsSubstring("syntax error"));
        CHECK_THAT(s.error().where, Catch::Matchers::ContainsSubstring("SELEC 1"));
    }
    SECTION("exec")
    {
        auto r = db->exec("DROP TABLE missing");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == meetingbaas::errc::storage_error);
        CHECK_THAT(r.error().message, Catch::Matchers::ContainsSubstring("no such table"));
    }
    SECTION("step: constraint violation")
    {
        REQUIRE(db->exec("CREATE TABLE u(k TEXT PRIMARY KEY)"));
        REQUIRE(db->exec("INSERT INTO u VALUES('a')"));
        auto s = db->prepare("INSERT INTO u VALUES('a')");
        REQUIRE(s);
        auto r = s->step();
        REQUIRE_FALSE(r);
        CHECK(r.error().code == meetingbaas::errc::storage_error);
        CHECK_THAT(r.error().message, Catch::Matchers::ContainsSubstring("UNIQUE"));
        CHECK((db->last_error_code() & 0xff) == SQLITE_CONSTRAINT);
    }
    SECTION("prepare refuses a second statement")
    {
        auto s = db->prepare("SELECT 1; SELECT 2");
        REQUIRE_FALSE(s);
        CHECK(s.error().code == meetingbaas::errc::invalid_argument);
        CHECK(db->prepare("SELECT 1;  ").has_value());
    }
    SECTION("open a missing file without create")
    {
        auto missing = sqlite::open(temp_db_path("missing"), {.create = false});
        REQUIRE_FALSE(missing);
        CHECK(missing.error().code == meetingbaas::errc::storage_error);
    }
}

TEST_CASE("sqlite transaction rolls back unless committed", "[sqlite]")
{
    auto db = sqlite::open(temp_db_path("tx"));
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE t(x INTEGER)"));
    {
        auto tx = db->begin_transaction();
        REQUIRE(tx);
        REQUIRE(db->exec("INSERT INTO t VALUES(1)"));
    }  // rolled back
    {
        auto tx = db->begin_transaction(sqlite::transaction_kind::immediate);
        REQUIRE(tx);
        REQUIRE(db->exec("INSERT INTO t VALUES(2)"));
        REQUIRE(tx->commit());
        CHECK_FALSE(tx->active());
        CHECK_FALSE(tx->commit());
    }
    auto count = db->prepare("SELECT count(*), sum(x) FROM t");
    REQUIRE(count);
    REQUIRE(*count->step() == sqlite::step_result::row);
    CHECK(count->column_int64(0) == 1);
    CHECK(count->column_int64(1) == 2);
}

TEST_CASE("sqlite busy timeout reports a busy writer as storage_error", "[sqlite]")
{
    const auto path = temp_db_path("busy");
    auto a = sqlite::open(path, {.busy_timeout = std::chrono::milliseconds(10)});
    auto b = sqlite::open(path, {.busy_timeout = std::chrono::milliseconds(10)});
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(a->exec("CREATE TABLE t(x)"));
    auto held = a->begin_transaction(sqlite::transaction_kind::immediate);
    REQUIRE(held);
    auto blocked = b->begin_transaction(sqlite::transaction_kind::immediate);
    REQUIRE_FALSE(blocked);
    CHECK(blocked.error().code == meetingbaas::errc::storage_error);
    CHECK((b->last_error_code() & 0xff) == SQLITE_BUSY);
    REQUIRE(held->commit());
    CHECK(b->begin_transaction().has_value());
}

TEST_CASE("sqlite statements survive a moved database", "[sqlite]")
{
    auto db = sqlite::open(":memory:");
    REQUIRE(db);
    auto s = db->prepare("SELECT 42");
    REQUIRE(s);
    sqlite::database moved = std::move(*db);
    CHECK_FALSE(db->valid());
    REQUIRE(*s->step() == sqlite::step_result::row);
    CHECK(s->column_int64(0) == 42);
    CHECK(moved.changes() == 0);
}
