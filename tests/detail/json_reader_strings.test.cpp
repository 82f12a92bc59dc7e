// SPDX-License-Identifier: MIT
// detail::json_reader scans strings a block at a time (16 bytes with SSE2, 8 without) and falls back to
// a byte loop at the first byte that needs a look. These cases put every kind of such byte at every
// offset around the block boundaries, and check the reader against nlohmann::json on each document:
// same acceptance, same decoded text.

#include <meetingbaas/events/detail/json_reader.hpp>

#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct outcome {
    bool ok = false;
    std::string value;
};

outcome read_with_reader(std::string_view doc)
{
    meetingbaas::detail::json_reader r(doc, 8);
    outcome o;
    if (r.peek() != meetingbaas::detail::json_kind::string) return o;
    std::string value;
    if (!r.read_string(value) || !r.at_end()) return o;
    o.ok = true;
    o.value = std::move(value);
    return o;
}

outcome read_with_nlohmann(std::string_view doc)
{
    const auto j = nlohmann::json::parse(doc, nullptr, false);
    if (j.is_discarded() || !j.is_string()) return {};
    return {true, j.get<std::string>()};
}

}  // namespace

TEST_CASE("json_reader string scanning agrees with nlohmann at every offset of every stop byte",
          "[json_reader]")
{
    // What can sit inside a string: the bytes that stop a block and the sequences they start.
    const std::vector<std::string> inserts{
        "\\\"",              // escaped quote
        "\\\\",              // escaped backslash
        "\\n",               // escape
        "\\u00e9",           // \u escape
        "\\ud83d\\ude00",    // surrogate pair
        "\xc3\xa9",          // 2-byte UTF-8
        "\xe2\x82\xac",      // 3-byte UTF-8
        "\xf0\x9f\x98\x80",  // 4-byte UTF-8
        "\x7f",              // DEL: allowed unescaped
        " ",                 // plain
        // Must be rejected:
        std::string(1, '\0'), "\x01", "\x1f", "\t", "\n",                // control characters
        "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80", "\xc3",  // invalid UTF-8
        "\\x", "\\u12", "\\ud83d",                                       // bad escapes
    };
    std::size_t documents = 0;
    for (const auto& insert : inserts) {
        for (std::size_t before = 0; before <= 40; ++before) {
            for (const std::size_t after : {0U, 1U, 7U, 8U, 15U, 16U, 17U, 33U}) {
                // Also with trailing text after the string, so that the block load does not stop at
                // the end of the input.
                for (const std::string_view tail : {"", "   "}) {
                    std::string doc = "\"";
                    doc.append(before, 'a');
                    doc += insert;
                    doc.append(after, 'b');
                    doc += '"';
                    doc += tail;
                    const auto mine = read_with_reader(doc);
                    const auto theirs = read_with_nlohmann(doc);
                    INFO("insert of " << insert.size() << " bytes, before " << before << ", after " << after);
                    REQUIRE(mine.ok == theirs.ok);
                    if (mine.ok) REQUIRE(mine.value == theirs.value);
                    ++documents;
                }
            }
        }
    }
    CHECK(documents == inserts.size() * 41 * 8 * 2);
}

TEST_CASE("json_reader rejects an unterminated string however long", "[json_reader]")
{
    for (std::size_t n = 0; n <= 70; ++n) {
        std::string doc = "\"";
        doc.append(n, 'x');
        INFO(n);
        CHECK_FALSE(read_with_reader(doc).ok);
        doc += '\\';
        CHECK_FALSE(read_with_reader(doc).ok);
    }
}

TEST_CASE("json_reader block scans stop where the byte-by-byte scan stops", "[json_reader]")
{
    using namespace meetingbaas::detail;
    std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
    auto next = [&seed] {  // splitmix64
        std::uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    for (int round = 0; round < 20000; ++round) {
        const std::size_t n = next() % 80;
        std::string buf(n, 'a');
        for (auto& c : buf) c = static_cast<char>(0x20 + next() % 0x5f);  // printable ASCII ...
        for (auto& c : buf) {
            if (c == '"' || c == '\\') c = 'q';  // ... without the two stop characters
        }
        if (n > 0 && next() % 4 != 0) {  // usually one stop byte (of any kind) somewhere
            static constexpr unsigned char stops[] = {'"', '\\', 0x00, 0x1f, 0x0a, 0x80, 0xc3, 0xff};
            buf[next() % n] = static_cast<char>(stops[next() % sizeof stops]);
        }
        std::size_t first = n;
        for (std::size_t i = 0; i < n; ++i) {
            if (is_string_stop_byte(static_cast<unsigned char>(buf[i]))) {
                first = i;
                break;
            }
        }
        INFO("n " << n << ", first stop " << first);
        const std::size_t swar = skip_plain_string_bytes_swar(buf.data(), n);
        CHECK(swar % 8 == 0);
        CHECK(swar <= first);
        CHECK(swar == std::min(first - first % 8, n - n % 8));
#if defined(__SSE2__)
        const std::size_t sse2 = skip_plain_string_bytes_sse2(buf.data(), n);
        CHECK(sse2 == std::min(first, n - n % 16));
#endif
    }
}
