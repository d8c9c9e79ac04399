// TDLib's answers as Outcomes (telegram-api.md §4–5.2): every row of the catalogue a user account
// meets, matched by the MTProto error name whatever code it comes with.
#include "telegram/tdlib/td_errors.h"

#include "telegram/classify.h"

#include <gtest/gtest.h>

namespace tginvite::telegram::tdlib {
namespace {

struct Row {
  RequestClass request_class;
  int code;
  const char* message;
  OutcomeKind kind;
  PermanentReason reason = PermanentReason::kNone;
};

TEST(TdErrorsTest, EveryRowOfTheCatalogue) {
  const Row rows[] = {
      {RequestClass::kContact, 400, "USER_PRIVACY_RESTRICTED", OutcomeKind::kPermanent,
       PermanentReason::kPrivacy},
      {RequestClass::kContact, 403, "USER_PRIVACY_RESTRICTED", OutcomeKind::kPermanent,
       PermanentReason::kPrivacy},
      {RequestClass::kContact, 400, "USER_NOT_MUTUAL_CONTACT", OutcomeKind::kPermanent,
       PermanentReason::kPrivacy},
      {RequestClass::kContact, 400, "USER_CHANNELS_TOO_MUCH", OutcomeKind::kPermanent,
       PermanentReason::kOther},
      {RequestClass::kContact, 400, "USER_KICKED", OutcomeKind::kPermanent, PermanentReason::kOther},
      {RequestClass::kContact, 400, "INPUT_USER_DEACTIVATED", OutcomeKind::kPermanent,
       PermanentReason::kDeactivated},
      {RequestClass::kContact, 400, "USER_IS_BLOCKED", OutcomeKind::kPermanent,
       PermanentReason::kBlocked},
      {RequestClass::kContact, 400, "USERNAME_NOT_OCCUPIED", OutcomeKind::kPermanent,
       PermanentReason::kNotFound},
      {RequestClass::kContact, 400, "USERNAME_INVALID", OutcomeKind::kPermanent,
       PermanentReason::kNotFound},
      {RequestClass::kContact, 400, "Chat not found", OutcomeKind::kPermanent,
       PermanentReason::kNotFound},
      {RequestClass::kTargetChat, 400, "Chat not found", OutcomeKind::kCampaignFatal},
      {RequestClass::kContact, 400, "CHAT_ADMIN_REQUIRED", OutcomeKind::kCampaignFatal},
      {RequestClass::kContact, 400, "Not enough rights to invite members to the supergroup chat",
       OutcomeKind::kCampaignFatal},
      {RequestClass::kContact, 400, "PEER_FLOOD", OutcomeKind::kAccountFatal},
      {RequestClass::kContact, 401, "AUTH_KEY_UNREGISTERED", OutcomeKind::kAccountFatal},
      {RequestClass::kAccount, 401, "Unauthorized", OutcomeKind::kAccountFatal},
      {RequestClass::kContact, 500, "Request aborted", OutcomeKind::kTransient},
      {RequestClass::kContact, 500, "RPC_CALL_FAIL", OutcomeKind::kTransient},
      {RequestClass::kContact, 406, "SOMETHING_SECRET", OutcomeKind::kTransient},
  };
  for (const Row& row : rows) {
    Outcome outcome = ClassifyTdError(row.request_class, row.code, row.message);
    EXPECT_EQ(ToString(outcome.kind), ToString(row.kind)) << row.message;
    EXPECT_EQ(static_cast<int>(outcome.reason), static_cast<int>(row.reason)) << row.message;
  }
}

TEST(TdErrorsTest, PeerFloodLimitsTheAccountAndSessionLossUnauthorizesIt) {
  Outcome flood = ClassifyTdError(RequestClass::kContact, 400, "PEER_FLOOD");
  EXPECT_EQ(flood.account_health, core::AccountHealth::kLimited);
  EXPECT_NE(flood.description.find("account resume"), std::string::npos) << flood.description;
  Outcome revoked = ClassifyTdError(RequestClass::kContact, 401, "SESSION_REVOKED");
  EXPECT_EQ(revoked.account_health, core::AccountHealth::kUnauthorized);
  EXPECT_NE(revoked.description.find("account login"), std::string::npos) << revoked.description;
}

TEST(TdErrorsTest, LongFloodWaitsArriveAs429WithSeconds) {
  Outcome outcome = ClassifyTdError(RequestClass::kContact, 429, "Too Many Requests: retry after 3600");
  EXPECT_EQ(outcome.kind, OutcomeKind::kFlood);
  EXPECT_EQ(outcome.retry_after, std::chrono::seconds(3600));
  Outcome raw = ClassifyTdError(RequestClass::kContact, 420, "FLOOD_WAIT_120");
  EXPECT_EQ(raw.kind, OutcomeKind::kFlood);
  EXPECT_EQ(raw.retry_after, std::chrono::seconds(120));
  Outcome huge = ClassifyTdError(RequestClass::kContact, 429, "retry after 99999999999999999999");
  EXPECT_EQ(huge.kind, OutcomeKind::kFlood);
  EXPECT_LE(huge.retry_after, telegram::kMaxRetryAfter);
  EXPECT_GE(huge.retry_after, std::chrono::seconds(1));
}

TEST(TdErrorsTest, A406IsNeverShown) {
  Outcome outcome = ClassifyTdError(RequestClass::kContact, 406, "UPDATE_APP_TO_LOGIN");
  EXPECT_EQ(outcome.description.find("UPDATE_APP_TO_LOGIN"), std::string::npos);
}

}  // namespace
}  // namespace tginvite::telegram::tdlib
