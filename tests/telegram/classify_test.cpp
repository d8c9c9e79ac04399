// Every row of the Bot API error catalogue (telegram-api.md §1.4) as a pure function of the status,
// the body, the transport result and whether the request had left.
#include "telegram/classify.h"

#include <gtest/gtest.h>

#include "telegram/bot_api/internal/curl_transport.h"

namespace tginvite::telegram {
namespace {

using std::chrono::seconds;

std::string ErrorBody(int code, std::string_view description) {
  return fmt::format(R"({{"ok":false,"error_code":{},"description":"{}"}})", code, description);
}

Outcome Respond(MethodClass method_class, int status, std::string_view description) {
  return ClassifyResponse(method_class, status, ErrorBody(status, description), std::nullopt);
}

void ExpectKind(const Outcome& outcome, OutcomeKind kind,
                PermanentReason reason = PermanentReason::kNone) {
  EXPECT_EQ(ToString(outcome.kind), ToString(kind)) << outcome.description;
  EXPECT_EQ(static_cast<int>(outcome.reason), static_cast<int>(reason)) << outcome.description;
}

TEST(ClassifyTest, OkEnvelopeIsOk) {
  Outcome outcome = ClassifyResponse(MethodClass::kSendToUser, 200,
                                     R"({"ok":true,"result":{"message_id":7}})", std::nullopt);
  ExpectKind(outcome, OutcomeKind::kOk);
  EXPECT_EQ(outcome.http_status, 200);
  EXPECT_TRUE(outcome.ok());
}

// Invariant I4 (docs/invariants.md)
TEST(ClassifyTest, FloodTakesRetryAfterFromParameters) {
  Outcome outcome = ClassifyResponse(
      MethodClass::kSendToUser, 429,
      R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 9","parameters":{"retry_after":9}})",
      seconds(3));
  ExpectKind(outcome, OutcomeKind::kFlood);
  EXPECT_EQ(outcome.retry_after, seconds(9));
  EXPECT_EQ(outcome.error_code, 429);
  EXPECT_EQ(outcome.description, "Too Many Requests: retry after 9");
}

// Invariant I4 (docs/invariants.md)
TEST(ClassifyTest, FloodFallsBackToTheRetryAfterHeader) {
  Outcome outcome =
      ClassifyResponse(MethodClass::kTargetChat, 429,
                       ErrorBody(429, "Too Many Requests: retry after 4"), seconds(4));
  ExpectKind(outcome, OutcomeKind::kFlood);
  EXPECT_EQ(outcome.retry_after, seconds(4));
}

// Found by tests/fuzz/bot_api_fuzz.cpp: the dispatcher adds the wait to now in milliseconds, which
// overflowed for a retry_after near INT64_MAX.
TEST(ClassifyTest, FloodWaitIsCappedAtAWeek) {
  Outcome outcome = ClassifyResponse(
      MethodClass::kSendToUser, 429,
      R"({"ok":false,"error_code":429,"parameters":{"retry_after":9223372036854775807}})",
      std::nullopt);
  ExpectKind(outcome, OutcomeKind::kFlood);
  EXPECT_EQ(outcome.retry_after, kMaxRetryAfter);
  EXPECT_EQ(kMaxRetryAfter, seconds(7 * 24 * 3600));
  EXPECT_EQ(ClassifyResponse(MethodClass::kSendToUser, 429, "slow down", seconds(999999999))
                .retry_after,
            kMaxRetryAfter);
}

// Found by tests/fuzz/bot_api_fuzz.cpp: converting a double beyond int64 is undefined behaviour
// (UBSan stops `make sanitize` on it); such a number is ignored like a missing one.
// Invariant I12 (docs/invariants.md)
TEST(ClassifyTest, NumbersBeyondInt64AreIgnored) {
  Outcome outcome = ClassifyResponse(
      MethodClass::kSendToUser, 429,
      R"({"ok":false,"error_code":4e83,"parameters":{"retry_after":1e30}})", seconds(4));
  ExpectKind(outcome, OutcomeKind::kFlood);
  EXPECT_EQ(outcome.retry_after, seconds(4));
  EXPECT_EQ(outcome.error_code, 0);
}

// An error_code an int cannot hold is not cut down to one: 4294967725 is 2^32 + 429.
TEST(ClassifyTest, ErrorCodeBeyondIntIsIgnored) {
  Outcome outcome = ClassifyResponse(
      MethodClass::kSendToUser, 400,
      R"({"ok":false,"error_code":4294967725,"description":"Bad Request: chat not found"})",
      std::nullopt);
  ExpectKind(outcome, OutcomeKind::kPermanent, PermanentReason::kOther);
  EXPECT_EQ(outcome.error_code, 0);
}

TEST(ClassifyTest, FloodWithNeitherWaitsFiveSeconds) {
  Outcome outcome = ClassifyResponse(MethodClass::kSendToUser, 429, "slow down", std::nullopt);
  ExpectKind(outcome, OutcomeKind::kFlood);
  EXPECT_EQ(outcome.retry_after, seconds(5));
}

// Invariant I6 (docs/invariants.md)
TEST(ClassifyTest, ServerErrorsAreTransient) {
  ExpectKind(Respond(MethodClass::kSendToUser, 500, "Internal Server Error: restart"),
             OutcomeKind::kTransient);
  ExpectKind(Respond(MethodClass::kTargetChat, 503, "Service Unavailable"),
             OutcomeKind::kTransient);
  Outcome html = ClassifyResponse(
      MethodClass::kSendToUser, 502,
      "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", std::nullopt);
  ExpectKind(html, OutcomeKind::kTransient);
  EXPECT_EQ(html.http_status, 502);
  EXPECT_EQ(html.error_code, 0);
  EXPECT_NE(html.description.find("502"), std::string::npos);
}

TEST(ClassifyTest, RecipientRefusalsArePermanentWithTheirReason) {
  ExpectKind(Respond(MethodClass::kSendToUser, 403, "Forbidden: bot was blocked by the user"),
             OutcomeKind::kPermanent, PermanentReason::kBlocked);
  ExpectKind(Respond(MethodClass::kSendToUser, 403, "Forbidden: user is deactivated"),
             OutcomeKind::kPermanent, PermanentReason::kDeactivated);
  ExpectKind(Respond(MethodClass::kSendToUser, 403,
                     "Forbidden: bot can't initiate conversation with a user"),
             OutcomeKind::kPermanent, PermanentReason::kNotStarted);
  ExpectKind(Respond(MethodClass::kSendToUser, 403, "Forbidden: BOT WAS BLOCKED BY THE USER"),
             OutcomeKind::kPermanent, PermanentReason::kBlocked);
}

TEST(ClassifyTest, UnknownRecipientIsPermanentOther) {
  ExpectKind(Respond(MethodClass::kSendToUser, 400, "Bad Request: chat not found"),
             OutcomeKind::kPermanent, PermanentReason::kOther);
  ExpectKind(Respond(MethodClass::kSendToUser, 400, "Bad Request: private chat not found"),
             OutcomeKind::kPermanent, PermanentReason::kOther);
  ExpectKind(Respond(MethodClass::kSendToUser, 400, "Bad Request: user not found"),
             OutcomeKind::kPermanent, PermanentReason::kOther);
  ExpectKind(Respond(MethodClass::kSendToUser, 400, "Bad Request: can't parse entities: x"),
             OutcomeKind::kPermanent, PermanentReason::kOther);
  ExpectKind(Respond(MethodClass::kSendToUser, 403, "Forbidden: bot can't send messages to bots"),
             OutcomeKind::kPermanent, PermanentReason::kOther);
}

TEST(ClassifyTest, TargetChatRefusalsAreFatalForTheCampaign) {
  ExpectKind(Respond(MethodClass::kTargetChat, 400, "Bad Request: chat not found"),
             OutcomeKind::kCampaignFatal);
  ExpectKind(Respond(MethodClass::kTargetChat, 400,
                     "Bad Request: not enough rights to manage chat invite link"),
             OutcomeKind::kCampaignFatal);
  ExpectKind(
      Respond(MethodClass::kTargetChat, 403, "Forbidden: bot was kicked from the supergroup chat"),
      OutcomeKind::kCampaignFatal);
  ExpectKind(Respond(MethodClass::kTargetChat, 403,
                     "Forbidden: bot is not a member of the supergroup chat"),
             OutcomeKind::kCampaignFatal);
  ExpectKind(Respond(MethodClass::kTargetChat, 400,
                     "Bad Request: member limit can't be specified for links requiring "
                     "administrator approval"),
             OutcomeKind::kCampaignFatal);
}

TEST(ClassifyTest, MigrationKeepsTheNewChatIdInTheDescription) {
  Outcome outcome = ClassifyResponse(
      MethodClass::kTargetChat, 400,
      R"({"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890123}})",
      std::nullopt);
  ExpectKind(outcome, OutcomeKind::kCampaignFatal);
  EXPECT_NE(outcome.description.find("-1001234567890123"), std::string::npos);
}

