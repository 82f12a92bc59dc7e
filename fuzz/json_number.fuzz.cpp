// SPDX-License-Identifier: MIT
// Fuzzes the library's handling of JSON numbers (issue 12 section 4): the input is one number's text, read
// on its own, as a typed double, as a typed integer, as a skipped member of a webhook, as a typed member
// of one, and as an unknown member of an API answer (streaming fast path vs the DOM path). The oracle is
// the library's documented rule (json_reader.hpp, number_overflow_message):
//  * valid JSON numbers are accepted, except those whose magnitude rounds to infinity as a double,
//    which are refused with errc::invalid_value and number_overflow_message wherever they appear;
//  * a typed double is the correctly rounded value, bit for bit what strtod gives (so -0 is negative
//    zero and 1e-400 is a zero of the same sign);
//  * a typed integer is exact, or refused (a fraction or exponent, or beyond int64);
//  * nlohmann::json (its SAX parser, json_oracle.hpp) agrees on what is valid and on what overflows.

#include "json_oracle.hpp"

#include <meetingbaas/api/models.hpp>
#include <meetingbaas/events/event.hpp>

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace mb = meetingbaas;

namespace {

void check(bool ok)
{
    if (!ok) std::abort();
}

bool same_bits(double a, double b)
{
    return std::memcmp(&a, &b, sizeof a) == 0;
}

bool is_overflow(const mb::error& e)
{
    return e.code == mb::errc::invalid_value && e.message == mb::detail::number_overflow_message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!fuzz_oracle::comparable(text)) return 0;

    // 1. The number on its own, as a double.
    mb::detail::json_reader reader(text, 4);
    if (reader.peek() != mb::detail::json_kind::number) return 0;  // the other JSON fuzzers' business
    double value = 0;
    const bool ok = mb::detail::read_value(reader, value) && reader.at_end();
    const bool overflow = !ok && reader.failed() && is_overflow(reader.err());
    const auto reference = fuzz_oracle::classify(text);
    check(ok == (reference == fuzz_oracle::verdict::accepted));
    check(overflow == (reference == fuzz_oracle::verdict::number_overflow));
    if (!ok && !overflow && reader.failed()) check(reader.err().code == mb::errc::malformed_json);
    // Below, only texts that are exactly one number (in range or not), give or take whitespace.
    std::size_t first = 0;
    while (first < text.size() &&
           (text[first] == ' ' || text[first] == '\t' || text[first] == '\n' || text[first] == '\r')) {
        ++first;
    }
    if (!ok && !(overflow && reader.at_end())) return 0;  // after an error, the reader stays at its end

    // strtod is the reference value: correctly rounded, signed zeros, HUGE_VAL beyond the range.
    const std::string z(text);  // NUL-terminated (the fuzzer runs in the "C" locale)
    std::string token(text.substr(first));
    while (!token.empty() &&
           (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
    }
    char* end = nullptr;
    const double expected = std::strtod(token.c_str(), &end);
    check(end == token.c_str() + token.size());
    const bool expected_overflow = std::isinf(expected);
    check(expected_overflow == overflow);
    if (ok) check(same_bits(value, expected));

    // 2. As a typed integer: exact, or refused.
    {
        mb::detail::json_reader r(text, 4);
        std::int64_t i = 0;
        const bool int_ok = mb::detail::read_value(r, i) && r.at_end();
        const bool integral = text.find_first_of(".eE") == std::string_view::npos;
        errno = 0;
        const long long reference_int = std::strtoll(z.c_str(), nullptr, 10);
        const bool fits = integral && errno != ERANGE;
        check(int_ok == (fits && !expected_overflow));
        if (int_ok) check(i == reference_int);
        if (expected_overflow) check(r.failed() && is_overflow(r.err()));
    }

    // 3. Inside a webhook: skipped (an unknown member), and typed (a transcript word's start).
    {
        const std::string skipped = R"({"event":"complete","data":{"bot_id":"b","x":)" + z + "}}";
        const auto d = mb::parse_delivery(skipped);
        check(d.has_value() == ok);
        if (!ok) check(is_overflow(d.error()) && d.error().where == "/data/x");

        const auto word = mb::decode_json<mb::transcript_word>(R"({"word":"w","end":0,"start":)" + z + "}");
        check(word.has_value() == ok);
        if (ok) check(same_bits(word->start, expected));
        if (!ok) check(is_overflow(word.error()) && word.error().where == "/start");
    }

    // 4. Inside an API answer: the streaming decoder and the DOM path agree (the DOM path, nlohmann,
    //    refuses the whole body as malformed_json at "/").
    {
        const std::string event = R"({"uuid":"u","calendar_uuid":"c","start_time":"2024-01-01T00:00:00Z",)"
                                  R"("end_time":"2024-01-01T01:00:00Z","deleted":false,)"
                                  R"("last_updated_at":"2024-01-01T00:00:00Z","x":)" +
                                  z + "}";
        const auto fast = mb::parse_v1_event_text(event);
        check(fast.has_value() == ok);
        if (!ok) check(fast.error().code == mb::errc::malformed_json && fast.error().where == "/");
    }
    return 0;
}
