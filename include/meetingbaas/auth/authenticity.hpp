// SPDX-License-Identifier: MIT
#pragma once

// Webhook authenticity: prove that a delivery came from Meeting BaaS *before* parsing it.
//
//  * v1: `x-meeting-baas-api-key` compared in constant time against an api_key_keyring (several keys, for
//    rotation without downtime); the result says which key matched.
//  * v2: Svix / Standard Webhooks signatures (`svix-id`/`svix-timestamp`/`svix-signature`, or the
//    `webhook-*` names): HMAC-SHA256 over `id.timestamp.body` with the exact raw body bytes, any `v1,`
//    entry against any configured `whsec_` secret, with a timestamp tolerance and an injectable clock.
//  * v2 callbacks: `x-mb-secret` compared in constant time against a callback_secret_keyring.
//
// Success yields a verified_body: the raw bytes plus the delivery id, API version and timestamp. The
// receiver hands *that* to the parser, so "parse, re-serialise, verify" cannot happen by accident. The
// only other way to get a verified_body is the loud verified_body::trust_unverified(...).
//
// Failures are a verification_error { auth_failure reason; std::string_view header; } that a server maps
// to 401 (see recommended_http_status). Neither keys nor secrets nor presented values ever appear in an
// error, a message or a log line produced here; keyrings keep only SHA-256 digests of API keys.

#include <meetingbaas/auth/detail/base64.hpp>
#include <meetingbaas/auth/detail/constant_time.hpp>
#include <meetingbaas/auth/hmac.hpp>
#include <meetingbaas/core/api_version.hpp>
#include <meetingbaas/core/clock.hpp>
#include <meetingbaas/core/detail/ascii.hpp>
#include <meetingbaas/core/detail/sha256.hpp>
#include <meetingbaas/core/error.hpp>
#include <meetingbaas/core/headers.hpp>
#include <meetingbaas/core/result.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

namespace detail {
/// A range whose elements convert to std::string_view (std::vector<std::string>, std::span<const char*>,
/// std::initializer_list<std::string_view>, ...): secrets and keys loaded from configuration.
template <class R>
concept string_range = requires(const R& r) {
    std::begin(r);
    std::end(r);
    { *std::begin(r) } -> std::convertible_to<std::string_view>;
};
}  // namespace detail

// ---------------------------------------------------------------------------------------------------------
// Failure reasons
// ---------------------------------------------------------------------------------------------------------

/// Why a delivery was not accepted. Every value except backend_failure means "answer 401".
enum class auth_failure {
    missing_header = 1,   ///< a required header is absent (no authentication header at all, or one of a set)
    malformed_header,     ///< present but unusable: empty, control characters, no well-formed v1 signature
    header_too_large,     ///< a header value exceeds its configured cap
    too_many_signatures,  ///< the signature header lists more entries than allowed
    no_supported_signature,  ///< the signature header has entries, but none of version v1
    signature_mismatch,      ///< well-formed v1 signatures, none matching any configured secret
    key_mismatch,            ///< the API key / callback secret matches no configured key
    invalid_timestamp,       ///< the timestamp is not a non-negative decimal integer that fits in 64 bits
    timestamp_too_old,       ///< older than the past tolerance (a replay, or a very late retry)
    timestamp_in_future,     ///< further ahead than the future tolerance (clock skew, or forged)
    body_too_large,          ///< the body exceeds the configured cap; nothing was hashed
    not_configured,          ///< no key or secret is configured for this kind of delivery
    backend_failure,         ///< the HMAC backend itself failed (server-side problem: answer 500)
};

/// The enumerator's name, e.g. "signature_mismatch". Never allocates.
constexpr std::string_view to_string(auth_failure f) noexcept
{
    switch (f) {
        case auth_failure::missing_header: return "missing_header";
        case auth_failure::malformed_header: return "malformed_header";
        case auth_failure::header_too_large: return "header_too_large";
        case auth_failure::too_many_signatures: return "too_many_signatures";
        case auth_failure::no_supported_signature: return "no_supported_signature";
        case auth_failure::signature_mismatch: return "signature_mismatch";
        case auth_failure::key_mismatch: return "key_mismatch";
        case auth_failure::invalid_timestamp: return "invalid_timestamp";
        case auth_failure::timestamp_too_old: return "timestamp_too_old";
        case auth_failure::timestamp_in_future: return "timestamp_in_future";
        case auth_failure::body_too_large: return "body_too_large";
        case auth_failure::not_configured: return "not_configured";
        case auth_failure::backend_failure: return "backend_failure";
    }
    return "unknown";
}

