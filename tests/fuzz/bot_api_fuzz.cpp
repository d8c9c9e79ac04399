// Fuzzes what the Bot API messenger does with an answer: the classification of a fuzzed HTTP
// status, Retry-After header and body (internal::ReadAnswer, which the messenger calls for every
// response), then every method's reader on the result, and the classification of transport
// failures with a fuzzed client message.
//
// Input: a byte choosing the method class, two bytes of HTTP status, the Retry-After header value
// ('\0'-terminated), then the body. Checked besides "no crash":
// - ok only for a 200; a flood wait within 0..kMaxRetryAfter, so the dispatcher's "now + wait" in
//   milliseconds cannot overflow (it is computed here as the dispatcher does, under UBSan);
// - descriptions are valid UTF-8 and never contain the bot token, even when the body quotes it.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/utf8.h"
#include "fuzz/fuzz_input.h"
#include "telegram/bot_api/internal/answers.h"
#include "telegram/classify.h"
#include "telegram/redact.h"

namespace tginvite::fuzz {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
constexpr std::string_view kTokenSecret = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

constexpr telegram::MethodClass kMethodClasses[] = {
    telegram::MethodClass::kSendToUser, telegram::MethodClass::kTargetChat,
    telegram::MethodClass::kChatMember, telegram::MethodClass::kAccount};

constexpr telegram::Transport kTransports[] = {
    telegram::Transport::kResponse,         telegram::Transport::kNotConnected,
    telegram::Transport::kTimedOut,         telegram::Transport::kConnectionBroken,
    telegram::Transport::kMisconfigured,    telegram::Transport::kOtherError};

void CheckDescription(const std::string& description) {
  FUZZ_CHECK(core::IsValidUtf8(description));
  FUZZ_CHECK(description.find(kTokenSecret) == std::string::npos);
}

void Run(const uint8_t* data, size_t size) {
  static const core::Secret token{std::string(kToken)};
  FuzzInput input(data, size);
  const telegram::MethodClass method_class =
      kMethodClasses[input.TakeIndex(std::size(kMethodClasses))];
  const int http_status = input.TakeUint16() % 1000;  // libcurl's status: 0, or three digits
  const std::string_view header = input.TakeString(64);
  const std::string_view body = input.TakeRest();

  const std::optional<std::chrono::seconds> retry_after_header =
      telegram::ParseRetryAfterHeader(header);
  if (retry_after_header) FUZZ_CHECK(retry_after_header->count() >= 0);

  const telegram::internal::Answer answer =
      telegram::internal::ReadAnswer(method_class, http_status, body, retry_after_header, token);
  const telegram::Outcome& outcome = answer.outcome;
  FUZZ_CHECK(outcome.http_status == http_status);
  if (outcome.ok()) FUZZ_CHECK(http_status == 200);
  if (!outcome.ok()) FUZZ_CHECK(answer.result.is_null());
  if (outcome.kind == telegram::OutcomeKind::kFlood) {
    FUZZ_CHECK(outcome.retry_after.count() >= 0);
    FUZZ_CHECK(outcome.retry_after <= telegram::kMaxRetryAfter);
    // As dispatch/dispatcher.cpp sets flood_until and next_attempt_at.
    const int64_t now = std::chrono::duration_cast<milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const int64_t until = now + std::chrono::duration_cast<milliseconds>(outcome.retry_after).count();
    FUZZ_CHECK(until >= now);
  }
  CheckDescription(outcome.description);

  // What each method takes from a result.
  (void)telegram::internal::ReadBotIdentity(answer.result);
  (void)telegram::internal::ReadInviteLink(answer.result);
  (void)telegram::internal::ReadMessageId(answer.result);
  (void)telegram::internal::ReadMemberStatus(answer.result);
  const std::optional<std::vector<telegram::Update>> updates =
      telegram::internal::ReadUpdates(answer.result);
  FUZZ_CHECK(updates.has_value() == answer.result.is_array());
  if (updates) FUZZ_CHECK(updates->size() <= answer.result.size());

  // A transport failure quotes the HTTP client's message, which the messenger redacts first.
  const std::string message = telegram::Redact(body, token);
  for (const telegram::Transport transport : kTransports) {
    for (const telegram::RequestSent sent : {telegram::RequestSent::kNo, telegram::RequestSent::kYes}) {
      const telegram::Outcome failure = telegram::ClassifyTransportFailure(transport, sent, message);
      FUZZ_CHECK(!failure.ok());
      if (sent == telegram::RequestSent::kNo) {
        FUZZ_CHECK(failure.kind != telegram::OutcomeKind::kAmbiguous);
      }
      FUZZ_CHECK(failure.description.find(kTokenSecret) == std::string::npos);
    }
  }
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tginvite::fuzz::Run(data, size);
  return 0;
}
