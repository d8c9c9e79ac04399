// fake_tdjson: an offline, in-process imitation of TDLib 1.8.67's JSON interface
// (td/telegram/td_json_client.h), built as libfake_tdjson.so so that tests load it exactly as
// tginvite loads the real libtdjson.so (telegram/tdlib/td_json.h, $TGINVITE_TDJSON). It exports
// td_create_client_id, td_send, td_receive, td_execute and a no-op td_set_log_message_callback.
//
// What it imitates (TDLib's td_json_client.h and td_api.tl): one asynchronous queue per process
// shared by all clients; every object returned by td_receive carries "@client_id"; answers echo
// the request's "@extra" verbatim; int64 values are strings; errors are
// {"@type":"error","code":N,"message":".."}; td_receive blocks (on a condition variable) and
// returns NULL after `timeout` seconds without anything; its pointer stays valid until the thread's
// next td_receive (td_execute has a buffer of its own). A client sends nothing until its first
// request, then updateOption "version" and updateAuthorizationState
// authorizationStateWaitTdlibParameters. td_send may be called from any thread; every input,
// however malformed, gets an answer and never crashes the process.
//
// Environment
//   TGINVITE_FAKE_TDJSON_SCENARIO  path of the scenario (JSON, below); unset: the default scenario.
//   TGINVITE_FAKE_TDJSON_JOURNAL   path of the journal; unset: no journal.
// Both are read at every td_create_client_id. The scenario is (re)loaded when its path or its
// bytes differ from the loaded one, and loading resets the fake Telegram: members, invite links,
// contacts, the per-method call counts of `faults`. So a test process (a dlopened library stays
// loaded) writes a new scenario and creates a new client; clients created under an unchanged
// scenario share one fake Telegram. A scenario that cannot be read or parsed makes every td_send
// answer 500 "fake_tdjson: scenario PATH: WHY".
//
// Scenario (every field optional; unknown fields are refused so typos show):
//   {
//     "me":    {"id": 1000, "username": "inviter", "first_name": "Ina", "last_name": "",
//               "phone": "+15550000000"},
//     "auth":  {"code": "12345", "password": "", "password_hint": ""},  // "" password: none
//     "users": [{"id": 2001, "username": "alice", "phone": "+15550000001", "first_name": "Alice",
//                "last_name": "", <flags, each false unless given>}],
//     "chats": [{"id": -1001234567890, "title": "Group", "username": "", "can_invite": true}],
//     "faults": [{"method": "addChatMembers", "nth": 2, "error": {"code": 400,
//                 "message": "PEER_FLOOD"}}],
//     "import_retry_all": false,
//     "latency_ms": 0,       // delay before every answer (and the updates that follow it)
//     "send_delay_ms": 5     // from a sendMessage answer to its updateMessageSendSucceeded/Failed
//   }
// User flags:
//   privacy_restricted  addChatMember(s) lists the user in failed_to_add_members;
//   not_mutual          addChatMember(s) fails with 403 USER_NOT_MUTUAL_CONTACT (MTProto's error
//                       for the whole call, as inviteToChannel answers it);
//   channels_too_much   400 USER_CHANNELS_TOO_MUCH;   kicked  400 USER_KICKED;
//   deleted             type userTypeDeleted, not found by phone; addChatMember(s) fails with 400
//                       INPUT_USER_DEACTIVATED, and a message ends in updateMessageSendFailed
//                       with 400 INPUT_USER_DEACTIVATED (the server refuses it, as for blocked);
//   member              true: already in every chat of `chats`, or a list of chat ids;
//                       getChatMember says chatMemberStatusMember, adding again fails with 400
//                       USER_ALREADY_PARTICIPANT;
//   blocks_messages     a message ends in updateMessageSendFailed with 400 USER_IS_BLOCKED;
//   joins_on_link       once a message holding one of the fake's (unrevoked) invite links is
//                       delivered to the user, the user joins that link's chat: an updateNewMessage
//                       in the chat with content messageChatJoinByLink, sent by the user.
// In addChatMembers the users are checked in order and the first one that fails with an error
// fails the whole call (nobody is added), as one MTProto call would.
// Faults: {"method": NAME or "*" (any method), "nth": N (the Nth call of that method sent to any
// client since the scenario was loaded, 1-based) or "every": true, and one effect:
//   "error": {"code", "message"}  the call answers this error and does nothing. For sendMessage
//            the error is the server's: the pending message is answered and then
//            updateMessageSendFailed carries the error (TDLib reports server errors of a send
//            that way); with "immediate": true the request itself answers the error instead.
//   "lose_answer": true   the call is performed (a message is delivered and journaled, a member
//            added) but its answer is never sent; for sendMessage neither the pending message
//            nor updateMessageSendSucceeded ever comes.
//   "revoke_session": true  the server forgot the session (AUTH_KEY_UNREGISTERED): the call
//            answers 401 "AUTH_KEY_UNREGISTERED", then every client past setTdlibParameters gets
//            updateAuthorizationState LoggingOut, Closing, Closed (what TDLib does when the
//            server drops the authorization), their session files are deleted, and a new client
//            on the same database_directory starts again at authorizationStateWaitPhoneNumber.}
// The first fault that matches a call applies. "import_retry_all": importContacts answers 429
// "Too Many Requests: retry after 3600" (TDLib's answer when every contact is in retry_contacts).
//
// Journal: every effect on the fake Telegram is appended as one JSON line (open(O_APPEND),
// write(2), close) before the call is answered, so a test can count across a SIGKILL:
//   {"effect":"login","phone":"+1555..."}                          an authorization completed
//   {"effect":"import","phone":"+1555..."}                         one per contact imported
//   {"effect":"message","user_id":2001,"chat_id":2001,"text":".."}  a message delivered (groups:
//                                                                   chat_id only)
//   {"effect":"add","chat_id":-100..,"user_id":2001}               a member added
//   {"effect":"join","chat_id":-100..,"user_id":2001,"invite_link":".."}  joined by a link
//   {"effect":"link","chat_id":-100..,"name":"..","invite_link":"https://t.me/+.."}
//   {"effect":"revoke","chat_id":-100..,"invite_link":".."}
//
// Authorization: setTdlibParameters takes the flat fields of TDLib >= 1.8.6 (api_id, api_hash,
// system_language_code, device_model, application_version are required, as in TDLib). When
// database_directory holds fake_session.json, written (mode 0600) by an earlier login, the client
// goes straight to authorizationStateReady if database_encryption_key is the same, and the call
// fails with 401 "Wrong database encryption key" if not. An empty database_directory keeps the
// session in memory only. Then WaitPhoneNumber → setAuthenticationPhoneNumber (any well-formed
// number; malformed: 400 PHONE_NUMBER_INVALID) → WaitCode → checkAuthenticationCode (wrong: 400
// PHONE_CODE_INVALID) → WaitPassword if auth.password is set (wrong: 400 PASSWORD_HASH_INVALID)
// → Ready. Each call answers "ok" and the new state follows as an update. Before
// setTdlibParameters other requests fail with 400 "Initialization parameters are needed: call
// setTdlibParameters first"; before Ready, requests that need the account fail with 401
// "Unauthorized". close and logOut answer ok, then Closing (logOut: LoggingOut first) and Closed;
// a closed client answers every later request with 500 "Request aborted" and an id never created
// gets 400 "Invalid TDLib instance specified" (TDLib's ClientManager does both).
//
// Chats: the scenario's chats are known to every client (the account is in them); a private chat
// is known to a client after createPrivateChat or searchPublicChat (sendMessage to any other chat:
// 400 "Chat not found"). Every scenario user may be named by id (getUser, createPrivateChat,
// addChatMembers), as if TDLib's chat info database already knew them. A request naming a method
// the fake does not implement fails as TDLib fails an unknown class: 400 "Failed to parse JSON
// object as TDLib request: Unknown class "NAME"".
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#define FAKE_TDJSON_EXPORT extern "C" __attribute__((visibility("default")))

namespace tginvite::testing::fake_tdjson {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kVersion = "1.8.67";
constexpr const char* kCommitHash = "fake0000000000000000000000000000000000000";
constexpr const char* kSessionFile = "fake_session.json";
constexpr int64_t kSupergroupIdBase =
    -1000000000000;                          // chat id of supergroup N: -1000000000000 - N
constexpr int64_t kMessageIdStep = 1 << 20;  // TDLib's message id of server message N: N << 20

// An error a request is answered with: thrown by the handlers, caught where requests are
// dispatched.
struct TdError {
  int code;
  std::string message;
};

Json ErrorObject(int code, std::string message) {
  return {{"@type", "error"}, {"code", code}, {"message", std::move(message)}};
}

Json Ok() { return {{"@type", "ok"}}; }

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

[[noreturn]] void ParseFail(const std::string& why) {
  throw TdError{400, "Failed to parse JSON object as TDLib request: " + why};
}

// Request fields, read as TDLib's tl_json.h reads them: absent and null give 0, false, "" or an
// empty object; numbers may come as strings; anything else of the wrong type is a 400.
int64_t Int(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      ParseFail(std::string("Field \"") + field + "\": number is too big");
    }
    return static_cast<int64_t>(it->get<uint64_t>());
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return value;
  }
  ParseFail(std::string("Expected Number in field \"") + field + "\"");
}