/// The status a receiver should answer: 401 for every authentication failure, 413 for an oversized body,
/// 500 when the HMAC backend failed (the sender will retry). Never 2xx: a 2xx tells the sender to stop.
constexpr int recommended_http_status(auth_failure f) noexcept
{
    switch (f) {
        case auth_failure::body_too_large: return 413;
        case auth_failure::backend_failure: return 500;
        default: return 401;
    }
}

/// A failed verification: the reason and the header concerned (a static lower-case header name such as
/// "svix-signature"; empty when the body is concerned). Trivially copyable; never holds a secret.
struct verification_error {
    auth_failure reason{};
    std::string_view header;

    friend constexpr bool operator==(const verification_error&, const verification_error&) = default;
};

/// "signature_mismatch (svix-signature)". Safe to log: contains no secret and no presented value.
inline std::string to_string(const verification_error& e)
{
    std::string out(to_string(e.reason));
    if (!e.header.empty()) {
        out += " (";
        out += e.header;
        out += ')';
    }
    return out;
}

/// The library-wide error form: errc::unauthenticated (or errc::too_large for body_too_large), where = the
/// header name, message = the reason's name.
inline error to_error(const verification_error& e)
{
    const errc code = e.reason == auth_failure::body_too_large ? errc::too_large : errc::unauthenticated;
    return error{code, std::string(e.header), std::string(to_string(e.reason))};
}

// ---------------------------------------------------------------------------------------------------------
// Header names and API version detection
// ---------------------------------------------------------------------------------------------------------

namespace header_names {
inline constexpr std::string_view api_key = "x-meeting-baas-api-key";
inline constexpr std::string_view callback_secret = "x-mb-secret";
inline constexpr std::string_view svix_id = "svix-id";
inline constexpr std::string_view svix_timestamp = "svix-timestamp";
inline constexpr std::string_view svix_signature = "svix-signature";
inline constexpr std::string_view webhook_id = "webhook-id";
inline constexpr std::string_view webhook_timestamp = "webhook-timestamp";
inline constexpr std::string_view webhook_signature = "webhook-signature";
}  // namespace header_names

/// Which API generation a delivery claims to be, from its headers alone (nothing is verified):
/// v2 when any svix-* / webhook-* signing header or x-mb-secret is present, else v1 when
/// x-meeting-baas-api-key is present, else unknown. (Whether v2 deliveries also carry the v1 key header is
/// undocumented, so the v2 headers win.)
template <header_source H>
api_version detect_api_version(const H& headers)
{
    namespace hn = header_names;
    for (const std::string_view name :
         {hn::svix_signature, hn::svix_id, hn::svix_timestamp, hn::webhook_signature, hn::webhook_id,
          hn::webhook_timestamp, hn::callback_secret}) {
        if (headers.find(name)) return api_version::v2;
    }
    if (headers.find(hn::api_key)) return api_version::v1;
    return api_version::unknown;
}

// ---------------------------------------------------------------------------------------------------------
// verified_body: the only input the receiver pipeline accepts
// ---------------------------------------------------------------------------------------------------------

/// How a verified_body was authenticated.
enum class auth_method {
    unverified,       ///< verified_body::trust_unverified: nothing was checked
    api_key,          ///< v1 x-meeting-baas-api-key
    svix_signature,   ///< v2 Svix / Standard Webhooks signature
    callback_secret,  ///< v2 callback x-mb-secret
};

constexpr std::string_view to_string(auth_method m) noexcept
{
    switch (m) {
        case auth_method::unverified: return "unverified";
        case auth_method::api_key: return "api_key";
        case auth_method::svix_signature: return "svix_signature";
        case auth_method::callback_secret: return "callback_secret";
    }
    return "unknown";
}

class owned_verified_body;
template <class Header>
class basic_secret_keyring;
template <hmac_sha256_backend Backend = builtin_hmac_sha256, class Clock = std::chrono::system_clock>
class basic_svix_verifier;

