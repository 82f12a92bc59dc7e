// SPDX-License-Identifier: MIT
#pragma once

// HMAC-SHA256 (RFC 2104 / FIPS 198-1) and the backend concept that lets the verifier use either this
// dependency-free implementation or another one (adapters/openssl.hpp) chosen by a type, never by a macro.
//
// A backend B provides:
//   B::key_type       a prepared key (the expensive per-key work done once, at configuration time);
//                     copyable; immutable after creation, so one key may be used from several threads.
//   B::make_key(span<const uint8_t>) -> result<B::key_type>   (errc::invalid_secret or unsupported on
//   failure) B::context_type   one MAC computation: constructed from `const key_type&`, update(const void*,
//   size_t)
//                     any number of times, then finish() -> std::optional<sha256_digest> once
//                     (nullopt only if the backend itself failed, e.g. out of memory inside OpenSSL).
//   B::name           a short name for benchmarks and logs.

#include <meetingbaas/core/detail/sha256.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace meetingbaas::inline v0 {

namespace detail {
template <class C>
concept hmac_context = requires(C& ctx, const void* p, std::size_t n) {
    { ctx.update(p, n) } -> std::same_as<void>;
    { ctx.finish() } -> std::same_as<std::optional<sha256_digest>>;
};
}  // namespace detail

/// A type that computes HMAC-SHA256 (see the requirements at the top of auth/hmac.hpp).
template <class B>
concept hmac_sha256_backend =
    std::copy_constructible<typename B::key_type> && detail::hmac_context<typename B::context_type> &&
    std::constructible_from<typename B::context_type, const typename B::key_type&> &&
    requires(std::span<const std::uint8_t> key_bytes) {
        { B::make_key(key_bytes) } -> std::same_as<result<typename B::key_type>>;
        { B::name } -> std::convertible_to<std::string_view>;
    };

/// The dependency-free HMAC-SHA256 backend (the default everywhere).
/// The prepared key holds the SHA-256 states after the inner and outer padded key blocks, so each MAC
/// costs only the message blocks plus two finalisations; it never allocates.
struct builtin_hmac_sha256 {
    static constexpr std::string_view name = "builtin";

    class key_type {
    public:
        explicit key_type(std::span<const std::uint8_t> key) noexcept
        {
            std::array<std::uint8_t, detail::sha256_hasher::block_size> block{};
            if (key.size() > block.size()) {
                detail::sha256_hasher h;
                h.update(key.data(), key.size());
                const auto d = h.finish();
                for (std::size_t i = 0; i < d.size(); ++i) block[i] = d[i];
            } else {
                for (std::size_t i = 0; i < key.size(); ++i) block[i] = key[i];
            }
            std::array<std::uint8_t, detail::sha256_hasher::block_size> pad{};
            for (std::size_t i = 0; i < block.size(); ++i)
                pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x36U);
            inner_.update(pad.data(), pad.size());
            for (std::size_t i = 0; i < block.size(); ++i)
                pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x5cU);
            outer_.update(pad.data(), pad.size());
        }

    private:
        friend struct builtin_hmac_sha256;
        detail::sha256_hasher inner_;
        detail::sha256_hasher outer_;
    };

    class context_type {
    public:
        explicit context_type(const key_type& key) noexcept : inner_(key.inner_), outer_(key.outer_) {}
        void update(const void* data, std::size_t size) noexcept { inner_.update(data, size); }
        std::optional<detail::sha256_digest> finish() noexcept
        {
            const auto inner_digest = inner_.finish();
            outer_.update(inner_digest.data(), inner_digest.size());
            return outer_.finish();
        }

    private:
        detail::sha256_hasher inner_;
        detail::sha256_hasher outer_;
    };

    static result<key_type> make_key(std::span<const std::uint8_t> key) noexcept { return key_type(key); }
};

static_assert(hmac_sha256_backend<builtin_hmac_sha256>);

namespace detail {

/// One-shot HMAC-SHA256 of `message` under `key` with backend B; nullopt if the backend fails.
template <hmac_sha256_backend B = builtin_hmac_sha256>
std::optional<sha256_digest> hmac_sha256(std::span<const std::uint8_t> key, std::string_view message)
{
    auto prepared = B::make_key(key);
    if (!prepared) return std::nullopt;
    typename B::context_type ctx(*prepared);
    ctx.update(message.data(), message.size());
    return ctx.finish();
}

template <hmac_sha256_backend B = builtin_hmac_sha256>
std::optional<sha256_digest> hmac_sha256(std::string_view key, std::string_view message)
{
    return hmac_sha256<B>(std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()), message);
}

}  // namespace detail
}  // namespace meetingbaas::inline v0
