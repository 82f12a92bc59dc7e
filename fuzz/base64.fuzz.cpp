// SPDX-License-Identifier: MIT
// Fuzzes strict base64: decoding never crashes, anything accepted re-encodes to exactly the input
// (canonical: one encoding per byte string), and encoding any bytes decodes back to them.
#include <meetingbaas/auth/detail/base64.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    namespace d = meetingbaas::detail;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // 1. Decode: if accepted, the encoding of the result is the input itself.
    const auto decoded = d::base64_decode(text);
    if (decoded) {
        if (d::base64_encode(*decoded) != text) std::abort();
        if (decoded->size() != d::base64_decoded_size(text)) std::abort();
    }

    // 2. Decode into a small fixed buffer (as the signature check does): never writes past it, and
    //    agrees with the vector decoder whenever the output fits.
    std::array<std::uint8_t, 32> small{};
    const auto r = d::base64_decode_to(text, small);
    if (r.ok()) {
        if (!decoded || r.size != decoded->size()) std::abort();
        for (std::size_t i = 0; i < r.size; ++i) {
            if (small[i] != (*decoded)[i]) std::abort();
        }
    } else if (decoded && decoded->size() <= small.size()) {
        std::abort();
    }

    // 3. Round trip of arbitrary bytes.
    const std::span<const std::uint8_t> bytes(data, size);
    const std::string encoded = d::base64_encode(bytes);
    const auto back = d::base64_decode(encoded);
    if (!back || !std::equal(back->begin(), back->end(), bytes.begin(), bytes.end())) std::abort();
    return 0;
}
