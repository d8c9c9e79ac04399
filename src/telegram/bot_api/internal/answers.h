// Reading the Bot API's answers: one HTTP response becomes a classified Outcome and, when that is
// kOk, the method's `result`, from which the readers below take what tginvite uses. Pure
// functions over untrusted bytes: no I/O, never throw, any body is acceptable input. For bot_api/
// and its tests (and tests/fuzz) only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/secret.h"
#include "telegram/classify.h"
#include "telegram/messenger.h"

namespace tginvite::telegram::internal {

struct Answer {
  Outcome outcome;        // its description has `token` redacted
  nlohmann::json result;  // Telegram's `result` when outcome.ok(), else null
};

// Classifies a complete HTTP response (ClassifyResponse) and keeps its `result`.
Answer ReadAnswer(MethodClass method_class, int http_status, std::string_view body,
                  std::optional<std::chrono::seconds> retry_after_header,
                  const core::Secret& token);

// getMe: the fields that are present and of the right type; the rest stay empty or 0.
BotIdentity ReadBotIdentity(const nlohmann::json& result);
// createChatInviteLink: "" when the result has no invite_link string.
std::string ReadInviteLink(const nlohmann::json& result);
// sendMessage: 0 when the result has no integer message_id.
int64_t ReadMessageId(const nlohmann::json& result);
// getChatMember: "" when the result has no status string.
std::string ReadMemberStatus(const nlohmann::json& result);
// getUpdates: the updates tginvite acts on, in order; items of other kinds or without an integer
// update_id are skipped. nullopt when the result is not an array.
std::optional<std::vector<Update>> ReadUpdates(const nlohmann::json& result);

}  // namespace tginvite::telegram::internal
