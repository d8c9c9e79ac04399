// Fuzzes what tginvite reads from TDLib, which passes on what Telegram's servers and other users
// put in it: an error object (ErrorOf, then ClassifyTdError for every kind of request), a group's
// service message (JoinsOf), a member's status (MemberStatusOf) and a user (UsernameOf).
//
// Input: one JSON value (any bytes; not JSON is read as nothing). Checked besides "no crash": a
// flood waits 1 s to kMaxRetryAfter; joins are bounded, each a positive user in a non-zero chat,
// with a non-negative update id; a member status is one of the Bot API's six names.
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "telegram/classify.h"
#include "telegram/tdlib/td_answers.h"
#include "telegram/tdlib/td_client.h"
#include "telegram/tdlib/td_errors.h"

namespace tginvite::fuzz {
namespace {

using telegram::tdlib::RequestClass;

void CheckOutcome(const telegram::Outcome& outcome) {
  if (outcome.kind == telegram::OutcomeKind::kFlood) {
    FUZZ_CHECK(outcome.retry_after >= std::chrono::seconds(1));
    FUZZ_CHECK(outcome.retry_after <= telegram::kMaxRetryAfter);
  }
  FUZZ_CHECK(outcome.description.size() <= 1024);
}

void Run(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json value = nlohmann::json::parse(text, nullptr, false);

  const telegram::tdlib::TdError error = telegram::tdlib::ErrorOf(value);
  for (RequestClass request_class :
       {RequestClass::kContact, RequestClass::kTargetChat, RequestClass::kAccount}) {
    CheckOutcome(telegram::tdlib::ClassifyTdError(request_class, error.code, error.message));
    CheckOutcome(telegram::tdlib::ClassifyTdError(request_class, 429, text));
  }

  for (const nlohmann::json* message : {&value, value.is_object() && value.contains("message")
                                                    ? &value["message"]
                                                    : &value}) {
    std::vector<telegram::Update> joins = telegram::tdlib::JoinsOf(*message);
    FUZZ_CHECK(joins.size() <= 200);
    for (const telegram::Update& join : joins) {
      FUZZ_CHECK(join.user_id > 0);
      FUZZ_CHECK(join.chat_id != 0);
      FUZZ_CHECK(join.update_id >= 0);
    }
  }

  const std::string status = telegram::tdlib::MemberStatusOf(value);
  FUZZ_CHECK(status == "creator" || status == "administrator" || status == "member" ||
             status == "restricted" || status == "left" || status == "kicked");
  (void)telegram::tdlib::UsernameOf(value);
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tginvite::fuzz::Run(data, size);
  return 0;
}
