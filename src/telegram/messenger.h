// The Messenger: what the dispatcher asks of Telegram, with every answer classified into an
// Outcome the dispatcher can act on without reading error text. One production implementation
// per delivery path (bot_api/ over libcurl; tdlib/ later), a simulator (rehearsal/) that never
// sends anything, and a scripted fake in tests.
//
// Implementations are thread-safe: the dispatcher calls them from several sender threads at
// once. They never throw, and never put a token (or any other secret) into an Outcome, a log line
// or an error message: URLs are redacted before they are shown.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/model.h"

namespace tginvite::telegram {

enum class OutcomeKind {
  kOk,
  kFlood,          // 429: the account must wait `retry_after` before its next request
  kTransient,      // 5xx, an HTML error page, connection refused: not delivered, retry with backoff
  kPermanent,      // this contact can never get it: blocked the bot, deactivated, never started it
  kCampaignFatal,  // the target chat refuses: not enough rights, bot kicked, chat not found
  kAccountFatal,   // the token is refused (401) or the method is unknown (404)
  kAmbiguous,      // the request may have been delivered: timeout or reset after sending it,
                   // or a 200 whose body cannot be parsed
};
std::string_view ToString(OutcomeKind kind);

// Why a contact is permanently unreachable, when the outcome says so. kPrivacy: their privacy
// settings refuse an add (an add-then-message campaign messages the link instead); kNotFound: no
// such @username, or the phone number is not on Telegram.
enum class PermanentReason {
  kNone,
  kBlocked,
  kDeactivated,
  kNotStarted,
  kPrivacy,
  kNotFound,
  kOther
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::kOk;
  PermanentReason reason = PermanentReason::kNone;
  int http_status = 0;                  // 0 when no response arrived
  int error_code = 0;                   // Telegram's error_code, 0 when none
  std::string description;              // Telegram's description, or what went wrong locally
  std::chrono::seconds retry_after{0};  // kFlood only
  // kAccountFatal only: what the account has become. kUnauthorized (a refused token, a revoked
  // session) or kLimited (PEER_FLOOD: Telegram limited it for contacting people).
  core::AccountHealth account_health = core::AccountHealth::kUnauthorized;
  std::chrono::milliseconds latency{0};

  bool ok() const { return kind == OutcomeKind::kOk; }
};

struct InviteLinkRequest {
  std::string chat;                    // "-1001234567890" or "@channel"
  std::string name;                    // at most 32 characters; tginvite uses the contact's key
  std::optional<int64_t> expire_date;  // unix seconds
  int member_limit = 1;                // 0: none (required with creates_join_request)
  enum class Approval { kNone, kJoinRequest } approval = Approval::kNone;
};

struct InviteLinkResult {
  Outcome outcome;
  std::string invite_link;  // set when outcome.ok()
};

struct InvitationMessage {
  int64_t user_id = 0;      // the private chat with the contact
  std::string text;         // rendered HTML (parse_mode HTML)
  std::string button_text;  // empty: no inline button
  std::string button_url;
};

struct SendResult {
  Outcome outcome;
  int64_t message_id = 0;
};

struct BotIdentity {
  int64_t id = 0;
  std::string username;
  std::string first_name;
};

struct BotIdentityResult {
  Outcome outcome;
  BotIdentity bot;
};

struct MemberResult {
  Outcome outcome;
  std::string status;  // creator, administrator, member, restricted, left, kicked
};

// One update, reduced to what tginvite acts on.
struct Update {
  enum class Kind {
    kChatMember,    // someone's membership in a chat changed (joins)
    kJoinRequest,   // someone asked to join through a link that needs approval
    kMyChatMember,  // the bot's own membership changed; in a private chat: blocked / unblocked
    kStart,         // someone pressed Start: a private "/start [payload]" message
    kOther,         // anything else: counted (its update_id), not acted on
  };
  int64_t update_id = 0;
  Kind kind = Kind::kChatMember;
  int64_t chat_id = 0;
  int64_t user_id = 0;
  std::string old_status;
  std::string new_status;     // for kMyChatMember in a private chat: "kicked" = blocked the bot
  std::string invite_link;    // the link used, when Telegram says
  std::string username;       // kStart: the sender's @username, lower-case, without '@'
  std::string start_payload;  // kStart: what followed "/start ", "" for a bare /start
};

// Where Telegram should post the bot's updates (setWebhook).
struct WebhookRequest {
  std::string url;           // https://…
  std::string secret_token;  // sent back in X-Telegram-Bot-Api-Secret-Token; 1–256 of A-Za-z0-9_-
};

// A contact whose start link is out: the rehearsal simulator presses Start for some of them.
struct ExpectedStart {
  std::string start_key;
  std::string username;  // "" when unknown
};

struct UpdatesResult {
  Outcome outcome;
  std::vector<Update> updates;
};

// A contact a user account looks up: by @username (searchPublicChat), else by phone number
// (importContacts, with the contact's names).
struct ContactLookup {
  std::string username;  // without '@'
  std::string phone;     // E.164
  std::string first_name;
  std::string last_name;
};

struct LookupResult {
  Outcome outcome;
  int64_t user_id = 0;  // set when outcome.ok()
};

struct AddMemberResult {
  Outcome outcome;  // kPermanent with kPrivacy when the contact's privacy settings refuse it
  bool already_member = false;  // ok: they were in the chat already
};

// Requests of one thread in flight together (Messenger::OpenExchange): each leaves when it is
// started, and its answer is collected later, so a hundred requests in flight cost no threads.
// Not thread-safe: one thread starts and waits. Destroying it abandons what is still in flight.
class Exchange {
 public:
  struct Answer {
    uint64_t tag = 0;  // what the request was started with
    Outcome outcome;
    int64_t message_id = 0;     // a send's, when ok
    std::string member_status;  // a member check's, when ok (as MemberResult::status)
  };

