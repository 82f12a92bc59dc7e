// SPDX-License-Identifier: MIT
#pragma once

// calendar_sync_server's configuration: command-line flags, some also read from environment variables
// (a flag wins over its variable). Everything is validated here, before anything starts, so that a bad
// value is one clear message and exit status 2 instead of a server that fails every job later.

#include <meetingbaas/core/result.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace support {

struct server_config {
    std::string listen_host = "127.0.0.1";
    unsigned short listen_port = 8080;
    std::string api_base_url = "https://api.meetingbaas.com";  ///< validated http(s), no trailing '/'
    std::string api_origin;  ///< scheme://host[:port] of api_base_url (the HTTP client's one origin)
    std::string api_key;
    std::vector<std::string> webhook_secrets;       ///< whsec_... (several during a rotation)
    std::string state = "./calendar-sync.sqlite3";  ///< a SQLite path, redis://... or postgres(ql)://...
    double api_write_rate = 5.0;  ///< API writes per second, shared by every worker (of every instance)
    std::string instance_id;      ///< "" = unique per process (shared state: see docs/scale-out.md)
    std::string bot_name = "Recorder";
    int workers = 2;
    std::string admin_token;  ///< "" = the /admin endpoints are off
    std::string log_file;     ///< "" = standard output
    std::size_t max_connections = 10'000;
    std::size_t http_threads = 2;
    std::size_t handler_threads = 4;
    std::chrono::seconds idle_timeout{15};
    std::chrono::seconds request_timeout{10};  ///< for the head, and again for the body
};

/// The usage text (--help).
[[nodiscard]] std::string_view server_usage() noexcept;

/// Parses argv and the environment. The error is one line naming the flag and what is wrong with it.
/// `help` is set (and nothing else checked) for --help / -h.
[[nodiscard]] meetingbaas::result<server_config, std::string> parse_server_config(int argc, char** argv,
                                                                                  bool& help);

/// Why `url` is not usable as the API base URL ("" when it is): http or https, a host, no user-info,
/// query or fragment.
[[nodiscard]] std::string check_api_base_url(std::string_view url);

}  // namespace support
