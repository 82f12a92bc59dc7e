// SPDX-License-Identifier: MIT
#include <meetingbaas/core/result.hpp>

#include <catch2/catch_test_macros.hpp>

#include <memory>
#include <string>
#include <utility>

namespace {
meetingbaas::result<int> half(int x)
{
    if (x % 2 != 0) return meetingbaas::error{meetingbaas::errc::invalid_argument, "x", "odd"};
    return x / 2;
}
}  // namespace

TEST_CASE("result holds a value or an error", "[result]")
{
    const auto ok = half(8);
    REQUIRE(ok.has_value());
    CHECK(*ok == 4);
    const auto bad = half(3);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == meetingbaas::errc::invalid_argument);
    CHECK(bad.value_or(-1) == -1);
}

TEST_CASE("result chains with and_then and transform", "[result]")
{
    CHECK(*half(16).and_then(half).and_then(half) == 2);
    CHECK(half(12).and_then(half).and_then(half).error().message == "odd");
    CHECK(*half(4).transform([](int v) { return std::to_string(v); }) == "2");
}

TEST_CASE("result supports move-only values and custom error types", "[result]")
{
    meetingbaas::result<std::unique_ptr<int>> r(std::make_unique<int>(7));
    REQUIRE(r);
    auto p = std::move(*r);
    CHECK(*p == 7);

    meetingbaas::result<std::string, int> s(meetingbaas::unexpected(42));
    REQUIRE_FALSE(s);
    CHECK(s.error() == 42);
    meetingbaas::result<int, int> ambiguous(
        meetingbaas::unexpected(5));  // T and E alike: unexpected is explicit
    CHECK(ambiguous.error() == 5);
}

TEST_CASE("result<void> carries only an error", "[result]")
{
    const meetingbaas::result<void> fine;
    CHECK(fine.has_value());
    const meetingbaas::result<void> failed =
        meetingbaas::error{meetingbaas::errc::storage_error, "db", "disk full"};
    REQUIRE_FALSE(failed);
    CHECK(failed.error().where == "db");
}

TEST_CASE("result observers are noexcept", "[result]")
{
    STATIC_REQUIRE(noexcept(std::declval<const meetingbaas::result<int>&>().has_value()));
    STATIC_REQUIRE(noexcept(*std::declval<const meetingbaas::result<int>&>()));
    STATIC_REQUIRE(noexcept(std::declval<const meetingbaas::result<int>&>().error()));
}
