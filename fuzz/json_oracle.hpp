// SPDX-License-Identifier: MIT
#pragma once

// The reference side of the JSON fuzzers' differential oracles: nlohmann::json, classified through its
// SAX interface so that an oracle can tell *why* it rejected a text (a syntax error, or a number whose
// magnitude overflows a double: out_of_range.406), not just whether it did.
//
// The library's rule (events/detail/json_reader.hpp, number_overflow_message): a number that rounds to
// infinity as a double is refused wherever it appears, with errc::invalid_value; a number too small for a
// double rounds to (signed) zero. nlohmann applies the same limit (its lexer converts with strtod and the
// parser refuses a non-finite result), so the two must agree on every text, for the same reason.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz_oracle {

enum class verdict { accepted, syntax_error, number_overflow };

/// Accepts everything; remembers the first error's kind.
class classifier final : public nlohmann::json_sax<nlohmann::json> {
public:
    verdict result = verdict::accepted;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override
    {
        result = e.id == 406 ? verdict::number_overflow : verdict::syntax_error;
        return false;
    }
};

/// What nlohmann makes of `text` as one JSON document (strict: nothing after it but whitespace).
inline verdict classify(std::string_view text)
{
    classifier c;
    const bool ok =
        nlohmann::json::sax_parse(text.begin(), text.end(), &c, nlohmann::json::input_format_t::json,
                                  /*strict=*/true);
    if (ok) return verdict::accepted;
    if (c.result == verdict::accepted) std::abort();  // rejected without saying why: the oracle is broken
    return c.result;
}

/// nlohmann skips a leading UTF-8 BOM and reads a NUL byte as the end of the input; RFC 8259 allows
/// neither, and the library refuses both, so texts containing them are only compared in one direction.
inline bool comparable(std::string_view text)
{
    const bool bom = text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF";
    return !bom && text.find('\0') == std::string_view::npos;
}

}  // namespace fuzz_oracle
