// SPDX-License-Identifier: MIT
// Verifying Meeting BaaS webhooks before parsing them: v1 API key, v2 Svix signature, v2 callback secret.
// Framework-neutral: `on_webhook` is what a server's POST handler calls with its own header lookup and the
// raw body. The deliveries below are the spec's test vectors, so the program checks itself (exit 0 = ok).
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/core/headers.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace mb = meetingbaas;

namespace {

/// What a server answers: a status, and (on success) the verified body to hand to the parser.
struct reply {
    int status = 200;
    std::optional<mb::owned_verified_body> accepted;
};

/// The POST handler's core. `headers` is any mb::header_source; `raw_body` the bytes exactly as received.
/// `Verifier` is mb::webhook_verifier in a real server (here it runs on a frozen clock, see main).
template <class Verifier, mb::header_source Headers>
reply on_webhook(const Verifier& verifier, const Headers& headers, std::string_view raw_body)
{
    auto verified = verifier.verify(headers, raw_body);
    if (!verified) {
        // Log the reason (never the presented key or signature) and answer 401 without detail.
        std::printf("rejected: %s\n", mb::to_string(verified.error()).c_str());
        return {mb::recommended_http_status(verified.error().reason), std::nullopt};
    }
    // Hand the *verified bytes* on: ack now, parse and process later (to_owned keeps them alive).
    std::printf("accepted %s delivery via %s (key #%zu, id '%.*s')\n",
                std::string(mb::to_string(verified->version())).c_str(),
                std::string(mb::to_string(verified->method())).c_str(), verified->key_index(),
                static_cast<int>(verified->delivery_id().size()), verified->delivery_id().data());
    return {200, verified->to_owned()};
}

/// A stand-in for a framework's request: its headers live in its own (case-insensitive) container.
struct framework_request {
    std::map<std::string, std::string> headers;  // keys stored lower-case by this "framework"
    std::string body;
};

/// A clock frozen at the spec vector's timestamp + 42 s, so the years-old vectors verify deterministically.
struct frozen_clock {
    std::chrono::sys_seconds t;
    std::chrono::sys_seconds now() const noexcept { return t; }
};

}  // namespace

int main()
{
    // --- configuration (once, at startup): a bad secret is reported here, not per request ---
    auto api_keys =
        mb::api_key_keyring::from_keys({"mb_old_key_0123456789abcdef", "mb_new_key_fedcba9876543210"});
    auto callbacks = mb::callback_secret_keyring::from_keys({"bot-callback-secret"});
    using verifier_t = mb::basic_webhook_verifier<mb::builtin_hmac_sha256, frozen_clock>;
    auto svix = verifier_t::svix_type::from_secrets(
        {"whsec_ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3", "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f"},
        mb::svix_options{}, frozen_clock{std::chrono::sys_seconds(std::chrono::seconds(1789571529 + 42))});
    if (!api_keys || !callbacks || !svix) {
        std::puts("configuration error");
        return 1;
    }
    verifier_t verifier;
    verifier.accept_v1(std::move(*api_keys))
        .accept_v2(std::move(*svix))
        .accept_callbacks(std::move(*callbacks));

    // A production server would use mb::webhook_verifier (system clock); this one is for the example only.
    static_assert(std::is_same_v<mb::webhook_verifier::svix_type, mb::svix_verifier>);

    int failures = 0;
    const auto expect = [&](const reply& r, int status) {
        if (r.status != status) {
            std::printf("  expected %d, got %d\n", status, r.status);
            ++failures;
        }
    };

    // 1. A v2 delivery signed during a secret rotation (two signatures), seen through a framework adapter.
    framework_request req;
    req.headers = {{"svix-id", "msg_2mQw8ZrT4vKp9XcN1bYs7LdE3hA"},
                   {"svix-timestamp", "1789571529"},
                   {"svix-signature", "v1,MFrqHgtgkSbxKMLkf5YL7UEo68c3GELwMSJHdDE62MQ= "
                                      "v1,HS4HPtA64JHC5LQ5pPqUxFvOGjqjvrqR5mo7OFXpD0k="}};
    req.body =
        R"({"event":"bot.failed","data":{"bot_id":"f0c3e290-8374-42fd-92d1-75ac8e695c3c","event_id":null,)"
        R"("error_message":"Bot was not accepted into the meeting","error_code":"BOT_NOT_ACCEPTED",)"
        R"("sent_at":"2026-09-16T15:12:09.331Z"},"extra":null})";
    const mb::header_lookup lookup([&req](std::string_view name) -> std::optional<std::string_view> {
        std::string key(name);
        for (auto& c : key) c = mb::detail::ascii_lower(c);
        const auto it = req.headers.find(key);
        if (it == req.headers.end()) return std::nullopt;
        return std::string_view(it->second);
    });
    const reply v2 = on_webhook(verifier, lookup, req.body);
    expect(v2, 200);
    if (v2.accepted && v2.accepted->bytes() != req.body) ++failures;

    // 2. The same delivery after a framework "helpfully" re-serialised the JSON: rejected.
    std::string reserialised = req.body;
    reserialised.insert(1, " ");
    expect(on_webhook(verifier, lookup, reserialised), 401);

    // 3. v1 deliveries: the new key, then a wrong key, then no key at all.
    expect(on_webhook(verifier, mb::http_headers{{"x-meeting-baas-api-key", "mb_new_key_fedcba9876543210"}},
                      "{}"),
           200);
    expect(on_webhook(verifier, mb::http_headers{{"x-meeting-baas-api-key", "guess"}}, "{}"), 401);
    expect(on_webhook(verifier, mb::http_headers{{"content-type", "application/json"}}, "{}"), 401);

    // 4. A v2 bot callback with its x-mb-secret.
    expect(on_webhook(verifier, mb::http_headers{{"x-mb-secret", "bot-callback-secret"}},
                      R"({"event":"bot.completed"})"),
           200);

    std::printf("%s\n", failures == 0 ? "all deliveries handled as expected" : "UNEXPECTED RESULTS");
    return failures == 0 ? 0 : 1;
}
