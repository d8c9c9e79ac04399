// Domain types shared by every module: contacts, campaigns, accounts and invitation states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tginvite::core {

// A contact as imported: every field normalised. At least one of telegram_user_id, username and
// phone is set; an empty string means "not given".
struct ContactRecord {
  std::optional<int64_t> telegram_user_id;
  std::string username;  // without '@', lower-case
  std::string first_name;
  std::string last_name;
  std::string phone;  // E.164, "+4930123456"
};

}  // namespace tginvite::core
