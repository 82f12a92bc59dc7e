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

// x86 with GCC or Clang: SHA-NI compression, chosen at run time (no build flag needed). Only the SSE4.1
// header is included: <immintrin.h> (every x86 extension, ~0.4 s of compile time per translation unit with
// GCC 12) may not be, and the three SHA-256 instructions are reached through the compilers' builtins, which
// GCC and Clang spell alike.
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <smmintrin.h>
#endif

namespace meetingbaas::inline v0::detail {

/// The SHA-256 round constants (FIPS 180-4 section 4.2.2).
inline constexpr std::array<std::uint32_t, 64> sha256_k = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/// Portable compression of `blocks` consecutive 64-byte blocks into `state`. The rounds are unrolled by
/// eight with the working variables renamed instead of shifted, and the message schedule is kept in a
/// 16-word ring, which roughly halves the work of the textbook loop.
inline void sha256_compress_portable(std::array<std::uint32_t, 8>& state, const std::uint8_t* data,
                                     std::size_t blocks) noexcept
{
    const auto rotr = [](std::uint32_t x, unsigned n) noexcept { return (x >> n) | (x << (32U - n)); };
    const auto round = [&](std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t& d,
                           std::uint32_t e, std::uint32_t f, std::uint32_t g, std::uint32_t& h,
                           std::uint32_t kw) noexcept {
        const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (g ^ (e & (f ^ g))) + kw;
        const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) | (c & (a | b)));
        d += t1;
        h = t1 + t2;
    };
    for (; blocks != 0; --blocks, data += 64) {
        std::array<std::uint32_t, 16> w{};
        for (std::size_t i = 0; i < 16; ++i) {
            w[i] = (std::uint32_t{data[4 * i]} << 24U) | (std::uint32_t{data[4 * i + 1]} << 16U) |
                   (std::uint32_t{data[4 * i + 2]} << 8U) | std::uint32_t{data[4 * i + 3]};
        }
        std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (std::size_t i = 0; i < 64; i += 8) {
            if (i >= 16) {
                for (std::size_t j = i; j < i + 8; ++j) {
                    const std::uint32_t w15 = w[(j - 15) & 15U], w2 = w[(j - 2) & 15U];
                    const std::uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3U);
                    const std::uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10U);
                    w[j & 15U] += s0 + w[(j - 7) & 15U] + s1;
                }
            }
            round(a, b, c, d, e, f, g, h, sha256_k[i + 0] + w[(i + 0) & 15U]);
            round(h, a, b, c, d, e, f, g, sha256_k[i + 1] + w[(i + 1) & 15U]);
            round(g, h, a, b, c, d, e, f, sha256_k[i + 2] + w[(i + 2) & 15U]);
            round(f, g, h, a, b, c, d, e, sha256_k[i + 3] + w[(i + 3) & 15U]);
            round(e, f, g, h, a, b, c, d, sha256_k[i + 4] + w[(i + 4) & 15U]);
            round(d, e, f, g, h, a, b, c, sha256_k[i + 5] + w[(i + 5) & 15U]);
            round(c, d, e, f, g, h, a, b, sha256_k[i + 6] + w[(i + 6) & 15U]);
            round(b, c, d, e, f, g, h, a, sha256_k[i + 7] + w[(i + 7) & 15U]);
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
/// True when the CPU has the SHA extensions (and SSSE3 / SSE4.1, which the SHA-NI path also uses).
/// Queried once (CPUID can cost microseconds under a hypervisor); the cached value is immutable.
inline bool sha256_cpu_has_sha_ni() noexcept
{
    static const bool has = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
        const bool ssse3 = (c & (1U << 9U)) != 0;
        const bool sse41 = (c & (1U << 19U)) != 0;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
        const bool sha = (b & (1U << 29U)) != 0;
        return ssse3 && sse41 && sha;
    }();
    return has;
}

using sha_ni_v4si = int __attribute__((vector_size(16)));