int32_t Int32(const Json& object, const char* field) {
  const int64_t value = Int(object, field);
  if (value < INT32_MIN || value > INT32_MAX) {
    ParseFail(std::string("Field \"") + field + "\": expected int32");
  }
  return static_cast<int32_t>(value);
}

bool Bool(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  ParseFail(std::string("Expected Boolean in field \"") + field + "\"");
}

std::string String(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  ParseFail(std::string("Expected String in field \"") + field + "\"");
}

// The object in `field` ({} when absent); if `type` is given, its "@type" must be that when set.
Json Object(const Json& object, const char* field, std::string_view type = "") {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return Json::object();
  if (!it->is_object()) ParseFail(std::string("Expected Object in field \"") + field + "\"");
  if (!type.empty()) {
    auto t = it->find("@type");
    if (t != it->end() && !(t->is_string() && t->get_ref<const std::string&>() == type)) {
      ParseFail(std::string("Field \"") + field + "\": expected " + std::string(type));
    }
  }
  return *it;
}

Json Array(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return Json::array();
  if (!it->is_array()) ParseFail(std::string("Expected Array in field \"") + field + "\"");
  return *it;
}

std::vector<int64_t> IntArray(const Json& object, const char* field) {
  std::vector<int64_t> values;
  for (const Json& element : Array(object, field)) {
    values.push_back(Int(Json{{"value", element}}, "value"));
  }
  return values;
}

// The digits of a phone number ("+1 (555) 000-0001" → "15550000001"); "" if it holds anything
// but digits, spaces, "+", "-", "(" and ")".
std::string PhoneDigits(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')') {
      return "";
    }
  }
  return digits;
}

bool ValidPhone(std::string_view phone) {
  const std::string digits = PhoneDigits(phone);
  return digits.size() >= 7 && digits.size() <= 15;
}

bool SamePhone(std::string_view a, std::string_view b) {
  const std::string digits = PhoneDigits(a);
  return !digits.empty() && digits == PhoneDigits(b);
}

std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// Telegram's username rule: 4-32 of [A-Za-z0-9_], starting with a letter.
bool ValidUsername(std::string_view name) {
  if (name.size() < 4 || name.size() > 32) return false;
  if (!std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool ValidBase64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return false;
      ++padding;
    } else if (padding > 0 || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' ||
                                c == '/' || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

// ---- parseTextEntities with textParseModeHTML: a subset of TDLib's HTML (b, strong, i, em, u,
// ins, s, strike, del, code, pre, a href; &lt; &gt; &amp; &quot; and numeric references).

struct OpenTag {
  std::string name;
  int64_t offset;  // UTF-16 units
  std::string url;
};

void AppendUtf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

int64_t Utf16Length(std::string_view text) {
  int64_t units = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

// Decodes the HTML character reference at text[i] == '&' into `out`; returns the bytes consumed
// (1 when it is not a reference: the '&' is kept as it is, as TDLib does).
size_t DecodeReference(std::string_view text, size_t i, std::string& out) {
  static const std::pair<std::string_view, char> kNamed[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
  for (const auto& [name, c] : kNamed) {
    if (text.substr(i, name.size()) == name) {
      out += c;
      return name.size();
    }
  }
  if (text.substr(i, 2) == "&#") {
    size_t j = i + 2;
    const bool hex = j < text.size() && (text[j] == 'x' || text[j] == 'X');
    if (hex) ++j;
    uint32_t code_point = 0;
    const size_t start = j;
    while (j < text.size() && j - start < 7 && std::isxdigit(static_cast<unsigned char>(text[j]))) {
      const char c = text[j];
      if (!hex && !std::isdigit(static_cast<unsigned char>(c))) break;
      const uint32_t digit = std::isdigit(static_cast<unsigned char>(c))
                                 ? static_cast<uint32_t>(c - '0')
                                 : static_cast<uint32_t>(std::tolower(c) - 'a' + 10);
      code_point = code_point * (hex ? 16 : 10) + digit;
      ++j;
    }
    if (j > start && j < text.size() && text[j] == ';' && code_point > 0 &&
        code_point <= 0x10FFFF && (code_point < 0xD800 || code_point > 0xDFFF)) {
      AppendUtf8(out, code_point);
      return j + 1 - i;
    }
  }
  out += '&';
  return 1;
}

Json EntityType(const OpenTag& tag) {
  const std::string& n = tag.name;
  if (n == "b" || n == "strong") return {{"@type", "textEntityTypeBold"}};
  if (n == "i" || n == "em") return {{"@type", "textEntityTypeItalic"}};
  if (n == "u" || n == "ins") return {{"@type", "textEntityTypeUnderline"}};
  if (n == "s" || n == "strike" || n == "del") return {{"@type", "textEntityTypeStrikethrough"}};
  if (n == "code") return {{"@type", "textEntityTypeCode"}};
  if (n == "pre") return {{"@type", "textEntityTypePre"}};
  return {{"@type", "textEntityTypeTextUrl"}, {"url", tag.url}};  // "a"
}

// formattedText for `html`; throws TdError 400 "Can't parse entities: ..." on bad markup.
Json ParseHtml(std::string_view html) {
  static const std::set<std::string, std::less<>> kTags = {
      "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre"};
  auto fail = [](const std::string& why) { throw TdError{400, "Can't parse entities: " + why}; };
  std::string text;
  std::vector<OpenTag> open;
  std::vector<std::pair<OpenTag, int64_t>> closed;  // tag, end offset
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '&') {
      i += DecodeReference(html, i, text);
      continue;
    }
    if (c != '<') {
      text += c;
      ++i;
      continue;
    }
    const size_t tag_start = i;
    const bool end_tag = i + 1 < html.size() && html[i + 1] == '/';
    size_t j = i + (end_tag ? 2 : 1);
    const size_t name_start = j;
    while (j < html.size() && std::isalnum(static_cast<unsigned char>(html[j]))) ++j;
    const std::string name = Lower(std::string(html.substr(name_start, j - name_start)));
    const std::string at = " at byte offset " + std::to_string(tag_start);
    if (end_tag) {
      while (j < html.size() && html[j] == ' ') ++j;
      if (j >= html.size() || html[j] != '>') fail("Unclosed end tag" + at);
      if (open.empty()) fail("Unexpected end tag" + at);
      if (open.back().name != name) {
        fail("Unmatched end tag" + at + ", expected \"</" + open.back().name + ">\", found \"</" +
             name + ">\"");
      }
      closed.emplace_back(open.back(), Utf16Length(text));
      open.pop_back();
      i = j + 1;
      continue;
    }
    if (name.empty() || kTags.count(name) == 0) {
      fail("Unsupported start tag \"" + name + "\"" + at);
    }
    OpenTag tag{name, Utf16Length(text), ""};
    // Attributes: name="value", name='value' or name=value; only a's href is kept.
    while (true) {
      while (j < html.size() && (html[j] == ' ' || html[j] == '\n' || html[j] == '\t')) ++j;
      if (j >= html.size()) fail("Unclosed start tag" + at);
      if (html[j] == '>') break;
      const size_t attribute_start = j;
      while (j < html.size() && (std::isalnum(static_cast<unsigned char>(html[j])) ||
                                 html[j] == '-' || html[j] == '_')) {
        ++j;
      }
      if (j == attribute_start) fail("Empty attribute name in the tag \"" + name + "\"" + at);
      const std::string attribute =
          Lower(std::string(html.substr(attribute_start, j - attribute_start)));
      std::string value;
      if (j < html.size() && html[j] == '=') {
        ++j;
        if (j >= html.size()) fail("Unclosed start tag" + at);
        if (html[j] == '"' || html[j] == '\'') {
          const char quote = html[j++];
          while (j < html.size() && html[j] != quote) {
            if (html[j] == '&') {
              j += DecodeReference(html, j, value);
            } else {
              value += html[j++];
            }
          }
          if (j >= html.size()) fail("Unclosed start tag" + at);
          ++j;
        } else {
          while (j < html.size() && html[j] != ' ' && html[j] != '>') value += html[j++];
        }
      }
      if (name == "a" && attribute == "href") tag.url = value;
    }
    open.push_back(tag);
    i = j + 1;
  }
  if (!open.empty()) {
    fail("Can't find end tag corresponding to start tag \"" + open.back().name + "\"");
  }
  Json entities = Json::array();
  std::stable_sort(closed.begin(), closed.end(), [](const auto& a, const auto& b) {
    if (a.first.offset != b.first.offset) return a.first.offset < b.first.offset;
    return a.second - a.first.offset > b.second - b.first.offset;
  });
  for (const auto& [tag, end] : closed) {
    if (end == tag.offset) continue;                   // empty entities are dropped
    if (tag.name == "a" && tag.url.empty()) continue;  // a link without an address is text
    entities.push_back({{"@type", "textEntity"},
                        {"offset", tag.offset},
                        {"length", end - tag.offset},
                        {"type", EntityType(tag)}});
  }
  return {{"@type", "formattedText"}, {"text", text}, {"entities", entities}};
}

Json ParseTextEntities(const Json& request) {
  const std::string text = String(request, "text");
  const Json mode = Object(request, "parse_mode");
  const std::string mode_type = String(mode, "@type");
  if (mode_type == "textParseModeHTML") return ParseHtml(text);
  if (mode_type.empty()) throw TdError{400, "Parse mode must be non-empty"};
  throw TdError{400, "Parse mode \"" + mode_type + "\" is not supported by fake_tdjson"};
}

// ---- The scenario.

struct User {
  int64_t id = 0;
  std::string username;
  std::string phone;
  std::string first_name;
  std::string last_name;
  bool privacy_restricted = false;
  bool not_mutual = false;
  bool channels_too_much = false;
  bool kicked = false;
  bool deleted = false;
  bool blocks_messages = false;
  bool joins_on_link = false;
};

struct Chat {
  int64_t id = 0;
  std::string title;
  std::string username;
  bool can_invite = true;
};

struct Fault {
  std::string method;
  int64_t nth = 0;
  bool every = false;
  std::optional<TdError> error;
  bool immediate = false;
  bool lose_answer = false;
  bool revoke_session = false;
};

struct Scenario {
  User me{1000, "fake_me", "+10000000000", "Fake", "Account"};
  std::string code = "12345";
  std::string password;
  std::string password_hint;
  std::vector<User> users;
  std::vector<Chat> chats;
  std::map<int64_t, std::set<int64_t>> members;  // chat id → user ids
  std::vector<Fault> faults;
  bool import_retry_all = false;
  int64_t latency_ms = 0;
  int64_t send_delay_ms = 5;
};

void CheckKeys(const Json& object, std::initializer_list<std::string_view> allowed,
               const std::string& where) {
  if (!object.is_object()) throw std::runtime_error(where + ": expected an object");
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw std::runtime_error(where + ": unknown field \"" + key + "\"");
    }
  }
}