/// The raw body bytes of a delivery that passed verification, plus what the verification established.
/// Non-owning: the bytes view refers to the caller's body buffer and delivery_id() to the caller's header
/// storage; both must outlive this value. Use to_owned() to keep it beyond the request (e.g. to ack first
/// and process later).
///
/// Only the verifiers in this header create one, and verified_body::trust_unverified(...), which is the
/// explicit, greppable escape hatch for tests and for deliveries already verified elsewhere.
class verified_body {
public:
    /// The exact bytes that were authenticated. Parse these; never a re-serialisation.
    [[nodiscard]] constexpr std::string_view bytes() const noexcept { return bytes_; }
    /// svix-id / webhook-id (v2 webhooks: the best deduplication key); empty otherwise.
    [[nodiscard]] constexpr std::string_view delivery_id() const noexcept { return delivery_id_; }
    [[nodiscard]] constexpr api_version version() const noexcept { return version_; }
    /// Seconds since the Unix epoch from the signed timestamp header (v2 webhooks only).
    [[nodiscard]] constexpr std::optional<std::int64_t> timestamp() const noexcept { return timestamp_; }
    [[nodiscard]] constexpr auth_method method() const noexcept { return method_; }
    /// Index, in configuration order, of the key or secret that matched (0 when unverified).
    [[nodiscard]] constexpr std::size_t key_index() const noexcept { return key_index_; }
    [[nodiscard]] constexpr bool is_verified() const noexcept { return method_ != auth_method::unverified; }

    /// Wraps bytes that were NOT verified here. Every call site is a place where authenticity is assumed:
    /// tests, replays from your own trusted storage, deliveries verified by a gateway in front of you.
    [[nodiscard]] static constexpr verified_body trust_unverified(std::string_view bytes,
                                                                  api_version version = api_version::unknown,
                                                                  std::string_view delivery_id = {}) noexcept
    {
        return verified_body(bytes, delivery_id, version, std::nullopt, auth_method::unverified, 0);
    }

    /// An owning copy (bytes and delivery id copied).
    [[nodiscard]] owned_verified_body to_owned() const;

private:
    template <class Header>
    friend class basic_secret_keyring;
    template <hmac_sha256_backend Backend, class Clock>
    friend class basic_svix_verifier;
    friend class owned_verified_body;

    constexpr verified_body(std::string_view bytes, std::string_view delivery_id, api_version version,
                            std::optional<std::int64_t> timestamp, auth_method method,
                            std::size_t key_index) noexcept
        : bytes_(bytes), delivery_id_(delivery_id), version_(version), timestamp_(timestamp), method_(method),
          key_index_(key_index)
    {}

    std::string_view bytes_;
    std::string_view delivery_id_;
    api_version version_ = api_version::unknown;
    std::optional<std::int64_t> timestamp_;
    auth_method method_ = auth_method::unverified;
    std::size_t key_index_ = 0;
};

/// A verified_body that owns its bytes and delivery id, for processing after the request has ended.
class owned_verified_body {
public:
    explicit owned_verified_body(const verified_body& v)
        : bytes_(v.bytes()), delivery_id_(v.delivery_id()), version_(v.version()), timestamp_(v.timestamp()),
          method_(v.method()), key_index_(v.key_index())
    {}

    /// A view of this object (valid while it lives and is not moved from).
    [[nodiscard]] verified_body view() const noexcept
    {
        return verified_body(bytes_, delivery_id_, version_, timestamp_, method_, key_index_);
    }
    [[nodiscard]] std::string_view bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::string_view delivery_id() const noexcept { return delivery_id_; }
    [[nodiscard]] api_version version() const noexcept { return version_; }
    [[nodiscard]] std::optional<std::int64_t> timestamp() const noexcept { return timestamp_; }
    [[nodiscard]] auth_method method() const noexcept { return method_; }
    [[nodiscard]] std::size_t key_index() const noexcept { return key_index_; }
    [[nodiscard]] bool is_verified() const noexcept { return method_ != auth_method::unverified; }

private:
    std::string bytes_;
    std::string delivery_id_;
    api_version version_;
    std::optional<std::int64_t> timestamp_;
    auth_method method_;
    std::size_t key_index_;
};

inline owned_verified_body verified_body::to_owned() const
{
    return owned_verified_body(*this);
}

// ---------------------------------------------------------------------------------------------------------
// Shared-secret headers: v1 API key, v2 callback secret
// ---------------------------------------------------------------------------------------------------------

/// Which key of a keyring matched.
struct key_match {
    std::size_t index = 0;  ///< position in the keyring, in the order keys were added
    std::string_view
        label;  ///< the label given to add() (never the key itself); valid while the keyring lives
};

/// The header checked by api_key_keyring.
struct api_key_header {
    static constexpr std::string_view name = header_names::api_key;
    static constexpr api_version version = api_version::v1;
    static constexpr auth_method method = auth_method::api_key;
};

