// SPDX-License-Identifier: MIT
// Interop with the official JavaScript libraries, the C++ side (tests/interop/run.cmake drives it):
//   svix_interop gen <cases.json>   signs deliveries with svix_signer (now, several bodies, ids and secrets)
//   svix_interop check <js.json>    verifies the signatures that npm `svix` and `standardwebhooks` made with
//                                   our verifier (now, both header styles), and compares them byte for byte
//                                   with our signer's
// Exit status 0 only if every check passed.
#include <meetingbaas/auth/authenticity.hpp>
#include <meetingbaas/auth/signer.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace mb = meetingbaas;

namespace {

constexpr std::string_view docs_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";      // spec §9, vector 1
constexpr std::string_view project_secret = "whsec_XB6KC30vTG6aGz1ffpwLKk1vjhw6W32f";   // spec §9, vector 2
constexpr std::string_view rotation_secret = "whsec_ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3";  // spec §9, rotation
constexpr std::string_view long_secret =
    "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=";  // 62 bytes

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::int64_t now_seconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int gen(const std::string& out_path)
{
    const std::string data = MEETINGBAAS_TEST_DATA_DIR;
    const std::vector<std::string> bodies{
        // The spec's compact v2.bot.failed body (vector 2), and the v2 fixtures byte for byte
        // (pretty-printed,
        // with a trailing newline), plus an empty object and non-ASCII text.
        R"({"event":"bot.failed","data":{"bot_id":"f0c3e290-8374-42fd-92d1-75ac8e695c3c","event_id":null,)"
        R"("error_message":"Bot was not accepted into the meeting","error_code":"BOT_NOT_ACCEPTED",)"
        R"("sent_at":"2026-09-16T15:12:09.331Z"},"extra":null})",
        read_file(data + "/v2.calendar.event_created.json"),
        read_file(data + "/v2.calendar.events_synced.json"),
        read_file(data + "/v2.bot.completed.json"),
        "{}",
        "{\"text\":\"R\xC3\xA9union \xE2\x80\x94 \xF0\x9F\x93\x85 \\u00e9\\n\"}",
    };
    const std::vector<std::vector<std::string_view>> secret_sets{
        {project_secret}, {docs_secret}, {long_secret}, {rotation_secret, project_secret}};
    const std::int64_t ts = now_seconds();
    nlohmann::json cases = nlohmann::json::array();
    int n = 0;
    for (const auto& secrets : secret_sets) {
        const auto signer = mb::svix_signer::from_secrets(secrets);
        if (!signer) {
            std::fprintf(stderr, "signer: %s\n", mb::to_string(signer.error()).c_str());
            return 1;
        }
        for (const std::string& body : bodies) {
            if (body.empty()) {
                std::fprintf(stderr, "missing fixture\n");
                return 1;
            }
            const std::string id = "msg_interop_" + std::to_string(++n);
            const auto h = signer->sign(id, ts, body);
            if (!h) return 1;
            cases.push_back({{"id", h->id},
                             {"timestamp", h->timestamp},
                             {"body", body},
                             {"signature", h->signature},
                             {"secrets", std::vector<std::string>(secrets.begin(), secrets.end())}});
        }
    }
    std::ofstream(out_path, std::ios::binary) << cases.dump(1);
    std::printf("c++: signed %d deliveries\n", n);
    return 0;
}

int check(const std::string& in_path)
{
    const auto js = nlohmann::json::parse(read_file(in_path), nullptr, false);
    if (js.is_discarded() || !js.is_array() || js.empty()) {
        std::fprintf(stderr, "FAIL: %s is not a non-empty JSON array\n", in_path.c_str());
        return 1;
    }
    int failures = 0;
    int checked = 0;
    for (const auto& c : js) {
        const auto id = c.at("id").get<std::string>();
        const auto ts = c.at("timestamp").get<std::string>();
        const auto body = c.at("body").get<std::string>();
        const auto secret = c.at("secret").get<std::string>();
        const auto verifier = mb::svix_verifier::from_secrets({secret});
        const auto signer = mb::svix_signer::from_secret(secret);
        if (!verifier || !signer) return 1;
        const auto ours = signer->signature(id, std::stoll(ts), body);
        for (const char* lib : {"svix_signature", "standardwebhooks_signature"}) {
            const auto sig = c.at(lib).get<std::string>();
            ++checked;
            const mb::http_headers svix_style{
                {"svix-id", id}, {"svix-timestamp", ts}, {"svix-signature", sig}};
            const mb::http_headers standard{
                {"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", sig}};
            for (const auto* headers : {&svix_style, &standard}) {
                if (const auto ok = verifier->verify(*headers, body); !ok) {
                    std::fprintf(stderr, "FAIL: %s of %s rejected: %s\n", lib, id.c_str(),
                                 mb::to_string(ok.error()).c_str());
                    ++failures;
                }
            }
            if (!ours || *ours != sig) {
                std::fprintf(stderr, "FAIL: %s of %s differs from svix_signer's\n", lib, id.c_str());
                ++failures;
            }
            if (verifier->verify(svix_style, body + " ")) {
                std::fprintf(stderr, "FAIL: a tampered body of %s verified\n", id.c_str());
                ++failures;
            }
        }
    }
    std::printf("c++: verified %d signatures made by svix and standardwebhooks; %d failures\n", checked,
                failures);
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc == 3 && std::string_view(argv[1]) == "gen") return gen(argv[2]);
    if (argc == 3 && std::string_view(argv[1]) == "check") return check(argv[2]);
    std::fprintf(stderr, "usage: svix_interop gen|check <file.json>\n");
    return 2;
}
