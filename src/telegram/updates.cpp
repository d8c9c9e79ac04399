#include "telegram/updates.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace tginvite::telegram {
namespace {

using Json = nlohmann::json;

std::optional<int64_t> IntField(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// A string field of at most `max` bytes: a longer one is dropped, not cut, so that what is kept
// is what Telegram said (and a hostile update cannot grow the inbox).
std::string StringField(const Json& object, const char* key, size_t max = 256) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  const auto& text = it->get_ref<const std::string&>();
  return text.size() <= max ? text : std::string();
}

bool BoolField(const Json& object, const char* key) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

const Json& ObjectField(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return kNull;
  return *it;
}

// A Telegram username, lower-case: 1–32 of a-z, 0-9 and _; "" for anything else.
std::string UsernameOf(std::string_view name) {
  if (name.empty() || name.size() > 32) return "";
  std::string lower;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_') return "";
    lower.push_back(static_cast<char>(std::tolower(u)));
  }
  return lower;
}

bool IsPayloadChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

// A private message "/start [payload]" from a person.
std::optional<Update> ReadStart(const Json& message, Update update) {
  const Json& chat = ObjectField(message, "chat");
  const Json& from = ObjectField(message, "from");
  if (StringField(chat, "type") != "private" || BoolField(from, "is_bot")) return std::nullopt;
  std::optional<int64_t> user_id = IntField(from, "id");
  if (!user_id || *user_id <= 0) return std::nullopt;
  std::optional<std::string> payload = StartPayloadOf(StringField(message, "text", 4096));
  if (!payload) return std::nullopt;
  update.kind = Update::Kind::kStart;
  update.chat_id = IntField(chat, "id").value_or(*user_id);
  update.user_id = *user_id;
  update.username = UsernameOf(StringField(from, "username"));
  update.start_payload = std::move(*payload);
  return update;
}

}  // namespace

std::optional<std::string> StartPayloadOf(std::string_view text) {
  constexpr std::string_view kCommand = "/start";
  if (!text.starts_with(kCommand)) return std::nullopt;
  std::string_view rest = text.substr(kCommand.size());
  if (rest.starts_with('@')) {  // "/start@SomeBot …", as clients write it in groups
    const size_t end = rest.find_first_of(" \t\n");
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t' && rest.front() != '\n') {
    return std::nullopt;  // "/started", "/startle": another command
  }
  const size_t first = rest.find_first_not_of(" \t\n");
  if (first == std::string_view::npos) return std::string();
  rest = rest.substr(first);
  rest = rest.substr(0, rest.find_last_not_of(" \t\n") + 1);
  if (rest.size() > kMaxStartPayload || !std::all_of(rest.begin(), rest.end(), IsPayloadChar)) {
    return std::string(kInvalidStartPayload);
  }
  return std::string(rest);
}

std::optional<Update> ReadUpdate(const Json& item) {
  std::optional<int64_t> update_id = IntField(item, "update_id");
  if (!update_id) return std::nullopt;
  Update update;
  update.update_id = *update_id;
  update.kind = Update::Kind::kOther;
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
  if (const Json& message = ObjectField(item, "message"); message.is_object()) {
    if (std::optional<Update> start = ReadStart(message, update)) return start;
  }
  return update;
}

}  // namespace tginvite::telegram
