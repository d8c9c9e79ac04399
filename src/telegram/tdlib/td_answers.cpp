#include "telegram/tdlib/td_answers.h"

#include "telegram/tdlib/json_fields.h"

namespace tginvite::telegram::tdlib {
namespace {

// A messageChatAddMembers lists at most this many members (a basic group holds 200).
constexpr size_t kMaxJoinsPerMessage = 200;

int64_t JoinUpdateId(int64_t chat_id, int64_t message_id, int64_t user_id) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a over the three numbers
  for (int64_t part : {chat_id, message_id, user_id}) {
    h ^= static_cast<uint64_t>(part);
    h *= 1099511628211ULL;
  }
  return static_cast<int64_t>(h & 0x3fffffffffffffffULL);
}

}  // namespace

std::vector<Update> JoinsOf(const nlohmann::json& message) {
  const nlohmann::json& content = Field(message, "content");
  const std::string type = TypeOf(content);
  const int64_t chat_id = IntField(message, "chat_id").value_or(0);
  const int64_t message_id = IntField(message, "id").value_or(0);
  std::vector<int64_t> users;
  if (type == "messageChatJoinByLink" || type == "messageChatJoinByRequest") {
    if (std::optional<int64_t> user = IntField(Field(message, "sender_id"), "user_id")) {
      users.push_back(*user);
    }
  } else if (type == "messageChatAddMembers") {
    const nlohmann::json& added = Field(content, "member_user_ids");
    if (added.is_array()) {
      for (const nlohmann::json& id : added) {
        if (users.size() == kMaxJoinsPerMessage) break;
        if (id.is_number_integer()) users.push_back(id.get<int64_t>());
      }
    }
  }
  std::vector<Update> joins;
  if (chat_id == 0) return joins;
  for (int64_t user : users) {
    if (user <= 0) continue;
    Update join;
    join.update_id = JoinUpdateId(chat_id, message_id, user);
    join.kind = Update::Kind::kChatMember;
    join.chat_id = chat_id;
    join.user_id = user;
    join.old_status = "left";
    join.new_status = "member";
    joins.push_back(std::move(join));
  }
  return joins;
}

std::string MemberStatusOf(const nlohmann::json& status) {
  const std::string type = TypeOf(status);
  if (type == "chatMemberStatusCreator") return "creator";
  if (type == "chatMemberStatusAdministrator") return "administrator";
  if (type == "chatMemberStatusMember") return "member";
  if (type == "chatMemberStatusRestricted") {
    return BoolField(status, "is_member") ? "restricted" : "left";
  }
  if (type == "chatMemberStatusBanned") return "kicked";
  return "left";
}

std::string UsernameOf(const nlohmann::json& user) {
  const nlohmann::json& usernames = Field(user, "usernames");
  const nlohmann::json& active = Field(usernames, "active_usernames");
  if (active.is_array() && !active.empty() && active[0].is_string()) {
    return active[0].get<std::string>();
  }
  if (std::string editable = StringField(usernames, "editable_username"); !editable.empty()) {
    return editable;
  }
  return StringField(user, "username");
}

}  // namespace tginvite::telegram::tdlib