/// The header checked by callback_secret_keyring.
struct callback_secret_header {
    static constexpr std::string_view name = header_names::callback_secret;
    static constexpr api_version version = api_version::v2;
    static constexpr auth_method method = auth_method::callback_secret;
};

/// A set of accepted shared secrets for one header (several during a rotation). Stores only the SHA-256
/// digest of each key. check() hashes the presented value and compares it with *every* digest in constant
/// time (no early exit, no length leak), and never allocates.
template <class Header>
class basic_secret_keyring {
public:
    static constexpr std::string_view header_name = Header::name;
    /// Longest accepted key and longest presented header value.
    static constexpr std::size_t max_key_size = 1024;
    static constexpr std::size_t default_max_body_size = std::size_t{16} << 20U;

    basic_secret_keyring() = default;

    /// A keyring holding `keys` (any range of string-likes, or a braced list), labelled "0", "1", ... in
    /// order; errc::invalid_secret with where = "<header> #<index>" names the bad one.
    template <detail::string_range Keys>
    [[nodiscard]] static result<basic_secret_keyring> from_keys(const Keys& keys)
    {
        basic_secret_keyring ring;
        for (const auto& key : keys) {
            if (auto added = ring.add(std::string_view(key), std::to_string(ring.size())); !added) {
                error e = std::move(added).error();
                e.where += " #" + std::to_string(ring.size());
                return e;
            }
        }
        return ring;
    }

    /// from_keys over a braced list: `from_keys({"key-2026-q3", "key-2026-q4"})`.
    [[nodiscard]] static result<basic_secret_keyring> from_keys(std::initializer_list<std::string_view> keys)
    {
        return from_keys<std::initializer_list<std::string_view>>(keys);
    }

    /// Accepts `key` from now on. `label` (e.g. "2026-q3") is reported by check() on a match; never put the
    /// key itself in it. Fails with errc::invalid_secret when the key is empty, too long, or has characters
    /// that cannot appear in an HTTP header value (control characters, leading/trailing whitespace).
    result<void> add(std::string_view key, std::string label = {})
    {
        const std::string where(Header::name);
        if (key.empty()) return error{errc::invalid_secret, where, "empty key"};
        if (key.size() > max_key_size)
            return error{errc::invalid_secret, where, "key longer than 1024 bytes"};
        if (detail::trim_ows(key).size() != key.size()) {
            return error{errc::invalid_secret, where, "key has leading or trailing whitespace"};
        }
        for (const char c : key) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20U || u == 0x7FU)
                return error{errc::invalid_secret, where, "key has control characters"};
        }
        entries_.push_back(entry{detail::sha256(key), std::move(label)});
        return {};
    }

    /// Removes every key (e.g. before loading a new set).
    void clear() noexcept { entries_.clear(); }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

    /// The maximum body size verify() accepts (default 16 MiB).
    void set_max_body_size(std::size_t bytes) noexcept { max_body_size_ = bytes; }

    /// Checks a presented header value (nullopt = the header is absent). Does not allocate.
    [[nodiscard]] result<key_match, verification_error>
    check_value(std::optional<std::string_view> presented) const noexcept
    {
        if (entries_.empty()) return fail(auth_failure::not_configured);
        if (!presented) return fail(auth_failure::missing_header);
        const std::string_view value = detail::trim_ows(*presented);
        if (value.empty()) return fail(auth_failure::malformed_header);
        if (value.size() > max_key_size) return fail(auth_failure::header_too_large);
        const detail::sha256_digest digest = detail::sha256(value);
        bool found = false;
        std::size_t index = 0;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const bool equal = detail::constant_time_equal(digest, entries_[i].digest);
            index = detail::constant_time_select(equal && !found, i, index);
            found = detail::value_barrier(found || equal);
        }
        if (!found) return fail(auth_failure::key_mismatch);
        return key_match{index, entries_[index].label};
    }

    /// Checks the header in `headers`. Does not allocate (given a header source whose find() does not).
    template <header_source H>
    [[nodiscard]] result<key_match, verification_error> check(const H& headers) const
    {
        return check_value(headers.find(Header::name));
    }

    /// check(), then wraps `body` into a verified_body (no delivery id; v1 deliveries have none).
    template <header_source H>
    [[nodiscard]] result<verified_body, verification_error> verify(const H& headers,
                                                                   std::string_view body) const
    {
        if (entries_.empty()) return fail(auth_failure::not_configured);
        if (body.size() > max_body_size_) return verification_error{auth_failure::body_too_large, {}};
        auto matched = check(headers);
        if (!matched) return matched.error();
        return verified_body(body, {}, Header::version, std::nullopt, Header::method, matched->index);
    }

