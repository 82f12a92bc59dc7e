// SPDX-License-Identifier: MIT
#include <meetingbaas/core/detail/sha256.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using meetingbaas::detail::sha256;
using meetingbaas::detail::sha256_hasher;
using meetingbaas::detail::to_hex;

TEST_CASE("sha256 matches the FIPS 180-4 / NIST example vectors", "[sha256]")
{
    // NIST CSRC "Examples with intermediate values" for SHA-256 (FIPS 180-4), plus the empty string.
    CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(to_hex(sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmn"
                        "opqrlmnopqrsm"
                        "nopqrstnopqrstu")) ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("sha256 of one million 'a' matches the NIST long-message vector", "[sha256]")
{
    const std::string million(1'000'000, 'a');
    CHECK(to_hex(sha256(million)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // Same, fed in uneven pieces.
    sha256_hasher h;
    std::size_t pos = 0;
    std::size_t piece = 1;
    while (pos < million.size()) {
        const std::string_view part = std::string_view(million).substr(pos, piece);
        h.update(part);
        pos += part.size();
        piece = piece * 3 % 1000 + 1;
    }
    CHECK(to_hex(h.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 pads correctly around the block boundaries", "[sha256]")
{
    // Expected values from GNU coreutils sha256sum over n bytes of 'a'.
    struct boundary {
        std::size_t n;
        std::string_view hex;
    };
    const auto b =
        GENERATE(boundary{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
                 boundary{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
                 boundary{57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
                 boundary{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
                 boundary{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
                 boundary{65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
                 boundary{119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
                 boundary{120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
                 boundary{127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a"},
                 boundary{128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"});
    INFO("n = " << b.n);
    const std::string input(b.n, 'a');
    CHECK(to_hex(sha256(input)) == b.hex);
    // Byte by byte gives the same digest.
    sha256_hasher h;
    for (const char c : input) h.update(&c, 1);
    CHECK(to_hex(h.finish()) == b.hex);
}

TEST_CASE("sha256 hardware and portable compression agree", "[sha256]")
{
    // On CPUs with SHA-NI the hasher uses it; the portable code must give identical states for any input,
    // one block or many at once. (Without SHA-NI both calls run the portable code and this still passes.)
    std::array<std::uint8_t, 64 * 9> data{};
    std::uint32_t x = 0x9e3779b9U;
    for (auto& b : data) {
        x ^= x << 13U;
        x ^= x >> 17U;
        x ^= x << 5U;
        b = static_cast<std::uint8_t>(x);
    }
    for (std::size_t blocks = 1; blocks <= 9; ++blocks) {
        std::array<std::uint32_t, 8> a{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        auto b = a;
        meetingbaas::detail::sha256_compress(a, data.data(), blocks);
        meetingbaas::detail::sha256_compress_portable(b, data.data(), blocks);
        CHECK(a == b);
    }
    // The FIPS "abc" vector through the portable path alone.
    std::array<std::uint8_t, 64> block{'a', 'b', 'c', 0x80};
    block[63] = 24;  // message length in bits
    std::array<std::uint32_t, 8> s{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    meetingbaas::detail::sha256_compress_portable(s, block.data(), 1);
    CHECK(s[0] == 0xba7816bfU);
    CHECK(s[7] == 0xf20015adU);
}