User ReadUser(const Json& json, const std::string& where, bool with_flags) {
  if (with_flags) {
    CheckKeys(
        json,
        {"id", "username", "phone", "first_name", "last_name", "privacy_restricted", "not_mutual",
         "channels_too_much", "kicked", "deleted", "member", "blocks_messages", "joins_on_link"},
        where);
  } else {
    CheckKeys(json, {"id", "username", "phone", "first_name", "last_name"}, where);
  }
  User user;
  user.id = json.value("id", int64_t{0});
  if (user.id <= 0) throw std::runtime_error(where + ": id must be a positive number");
  user.username = json.value("username", "");
  user.phone = json.value("phone", "");
  user.first_name = json.value("first_name", "");
  user.last_name = json.value("last_name", "");
  user.privacy_restricted = json.value("privacy_restricted", false);
  user.not_mutual = json.value("not_mutual", false);
  user.channels_too_much = json.value("channels_too_much", false);
  user.kicked = json.value("kicked", false);
  user.deleted = json.value("deleted", false);
  user.blocks_messages = json.value("blocks_messages", false);
  user.joins_on_link = json.value("joins_on_link", false);
  return user;
}

Scenario ReadScenario(const Json& json) {
  CheckKeys(
      json,
      {"me", "auth", "users", "chats", "faults", "import_retry_all", "latency_ms", "send_delay_ms"},
      "scenario");
  Scenario scenario;
  if (json.contains("me")) {
    const Json& me = json["me"];
    scenario.me = ReadUser(me, "me", false);
    if (!me.contains("phone")) scenario.me.phone = "+10000000000";
  }
  if (json.contains("auth")) {
    const Json& auth = json["auth"];
    CheckKeys(auth, {"code", "password", "password_hint"}, "auth");
    scenario.code = auth.value("code", scenario.code);
    scenario.password = auth.value("password", "");
    scenario.password_hint = auth.value("password_hint", "");
  }
  for (const Json& chat_json : json.value("chats", Json::array())) {
    const std::string where = "chats[" + std::to_string(scenario.chats.size()) + "]";
    CheckKeys(chat_json, {"id", "title", "username", "can_invite"}, where);
    Chat chat;
    chat.id = chat_json.value("id", int64_t{0});
    if (chat.id >= 0) throw std::runtime_error(where + ": id must be negative");
    chat.title = chat_json.value("title", "");
    chat.username = chat_json.value("username", "");
    chat.can_invite = chat_json.value("can_invite", true);
    scenario.chats.push_back(chat);
  }
  for (const Json& user_json : json.value("users", Json::array())) {
    const std::string where = "users[" + std::to_string(scenario.users.size()) + "]";
    User user = ReadUser(user_json, where, true);
    const Json member = user_json.value("member", Json(false));
    if (member.is_boolean()) {
      if (member.get<bool>()) {
        for (const Chat& chat : scenario.chats) scenario.members[chat.id].insert(user.id);
      }
    } else if (member.is_array()) {
      for (const Json& chat_id : member) scenario.members[chat_id.get<int64_t>()].insert(user.id);
    } else {
      throw std::runtime_error(where + ": member must be true, false or a list of chat ids");
    }
    scenario.users.push_back(user);
  }
  for (const Json& fault_json : json.value("faults", Json::array())) {
    const std::string where = "faults[" + std::to_string(scenario.faults.size()) + "]";
    CheckKeys(fault_json,
              {"method", "nth", "every", "error", "immediate", "lose_answer", "revoke_session"},
              where);
    Fault fault;
    fault.method = fault_json.value("method", "");
    fault.nth = fault_json.value("nth", int64_t{0});
    fault.every = fault_json.value("every", false);
    fault.immediate = fault_json.value("immediate", false);
    fault.lose_answer = fault_json.value("lose_answer", false);
    fault.revoke_session = fault_json.value("revoke_session", false);
    if (fault_json.contains("error")) {
      const Json& error = fault_json["error"];
      CheckKeys(error, {"code", "message"}, where + ".error");
      fault.error = TdError{error.value("code", 400), error.value("message", "")};
    }
    if (fault.method.empty()) throw std::runtime_error(where + ": method is missing");
    if (!fault.every && fault.nth < 1) throw std::runtime_error(where + ": nth or every needed");
    if (int(fault.error.has_value()) + int(fault.lose_answer) + int(fault.revoke_session) != 1) {
      throw std::runtime_error(where + ": exactly one of error, lose_answer, revoke_session");
    }
    scenario.faults.push_back(fault);
  }
  scenario.import_retry_all = json.value("import_retry_all", false);
  scenario.latency_ms = std::clamp<int64_t>(json.value("latency_ms", int64_t{0}), 0, 600000);
  scenario.send_delay_ms = std::clamp<int64_t>(json.value("send_delay_ms", int64_t{5}), 0, 600000);
  return scenario;
}

// ---- Clients and the fake Telegram.

enum class AuthState {
  kWaitTdlibParameters,
  kWaitPhoneNumber,
  kWaitCode,
  kWaitPassword,
  kReady,
  kClosed,
};

struct Client {
  AuthState state = AuthState::kWaitTdlibParameters;
  bool started = false;
  std::string database_directory;
  std::string encryption_key;
  std::string phone;
  std::set<int64_t> known_chats;      // private chats opened by createPrivateChat/searchPublicChat
  std::set<int64_t> chats_announced;  // updateNewChat sent
  std::set<int64_t> users_announced;  // updateUser sent
};

struct InviteLink {
  int64_t chat_id = 0;
  std::string url;
  std::string name;
  int32_t expiration_date = 0;
  int32_t member_limit = 0;
  bool creates_join_request = false;
  bool revoked = false;
  int64_t date = 0;
};

