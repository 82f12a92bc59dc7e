// SPDX-License-Identifier: MIT
#include <meetingbaas/core/result.hpp>

#include <catch2/catch_test_macros.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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

// result is a hand-written tagged union (not a std::variant): its special members must keep the value
// semantics, switch between the two alternatives correctly, and not claim copyability it does not have.
TEST_CASE("result copies, moves and reassigns across both alternatives", "[result]")
{
    using text_result = meetingbaas::result<std::string>;
    STATIC_REQUIRE(std::is_copy_constructible_v<text_result>);
    STATIC_REQUIRE(std::is_nothrow_move_constructible_v<text_result>);
    STATIC_REQUIRE(std::is_move_constructible_v<meetingbaas::result<std::unique_ptr<int>>>);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<meetingbaas::result<std::unique_ptr<int>>>);
    STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<meetingbaas::result<std::unique_ptr<int>>>);
    STATIC_REQUIRE(*meetingbaas::result<int>(7) == 7);  // constexpr construction and access

    const std::string long_value(64, 'v');  // heap-allocated: a wrong destructor call would show under ASan
    const meetingbaas::error long_error{meetingbaas::errc::conflict, std::string(64, 'w'),
                                        std::string(64, 'm')};
    std::vector<text_result> results;
    for (int i = 0; i < 64; ++i) {
        if (i % 3 == 0) {
            results.emplace_back(long_error);
        } else {
            results.emplace_back(long_value + std::to_string(i));
        }
    }
    std::vector<text_result> copies = results;  // copy construction (and reallocation moves above)
    for (std::size_t i = 0; i < copies.size(); ++i)
        copies[i] = results[copies.size() - 1 - i];  // copy-assign
    for (std::size_t i = 0; i < copies.size(); ++i) {
        const text_result& expected = results[copies.size() - 1 - i];
        REQUIRE(copies[i].has_value() == expected.has_value());
        if (expected) {
            CHECK(*copies[i] == *expected);
        } else {
            CHECK(copies[i].error().where == expected.error().where);
        }
    }
    text_result a = long_value;
    text_result b = long_error;
    a = std::move(b);  // value -> error
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().message == long_error.message);
    b = text_result(long_value);  // moved-from error -> value
    REQUIRE(b.has_value());
    CHECK(*b == long_value);
    const text_result& same = a;
    a = same;  // self-assignment keeps the error
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().where == long_error.where);
}