private:
    struct entry {
        detail::sha256_digest digest{};
        std::string label;
    };
    static constexpr verification_error fail(auth_failure reason) noexcept
    {
        return verification_error{reason, Header::name};
    }

    std::vector<entry> entries_;
    std::size_t max_body_size_ = default_max_body_size;
};

/// v1: accepted values of `x-meeting-baas-api-key` (your account API key; two during a rotation).
using api_key_keyring = basic_secret_keyring<api_key_header>;
/// v2 callbacks: accepted values of `x-mb-secret` (the bot's callback_config.secret).
using callback_secret_keyring = basic_secret_keyring<callback_secret_header>;

// ---------------------------------------------------------------------------------------------------------
// v2: Svix / Standard Webhooks signatures
// ---------------------------------------------------------------------------------------------------------

/// Limits and tolerances of the Svix verifier. Defaults follow the Svix libraries (5 minutes either way).
struct svix_options {
    std::chrono::seconds past_tolerance{300};    ///< accept timestamps at most this far in the past
    std::chrono::seconds future_tolerance{300};  ///< accept timestamps at most this far in the future
    std::size_t max_body_size = std::size_t{16} << 20U;
    std::size_t max_id_size = 256;                 ///< svix-id / webhook-id
    std::size_t max_timestamp_size = 32;           ///< svix-timestamp / webhook-timestamp (digits)
    std::size_t max_signature_header_size = 4096;  ///< svix-signature / webhook-signature
    std::size_t max_signature_entries = 64;        ///< space-separated entries, all versions counted
};

namespace detail {

/// `whsec_<base64>` -> the HMAC key bytes. The secret never appears in the error.
inline result<std::vector<std::uint8_t>> decode_whsec_secret(std::string_view secret)
{
    constexpr std::string_view prefix = "whsec_";
    constexpr std::string_view where = "whsec secret";
    if (secret.size() < prefix.size() || secret.substr(0, prefix.size()) != prefix) {
        return error{errc::invalid_secret, std::string(where), "does not start with whsec_"};
    }
    const std::string_view encoded = secret.substr(prefix.size());
    if (encoded.size() > 1024)
        return error{errc::invalid_secret, std::string(where), "longer than 1024 characters"};
    std::vector<std::uint8_t> key(base64_decoded_size(encoded));
    const auto decoded = base64_decode_to(encoded, key);
    if (decoded.failure) {
        return error{errc::invalid_secret, std::string(where),
                     "the part after whsec_ is not standard base64 (" +
                         std::string(to_string(*decoded.failure)) + ")"};
    }
    key.resize(decoded.size);
    if (key.size() < 16) {
        return error{errc::invalid_secret, std::string(where), "decodes to fewer than 16 bytes"};
    }
    return key;
}

/// Parses a Unix timestamp header: 1 or more ASCII digits, no sign, no whitespace, fits in int64.
constexpr std::optional<std::int64_t> parse_unix_seconds(std::string_view text) noexcept
{
    if (text.empty()) return std::nullopt;
    std::int64_t value = 0;
    for (const char c : text) {
        if (!is_ascii_digit(c)) return std::nullopt;
        const int digit = c - '0';
        if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

/// One space-separated entry of a signature header: `version,payload` (payload empty when no comma).
struct signature_entry {
    std::string_view version;
    std::string_view payload;
};

/// Calls f(signature_entry) for each non-empty space-separated entry of `header`, in order, until f
/// returns false. Returns the number of entries visited.
template <class F>
std::size_t for_each_signature_entry(std::string_view header, F&& f)
{
    std::size_t count = 0;
    std::size_t pos = 0;
    while (pos < header.size()) {
        while (pos < header.size() && header[pos] == ' ') ++pos;
        if (pos >= header.size()) break;
        std::size_t end = header.find(' ', pos);
        if (end == std::string_view::npos) end = header.size();
        const std::string_view token = header.substr(pos, end - pos);
        pos = end;
        ++count;
        const std::size_t comma = token.find(',');
        const signature_entry entry = comma == std::string_view::npos
                                          ? signature_entry{token, {}}
                                          : signature_entry{token.substr(0, comma), token.substr(comma + 1)};
        if (!f(entry)) break;
    }
    return count;
}

/// Decodes the payload of a `v1,` entry: canonical base64 of exactly 32 bytes, else nullopt.
inline std::optional<sha256_digest> decode_v1_signature(std::string_view payload) noexcept
{
    if (payload.size() != base64_encoded_size(32)) return std::nullopt;
    sha256_digest out{};
    const auto r = base64_decode_to(payload, out);
    if (!r.ok() || r.size != out.size()) return std::nullopt;
    return out;
}

/// What a signature header contains, or why it is unusable (reason set).
struct signature_header_summary {
    std::size_t entries = 0;     ///< entries seen (stops counting past the cap + 1)
    std::size_t v1_entries = 0;  ///< entries with version "v1"
    std::size_t v1_valid = 0;    ///< of those, with a well-formed 32-byte signature
    std::optional<auth_failure> failure;
};

/// Validates a signature header against the caps. Does not allocate.
inline signature_header_summary summarize_signature_header(std::string_view header, std::size_t max_size,
                                                           std::size_t max_entries) noexcept
{
    signature_header_summary s;
    if (header.size() > max_size) {
        s.failure = auth_failure::header_too_large;
        return s;
    }
    for (const char c : header) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20U || u >= 0x7FU) {
            s.failure = auth_failure::malformed_header;
            return s;
        }
    }
    for_each_signature_entry(header, [&](const signature_entry& e) {
        if (++s.entries > max_entries) return false;  // stop once past the cap
        if (e.version == "v1") {
            ++s.v1_entries;
            if (decode_v1_signature(e.payload)) ++s.v1_valid;
        }
        return true;
    });
    if (s.entries > max_entries) {
        s.failure = auth_failure::too_many_signatures;
    } else if (s.entries == 0) {
        s.failure = auth_failure::malformed_header;
    } else if (s.v1_valid == 0) {
        s.failure = s.v1_entries == 0 ? auth_failure::no_supported_signature : auth_failure::malformed_header;
    }
    return s;
}

/// Visible ASCII only (0x21..0x7E): ids and timestamps never contain spaces or control characters.
constexpr bool is_visible_ascii(std::string_view s) noexcept
{
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20U || u >= 0x7FU) return false;
    }
    return true;
}

}  // namespace detail