TEST(ClassifyTest, ChatMemberMethodsSplitChatFromUser) {
  ExpectKind(Respond(MethodClass::kChatMember, 400, "Bad Request: chat not found"),
             OutcomeKind::kCampaignFatal);
  ExpectKind(Respond(MethodClass::kChatMember, 400, "Bad Request: not enough rights"),
             OutcomeKind::kCampaignFatal);
  ExpectKind(
      Respond(MethodClass::kChatMember, 403, "Forbidden: bot was kicked from the group chat"),
      OutcomeKind::kCampaignFatal);
  ExpectKind(Respond(MethodClass::kChatMember, 400, "Bad Request: user not found"),
             OutcomeKind::kPermanent, PermanentReason::kOther);
  ExpectKind(Respond(MethodClass::kChatMember, 400, "Bad Request: HIDE_REQUESTER_MISSING"),
             OutcomeKind::kPermanent, PermanentReason::kOther);
}

TEST(ClassifyTest, UnauthorizedAndNotFoundAreFatalForTheAccount) {
  for (MethodClass method_class : {MethodClass::kSendToUser, MethodClass::kTargetChat,
                                   MethodClass::kChatMember, MethodClass::kAccount}) {
    ExpectKind(Respond(method_class, 401, "Unauthorized"), OutcomeKind::kAccountFatal);
    ExpectKind(Respond(method_class, 404, "Not Found: method not found"),
               OutcomeKind::kAccountFatal);
    ExpectKind(ClassifyResponse(method_class, 404, "<html>Not Found</html>", std::nullopt),
               OutcomeKind::kAccountFatal);
  }
}

