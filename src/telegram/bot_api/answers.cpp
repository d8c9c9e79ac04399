#include "telegram/bot_api/internal/answers.h"

#include <utility>

#include "telegram/redact.h"
#include "telegram/updates.h"

namespace tginvite::telegram::internal {
namespace {

using Json = nlohmann::json;

std::optional<int64_t> IntField(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::string StringField(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}


}  // namespace

Answer ReadAnswer(MethodClass method_class, int http_status, std::string_view body,
                  std::optional<std::chrono::seconds> retry_after_header,
                  const core::Secret& token) {
  Answer answer;
  answer.outcome = ClassifyResponse(method_class, http_status, body, retry_after_header);
  answer.outcome.description = Redact(answer.outcome.description, token);
  if (answer.outcome.ok()) {
    Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) answer.result = std::move(parsed["result"]);
  }
  return answer;
}

BotIdentity ReadBotIdentity(const Json& result) {
  BotIdentity bot;
  bot.id = IntField(result, "id").value_or(0);
  bot.username = StringField(result, "username");
  bot.first_name = StringField(result, "first_name");
  return bot;
}

std::string ReadInviteLink(const Json& result) { return StringField(result, "invite_link"); }

int64_t ReadMessageId(const Json& result) { return IntField(result, "message_id").value_or(0); }

std::string ReadMemberStatus(const Json& result) { return StringField(result, "status"); }

std::optional<std::vector<Update>> ReadUpdates(const Json& result) {
  if (!result.is_array()) return std::nullopt;
  std::vector<Update> updates;
  for (const Json& item : result) {
    if (std::optional<Update> update = ReadUpdate(item)) updates.push_back(std::move(*update));
  }
  return updates;
}

}  // namespace tginvite::telegram::internal
