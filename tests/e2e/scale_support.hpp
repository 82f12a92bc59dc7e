// SPDX-License-Identifier: MIT
#pragma once
// Test support for the scale-out tests (issue 15): a PostgreSQL database of their own on the server that
// .ci/run starts, and stopping that server for a while (MEETINGBAAS_TEST_POSTGRES_CTL).

#include "adapters/postgres_test_env.hpp"

#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <random>
#include <string>

#include <unistd.h>

namespace scale_test {

namespace mb = meetingbaas;

/// A fresh database "mb_scale_<pid>_<n>" on the server of `server_url`, dropped (WITH (FORCE)) at the end.
class scratch_database {
public:
    explicit scratch_database(const std::string& server_url) : server_url_(server_url)
    {
        static int counter = 0;
        name_ = "mb_scale_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
        auto admin = pg_test::admin(server_url_);
        REQUIRE(admin.exec("CREATE DATABASE " + name_));
        // Replace the path's database name ("postgresql://user@host:port/db?query").
        const auto scheme = server_url_.find("://");
        REQUIRE(scheme != std::string::npos);
        const auto slash = server_url_.find('/', scheme + 3);
        const auto query = server_url_.find('?', scheme + 3);
        url_ = server_url_.substr(0, slash == std::string::npos ? query : slash) + "/" + name_ +
               (query == std::string::npos ? "" : server_url_.substr(query));
    }
    scratch_database(const scratch_database&) = delete;
    scratch_database& operator=(const scratch_database&) = delete;
    ~scratch_database()
    {
        auto c = mb::pg::connection::open(server_url_);
        if (c) (void)c->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
    [[nodiscard]] const std::string& url() const noexcept { return url_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    std::string server_url_;
    std::string name_;
    std::string url_;
};

/// Stops the shared PostgreSQL server (ctl.sh stop); starts it again on restart() or destruction.
class postgres_stopped {
public:
    explicit postgres_stopped(std::string ctl) : ctl_(std::move(ctl))
    {
        REQUIRE(std::system((ctl_ + " stop").c_str()) == 0);  // NOLINT(concurrency-mt-unsafe)
        stopped_ = true;
    }
    postgres_stopped(const postgres_stopped&) = delete;
    postgres_stopped& operator=(const postgres_stopped&) = delete;
    ~postgres_stopped()
    {
        if (stopped_) (void)std::system((ctl_ + " start").c_str());  // NOLINT(concurrency-mt-unsafe)
    }
    void restart()
    {
        REQUIRE(std::system((ctl_ + " start").c_str()) == 0);  // NOLINT(concurrency-mt-unsafe)
        stopped_ = false;
    }

private:
    std::string ctl_;
    bool stopped_ = false;
};

}  // namespace scale_test