/// Verifies v2 Svix / Standard Webhooks signatures against one or more `whsec_` secrets.
///
/// Backend: the HMAC-SHA256 implementation (builtin_hmac_sha256, or openssl_hmac_sha256 from
/// adapters/openssl.hpp). Clock: where "now" comes from (std::chrono::system_clock by default).
/// Thread safety: verify() is const and may run concurrently; add_secret() may not run concurrently with
/// anything else. With the built-in backend verify() does not allocate.
template <hmac_sha256_backend Backend, class Clock>
class basic_svix_verifier {
    static_assert(wall_clock<Clock>, "Clock must be a wall_clock: now() returning a system_clock time point");

public:
    using backend_type = Backend;
    using clock_type = Clock;

    explicit basic_svix_verifier(svix_options options = {},
                                 Clock clock = Clock{}) noexcept(std::is_nothrow_move_constructible_v<Clock>)
        : options_(options), clock_(std::move(clock))
    {}

    /// A verifier accepting each of `secrets`, in order: any range of string-likes (a
    /// std::vector<std::string> loaded from configuration, a span of string_views, a braced list). Fails on
    /// the first bad secret with errc::invalid_secret and where = "whsec secret #<index>" (the secret itself
    /// is never shown).
    template <detail::string_range Secrets>
    [[nodiscard]] static result<basic_svix_verifier>
    from_secrets(const Secrets& secrets, svix_options options = {}, Clock clock = Clock{})
    {
        basic_svix_verifier v(options, std::move(clock));
        std::size_t index = 0;
        for (const auto& s : secrets) {
            if (auto added = v.add_secret(std::string_view(s)); !added) {
                error e = std::move(added).error();
                e.where += " #" + std::to_string(index);
                return e;
            }
            ++index;
        }
        return v;
    }

    /// from_secrets over a braced list: `from_secrets({"whsec_...", "whsec_..."})`.
    [[nodiscard]] static result<basic_svix_verifier>
    from_secrets(std::initializer_list<std::string_view> secrets, svix_options options = {},
                 Clock clock = Clock{})
    {
        return from_secrets<std::initializer_list<std::string_view>>(secrets, options, std::move(clock));
    }