TEST(ClassifyTest, GetUpdatesConflictIsTransientUnlessAWebhookIsSet) {
  ExpectKind(Respond(MethodClass::kAccount, 409,
                     "Conflict: terminated by other getUpdates request; make sure that only one "
                     "bot instance is running"),
             OutcomeKind::kTransient);
  ExpectKind(Respond(MethodClass::kAccount, 409,
                     "Conflict: can't use getUpdates method while webhook is active; use "
                     "deleteWebhook to delete the webhook first"),
             OutcomeKind::kAccountFatal);
}

// Invariant I10 (docs/invariants.md)
TEST(ClassifyTest, UnparseableOkIsAmbiguous) {
  for (std::string_view body : {std::string_view("{\"ok\":true,\"result\":{\"message_id\":"),
                                std::string_view(""), std::string_view("<html>hello</html>"),
                                std::string_view("{\"ok\":true}"), std::string_view("[1,2]")}) {
    Outcome outcome = ClassifyResponse(MethodClass::kSendToUser, 200, body, std::nullopt);
    ExpectKind(outcome, OutcomeKind::kAmbiguous);
    EXPECT_EQ(outcome.http_status, 200);
  }
}

TEST(ClassifyTest, ErrorCodeOutranksAnUnusualHttpStatus) {
  Outcome outcome =
      ClassifyResponse(MethodClass::kSendToUser, 200,
                       ErrorBody(403, "Forbidden: user is deactivated"), std::nullopt);
  ExpectKind(outcome, OutcomeKind::kPermanent, PermanentReason::kDeactivated);
}

