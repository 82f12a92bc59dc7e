// SPDX-License-Identifier: MIT
// Must not compile: compare_and_set returns a plain bool instead of result<bool>. The diagnostic must name
// can_compare_and_set_fence.
#include <meetingbaas/idempotency/store.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

struct store_with_bool_cas {
    meetingbaas::result<bool> insert_if_absent(std::string_view, const meetingbaas::record_view&,
                                               meetingbaas::utc_time);
    meetingbaas::result<std::optional<meetingbaas::idempotency_record>> load(std::string_view,
                                                                             meetingbaas::utc_time);
    bool compare_and_set(std::string_view, std::uint64_t, const meetingbaas::record_view&,
                         meetingbaas::utc_time);
    meetingbaas::result<bool> erase_if_fence(std::string_view, std::uint64_t);
};

static_assert(meetingbaas::idempotency_store<store_with_bool_cas>);

int main() {}