    /// Parses and accepts a `whsec_<base64>` secret (decoded key of 16..768 bytes), from now on. During a
    /// rotation add the new secret next to the old one, and remove the old one later (clear + add).
    /// errc::invalid_secret for a malformed secret; the backend's error if it cannot prepare the key.
    result<void> add_secret(std::string_view whsec_secret)
    {
        auto key = detail::decode_whsec_secret(whsec_secret);
        if (!key) return std::move(key).error();
        auto prepared = Backend::make_key(*key);
        if (!prepared) return std::move(prepared).error();
        keys_.push_back(std::move(*prepared));
        return {};
    }

    void clear() noexcept { keys_.clear(); }
    [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
    [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }
    [[nodiscard]] const svix_options& options() const noexcept { return options_; }
    [[nodiscard]] const Clock& clock() const noexcept { return clock_; }

    /// Verifies a delivery against the clock's current time.
    template <header_source H>
    [[nodiscard]] result<verified_body, verification_error> verify(const H& headers,
                                                                   std::string_view body) const
    {
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(wall_now(clock_).time_since_epoch());
        return verify_at(headers, body, static_cast<std::int64_t>(now.count()));
    }

    /// Verifies a delivery as if the time were `now_unix_seconds`.
    template <header_source H>
    [[nodiscard]] result<verified_body, verification_error> verify_at(const H& headers, std::string_view body,
                                                                      std::int64_t now_unix_seconds) const
    {
        namespace hn = header_names;
        const bool svix_names =
            headers.find(hn::svix_id) || headers.find(hn::svix_timestamp) || headers.find(hn::svix_signature);
        const std::string_view id_name = svix_names ? hn::svix_id : hn::webhook_id;
        const std::string_view ts_name = svix_names ? hn::svix_timestamp : hn::webhook_timestamp;
        const std::string_view sig_name = svix_names ? hn::svix_signature : hn::webhook_signature;

        if (keys_.empty()) return verification_error{auth_failure::not_configured, sig_name};
        if (body.size() > options_.max_body_size) return verification_error{auth_failure::body_too_large, {}};

        // --- id ---
        const auto raw_id = headers.find(id_name);
        if (!raw_id) return verification_error{auth_failure::missing_header, id_name};
        const std::string_view id = detail::trim_ows(*raw_id);
        if (id.size() > options_.max_id_size)
            return verification_error{auth_failure::header_too_large, id_name};
        if (id.empty() || !detail::is_visible_ascii(id)) {
            return verification_error{auth_failure::malformed_header, id_name};
        }

        // --- timestamp ---
        const auto raw_ts = headers.find(ts_name);
        if (!raw_ts) return verification_error{auth_failure::missing_header, ts_name};
        const std::string_view ts_text = detail::trim_ows(*raw_ts);
        if (ts_text.size() > options_.max_timestamp_size) {
            return verification_error{auth_failure::header_too_large, ts_name};
        }
        const auto ts = detail::parse_unix_seconds(ts_text);
        if (!ts) return verification_error{auth_failure::invalid_timestamp, ts_name};

        // --- signature header ---
        const auto raw_sig = headers.find(sig_name);
        if (!raw_sig) return verification_error{auth_failure::missing_header, sig_name};
        const std::string_view sig = detail::trim_ows(*raw_sig);
        const auto summary = detail::summarize_signature_header(sig, options_.max_signature_header_size,
                                                                options_.max_signature_entries);
        if (summary.failure) return verification_error{*summary.failure, sig_name};

        // --- tolerance (before the expensive part) ---
        if (const auto age = age_of(*ts, now_unix_seconds); age.too_old) {
            return verification_error{auth_failure::timestamp_too_old, ts_name};
        } else if (age.in_future) {
            return verification_error{auth_failure::timestamp_in_future, ts_name};
        }

        // --- signatures: every secret x every v1 entry, constant time, no early exit ---
        bool found = false;
        std::size_t matched_key = 0;
        for (std::size_t k = 0; k < keys_.size(); ++k) {
            typename Backend::context_type ctx(keys_[k]);
            ctx.update(id.data(), id.size());
            ctx.update(".", 1);
            ctx.update(ts_text.data(), ts_text.size());
            ctx.update(".", 1);
            ctx.update(body.data(), body.size());
            const auto expected = ctx.finish();
            if (!expected) return verification_error{auth_failure::backend_failure, sig_name};
            bool key_matches = false;
            detail::for_each_signature_entry(sig, [&](const detail::signature_entry& e) {
                if (e.version != "v1") return true;
                const auto presented = detail::decode_v1_signature(e.payload);
                if (!presented) return true;
                key_matches =
                    detail::value_barrier(key_matches | detail::constant_time_equal(*expected, *presented));
                return true;
            });
            matched_key = detail::constant_time_select(key_matches && !found, k, matched_key);
            found = detail::value_barrier(found || key_matches);
        }
        if (!found) return verification_error{auth_failure::signature_mismatch, sig_name};
        return verified_body(body, id, api_version::v2, ts, auth_method::svix_signature, matched_key);
    }

private:
    struct age_check {
        bool too_old = false;
        bool in_future = false;
    };
    age_check age_of(std::int64_t ts, std::int64_t now) const noexcept
    {
        // Unsigned differences: exact for any pair of int64 values once the sign of (now - ts) is known.
        const auto past = static_cast<std::uint64_t>(
            options_.past_tolerance.count() < 0 ? 0 : options_.past_tolerance.count());
        const auto future = static_cast<std::uint64_t>(
            options_.future_tolerance.count() < 0 ? 0 : options_.future_tolerance.count());
        if (ts <= now) {
            return {static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(ts) > past, false};
        }
        return {false, static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(now) > future};
    }

    svix_options options_;
    Clock clock_;
    std::vector<typename Backend::key_type> keys_;
};

/// The default Svix verifier: built-in HMAC-SHA256, system clock.
using svix_verifier = basic_svix_verifier<>;

// ---------------------------------------------------------------------------------------------------------
// One entry point for every kind of delivery
// ---------------------------------------------------------------------------------------------------------

/// Dispatches a delivery to the right check by its headers (see detect_api_version):
/// Svix/Standard Webhooks signature headers -> the svix verifier; x-mb-secret -> the callback keyring;
/// x-meeting-baas-api-key -> the v1 keyring. A delivery whose kind has nothing configured fails with
/// not_configured; one with no authentication header at all fails with missing_header.
template <hmac_sha256_backend Backend = builtin_hmac_sha256, class Clock = std::chrono::system_clock>
class basic_webhook_verifier {
public:
    using svix_type = basic_svix_verifier<Backend, Clock>;