// One request being handled: updates to send before and after its answer, and later ones.
struct Call {
  int client_id = 0;
  Client* client = nullptr;
  const Json* request = nullptr;
  std::string method;
  bool lose_answer = false;
  std::optional<TdError> send_error;  // a sendMessage fault reported by updateMessageSendFailed
  std::vector<Json> before;
  std::vector<Json> after;
  std::vector<std::pair<int64_t, Json>> later;  // (ms after the answer, update)
};

Json StateObject(AuthState state, const Scenario& scenario, const Client& client) {
  switch (state) {
    case AuthState::kWaitTdlibParameters:
      return {{"@type", "authorizationStateWaitTdlibParameters"}};
    case AuthState::kWaitPhoneNumber:
      return {{"@type", "authorizationStateWaitPhoneNumber"}};
    case AuthState::kWaitCode:
      return {{"@type", "authorizationStateWaitCode"},
              {"code_info",
               {{"@type", "authenticationCodeInfo"},
                {"phone_number", client.phone},
                {"type",
                 {{"@type", "authenticationCodeTypeTelegramMessage"},
                  {"length", scenario.code.size()}}},
                {"timeout", 0}}}};
    case AuthState::kWaitPassword:
      return {{"@type", "authorizationStateWaitPassword"},
              {"password_hint", scenario.password_hint},
              {"has_recovery_email_address", false},
              {"has_passport_data", false},
              {"recovery_email_address_pattern", ""}};
    case AuthState::kReady:
      return {{"@type", "authorizationStateReady"}};
    case AuthState::kClosed:
      return {{"@type", "authorizationStateClosed"}};
  }
  return nullptr;
}

Json StateUpdate(Json state) {
  return {{"@type", "updateAuthorizationState"}, {"authorization_state", std::move(state)}};
}

Json StateUpdate(const char* type) { return StateUpdate(Json{{"@type", type}}); }

Json UserObject(const User& user, bool is_contact) {
  Json usernames = nullptr;
  if (!user.username.empty() && !user.deleted) {
    usernames = {{"@type", "usernames"},
                 {"active_usernames", Json::array({user.username})},
                 {"disabled_usernames", Json::array()},
                 {"editable_username", user.username}};
  }
  Json object = {{"@type", "user"},
                 {"id", user.id},
                 {"first_name", user.deleted ? "" : user.first_name},
                 {"last_name", user.deleted ? "" : user.last_name},
                 {"phone_number", user.deleted ? "" : PhoneDigits(user.phone)},
                 {"status", {{"@type", "userStatusEmpty"}}},
                 {"is_contact", is_contact},
                 {"is_mutual_contact", is_contact && !user.not_mutual},
                 {"is_close_friend", false},
                 {"is_verified", false},
                 {"is_premium", false},
                 {"is_support", false},
                 {"restriction_reason", ""},
                 {"has_active_stories", false},
                 {"has_unread_active_stories", false},
                 {"restricts_new_chats", false},
                 {"have_access", !user.deleted},
                 {"type", {{"@type", user.deleted ? "userTypeDeleted" : "userTypeRegular"}}},
                 {"language_code", ""},
                 {"added_to_attachment_menu", false}};
  if (!usernames.is_null()) object["usernames"] = usernames;
  return object;
}

Json ChatPermissions() {
  return {{"@type", "chatPermissions"},    {"can_send_basic_messages", true},
          {"can_send_audios", true},       {"can_send_documents", true},
          {"can_send_photos", true},       {"can_send_videos", true},
          {"can_send_video_notes", true},  {"can_send_voice_notes", true},
          {"can_send_polls", true},        {"can_send_other_messages", true},
          {"can_add_link_previews", true}, {"can_change_info", false},
          {"can_invite_users", false},     {"can_pin_messages", false},
          {"can_create_topics", false}};
}

Json ChatObject(int64_t id, Json type, const std::string& title) {
  return {{"@type", "chat"},
          {"id", id},
          {"type", std::move(type)},
          {"title", title},
          {"permissions", ChatPermissions()},
          {"has_protected_content", false},
          {"is_marked_as_unread", false},
          {"can_be_deleted_only_for_self", false},
          {"can_be_deleted_for_all_users", false},
          {"can_be_reported", false},
          {"unread_count", 0},
          {"last_read_inbox_message_id", 0},
          {"last_read_outbox_message_id", 0},
          {"unread_mention_count", 0},
          {"unread_reaction_count", 0},
          {"message_auto_delete_time", 0},
          {"reply_markup_message_id", 0},
          {"client_data", ""}};
}

bool IsSupergroup(int64_t chat_id) { return chat_id <= kSupergroupIdBase; }

Json GroupChatObject(const Chat& chat) {
  Json type = IsSupergroup(chat.id)
                  ? Json{{"@type", "chatTypeSupergroup"},
                         {"supergroup_id", kSupergroupIdBase - chat.id},
                         {"is_channel", false}}
                  : Json{{"@type", "chatTypeBasicGroup"}, {"basic_group_id", -chat.id}};
  return ChatObject(chat.id, std::move(type), chat.title);
}

Json PrivateChatObject(const User& user) {
  std::string title = user.deleted ? "Deleted Account" : user.first_name;
  if (!user.deleted && !user.last_name.empty()) title += " " + user.last_name;
  return ChatObject(user.id, {{"@type", "chatTypePrivate"}, {"user_id", user.id}}, title);
}

Json UserSender(int64_t user_id) { return {{"@type", "messageSenderUser"}, {"user_id", user_id}}; }

Json MessageObject(int64_t id, int64_t chat_id, Json sender, bool outgoing, Json content) {
  return {{"@type", "message"},
          {"id", id},
          {"sender_id", std::move(sender)},
          {"chat_id", chat_id},
          {"is_outgoing", outgoing},
          {"is_pinned", false},
          {"can_be_saved", true},
          {"has_timestamped_media", false},
          {"is_channel_post", false},
          {"contains_unread_mention", false},
          {"date", static_cast<int64_t>(std::time(nullptr))},
          {"edit_date", 0},
          {"author_signature", ""},
          {"media_album_id", "0"},
          {"content", std::move(content)}};
}