  virtual ~Exchange() = default;
  // Hands the send to the network now (Messenger::SendInvitation).
  virtual void StartSend(uint64_t tag, const InvitationMessage& message) = 0;
  // A member check (Messenger::GetChatMember); it may wait for the next Wait to leave, with the
  // others started before it.
  virtual void StartGetChatMember(uint64_t tag, const std::string& chat, int64_t user_id) = 0;
  // Waits at most `timeout` for started requests to end; returns those that ended (maybe none).
  virtual std::vector<Answer> Wait(std::chrono::milliseconds timeout) = 0;
  // Started and not yet returned by Wait.
  virtual size_t InFlight() const = 0;
};

class Messenger {
 public:
  virtual ~Messenger() = default;

  // True for the simulator: it sends nothing, and everything it reports says REHEARSAL.
  virtual bool IsRehearsal() const = 0;

  virtual BotIdentityResult GetMe() = 0;
  virtual InviteLinkResult CreateInviteLink(const InviteLinkRequest& request) = 0;
  virtual Outcome RevokeInviteLink(const std::string& chat, const std::string& invite_link) = 0;
  virtual SendResult SendInvitation(const InvitationMessage& message) = 0;
  // Many SendInvitations and GetChatMembers from one thread (see Exchange); nullptr when this
  // messenger has no way to do that, and its requests are made on threads instead.
  virtual std::unique_ptr<Exchange> OpenExchange() { return nullptr; }
  virtual MemberResult GetChatMember(const std::string& chat, int64_t user_id) = 0;
  // Long-polls for message, chat_member, chat_join_request and my_chat_member updates after
  // `offset`.
  virtual UpdatesResult GetUpdates(int64_t offset, std::chrono::seconds timeout) = 0;
  virtual Outcome ApproveJoinRequest(const std::string& chat, int64_t user_id) = 0;
  // Has Telegram post the bot's updates (the kinds GetUpdates asks for) to a webhook, or
  // (DeleteWebhook) stop doing so, so that getUpdates works again.
  virtual Outcome SetWebhook(const WebhookRequest& request) = 0;
  virtual Outcome DeleteWebhook() = 0;
  // Contacts whose start links are out. The simulator has some of them press Start (its
  // GetUpdates reports their "/start <key>"); a real messenger has nothing to do with this.
  virtual void ExpectStarts(const std::vector<ExpectedStart>& /*waiting*/) {}

  // Whether this process can use the account at all: a user account's TDLib session is a
  // folder on one machine, and a worker elsewhere in a fleet leaves the account alone.
  virtual bool HostedHere() const { return true; }

  // User accounts only (TDLib, and the simulator of one); a bot's messenger answers
  // kAccountFatal. Finds the contact's user id; a phone number costs an importContacts, which
  // the caller counts against tdlib.import_contacts_per_day.
  virtual LookupResult FindUser(const ContactLookup& contact);
  // Adds the user to the chat (addChatMembers); their privacy may refuse it (kPermanent,
  // kPrivacy).
  virtual AddMemberResult AddChatMember(const std::string& chat, int64_t user_id);
};

// What a bot's messenger answers to the user-account requests above.
Outcome NotForBots(std::string_view request);

}  // namespace tginvite::telegram