    basic_webhook_verifier() = default;

    basic_webhook_verifier& accept_v1(api_key_keyring keys)
    {
        v1_ = std::move(keys);
        return *this;
    }
    basic_webhook_verifier& accept_v2(svix_type svix)
    {
        v2_ = std::move(svix);
        return *this;
    }
    basic_webhook_verifier& accept_callbacks(callback_secret_keyring secrets)
    {
        callbacks_ = std::move(secrets);
        return *this;
    }

    template <header_source H>
    [[nodiscard]] result<verified_body, verification_error> verify(const H& headers,
                                                                   std::string_view body) const
    {
        namespace hn = header_names;
        const bool signed_v2 = headers.find(hn::svix_signature) || headers.find(hn::svix_id) ||
                               headers.find(hn::svix_timestamp) || headers.find(hn::webhook_signature) ||
                               headers.find(hn::webhook_id) || headers.find(hn::webhook_timestamp);
        if (signed_v2) {
            if (!v2_) return verification_error{auth_failure::not_configured, hn::svix_signature};
            return v2_->verify(headers, body);
        }
        if (headers.find(hn::callback_secret)) {
            if (!callbacks_) return verification_error{auth_failure::not_configured, hn::callback_secret};
            return callbacks_->verify(headers, body);
        }
        if (headers.find(hn::api_key)) {
            if (!v1_) return verification_error{auth_failure::not_configured, hn::api_key};
            return v1_->verify(headers, body);
        }
        const std::string_view expected = v2_ ? hn::svix_signature : v1_ ? hn::api_key : hn::callback_secret;
        return verification_error{auth_failure::missing_header, expected};
    }

    [[nodiscard]] const std::optional<api_key_keyring>& v1() const noexcept { return v1_; }
    [[nodiscard]] const std::optional<svix_type>& v2() const noexcept { return v2_; }
    [[nodiscard]] const std::optional<callback_secret_keyring>& callbacks() const noexcept
    {
        return callbacks_;
    }

private:
    std::optional<api_key_keyring> v1_;
    std::optional<svix_type> v2_;
    std::optional<callback_secret_keyring> callbacks_;
};

using webhook_verifier = basic_webhook_verifier<>;

}  // namespace meetingbaas::inline v0
