#include "telegram/bot_api/internal/answers.h"

#include <utility>

#include "telegram/redact.h"

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

const Json& ObjectField(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return kNull;
  return *it;
}

std::optional<Update> ReadUpdate(const Json& item) {
  std::optional<int64_t> update_id = IntField(item, "update_id");
  if (!update_id) return std::nullopt;
  Update update;
  update.update_id = *update_id;
  if (const Json& changed = ObjectField(item, "chat_member"); changed.is_object()) {
    update.kind = Update::Kind::kChatMember;
    update.chat_id = IntField(ObjectField(changed, "chat"), "id").value_or(0);
    const Json& new_member = ObjectField(changed, "new_chat_member");
    update.user_id = IntField(ObjectField(new_member, "user"), "id")
                         .value_or(IntField(ObjectField(changed, "from"), "id").value_or(0));
    update.old_status = StringField(ObjectField(changed, "old_chat_member"), "status");
    update.new_status = StringField(new_member, "status");
    update.invite_link = StringField(ObjectField(changed, "invite_link"), "invite_link");
    return update;
  }
  if (const Json& changed = ObjectField(item, "my_chat_member"); changed.is_object()) {
    update.kind = Update::Kind::kMyChatMember;
    update.chat_id = IntField(ObjectField(changed, "chat"), "id").value_or(0);
    update.user_id = IntField(ObjectField(changed, "from"), "id").value_or(0);
    update.old_status = StringField(ObjectField(changed, "old_chat_member"), "status");
    update.new_status = StringField(ObjectField(changed, "new_chat_member"), "status");
    return update;
  }
  if (const Json& request = ObjectField(item, "chat_join_request"); request.is_object()) {
    update.kind = Update::Kind::kJoinRequest;
    update.chat_id = IntField(ObjectField(request, "chat"), "id").value_or(0);
    update.user_id = IntField(ObjectField(request, "from"), "id").value_or(0);
    update.invite_link = StringField(ObjectField(request, "invite_link"), "invite_link");
    return update;
  }
  return std::nullopt;
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
