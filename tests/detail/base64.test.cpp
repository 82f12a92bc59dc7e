// SPDX-License-Identifier: MIT
#include <meetingbaas/auth/detail/base64.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using meetingbaas::detail::base64_decode;
using meetingbaas::detail::base64_decode_to;
using meetingbaas::detail::base64_encode;
using meetingbaas::detail::base64_error;

namespace {
std::string decode_string(std::string_view text)
{
    const auto bytes = base64_decode(text);
    REQUIRE(bytes.has_value());
    return std::string(bytes->begin(), bytes->end());
}

std::optional<base64_error> failure_of(std::string_view text)
{
    std::array<std::uint8_t, 64> out{};
    return base64_decode_to(text, out).failure;
}
}  // namespace

TEST_CASE("base64 encodes and decodes the RFC 4648 test vectors", "[base64]")
{
    struct vec {
        std::string_view plain, encoded;
    };
    const auto v = GENERATE(vec{"", ""}, vec{"f", "Zg=="}, vec{"fo", "Zm8="}, vec{"foo", "Zm9v"},
                            vec{"foob", "Zm9vYg=="}, vec{"fooba", "Zm9vYmE="}, vec{"foobar", "Zm9vYmFy"});
    CHECK(base64_encode(v.plain) == v.encoded);
    CHECK(decode_string(v.encoded) == v.plain);
}

TEST_CASE("base64 round-trips every byte value at every length up to 100", "[base64]")
{
    for (std::size_t n = 0; n <= 100; ++n) {
        std::vector<std::uint8_t> bytes(n);
        for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>((i * 97 + n * 31) & 0xFFU);
        const std::string text = base64_encode(bytes);
        CHECK(text.size() == meetingbaas::detail::base64_encoded_size(n));
        CHECK(meetingbaas::detail::base64_decoded_size(text) == n);
        const auto back = base64_decode(text);
        REQUIRE(back.has_value());
        CHECK(*back == bytes);
    }
    std::vector<std::uint8_t> all(256);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
    CHECK(base64_decode(base64_encode(all)) == all);
}

TEST_CASE("base64 decoding rejects input whose length is not a multiple of 4", "[base64]")
{
    const auto text = GENERATE(as<std::string_view>{}, "Z", "Zg", "Zg=", "Zm9vY", "Zm9vYmFy=", "Zm9vYmFyZg");
    CHECK(failure_of(text) == base64_error::bad_length);
}

TEST_CASE("base64 decoding rejects characters outside the standard alphabet", "[base64]")
{
    // URL-safe alphabet, whitespace, line breaks, NUL, high bytes.
    const auto text =
        GENERATE(as<std::string_view>{}, "Zm9-", "Zm9_", "Zm 9", "Zm9v\nYmF",
                 "Zm9v\r\n==", std::string_view("Zm\0v", 4), "Zm9\x80", "Zm.v", "Zm9v Zg=", "\tZm9");
    CHECK(failure_of(text) == base64_error::bad_character);
}

TEST_CASE("base64 decoding rejects misplaced padding", "[base64]")
{
    const auto text = GENERATE(as<std::string_view>{}, "Zg=a",
                               "=Zg=", "Z===", "====", "Zm9v====", "Zg==Zg==", "Z=g=", "Zm=v");
    CHECK(failure_of(text) == base64_error::bad_padding);
}

TEST_CASE("base64 decoding rejects non-canonical trailing bits", "[base64]")
{
    // "Zh==" and "Zg==" would both decode to "f" if the low bits were ignored; only "Zg==" is canonical.
    const auto text =
        GENERATE(as<std::string_view>{}, "Zh==", "Zv==", "Zm9=", "Zm8/", "Zm9vYh==", "Zm9vYmF=");
    if (text == "Zm8/") {
        CHECK_FALSE(failure_of(text).has_value());  // no padding, no spare bits: valid
    } else {
        CHECK(failure_of(text) == base64_error::non_canonical);
    }
    CHECK_FALSE(failure_of("Zg==").has_value());
    CHECK_FALSE(failure_of("Zm8=").has_value());
}

TEST_CASE("base64 decoding into a too small buffer fails without writing past it", "[base64]")
{
    std::array<std::uint8_t, 5> out{};
    const auto r = base64_decode_to("Zm9vYmFy", out);
    CHECK(r.failure == base64_error::output_too_small);
    std::array<std::uint8_t, 6> exact{};
    const auto ok = base64_decode_to("Zm9vYmFy", exact);
    CHECK(ok.ok());
    CHECK(ok.size == 6);
}

TEST_CASE("base64_error has a name for every value", "[base64]")
{
    using meetingbaas::detail::to_string;
    CHECK(to_string(base64_error::bad_length) == "bad_length");
    CHECK(to_string(base64_error::bad_character) == "bad_character");
    CHECK(to_string(base64_error::bad_padding) == "bad_padding");
    CHECK(to_string(base64_error::non_canonical) == "non_canonical");
    CHECK(to_string(base64_error::output_too_small) == "output_too_small");
}
