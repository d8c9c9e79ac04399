// The states and modes of the domain, with their stable text names (stored in the database and
// shown by `status --json`; never renumber or rename them).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tginvite::core {

// pending ──claim──▶ sending ──▶ sent ──(join observed)──▶ joined; sending may also end in
// waiting (transient, retried later), failed (permanent), unknown (ambiguous, never resent on its
// own). skipped and cancelled are terminal without a send. awaiting_start ──(the contact pressed
// Start through their start link)──▶ pending: a bot may write only to people who started it.
enum class InvitationState {
  kAwaitingStart,
  kPending,
  kSending,
  kSent,
  kJoined,
  kWaiting,
  kFailed,
  kUnknown,
  kSkipped,
  kCancelled,
};
inline constexpr std::array kAllInvitationStates = {
    InvitationState::kAwaitingStart, InvitationState::kPending, InvitationState::kSending,
    InvitationState::kSent,          InvitationState::kJoined,  InvitationState::kWaiting,
    InvitationState::kFailed,        InvitationState::kUnknown, InvitationState::kSkipped,
    InvitationState::kCancelled,
};
std::string_view ToString(InvitationState state);
std::optional<InvitationState> ParseInvitationState(std::string_view text);
// True for states that need no more work: sent, joined, failed, unknown, skipped, cancelled.
// (awaiting_start is not: it waits for the contact.) The sets of states and the transitions the
// stores make are in core/invitation_states.h.
bool IsTerminal(InvitationState state);

// draft ──start──▶ running ◀──pause/resume──▶ paused; any but cancelled ──cancel──▶ cancelled.
// The transitions are a table in core/campaign_states.h.
enum class CampaignState { kDraft, kRunning, kPaused, kCancelled };
inline constexpr std::array kAllCampaignStates = {
    CampaignState::kDraft, CampaignState::kRunning, CampaignState::kPaused,
    CampaignState::kCancelled};
std::string_view ToString(CampaignState state);
std::optional<CampaignState> ParseCampaignState(std::string_view text);

enum class LinkMode { kPersonal, kShared, kJoinRequest };
std::string_view ToString(LinkMode mode);
std::optional<LinkMode> ParseLinkMode(std::string_view text);

// How a campaign reaches its contacts: `direct` messages those a bot can write to (a known user
// id) and skips the rest; `start-link` waits for every contact to press Start through their
// personal start link; `both` messages the reachable at once and waits for the others.
enum class CampaignReach { kDirect, kStartLink, kBoth };
std::string_view ToString(CampaignReach reach);
std::optional<CampaignReach> ParseCampaignReach(std::string_view text);

// A contact's personal start link: https://t.me/<bot_username>?start=<key>; "" when the bot's
// username is not known.
std::string StartLink(std::string_view bot_username, std::string_view key);

// Where an account's updates come from: tginvite polls getUpdates, Telegram posts them to
// tginvite's webhook, or the operator's own bot program forwards them.
enum class UpdatesVia { kPoll, kWebhook, kForward };
std::string_view ToString(UpdatesVia via);
std::optional<UpdatesVia> ParseUpdatesVia(std::string_view text);

// A bot (Bot API, a token from @BotFather) or a user account (TDLib, a person's or staff's own
// Telegram account, logged in with a code). A rehearsal account simulates one of them and never
// sends anything: `rehearsal` a bot, `rehearsal-user` a user account.
enum class AccountKind { kBot, kRehearsal, kUser, kRehearsalUser };
std::string_view ToString(AccountKind kind);
std::optional<AccountKind> ParseAccountKind(std::string_view text);
// True for `user` and `rehearsal-user`: they add members, look people up and pace like a person.
bool IsUserAccount(AccountKind kind);
bool IsRehearsal(AccountKind kind);

// Whether an account may send. `unauthorized`: Telegram refuses its token or session (a bot token
// revoked, a user session logged out) — `account update` / `account login` cures it; `limited`:
// Telegram limited the account for contacting people (PEER_FLOOD) — only the operator clears it
// (`account resume`), after checking with @SpamBot; tginvite never resumes or rotates on its own.
enum class AccountHealth { kOk, kUnauthorized, kLimited };
std::string_view ToString(AccountHealth health);
std::optional<AccountHealth> ParseAccountHealth(std::string_view text);

// How a user-account campaign invites: `add` puts the contact into the chat (addChatMembers);
// `message` sends the personal link in the templated message; `add-then-message` adds where the
// contact's privacy allows and messages the link where it does not. Bot campaigns always message.
enum class DeliveryMethod { kMessage, kAdd, kAddThenMessage };
std::string_view ToString(DeliveryMethod method);
std::optional<DeliveryMethod> ParseDeliveryMethod(std::string_view text);

// What a recorded attempt asked Telegram, whichever path carried it: `send` a message, `link` an
// invite link created, `add` a member added, `resolve` a @username looked up, `import` a phone
// number looked up (importContacts), `revoke-link` an unused personal link revoked once its
// campaign was cancelled. The Bot API's and TDLib's own method names never reach the
// attempts table.
enum class RequestKind { kSend, kLink, kAdd, kResolve, kImport, kRevokeLink };
std::string_view ToString(RequestKind kind);
std::optional<RequestKind> ParseRequestKind(std::string_view text);

// What an API token may do: `metrics` reads /metrics only; `read` every GET of the API (and
// /metrics); `write` everything, state changes included. Each scope includes the ones before it.
enum class TokenScope { kMetrics, kRead, kWrite };
std::string_view ToString(TokenScope scope);
std::optional<TokenScope> ParseTokenScope(std::string_view text);
// True when a token of scope `held` may make a request that needs `needed`.
inline bool Allows(TokenScope held, TokenScope needed) { return held >= needed; }

// The names of `values` (a range of one of the enums above), quoted and comma-separated:
// "'pending', 'waiting'". For SQL built from core's sets: an IN list, a CHECK constraint.
template <typename Range>
std::string QuotedNames(const Range& values) {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) out += ", ";
    out += '\'';
    out += ToString(value);
    out += '\'';
  }
  return out;
}

// Counts of invitations by state, indexed by the enum's value.
struct StateCounts {
  std::array<int64_t, kAllInvitationStates.size()> by_state{};

  int64_t& operator[](InvitationState s) { return by_state[static_cast<size_t>(s)]; }
  int64_t operator[](InvitationState s) const { return by_state[static_cast<size_t>(s)]; }
  int64_t Total() const;
};

}  // namespace tginvite::core
