// SPDX-License-Identifier: MIT
// Fuzzes parse_delivery (and decode_json) on arbitrary bytes. Besides "no crash, no sanitizer report",
// the oracle encodes the library's JSON rules, checked against nlohmann::json's SAX parser
// (json_oracle.hpp), which applies the same limits for its own reasons:
//  * a body we parse is valid JSON with every number within a double's range (nlohmann accepts it);
//  * a body we call malformed_json has a syntax error (nlohmann reports one, not a number overflow);
//  * a body we refuse for a number beyond a double (number_overflow_message) has such a number
//    (nlohmann reports out_of_range.406);
//  * typed parsing agrees with the sum type, and every error carries a message.
#include "json_oracle.hpp"

#include <meetingbaas/events/event.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

namespace mb = meetingbaas;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    // The first byte picks the options, so that the fuzzer explores hints and small limits too.
    mb::parse_options options;
    if (size > 0) {
        options.version = static_cast<mb::api_version>(data[0] % 3);
        if ((data[0] & 0x80) != 0) options.max_depth = 1 + data[0] % 8;
    }
    const auto d = mb::parse_delivery(body, options);

    const auto reference = fuzz_oracle::classify(body);
    if (d.has_value() && reference != fuzz_oracle::verdict::accepted) std::abort();
    if (!d.has_value() && fuzz_oracle::comparable(body)) {
        const auto& e = d.error();
        if (e.code == mb::errc::malformed_json && reference != fuzz_oracle::verdict::syntax_error)
            std::abort();
        const bool overflow =
            e.code == mb::errc::invalid_value && e.message == mb::detail::number_overflow_message;
        if (overflow && reference != fuzz_oracle::verdict::number_overflow) std::abort();
    }
    if (d.has_value()) {
        if (mb::event_name(d->event).empty()) std::abort();
        // Typed parsing of the same body agrees with the sum type.
        std::visit(
            [&](const auto& e) {
                using E = std::remove_cvref_t<decltype(e)>;
                if constexpr (mb::webhook_event<E>) {
                    mb::parse_options o = options;
                    o.version = d->version;
                    auto typed = mb::parse_event<E>(body, o);
                    if (!typed.has_value() || !(*typed == e)) std::abort();
                }
            },
            d->event);
    } else if (d.error().message.empty()) {
        std::abort();
    }

    // The nested-object decoders on their own.
    (void)mb::decode_json<mb::calendar_instance_v2>(body);
    (void)mb::decode_json<mb::bot_status>(body);
    return 0;
}