// Invariant I6 (docs/invariants.md)
TEST(ClassifyTest, RedirectFromAProxyIsTransient) {
  ExpectKind(ClassifyResponse(MethodClass::kSendToUser, 302, "", std::nullopt),
             OutcomeKind::kTransient);
}

TEST(ClassifyTest, TransportFailureBeforeSendingIsTransient) {
  for (Transport transport : {Transport::kNotConnected, Transport::kTimedOut,
                              Transport::kConnectionBroken, Transport::kOtherError}) {
    Outcome outcome = ClassifyTransportFailure(transport, RequestSent::kNo, "curl 7: refused");
    ExpectKind(outcome, OutcomeKind::kTransient);
    EXPECT_EQ(outcome.http_status, 0);
    EXPECT_NE(outcome.description.find("curl 7: refused"), std::string::npos);
  }
}

// Invariant I10 (docs/invariants.md)
TEST(ClassifyTest, TransportFailureAfterSendingIsAmbiguous) {
  for (Transport transport : {Transport::kNotConnected, Transport::kTimedOut,
                              Transport::kConnectionBroken, Transport::kOtherError}) {
    ExpectKind(ClassifyTransportFailure(transport, RequestSent::kYes, "x"),
               OutcomeKind::kAmbiguous);
  }
}

TEST(ClassifyTest, AnUnusableUrlIsFatalForTheAccount) {
  ExpectKind(ClassifyTransportFailure(Transport::kMisconfigured, RequestSent::kNo, "bad url"),
             OutcomeKind::kAccountFatal);
}

TEST(ClassifyTest, CurlCodesMapToTransports) {
  using internal::TransportFromCurl;
  EXPECT_EQ(TransportFromCurl(CURLE_OK), Transport::kResponse);
  EXPECT_EQ(TransportFromCurl(CURLE_COULDNT_CONNECT), Transport::kNotConnected);
  EXPECT_EQ(TransportFromCurl(CURLE_COULDNT_RESOLVE_HOST), Transport::kNotConnected);
  EXPECT_EQ(TransportFromCurl(CURLE_COULDNT_RESOLVE_PROXY), Transport::kNotConnected);
  EXPECT_EQ(TransportFromCurl(CURLE_PROXY), Transport::kNotConnected);
  EXPECT_EQ(TransportFromCurl(CURLE_OPERATION_TIMEDOUT), Transport::kTimedOut);
  EXPECT_EQ(TransportFromCurl(CURLE_GOT_NOTHING), Transport::kConnectionBroken);
  EXPECT_EQ(TransportFromCurl(CURLE_RECV_ERROR), Transport::kConnectionBroken);
  EXPECT_EQ(TransportFromCurl(CURLE_SEND_ERROR), Transport::kConnectionBroken);
  EXPECT_EQ(TransportFromCurl(CURLE_PARTIAL_FILE), Transport::kConnectionBroken);
  EXPECT_EQ(TransportFromCurl(CURLE_SEND_FAIL_REWIND), Transport::kConnectionBroken);
  EXPECT_EQ(TransportFromCurl(CURLE_URL_MALFORMAT), Transport::kMisconfigured);
  EXPECT_EQ(TransportFromCurl(CURLE_UNSUPPORTED_PROTOCOL), Transport::kMisconfigured);
  EXPECT_EQ(TransportFromCurl(CURLE_WRITE_ERROR), Transport::kOtherError);
}

TEST(ClassifyTest, RetryAfterHeaderParsesSecondsOnly) {
  EXPECT_EQ(ParseRetryAfterHeader(" 7\r\n"), seconds(7));
  EXPECT_EQ(ParseRetryAfterHeader("0"), seconds(0));
  EXPECT_EQ(ParseRetryAfterHeader("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfterHeader(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfterHeader("-3"), std::nullopt);
}

}  // namespace
}  // namespace tginvite::telegram
