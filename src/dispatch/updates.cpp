#include "dispatch/updates.h"

#include <nlohmann/json.hpp>

#include "telegram/updates.h"

namespace tginvite::dispatch {

storage::InboxUpdate ToInbox(const telegram::Update& update) {
  using From = telegram::Update::Kind;
  using To = storage::InboxUpdate::Kind;
  storage::InboxUpdate row;
  row.update_id = update.update_id;
  switch (update.kind) {
    case From::kChatMember:
      row.kind = To::kChatMember;
      break;
    case From::kJoinRequest:
      row.kind = To::kJoinRequest;
      break;
    case From::kMyChatMember:
      row.kind = To::kMyChatMember;
      break;
    case From::kStart:
      row.kind = To::kStart;
      break;
    case From::kOther:
      row.kind = To::kOther;
      break;
  }
  row.chat_id = update.chat_id;
  row.user_id = update.user_id;
  row.username = update.username;
  row.old_status = update.old_status;
  row.new_status = update.new_status;
  row.invite_link = update.invite_link;
  row.start_payload = update.start_payload;
  return row;
}

Result<ParsedUpdates> ParseUpdateBatch(std::string_view body) {
  try {
    nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return Fail(ErrorCode::kInvalidArgument, "the body is not JSON");
    }
    const nlohmann::json* items = &parsed;
    nlohmann::json single;
    if (parsed.is_object() && parsed.contains("updates")) {
      items = &parsed["updates"];
    } else if (parsed.is_object()) {
      single = nlohmann::json::array({std::move(parsed)});
      items = &single;
    }
    if (!items->is_array()) {
      return Fail(ErrorCode::kInvalidArgument, "{}",
                  "expected an Update object, an array of them, or {\"updates\": [...]}");
    }
    if (items->size() > kMaxUpdatesPerBatch) {
      return Fail(ErrorCode::kInvalidArgument, "at most {} updates per request",
                  kMaxUpdatesPerBatch);
    }
    ParsedUpdates out;
    for (const nlohmann::json& item : *items) {
      if (std::optional<telegram::Update> update = telegram::ReadUpdate(item)) {
        out.updates.push_back(ToInbox(*update));
      } else {
        ++out.skipped;
      }
    }
    return out;
  } catch (const std::exception&) {  // only std::bad_alloc is possible
    return Fail(ErrorCode::kInvalidArgument, "the body cannot be read");
  }
}

}  // namespace tginvite::dispatch
