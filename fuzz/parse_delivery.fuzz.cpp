// SPDX-License-Identifier: MIT
// Fuzzes parse_delivery (and decode_json) on arbitrary bytes. Besides "no crash, no sanitizer report",
// it checks the parser against nlohmann::json::accept: a body we call malformed_json must be rejected
// by nlohmann too, and a body we parse must be accepted by it.
#include <meetingbaas/events/event.hpp>

#include <nlohmann/json.hpp>

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

    // nlohmann skips a leading BOM and stops at a NUL byte (it reads NUL as the end of the input);
    // RFC 8259 allows neither, so only bodies without them are compared in that direction.
    const bool bom = body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF";
    const bool nul = body.find('\0') != std::string_view::npos;
    if (d.has_value() && !nlohmann::json::accept(body)) std::abort();
    if (!d.has_value() && d.error().code == mb::errc::malformed_json && !bom && !nul &&
        nlohmann::json::accept(body)) {
        std::abort();
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