// One line of the journal; its fields keep their order, "effect" first.
void WriteJournal(const std::string& path, const nlohmann::ordered_json& line) {
  if (path.empty()) return;
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

class World {
 public:
  int CreateClient() {
    std::lock_guard lock(mutex_);
    LoadScenario();
    const int id = ++last_client_id_;
    clients_[id] = Client{};
    return id;
  }

  void Send(int client_id, const char* request_text) {
    std::lock_guard lock(mutex_);
    const Clock::time_point due = Clock::now() + std::chrono::milliseconds(scenario_.latency_ms);
    Json request;
    try {
      request = Json::parse(request_text != nullptr ? request_text : "");
    } catch (const std::exception& e) {
      Push(client_id,
           ErrorObject(400, std::string("Failed to parse request as JSON object: ") + e.what()),
           due);
      return;
    }
    const Json* extra = nullptr;
    if (request.is_object() && request.contains("@extra")) extra = &request["@extra"];
    auto answer_error = [&](int code, const std::string& message) {
      Json error = ErrorObject(code, message);
      if (extra != nullptr) error["@extra"] = *extra;
      Push(client_id, std::move(error), due);
    };
    if (!request.is_object()) {
      answer_error(400, "Failed to parse request as JSON object: expected an object");
      return;
    }
    auto found = clients_.find(client_id);
    if (found == clients_.end()) {
      answer_error(400, "Invalid TDLib instance specified");
      return;
    }
    Client& client = found->second;
    if (client.state == AuthState::kClosed) {
      answer_error(500, "Request aborted");
      return;
    }
    if (!scenario_error_.empty()) {
      answer_error(500, scenario_error_);
      return;
    }
    if (!client.started) {
      client.started = true;
      Push(client_id, VersionUpdate(), due);
      Push(client_id, StateUpdate("authorizationStateWaitTdlibParameters"), due);
    }
    Call call;
    call.client_id = client_id;
    call.client = &client;
    call.request = &request;
    Json answer;
    try {
      auto type = request.find("@type");
      if (type == request.end()) ParseFail("Can't find field \"@type\"");
      if (!type->is_string()) ParseFail("Field \"@type\" must be of type String");
      call.method = type->get<std::string>();
      answer = Handle(call);
    } catch (const TdError& error) {
      answer = ErrorObject(error.code, error.message);
      call.before.clear();
      call.after.clear();
      call.later.clear();
    } catch (const std::exception& error) {
      answer = ErrorObject(
          400, std::string("Failed to parse JSON object as TDLib request: ") + error.what());
      call.before.clear();
      call.after.clear();
      call.later.clear();
    }
    for (Json& update : call.before) Push(client_id, std::move(update), due);
    if (!call.lose_answer) {
      if (extra != nullptr) answer["@extra"] = *extra;
      Push(client_id, std::move(answer), due);
    }
    for (Json& update : call.after) Push(client_id, std::move(update), due);
    for (auto& [delay_ms, update] : call.later) {
      Push(client_id, std::move(update), due + std::chrono::milliseconds(delay_ms));
    }
  }

  // The next due object as JSON text, nullopt after `timeout` seconds without one.
  std::optional<std::string> Receive(double timeout) {
    double seconds = 0;
    if (std::isfinite(timeout)) {
      seconds = std::clamp(timeout, 0.0, 1e6);
    } else if (timeout > 0) {
      seconds = 1e6;
    }
    const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double>(seconds));
    std::unique_lock lock(mutex_);
    while (true) {
      const Clock::time_point now = Clock::now();
      if (!queue_.empty() && queue_.begin()->first.first <= now) {
        std::string text = std::move(queue_.begin()->second);
        queue_.erase(queue_.begin());
        return text;
      }
      if (now >= deadline) return std::nullopt;
      Clock::time_point wake = deadline;
      if (!queue_.empty()) wake = std::min(wake, queue_.begin()->first.first);
      ready_.wait_until(lock, wake);
    }
  }

  static std::string Execute(const char* request_text) {
    Json request;
    try {
      request = Json::parse(request_text != nullptr ? request_text : "");
    } catch (const std::exception& e) {
      return Dump(
          ErrorObject(400, std::string("Failed to parse request as JSON object: ") + e.what()));
    }
    if (!request.is_object()) {
      return Dump(ErrorObject(400, "Failed to parse request as JSON object: expected an object"));
    }
    Json answer;
    try {
      const std::string method = String(request, "@type");
      if (method == "getOption") {
        answer = OptionValue(String(request, "name"), nullptr);
      } else if (method == "setLogVerbosityLevel" || method == "setLogStream") {
        answer = Ok();
      } else if (method == "getLogVerbosityLevel") {
        answer = {{"@type", "logVerbosityLevel"}, {"verbosity_level", 0}};
      } else if (method == "parseTextEntities") {
        answer = ParseTextEntities(request);
      } else if (method.empty()) {
        ParseFail("Can't find field \"@type\"");
      } else if (kHandlers().count(method) != 0) {
        answer = ErrorObject(400, "The method can't be executed synchronously");
      } else {
        ParseFail("Unknown class \"" + method + "\"");
      }
    } catch (const TdError& error) {
      answer = ErrorObject(error.code, error.message);
    }
    if (request.contains("@extra")) answer["@extra"] = request["@extra"];
    return Dump(answer);
  }

 private:
  using Handler = Json (World::*)(Call&);
  enum class Needs { kNothing, kParameters, kAuthorization };
  struct Method {
    Handler handler;
    Needs needs;
  };

  static const std::map<std::string, Method, std::less<>>& kHandlers() {
    static const std::map<std::string, Method, std::less<>> handlers = {
        {"getOption", {&World::GetOption, Needs::kNothing}},
        {"setLogVerbosityLevel", {&World::OkHandler, Needs::kNothing}},
        {"getAuthorizationState", {&World::GetAuthorizationState, Needs::kNothing}},
        {"setTdlibParameters", {&World::SetTdlibParameters, Needs::kNothing}},
        {"setAuthenticationPhoneNumber", {&World::SetPhoneNumber, Needs::kParameters}},
        {"checkAuthenticationCode", {&World::CheckCode, Needs::kParameters}},
        {"checkAuthenticationPassword", {&World::CheckPassword, Needs::kParameters}},
        {"logOut", {&World::LogOut, Needs::kParameters}},
        {"close", {&World::Close, Needs::kNothing}},
        {"parseTextEntities", {&World::ParseTextEntitiesHandler, Needs::kNothing}},
        {"getMe", {&World::GetMe, Needs::kAuthorization}},
        {"getUser", {&World::GetUser, Needs::kAuthorization}},
        {"searchPublicChat", {&World::SearchPublicChat, Needs::kAuthorization}},
        {"importContacts", {&World::ImportContacts, Needs::kAuthorization}},
        {"searchUserByPhoneNumber", {&World::SearchUserByPhoneNumber, Needs::kAuthorization}},
        {"createPrivateChat", {&World::CreatePrivateChat, Needs::kAuthorization}},
        {"getChat", {&World::GetChat, Needs::kAuthorization}},
        {"getChatMember", {&World::GetChatMember, Needs::kAuthorization}},
        {"addChatMembers", {&World::AddChatMembers, Needs::kAuthorization}},
        {"addChatMember", {&World::AddChatMember, Needs::kAuthorization}},
        {"createChatInviteLink", {&World::CreateChatInviteLink, Needs::kAuthorization}},
        {"revokeChatInviteLink", {&World::RevokeChatInviteLink, Needs::kAuthorization}},
        {"sendMessage", {&World::SendMessage, Needs::kAuthorization}},
    };
    return handlers;
  }

  static Json VersionUpdate() {
    return {{"@type", "updateOption"},
            {"name", "version"},
            {"value", {{"@type", "optionValueString"}, {"value", kVersion}}}};
  }

  static Json OptionValue(const std::string& name, const User* me) {
    if (name == "version") return {{"@type", "optionValueString"}, {"value", kVersion}};
    if (name == "commit_hash") return {{"@type", "optionValueString"}, {"value", kCommitHash}};
    if (name == "my_id" && me != nullptr) {
      return {{"@type", "optionValueInteger"}, {"value", std::to_string(me->id)}};
    }
    return {{"@type", "optionValueEmpty"}};
  }

  Json Handle(Call& call) {
    auto method = kHandlers().find(call.method);
    if (method == kHandlers().end()) ParseFail("Unknown class \"" + call.method + "\"");
    // A fault applies to the Nth call of its method since the scenario was loaded.
    const int64_t nth = ++call_counts_[call.method];
    const int64_t nth_any = ++call_counts_["*"];
    for (const Fault& fault : scenario_.faults) {
      const bool any = fault.method == "*";
      if (!any && fault.method != call.method) continue;
      if (!fault.every && fault.nth != (any ? nth_any : nth)) continue;
      if (fault.revoke_session) return RevokeSession(call);
      if (fault.lose_answer) {
        call.lose_answer = true;
        break;
      }
      if (call.method == "sendMessage" && !fault.immediate) {
        call.send_error = fault.error;
        break;
      }
      throw *fault.error;
    }
    Client& client = *call.client;
    if (method->second.needs != Needs::kNothing &&
        client.state == AuthState::kWaitTdlibParameters) {
      throw TdError{400, "Initialization parameters are needed: call setTdlibParameters first"};
    }
    if (method->second.needs == Needs::kAuthorization && client.state != AuthState::kReady) {
      throw TdError{401, "Unauthorized"};
    }
    return (this->*method->second.handler)(call);
  }

  // ---- Authorization.

  Json OkHandler(Call&) { return Ok(); }

  Json GetOption(Call& call) {
    return OptionValue(String(*call.request, "name"),
                       call.client->state == AuthState::kReady ? &scenario_.me : nullptr);
  }

  Json GetAuthorizationState(Call& call) {
    return StateObject(call.client->state, scenario_, *call.client);
  }

  Json ParseTextEntitiesHandler(Call& call) { return ParseTextEntities(*call.request); }

  static std::string SessionPath(const Client& client) {
    return (std::filesystem::path(client.database_directory) / kSessionFile).string();
  }

  Json SetTdlibParameters(Call& call) {
    const Json& request = *call.request;
    Client& client = *call.client;
    if (client.state != AuthState::kWaitTdlibParameters) {
      throw TdError{400, "Unexpected setTdlibParameters"};
    }
    const std::string key = String(request, "database_encryption_key");
    if (!ValidBase64(key)) ParseFail("Field \"database_encryption_key\": Wrong string encoding");
    const std::string directory = String(request, "database_directory");
    const int32_t api_id = Int32(request, "api_id");
    const std::string api_hash = String(request, "api_hash");
    const std::string language = String(request, "system_language_code");
    const std::string device = String(request, "device_model");
    const std::string application = String(request, "application_version");
    (void)Bool(request, "use_test_dc");
    (void)String(request, "files_directory");
    (void)String(request, "system_version");
    if (api_id <= 0) {
      throw TdError{400,
                    "Valid api_id must be provided. Can be obtained at https://my.telegram.org"};
    }
    if (api_hash.empty()) {
      throw TdError{400,
                    "Valid api_hash must be provided. Can be obtained at https://my.telegram.org"};
    }
    if (language.empty()) throw TdError{400, "System language code must be non-empty"};
    if (device.empty()) throw TdError{400, "Device model must be non-empty"};
    if (application.empty()) throw TdError{400, "Application version must be non-empty"};
    client.database_directory = directory;
    client.encryption_key = key;
    AuthState next = AuthState::kWaitPhoneNumber;
    if (!directory.empty()) {
      if (std::optional<std::string> bytes = ReadFile(SessionPath(client))) {
        const Json session = Json::parse(*bytes, nullptr, false);
        if (session.is_object()) {
          if (session.value("database_encryption_key", "") != key) {
            client.database_directory.clear();
            throw TdError{401, "Wrong database encryption key"};
          }
          client.phone = session.value("phone", "");
          next = AuthState::kReady;
        }
      }
    }
    EnterState(call, next);
    return Ok();
  }

  void EnterState(Call& call, AuthState state) {
    call.client->state = state;
    if (state == AuthState::kReady) {
      call.after.push_back({{"@type", "updateOption"},
                            {"name", "my_id"},
                            {"value", OptionValue("my_id", &scenario_.me)["value"]}});
      AnnounceUser(call, scenario_.me, call.after);
    }
    call.after.push_back(StateUpdate(StateObject(state, scenario_, *call.client)));
  }

  Json SetPhoneNumber(Call& call) {
    Client& client = *call.client;
    if (client.state != AuthState::kWaitPhoneNumber && client.state != AuthState::kWaitCode &&
        client.state != AuthState::kWaitPassword) {
      throw TdError{400, "Call to setAuthenticationPhoneNumber unexpected"};
    }
    const std::string phone = String(*call.request, "phone_number");
    (void)Object(*call.request, "settings");
    if (!ValidPhone(phone)) throw TdError{400, "PHONE_NUMBER_INVALID"};
    client.phone = phone;
    EnterState(call, AuthState::kWaitCode);
    return Ok();
  }

  Json CheckCode(Call& call) {
    Client& client = *call.client;
    if (client.state != AuthState::kWaitCode) {
      throw TdError{400, "Call to checkAuthenticationCode unexpected"};
    }
    const std::string code = String(*call.request, "code");
    if (code.empty()) throw TdError{400, "PHONE_CODE_EMPTY"};
    if (code != scenario_.code) throw TdError{400, "PHONE_CODE_INVALID"};
    if (!scenario_.password.empty()) {
      EnterState(call, AuthState::kWaitPassword);
    } else {
      LogIn(call);
    }
    return Ok();
  }

  Json CheckPassword(Call& call) {
    Client& client = *call.client;
    if (client.state != AuthState::kWaitPassword) {
      throw TdError{400, "Call to checkAuthenticationPassword unexpected"};
    }
    if (String(*call.request, "password") != scenario_.password) {
      throw TdError{400, "PASSWORD_HASH_INVALID"};
    }
    LogIn(call);
    return Ok();
  }

  void LogIn(Call& call) {
    Client& client = *call.client;
    if (!client.database_directory.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(client.database_directory, ec);
      const std::string path = SessionPath(client);
      const std::string text = Dump({{"database_encryption_key", client.encryption_key},
                                     {"user_id", scenario_.me.id},
                                     {"phone", client.phone}});
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) throw TdError{500, "fake_tdjson: cannot write " + path};
      ::fchmod(fd, 0600);
      const bool complete = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
      ::close(fd);
      if (!complete) throw TdError{500, "fake_tdjson: cannot write " + path};
    }
    WriteJournal(journal_path_, {{"effect", "login"}, {"phone", client.phone}});
    EnterState(call, AuthState::kReady);
  }

  void ForgetSession(Client& client) {
    if (client.database_directory.empty()) return;
    std::error_code ec;
    std::filesystem::remove(SessionPath(client), ec);
  }

  Json LogOut(Call& call) {
    ForgetSession(*call.client);
    call.client->state = AuthState::kClosed;
    call.after.push_back(StateUpdate("authorizationStateLoggingOut"));
    call.after.push_back(StateUpdate("authorizationStateClosing"));
    call.after.push_back(StateUpdate("authorizationStateClosed"));
    return Ok();
  }

  Json Close(Call& call) {
    call.client->state = AuthState::kClosed;
    call.after.push_back(StateUpdate("authorizationStateClosing"));
    call.after.push_back(StateUpdate("authorizationStateClosed"));
    return Ok();
  }

  Json RevokeSession(Call& call) {
    const Clock::time_point due = Clock::now() + std::chrono::milliseconds(scenario_.latency_ms);
    for (auto& [id, client] : clients_) {
      if (client.state == AuthState::kClosed) continue;
      if (client.state == AuthState::kWaitTdlibParameters && id != call.client_id) continue;
      ForgetSession(client);
      client.state = AuthState::kClosed;
      std::vector<Json>* out = nullptr;
      std::vector<Json> others;
      out = id == call.client_id ? &call.after : &others;
      out->push_back(StateUpdate("authorizationStateLoggingOut"));
      out->push_back(StateUpdate("authorizationStateClosing"));
      out->push_back(StateUpdate("authorizationStateClosed"));
      for (Json& update : others) Push(id, std::move(update), due);
    }
    return ErrorObject(401, "AUTH_KEY_UNREGISTERED");
  }

  // ---- Users and chats.

  const User* FindUser(int64_t id) const {
    if (id == scenario_.me.id) return &scenario_.me;
    for (const User& user : scenario_.users) {
      if (user.id == id) return &user;
    }
    return nullptr;
  }

  const User& UserOrFail(int64_t id) const {
    const User* user = FindUser(id);
    if (user == nullptr) throw TdError{400, "User not found"};
    return *user;
  }

  const Chat* FindGroup(int64_t id) const {
    for (const Chat& chat : scenario_.chats) {
      if (chat.id == id) return &chat;
    }
    return nullptr;
  }

  Json UserOf(const User& user) const { return UserObject(user, contacts_.count(user.id) != 0); }

  void AnnounceUser(Call& call, const User& user, std::vector<Json>& out) {
    if (call.client->users_announced.insert(user.id).second) {
      out.push_back({{"@type", "updateUser"}, {"user", UserOf(user)}});
    }
  }

  // The chat object of a chat known to the client; updateNewChat goes first the first time.
  Json ChatFor(Call& call, int64_t chat_id) {
    Json chat;
    if (const Chat* group = FindGroup(chat_id)) {
      chat = GroupChatObject(*group);
    } else if (call.client->known_chats.count(chat_id) != 0) {
      const User& user = UserOrFail(chat_id);
      AnnounceUser(call, user, call.before);
      chat = PrivateChatObject(user);
    } else {
      throw TdError{400, "Chat not found"};
    }
    if (call.client->chats_announced.insert(chat_id).second) {
      call.before.push_back({{"@type", "updateNewChat"}, {"chat", chat}});
    }
    return chat;
  }

  Json GetMe(Call& call) {
    AnnounceUser(call, scenario_.me, call.before);
    return UserOf(scenario_.me);
  }

  Json GetUser(Call& call) {
    const User& user = UserOrFail(Int(*call.request, "user_id"));
    AnnounceUser(call, user, call.before);
    return UserOf(user);
  }

  Json SearchPublicChat(Call& call) {
    std::string username = String(*call.request, "username");
    if (!username.empty() && username[0] == '@') username.erase(0, 1);
    if (!ValidUsername(username)) throw TdError{400, "USERNAME_INVALID"};
    const std::string wanted = Lower(username);
    for (const Chat& chat : scenario_.chats) {
      if (!chat.username.empty() && Lower(chat.username) == wanted) return ChatFor(call, chat.id);
    }
    std::vector<const User*> users = {&scenario_.me};
    for (const User& user : scenario_.users) users.push_back(&user);
    for (const User* user : users) {
      if (!user->deleted && !user->username.empty() && Lower(user->username) == wanted) {
        call.client->known_chats.insert(user->id);
        return ChatFor(call, user->id);
      }
    }
    throw TdError{400, "USERNAME_NOT_OCCUPIED"};
  }

  const User* FindByPhone(const std::string& phone) const {
    if (SamePhone(phone, scenario_.me.phone)) return &scenario_.me;
    for (const User& user : scenario_.users) {
      if (!user.deleted && SamePhone(phone, user.phone)) return &user;
    }
    return nullptr;
  }

  Json ImportContacts(Call& call) {
    struct Contact {
      std::string phone;
      std::string first_name;
    };
    std::vector<Contact> contacts;
    for (const Json& element : Array(*call.request, "contacts")) {
      if (!element.is_object()) ParseFail("Expected Object in field \"contacts\"");
      const std::string type = String(element, "@type");
      if (!type.empty() && type != "importedContact") {
        ParseFail("Field \"contacts\": expected importedContact, not " + type);
      }
      (void)String(element, "last_name");
      (void)Object(element, "note");
      contacts.push_back({String(element, "phone_number"), String(element, "first_name")});
    }
    if (scenario_.import_retry_all && !contacts.empty()) {
      throw TdError{429, "Too Many Requests: retry after 3600"};
    }
    Json user_ids = Json::array();
    Json importer_count = Json::array();
    for (const Contact& contact : contacts) {
      WriteJournal(journal_path_, {{"effect", "import"}, {"phone", contact.phone}});
      const User* user = FindByPhone(contact.phone);
      if (user != nullptr) {
        contacts_.insert(user->id);
        AnnounceUser(call, *user, call.before);
      }
      user_ids.push_back(user != nullptr ? user->id : 0);
      importer_count.push_back(0);
    }
    return {
        {"@type", "importedContacts"}, {"user_ids", user_ids}, {"importer_count", importer_count}};
  }

  Json SearchUserByPhoneNumber(Call& call) {
    const std::string phone = String(*call.request, "phone_number");
    const bool only_local = Bool(*call.request, "only_local");
    const User* user = FindByPhone(phone);
    if (user == nullptr || (only_local && call.client->users_announced.count(user->id) == 0)) {
      throw TdError{404, "Not Found"};
    }
    AnnounceUser(call, *user, call.before);
    return UserOf(*user);
  }

  Json CreatePrivateChat(Call& call) {
    const User& user = UserOrFail(Int(*call.request, "user_id"));
    (void)Bool(*call.request, "force");
    call.client->known_chats.insert(user.id);
    return ChatFor(call, user.id);
  }

  Json GetChat(Call& call) { return ChatFor(call, Int(*call.request, "chat_id")); }

  Json GetChatMember(Call& call) {
    const int64_t chat_id = Int(*call.request, "chat_id");
    const Json member = Object(*call.request, "member_id");
    const std::string member_type = String(member, "@type");
    if (member_type != "messageSenderUser") {
      if (member_type == "messageSenderChat") throw TdError{400, "Member not found"};
      ParseFail("Field \"member_id\": expected MessageSender");
    }
    const User& user = UserOrFail(Int(member, "user_id"));
    const Chat* chat = FindGroup(chat_id);
    if (chat == nullptr) throw TdError{400, "Chat not found"};
    Json status;
    if (user.id == scenario_.me.id) {
      status =
          chat->can_invite
              ? Json{{"@type", "chatMemberStatusAdministrator"},
                     {"custom_title", ""},
                     {"can_be_edited", false},
                     {"rights", {{"@type", "chatAdministratorRights"}, {"can_invite_users", true}}}}
              : Json{{"@type", "chatMemberStatusMember"}, {"member_until_date", 0}};
    } else if (members_[chat_id].count(user.id) != 0) {
      status = {{"@type", "chatMemberStatusMember"}, {"member_until_date", 0}};
    } else if (user.kicked) {
      status = {{"@type", "chatMemberStatusBanned"}, {"banned_until_date", 0}};
    } else {
      status = {{"@type", "chatMemberStatusLeft"}};
    }
    AnnounceUser(call, user, call.before);
    return {{"@type", "chatMember"},
            {"member_id", UserSender(user.id)},
            {"inviter_user_id", 0},
            {"joined_chat_date", 0},
            {"status", status}};
  }

  Json AddMembers(Call& call, int64_t chat_id, const std::vector<int64_t>& user_ids) {
    const Chat* chat = FindGroup(chat_id);
    if (chat == nullptr) throw TdError{400, "Chat not found"};
    if (!chat->can_invite) throw TdError{400, "CHAT_ADMIN_REQUIRED"};
    if (user_ids.size() > 20) throw TdError{400, "USERS_TOO_MUCH"};
    std::vector<const User*> users;
    for (int64_t id : user_ids) {
      const User& user = UserOrFail(id);
      if (user.deleted) throw TdError{400, "INPUT_USER_DEACTIVATED"};
      if (user.kicked) throw TdError{400, "USER_KICKED"};
      if (user.channels_too_much) throw TdError{400, "USER_CHANNELS_TOO_MUCH"};
      if (user.not_mutual) throw TdError{403, "USER_NOT_MUTUAL_CONTACT"};
      if (members_[chat_id].count(id) != 0 || id == scenario_.me.id) {
        throw TdError{400, "USER_ALREADY_PARTICIPANT"};
      }
      users.push_back(&user);
    }
    Json failed = Json::array();
    Json added = Json::array();
    for (const User* user : users) {
      if (user->privacy_restricted) {
        failed.push_back({{"@type", "failedToAddMember"},
                          {"user_id", user->id},
                          {"premium_would_allow_invite", false},
                          {"premium_required_to_send_messages", false}});
        continue;
      }
      if (!members_[chat_id].insert(user->id).second) continue;  // named twice
      WriteJournal(journal_path_, {{"effect", "add"}, {"chat_id", chat_id}, {"user_id", user->id}});
      added.push_back(user->id);
    }
    if (!added.empty()) {
      // The service message comes with the server's answer, so before TDLib answers.
      call.before.push_back(
          {{"@type", "updateNewMessage"},
           {"message",
            MessageObject(NextServerMessageId(), chat_id, UserSender(scenario_.me.id), true,
                          {{"@type", "messageChatAddMembers"}, {"member_user_ids", added}})}});
    }
    return {{"@type", "failedToAddMembers"}, {"failed_to_add_members", failed}};
  }

  Json AddChatMembers(Call& call) {
    const int64_t chat_id = Int(*call.request, "chat_id");
    const std::vector<int64_t> user_ids = IntArray(*call.request, "user_ids");
    if (FindGroup(chat_id) != nullptr && !IsSupergroup(chat_id)) {
      throw TdError{400, "Method is available only for supergroups"};
    }
    return AddMembers(call, chat_id, user_ids);
  }

  Json AddChatMember(Call& call) {
    const int64_t chat_id = Int(*call.request, "chat_id");
    const int64_t user_id = Int(*call.request, "user_id");
    const int32_t forward_limit = Int32(*call.request, "forward_limit");
    if (forward_limit < 0 || forward_limit > 100) throw TdError{400, "Invalid forward limit"};
    return AddMembers(call, chat_id, {user_id});
  }

  int64_t NextServerMessageId() { return ++last_server_message_ * kMessageIdStep; }

  static Json LinkObject(const InviteLink& link, int64_t creator) {
    return {{"@type", "chatInviteLink"},
            {"invite_link", link.url},
            {"name", link.name},
            {"creator_user_id", creator},
            {"date", link.date},
            {"edit_date", 0},
            {"expiration_date", link.expiration_date},
            {"member_limit", link.member_limit},
            {"member_count", 0},
            {"expired_member_count", 0},
            {"pending_join_request_count", 0},
            {"creates_join_request", link.creates_join_request},
            {"is_primary", false},
            {"is_revoked", link.revoked}};
  }

  std::string NewLinkToken() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    std::string token;
    for (int i = 0; i < 16; ++i) token += kAlphabet[random_() % 64];
    return token;
  }

  Json CreateChatInviteLink(Call& call) {
    const Json& request = *call.request;
    const int64_t chat_id = Int(request, "chat_id");
    InviteLink link;
    link.chat_id = chat_id;
    link.name = String(request, "name");
    link.expiration_date = Int32(request, "expiration_date");
    link.member_limit = Int32(request, "member_limit");
    link.creates_join_request = Bool(request, "creates_join_request");
    const Chat* chat = FindGroup(chat_id);
    if (chat == nullptr) throw TdError{400, "Chat not found"};
    if (!chat->can_invite) throw TdError{400, "CHAT_ADMIN_REQUIRED"};
    if (link.member_limit < 0 || link.member_limit > 99999) {
      throw TdError{400, "Invalid member limit specified"};
    }
    if (link.creates_join_request && link.member_limit != 0) {
      throw TdError{400,
                    "Member limit can't be specified for links requiring administrator approval"};
    }
    if (link.expiration_date < 0) throw TdError{400, "Invalid expiration date specified"};
    if (link.name.size() > 32) throw TdError{400, "Invite link name is too long"};
    link.url = "https://t.me/+" + NewLinkToken();
    link.date = static_cast<int64_t>(std::time(nullptr));
    links_.push_back(link);
    WriteJournal(
        journal_path_,
        {{"effect", "link"}, {"chat_id", chat_id}, {"name", link.name}, {"invite_link", link.url}});
    return LinkObject(link, scenario_.me.id);
  }

  Json RevokeChatInviteLink(Call& call) {
    const int64_t chat_id = Int(*call.request, "chat_id");
    const std::string url = String(*call.request, "invite_link");
    const Chat* chat = FindGroup(chat_id);
    if (chat == nullptr) throw TdError{400, "Chat not found"};
    if (!chat->can_invite) throw TdError{400, "CHAT_ADMIN_REQUIRED"};
    for (InviteLink& link : links_) {
      if (link.chat_id != chat_id || link.url != url) continue;
      if (!link.revoked) {
        link.revoked = true;
        WriteJournal(journal_path_,
                     {{"effect", "revoke"}, {"chat_id", chat_id}, {"invite_link", url}});
      }
      return {{"@type", "chatInviteLinks"},
              {"total_count", 1},
              {"invite_links", Json::array({LinkObject(link, scenario_.me.id)})}};
    }
    throw TdError{400, "INVITE_HASH_EXPIRED"};
  }

  Json SendMessage(Call& call) {
    const Json& request = *call.request;
    const int64_t chat_id = Int(request, "chat_id");
    const Json input = Object(request, "input_message_content");
    const std::string input_type = String(input, "@type");
    if (input_type != "inputMessageText") {
      if (input_type.empty()) throw TdError{400, "Can't send message without content"};
      throw TdError{400, "fake_tdjson sends only inputMessageText, not " + input_type};
    }
    Json text = Object(input, "text", "formattedText");
    const std::string plain = String(text, "text");
    Json entities = Array(text, "entities");
    if (plain.empty()) throw TdError{400, "Message text must be non-empty"};
    (void)Int(request, "message_thread_id");
    (void)Object(request, "options");
    (void)Object(request, "reply_to");
    (void)ChatFor(call, chat_id);
    const bool is_private = FindGroup(chat_id) == nullptr;
    const User* user = is_private ? &UserOrFail(chat_id) : nullptr;

    const Json content = {
        {"@type", "messageText"},
        {"text", {{"@type", "formattedText"}, {"text", plain}, {"entities", entities}}}};
    const int64_t server_id = NextServerMessageId();
    const int64_t temporary_id = server_id + 1;  // not a multiple of 1 << 20: a yet unsent message
    Json pending = MessageObject(temporary_id, chat_id, UserSender(scenario_.me.id), true, content);
    pending["sending_state"] = {{"@type", "messageSendingStatePending"}, {"sending_id", 0}};

    std::optional<TdError> failure = call.send_error;
    if (!failure && user != nullptr && user->deleted)
      failure = TdError{400, "INPUT_USER_DEACTIVATED"};
    if (!failure && user != nullptr && user->blocks_messages)
      failure = TdError{400, "USER_IS_BLOCKED"};
    if (failure) {
      Json failed = pending;
      const Json error = ErrorObject(failure->code, failure->message);
      failed["sending_state"] = {
          {"@type", "messageSendingStateFailed"},  {"error", error},
          {"can_retry", failure->code == 429},     {"need_another_sender", false},
          {"need_another_reply_quote", false},     {"need_drop_reply", false},
          {"required_paid_message_star_count", 0}, {"retry_after", 0}};
      if (!call.lose_answer) {
        call.later.emplace_back(scenario_.send_delay_ms, Json{{"@type", "updateMessageSendFailed"},
                                                              {"message", failed},
                                                              {"old_message_id", temporary_id},
                                                              {"error", error}});
      }
      return pending;
    }

    nlohmann::ordered_json line = {{"effect", "message"}};
    if (user != nullptr) line["user_id"] = user->id;
    line["chat_id"] = chat_id;
    line["text"] = plain;
    WriteJournal(journal_path_, line);
    if (!call.lose_answer) {
      Json sent = MessageObject(server_id, chat_id, UserSender(scenario_.me.id), true, content);
      call.later.emplace_back(scenario_.send_delay_ms, Json{{"@type", "updateMessageSendSucceeded"},
                                                            {"message", sent},
                                                            {"old_message_id", temporary_id}});
    }
    if (user != nullptr && user->joins_on_link) JoinByLinks(call, *user, plain, entities);
    return pending;
  }

  // The user follows the first unrevoked invite link of the fake's found in the message.
  void JoinByLinks(Call& call, const User& user, const std::string& text, const Json& entities) {
    std::string haystack = text;
    for (const Json& entity : entities) {
      if (entity.is_object() && entity.contains("type") && entity["type"].is_object()) {
        haystack += " " + entity["type"].value("url", "");
      }
    }
    for (const InviteLink& link : links_) {
      if (link.revoked || haystack.find(link.url) == std::string::npos) continue;
      if (!members_[link.chat_id].insert(user.id).second) return;  // already in
      WriteJournal(journal_path_, {{"effect", "join"},
                                   {"chat_id", link.chat_id},
                                   {"user_id", user.id},
                                   {"invite_link", link.url}});
      call.later.emplace_back(
          scenario_.send_delay_ms * 2 + 1,
          Json{{"@type", "updateNewMessage"},
               {"message", MessageObject(NextServerMessageId(), link.chat_id, UserSender(user.id),
                                         false, {{"@type", "messageChatJoinByLink"}})}});
      return;
    }
  }

  // ---- The queue and the scenario.

  void Push(int client_id, Json object, Clock::time_point due) {
    object["@client_id"] = client_id;
    queue_.emplace(std::make_pair(due, ++sequence_), Dump(object));
    ready_.notify_all();
  }

  void LoadScenario() {
    const char* path_env = std::getenv("TGINVITE_FAKE_TDJSON_SCENARIO");
    const char* journal_env = std::getenv("TGINVITE_FAKE_TDJSON_JOURNAL");
    journal_path_ = journal_env != nullptr ? journal_env : "";
    const std::string path = path_env != nullptr ? path_env : "";
    std::string bytes;
    std::string error;
    if (!path.empty()) {
      if (std::optional<std::string> read = ReadFile(path)) {
        bytes = std::move(*read);
      } else {
        error = "cannot be read";
      }
    }
    const std::string identity = path + '\n' + bytes + '\n' + error;
    if (loaded_ && identity == loaded_identity_) return;
    loaded_ = true;
    loaded_identity_ = identity;
    scenario_ = Scenario{};
    scenario_error_.clear();
    if (error.empty() && !path.empty()) {
      try {
        scenario_ = ReadScenario(Json::parse(bytes));
      } catch (const std::exception& e) {
        error = e.what();
        scenario_ = Scenario{};
      }
    }
    if (!error.empty()) scenario_error_ = "fake_tdjson: scenario " + path + ": " + error;
    members_ = scenario_.members;
    contacts_.clear();
    links_.clear();
    call_counts_.clear();
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::map<std::pair<Clock::time_point, uint64_t>, std::string> queue_;
  uint64_t sequence_ = 0;
  int last_client_id_ = 0;
  std::map<int, Client> clients_;

  bool loaded_ = false;
  std::string loaded_identity_;
  Scenario scenario_;
  std::string scenario_error_;
  std::string journal_path_;
  std::map<int64_t, std::set<int64_t>> members_;
  std::set<int64_t> contacts_;
  std::vector<InviteLink> links_;
  std::map<std::string, int64_t> call_counts_;
  int64_t last_server_message_ = 0;
  std::mt19937_64 random_{std::random_device{}() ^
                          static_cast<uint64_t>(Clock::now().time_since_epoch().count())};
};

