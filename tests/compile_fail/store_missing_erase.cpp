// SPDX-License-Identifier: MIT
// Must not compile: the store lacks erase_if_fence. The diagnostic must name can_erase_if_fence.
#include <meetingbaas/idempotency/store.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

struct store_without_erase {
    meetingbaas::result<bool> insert_if_absent(std::string_view, const meetingbaas::record_view&,
                                               meetingbaas::utc_time);
    meetingbaas::result<std::optional<meetingbaas::idempotency_record>> load(std::string_view,
                                                                             meetingbaas::utc_time);
    meetingbaas::result<bool> compare_and_set(std::string_view, std::uint64_t,
                                              const meetingbaas::record_view&, meetingbaas::utc_time);
};

static_assert(meetingbaas::idempotency_store<store_without_erase>);

int main() {}