__attribute__((target("sha"), always_inline)) inline __m128i sha256_rnds2(__m128i a, __m128i b,
                                                                          __m128i k) noexcept
{
    return __builtin_bit_cast(__m128i, __builtin_ia32_sha256rnds2(__builtin_bit_cast(sha_ni_v4si, a),
                                                                  __builtin_bit_cast(sha_ni_v4si, b),
                                                                  __builtin_bit_cast(sha_ni_v4si, k)));
}
__attribute__((target("sha"), always_inline)) inline __m128i sha256_msg1(__m128i a, __m128i b) noexcept
{
    return __builtin_bit_cast(__m128i, __builtin_ia32_sha256msg1(__builtin_bit_cast(sha_ni_v4si, a),
                                                                 __builtin_bit_cast(sha_ni_v4si, b)));
}
__attribute__((target("sha"), always_inline)) inline __m128i sha256_msg2(__m128i a, __m128i b) noexcept
{
    return __builtin_bit_cast(__m128i, __builtin_ia32_sha256msg2(__builtin_bit_cast(sha_ni_v4si, a),
                                                                 __builtin_bit_cast(sha_ni_v4si, b)));
}

/// Compression with the x86 SHA extensions (SHA-NI), after Intel's "Intel SHA Extensions" white paper.
/// Compiled for those instructions via the target attribute only; called only when the CPU has them.
__attribute__((target("sha,sse4.1,ssse3"))) inline void
sha256_compress_sha_ni(std::array<std::uint32_t, 8>& state, const std::uint8_t* data,
                       std::size_t blocks) noexcept
{
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state.data()));
    __m128i state1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state.data() + 4));
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                // CDAB
    state1 = _mm_shuffle_epi32(state1, 0x1B);          // EFGH
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);  // ABEF
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);       // CDGH

    for (; blocks != 0; --blocks, data += 64) {
        const __m128i abef_save = state0;
        const __m128i cdgh_save = state1;
        __m128i m[4];
#pragma GCC unroll 16
        for (std::size_t i = 0; i < 16; ++i) {
            if (i < 4) {
                m[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)),
                                        byte_swap);
            }
            __m128i msg = _mm_add_epi32(
                m[i % 4], _mm_loadu_si128(reinterpret_cast<const __m128i*>(sha256_k.data() + 4 * i)));
            state1 = sha256_rnds2(state1, state0, msg);
            if (i >= 3 && i <= 14) {
                const __m128i t = _mm_alignr_epi8(m[i % 4], m[(i + 3) % 4], 4);
                m[(i + 1) % 4] = sha256_msg2(_mm_add_epi32(m[(i + 1) % 4], t), m[i % 4]);
            }
            msg = _mm_shuffle_epi32(msg, 0x0E);
            state0 = sha256_rnds2(state0, state1, msg);
            if (i >= 1 && i <= 12) m[(i + 3) % 4] = sha256_msg1(m[(i + 3) % 4], m[i % 4]);
        }
        state0 = _mm_add_epi32(state0, abef_save);
        state1 = _mm_add_epi32(state1, cdgh_save);
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);        // FEBA
    state1 = _mm_shuffle_epi32(state1, 0xB1);     // DCHG
    state0 = _mm_blend_epi16(tmp, state1, 0xF0);  // DCBA
    state1 = _mm_alignr_epi8(state1, tmp, 8);     // ABEF
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state.data()), state0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state.data() + 4), state1);
}
#endif

/// Compresses `blocks` 64-byte blocks: SHA-NI when the CPU has it, otherwise portable code.
inline void sha256_compress(std::array<std::uint32_t, 8>& state, const std::uint8_t* data,
                            std::size_t blocks) noexcept
{
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    if (sha256_cpu_has_sha_ni()) {
        sha256_compress_sha_ni(state, data, blocks);
        return;
    }
#endif
    sha256_compress_portable(state, data, blocks);
}

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
            sha256_compress(state_, buffer_.data(), 1);
            buffered_ = 0;
        }
        if (size >= block_size) {
            const std::size_t blocks = size / block_size;
            sha256_compress(state_, p, blocks);
            p += blocks * block_size;
            size -= blocks * block_size;
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
            sha256_compress(state_, buffer_.data(), 1);
            buffered_ = 0;
        }
        std::memset(buffer_.data() + buffered_, 0, block_size - 8 - buffered_);
        for (std::size_t i = 0; i < 8; ++i) {
            buffer_[block_size - 1 - i] = static_cast<std::uint8_t>(bit_length >> (8U * i));
        }
        sha256_compress(state_, buffer_.data(), 1);
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
