// SPDX-License-Identifier: MIT
#pragma once

// Signing webhook deliveries the way Svix and Standard Webhooks do: the signature is HMAC-SHA256 over
// `id.timestamp.body` (the exact body bytes) under the key of a `whsec_<base64>` secret, base64-encoded and
// prefixed with the version, `v1,`. Use it to test your receiver with real signatures, to replay stored
// deliveries to another endpoint, and to relay deliveries you have verified. The verifier in
// authenticity.hpp accepts exactly what this produces; tests/interop checks both against the official
// `svix` and `standardwebhooks` npm packages.

#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/detail/base64.hpp>
#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/headers.hpp>
#include <meetingbaas/core/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

/// Which header names a signed delivery carries: `svix-id`/`svix-timestamp`/`svix-signature` (what Svix and
/// Meeting BaaS send), or the Standard Webhooks names `webhook-id`/`webhook-timestamp`/`webhook-signature`.
enum class signature_header_style { svix, webhook };

/// The three signing headers of one delivery.
struct signed_headers {
    signature_header_style style = signature_header_style::svix;
    std::string id;         ///< the message id, as given
    std::string timestamp;  ///< Unix seconds, decimal
    std::string signature;  ///< `v1,<base64>`, one entry per secret, separated by spaces

    [[nodiscard]] std::string_view id_name() const noexcept
    {
        return style == signature_header_style::svix ? header_names::svix_id : header_names::webhook_id;
    }
    [[nodiscard]] std::string_view timestamp_name() const noexcept
    {
        return style == signature_header_style::svix ? header_names::svix_timestamp
                                                     : header_names::webhook_timestamp;
    }
    [[nodiscard]] std::string_view signature_name() const noexcept
    {
        return style == signature_header_style::svix ? header_names::svix_signature
                                                     : header_names::webhook_signature;
    }

    /// The headers as a header collection (any verifier reads it).
    [[nodiscard]] http_headers to_headers() const
    {
        return http_headers{{std::string(id_name()), id},
                            {std::string(timestamp_name()), timestamp},
                            {std::string(signature_name()), signature}};
    }

    /// Adds the three headers to any collection with `add(name, value)` or `set(name, value)` (http_headers,
    /// httplib::Headers through a lambda, ...).
    template <class F>
    void for_each(F&& f) const
    {
        f(id_name(), std::string_view(id));
        f(timestamp_name(), std::string_view(timestamp));
        f(signature_name(), std::string_view(signature));
    }
};

/// Signs deliveries with one or more `whsec_` secrets (several during a rotation: the signature header then
/// lists one `v1,` entry per secret, in order, and a receiver holding any of them accepts it).
///
/// Backend: the HMAC-SHA256 implementation (builtin_hmac_sha256, or openssl_hmac_sha256 from
/// adapters/openssl.hpp). Thread safety: the sign functions are const and may run concurrently.
template <hmac_sha256_backend Backend = builtin_hmac_sha256>
class basic_svix_signer {
public:
    /// A signer for one secret. Errors: errc::invalid_secret (where = "whsec secret"; the secret never
    /// appears in the error), or the backend's error if it cannot prepare the key.
    [[nodiscard]] static result<basic_svix_signer> from_secret(std::string_view whsec_secret)
    {
        basic_svix_signer s;
        if (auto added = s.add(whsec_secret); !added) return std::move(added).error();
        return s;
    }

    /// A signer for each of `secrets` (any range of string-likes), in order. Errors as from_secret, with
    /// where = "whsec secret #<index>"; errc::invalid_secret for an empty range.
    template <detail::string_range Secrets>
    [[nodiscard]] static result<basic_svix_signer> from_secrets(const Secrets& secrets)
    {
        basic_svix_signer s;
        for (const auto& secret : secrets) {
            if (auto added = s.add(std::string_view(secret)); !added) {
                error e = std::move(added).error();
                e.where += " #" + std::to_string(s.size());
                return e;
            }
        }
        if (s.keys_.empty()) return error{errc::invalid_secret, "whsec secret", "no secret given"};
        return s;
    }

    /// from_secrets over a braced list.
    [[nodiscard]] static result<basic_svix_signer>
    from_secrets(std::initializer_list<std::string_view> secrets)
    {
        return from_secrets<std::initializer_list<std::string_view>>(secrets);
    }

    [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }

    /// The signature header's value for `body` sent as message `message_id` at `unix_seconds`:
    /// `v1,<base64>` per secret, separated by spaces. Errors: errc::invalid_argument when the id is empty,
    /// longer than 256 bytes or not visible ASCII, or the timestamp is negative (a verifier would refuse
    /// them); errc::unsupported when the HMAC backend fails.
    [[nodiscard]] result<std::string> signature(std::string_view message_id, std::int64_t unix_seconds,
                                                std::string_view body) const
    {
        if (message_id.empty() || message_id.size() > 256 || !detail::is_visible_ascii(message_id)) {
            return error{errc::invalid_argument, "svix_signer::signature",
                         "the message id must be 1 to 256 visible ASCII characters"};
        }
        if (unix_seconds < 0) {
            return error{errc::invalid_argument, "svix_signer::signature",
                         "the timestamp must not be negative"};
        }
        const std::string ts = std::to_string(unix_seconds);
        std::string out;
        out.reserve(keys_.size() * (3 + detail::base64_encoded_size(32)) + keys_.size());
        for (const auto& key : keys_) {
            typename Backend::context_type ctx(key);
            ctx.update(message_id.data(), message_id.size());
            ctx.update(".", 1);
            ctx.update(ts.data(), ts.size());
            ctx.update(".", 1);
            ctx.update(body.data(), body.size());
            const auto mac = ctx.finish();
            if (!mac) return error{errc::unsupported, "svix_signer::signature", "the HMAC backend failed"};
            if (!out.empty()) out += ' ';
            out += "v1,";
            const std::size_t at = out.size();
            out.resize(at + detail::base64_encoded_size(mac->size()));
            detail::base64_encode_to(*mac, out.data() + at);
        }
        return out;
    }

    /// The three headers for `body` sent as message `message_id` at `unix_seconds`. Errors as signature().
    [[nodiscard]] result<signed_headers>
    sign(std::string_view message_id, std::int64_t unix_seconds, std::string_view body,
         signature_header_style style = signature_header_style::svix) const
    {
        auto sig = signature(message_id, unix_seconds, body);
        if (!sig) return std::move(sig).error();
        return signed_headers{style, std::string(message_id), std::to_string(unix_seconds), std::move(*sig)};
    }

    /// sign() at the current time of `clock` (std::chrono::system_clock by default).
    template <wall_clock Clock = std::chrono::system_clock>
    [[nodiscard]] result<signed_headers> sign_now(std::string_view message_id, std::string_view body,
                                                  signature_header_style style = signature_header_style::svix,
                                                  const Clock& clock = Clock{}) const
    {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(wall_now(clock).time_since_epoch());
        return sign(message_id, static_cast<std::int64_t>(now.count()), body, style);
    }

private:
    basic_svix_signer() = default;

    result<void> add(std::string_view whsec_secret)
    {
        auto key = detail::decode_whsec_secret(whsec_secret);
        if (!key) return std::move(key).error();
        auto prepared = Backend::make_key(*key);
        if (!prepared) return std::move(prepared).error();
        keys_.push_back(std::move(*prepared));
        return {};
    }

    std::vector<typename Backend::key_type> keys_;
};

/// The default signer: built-in HMAC-SHA256.
using svix_signer = basic_svix_signer<>;

}  // namespace meetingbaas::inline v0
