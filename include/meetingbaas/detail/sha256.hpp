// SPDX-License-Identifier: MIT
#pragma once

// SHA-256 (FIPS 180-4), dependency-free. Used for HMAC-SHA256 (authenticity), idempotency keys and
// body fingerprints. Incremental: update() any number of times, then finish() once.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace meetingbaas::inline v0::detail {

using sha256_digest = std::array<std::uint8_t, 32>;

class sha256_hasher {
public:
    static constexpr std::size_t block_size = 64;
    static constexpr std::size_t digest_size = 32;

    constexpr sha256_hasher() noexcept = default;

    void update(const void* data, std::size_t size) noexcept
    {
        if (size == 0) return;  // data may be null then (an empty string_view); memcpy(_, nullptr, 0) is UB
        const auto* p = static_cast<const std::uint8_t*>(data);
        total_ += size;
        if (buffered_ != 0) {
            const std::size_t take = size < block_size - buffered_ ? size : block_size - buffered_;
            std::memcpy(buffer_.data() + buffered_, p, take);
            buffered_ += take;
            p += take;
            size -= take;
            if (buffered_ < block_size) return;
            compress(buffer_.data());
            buffered_ = 0;
        }
        while (size >= block_size) {
            compress(p);
            p += block_size;
            size -= block_size;
        }
        if (size != 0) {
            std::memcpy(buffer_.data(), p, size);
            buffered_ = size;
        }
    }
    void update(std::string_view bytes) noexcept { update(bytes.data(), bytes.size()); }

    /// Finishes the hash. The hasher must not be used afterwards (other than being destroyed or reassigned).
    sha256_digest finish() noexcept
    {
        const std::uint64_t bit_length = total_ * 8U;
        buffer_[buffered_++] = 0x80U;
        if (buffered_ > block_size - 8) {
            std::memset(buffer_.data() + buffered_, 0, block_size - buffered_);
            compress(buffer_.data());
            buffered_ = 0;
        }
        std::memset(buffer_.data() + buffered_, 0, block_size - 8 - buffered_);
        for (std::size_t i = 0; i < 8; ++i) {
            buffer_[block_size - 1 - i] = static_cast<std::uint8_t>(bit_length >> (8U * i));
        }
        compress(buffer_.data());
        sha256_digest out{};
        for (std::size_t i = 0; i < 8; ++i) {
            out[4 * i] = static_cast<std::uint8_t>(state_[i] >> 24U);
            out[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16U);
            out[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8U);
            out[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
        }
        return out;
    }

private:
    static constexpr std::uint32_t rotr(std::uint32_t x, unsigned n) noexcept
    {
        return (x >> n) | (x << (32U - n));
    }

    void compress(const std::uint8_t* block) noexcept
    {
        static constexpr std::array<std::uint32_t, 64> k = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        std::array<std::uint32_t, 64> w{};
        for (std::size_t i = 0; i < 16; ++i) {
            w[i] = (std::uint32_t{block[4 * i]} << 24U) | (std::uint32_t{block[4 * i + 1]} << 16U) |
                   (std::uint32_t{block[4 * i + 2]} << 8U) | std::uint32_t{block[4 * i + 3]};
        }
        for (std::size_t i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3U);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10U);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
        std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
        for (std::size_t i = 0; i < 64; ++i) {
            const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            const std::uint32_t ch = (e & f) ^ (~e & g);
            const std::uint32_t t1 = h + s1 + ch + k[i] + w[i];
            const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            const std::uint32_t t2 = s0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state_[0] += a;
        state_[1] += b;
        state_[2] += c;
        state_[3] += d;
        state_[4] += e;
        state_[5] += f;
        state_[6] += g;
        state_[7] += h;
    }

    std::array<std::uint32_t, 8> state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<std::uint8_t, block_size> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_ = 0;
};

/// One-shot SHA-256 of a byte string.
inline sha256_digest sha256(std::string_view bytes) noexcept
{
    sha256_hasher h;
    h.update(bytes);
    return h.finish();
}

/// Lower-case hexadecimal of a byte range, e.g. for keys and logs.
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& bytes)
{
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.resize(2 * N);
    for (std::size_t i = 0; i < N; ++i) {
        out[2 * i] = digits[bytes[i] >> 4U];
        out[2 * i + 1] = digits[bytes[i] & 0x0FU];
    }
    return out;
}

}  // namespace meetingbaas::inline v0::detail