// Never destroyed: a thread of the host may still call in while the process exits.
World& TheWorld() {
  static World* world = new World();
  return *world;
}

}  // namespace
}  // namespace tginvite::testing::fake_tdjson

using tginvite::testing::fake_tdjson::TheWorld;
using tginvite::testing::fake_tdjson::World;

FAKE_TDJSON_EXPORT int td_create_client_id() {
  try {
    return TheWorld().CreateClient();
  } catch (...) {
    return 0;
  }
}

FAKE_TDJSON_EXPORT void td_send(int client_id, const char* request) {
  try {
    TheWorld().Send(client_id, request);
  } catch (...) {  // an allocation failure: nothing sensible is left to answer
  }
}

FAKE_TDJSON_EXPORT const char* td_receive(double timeout) {
  // TDLib's contract: td_receive is never called from two threads at once, and what it returns
  // lives until the next call. Not thread_local: a dlopen'd library's dynamic TLS in the receiving
  // thread is what LeakSanitizer (GCC 12's) misread at exit under load, crashing its tracer.
  static std::string buffer;
  try {
    std::optional<std::string> next = TheWorld().Receive(timeout);
    if (!next) return nullptr;
    buffer = std::move(*next);
    return buffer.c_str();
  } catch (...) {
    return nullptr;
  }
}

FAKE_TDJSON_EXPORT const char* td_execute(const char* request) {
  thread_local std::string buffer;
  try {
    buffer = World::Execute(request);
    return buffer.c_str();
  } catch (...) {
    return nullptr;
  }
}

FAKE_TDJSON_EXPORT void td_set_log_message_callback(int /*max_verbosity_level*/,
                                                    void (* /*callback*/)(int, const char*)) {}
