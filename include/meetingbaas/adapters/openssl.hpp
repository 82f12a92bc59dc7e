// SPDX-License-Identifier: MIT
#pragma once

// OpenSSL 3 backed HMAC-SHA256 for the webhook verifier. Optional: link meetingbaas::openssl
// (OpenSSL::Crypto; Debian package libssl-dev). Selected by type, never by a macro:
//
//     meetingbaas::basic_svix_verifier<meetingbaas::openssl_hmac_sha256> verifier = ...;
//
// The prepared key is an EVP_MAC_CTX already initialised with the key, shared (read-only) between
// copies of the key; each MAC duplicates it (EVP_MAC_CTX_dup), so the key can be used from several
// threads at once.

#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/result.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace meetingbaas::inline v0 {

struct openssl_hmac_sha256 {
    static constexpr std::string_view name = "openssl";

private:
    struct mac_ctx_deleter {
        void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
    };
    struct mac_deleter {
        void operator()(EVP_MAC* mac) const noexcept { EVP_MAC_free(mac); }
    };
    using ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter>;

public:
    class key_type {
    public:
        key_type(const key_type&) = default;
        key_type(key_type&&) noexcept = default;
        key_type& operator=(const key_type&) = default;
        key_type& operator=(key_type&&) noexcept = default;
        ~key_type() = default;

    private:
        friend struct openssl_hmac_sha256;
        explicit key_type(std::shared_ptr<const EVP_MAC_CTX> ctx) noexcept : ctx_(std::move(ctx)) {}
        std::shared_ptr<const EVP_MAC_CTX> ctx_;
    };

    class context_type {
    public:
        explicit context_type(const key_type& key) noexcept : ctx_(EVP_MAC_CTX_dup(key.ctx_.get())) {}
        void update(const void* data, std::size_t size) noexcept
        {
            if (!ctx_ || failed_ || size == 0) return;
            if (EVP_MAC_update(ctx_.get(), static_cast<const unsigned char*>(data), size) != 1)
                failed_ = true;
        }
        std::optional<detail::sha256_digest> finish() noexcept
        {
            if (!ctx_ || failed_) return std::nullopt;
            detail::sha256_digest out{};
            std::size_t written = 0;
            if (EVP_MAC_final(ctx_.get(), out.data(), &written, out.size()) != 1 || written != out.size()) {
                return std::nullopt;
            }
            return out;
        }

    private:
        ctx_ptr ctx_;
        bool failed_ = false;
    };

    /// Prepares a key. Fails with errc::unsupported when OpenSSL cannot provide HMAC-SHA256 (e.g. a
    /// provider configuration without it), or errc::invalid_secret for an empty key.
    static result<key_type> make_key(std::span<const std::uint8_t> key)
    {
        if (key.empty()) return error{errc::invalid_secret, "hmac key", "empty HMAC key"};
        const std::unique_ptr<EVP_MAC, mac_deleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
        if (!mac) return error{errc::unsupported, "openssl", "EVP_MAC_fetch(HMAC) failed"};
        ctx_ptr ctx(EVP_MAC_CTX_new(mac.get()));
        if (!ctx) return error{errc::unsupported, "openssl", "EVP_MAC_CTX_new failed"};
        char digest_name[] = "SHA256";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
            OSSL_PARAM_construct_end(),
        };
        if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) {
            return error{errc::unsupported, "openssl", "EVP_MAC_init(HMAC-SHA256) failed"};
        }
        return key_type(std::shared_ptr<const EVP_MAC_CTX>(ctx.release(), mac_ctx_deleter{}));
    }
};

static_assert(hmac_sha256_backend<openssl_hmac_sha256>);

}  // namespace meetingbaas::inline v0
