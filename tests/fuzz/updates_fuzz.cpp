// Fuzzes what tginvite reads from updates that outsiders can send it: a webhook body or a batch an
// operator's bot forwards (dispatch::ParseUpdateBatch, which reads each item with
// telegram::ReadUpdate), and the text of a /start message (telegram::StartPayloadOf).
//
// Input: the body. Checked besides "no crash": a batch is bounded; whatever is kept is what the
// store may take as it is — a start payload is "", kInvalidStartPayload or 1-64 characters of
// A-Za-z0-9_-; a username is "" or 1-32 of a-z0-9_; no other string is longer than 256 bytes.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string_view>

#include "dispatch/updates.h"
#include "fuzz/fuzz_input.h"
#include "telegram/updates.h"

namespace tginvite::fuzz {
namespace {

bool IsPayload(std::string_view payload) {
  if (payload.empty() || payload == telegram::kInvalidStartPayload) return true;
  return payload.size() <= telegram::kMaxStartPayload &&
         std::all_of(payload.begin(), payload.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
         });
}

bool IsUsername(std::string_view name) {
  return name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

void Run(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  if (std::optional<std::string> payload = telegram::StartPayloadOf(body)) {
    FUZZ_CHECK(IsPayload(*payload));
  }

  Result<dispatch::ParsedUpdates> parsed = dispatch::ParseUpdateBatch(body);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(parsed->updates.size() + static_cast<size_t>(parsed->skipped) <=
             dispatch::kMaxUpdatesPerBatch);
  for (const storage::InboxUpdate& update : parsed->updates) {
    FUZZ_CHECK(IsPayload(update.start_payload));
    FUZZ_CHECK(IsUsername(update.username));
    FUZZ_CHECK(update.old_status.size() <= 256 && update.new_status.size() <= 256);
    FUZZ_CHECK(update.invite_link.size() <= 256);
    if (update.kind == storage::InboxUpdate::Kind::kStart) FUZZ_CHECK(update.user_id > 0);
    if (update.kind != storage::InboxUpdate::Kind::kStart) FUZZ_CHECK(update.start_payload.empty());
  }
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tginvite::fuzz::Run(data, size);
  return 0;
}
