// SPDX-License-Identifier: MIT
#include <meetingbaas/adapters/postgres/idempotency_store.hpp>
#include <meetingbaas/idempotency/guard.hpp>

#include "postgres_test_env.hpp"
#include "store_behavior.hpp"

#include <catch2/catch_test_macros.hpp>

namespace mb = meetingbaas;

namespace {

struct store_holder {
    std::unique_ptr<pg_test::scratch_schema> schema;
    std::unique_ptr<mb::postgres_idempotency_store> store;
    mb::postgres_idempotency_store& operator*() const { return *store; }
    mb::postgres_idempotency_store* get() const { return store.get(); }
};

store_holder make_store(const std::string& url)
{
    store_holder h;
    h.schema = std::make_unique<pg_test::scratch_schema>(url);
    auto s = mb::postgres_idempotency_store::open(pg_test::make_pool(url), {.schema = h.schema->name()});
    REQUIRE(s);
    h.store = std::make_unique<mb::postgres_idempotency_store>(std::move(*s));
    return h;
}

}  // namespace

TEST_CASE("postgres_idempotency_store passes the store behaviour suite", "[postgres_store]")
{
    const auto url = pg_test::url();
    store_behavior::run([&] { return make_store(url); });
}
