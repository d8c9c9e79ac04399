#include "core/model.h"

#include <numeric>

namespace tginvite::core {
namespace {

template <typename Enum, size_t N>
std::optional<Enum> ParseByName(std::string_view text,
                                const std::array<std::pair<Enum, std::string_view>, N>& names) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  return std::nullopt;
}

template <typename Enum, size_t N>
std::string_view NameOf(Enum value, const std::array<std::pair<Enum, std::string_view>, N>& names) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "?";
}

constexpr std::array<std::pair<InvitationState, std::string_view>, 10> kInvitationStateNames = {{
    {InvitationState::kAwaitingStart, "awaiting_start"},
    {InvitationState::kPending, "pending"},
    {InvitationState::kSending, "sending"},
    {InvitationState::kSent, "sent"},
    {InvitationState::kJoined, "joined"},
    {InvitationState::kWaiting, "waiting"},
    {InvitationState::kFailed, "failed"},
    {InvitationState::kUnknown, "unknown"},
    {InvitationState::kSkipped, "skipped"},
    {InvitationState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<CampaignState, std::string_view>, 4> kCampaignStateNames = {{
    {CampaignState::kDraft, "draft"},
    {CampaignState::kRunning, "running"},
    {CampaignState::kPaused, "paused"},
    {CampaignState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<LinkMode, std::string_view>, 3> kLinkModeNames = {{
    {LinkMode::kPersonal, "personal"},
    {LinkMode::kShared, "shared"},
    {LinkMode::kJoinRequest, "join-request"},
}};

constexpr std::array<std::pair<CampaignReach, std::string_view>, 3> kReachNames = {{
    {CampaignReach::kDirect, "direct"},
    {CampaignReach::kStartLink, "start-link"},
    {CampaignReach::kBoth, "both"},
}};

constexpr std::array<std::pair<UpdatesVia, std::string_view>, 3> kUpdatesViaNames = {{
    {UpdatesVia::kPoll, "poll"},
    {UpdatesVia::kWebhook, "webhook"},
    {UpdatesVia::kForward, "forward"},
}};

constexpr std::array<std::pair<AccountKind, std::string_view>, 4> kAccountKindNames = {{
    {AccountKind::kBot, "bot"},
    {AccountKind::kRehearsal, "rehearsal"},
    {AccountKind::kUser, "user"},
    {AccountKind::kRehearsalUser, "rehearsal-user"},
}};

constexpr std::array<std::pair<AccountHealth, std::string_view>, 3> kAccountHealthNames = {{
    {AccountHealth::kOk, "ok"},
    {AccountHealth::kUnauthorized, "unauthorized"},
    {AccountHealth::kLimited, "limited"},
}};

constexpr std::array<std::pair<DeliveryMethod, std::string_view>, 3> kDeliveryMethodNames = {{
    {DeliveryMethod::kMessage, "message"},
    {DeliveryMethod::kAdd, "add"},
    {DeliveryMethod::kAddThenMessage, "add-then-message"},
}};

constexpr std::array<std::pair<RequestKind, std::string_view>, 6> kRequestKindNames = {{
    {RequestKind::kSend, "send"},
    {RequestKind::kLink, "link"},
    {RequestKind::kAdd, "add"},
    {RequestKind::kResolve, "resolve"},
    {RequestKind::kImport, "import"},
    {RequestKind::kRevokeLink, "revoke-link"},
}};

constexpr std::array<std::pair<TokenScope, std::string_view>, 3> kTokenScopeNames = {{
    {TokenScope::kMetrics, "metrics"},
    {TokenScope::kRead, "read"},
    {TokenScope::kWrite, "write"},
}};

}  // namespace

std::string_view ToString(InvitationState state) { return NameOf(state, kInvitationStateNames); }
std::optional<InvitationState> ParseInvitationState(std::string_view text) {
  return ParseByName(text, kInvitationStateNames);
}
bool IsTerminal(InvitationState state) {
  return state != InvitationState::kPending && state != InvitationState::kSending &&
         state != InvitationState::kWaiting && state != InvitationState::kAwaitingStart;
}

std::string_view ToString(CampaignState state) { return NameOf(state, kCampaignStateNames); }
std::optional<CampaignState> ParseCampaignState(std::string_view text) {
  return ParseByName(text, kCampaignStateNames);
}

std::string_view ToString(LinkMode mode) { return NameOf(mode, kLinkModeNames); }
std::optional<LinkMode> ParseLinkMode(std::string_view text) {
  return ParseByName(text, kLinkModeNames);
}

std::string_view ToString(CampaignReach reach) { return NameOf(reach, kReachNames); }
std::optional<CampaignReach> ParseCampaignReach(std::string_view text) {
  return ParseByName(text, kReachNames);
}

std::string StartLink(std::string_view bot_username, std::string_view key) {
  if (bot_username.empty() || key.empty()) return "";
  std::string link = "https://t.me/";
  link += bot_username;
  link += "?start=";
  link += key;
  return link;
}

std::string_view ToString(UpdatesVia via) { return NameOf(via, kUpdatesViaNames); }
std::optional<UpdatesVia> ParseUpdatesVia(std::string_view text) {
  return ParseByName(text, kUpdatesViaNames);
}

std::string_view ToString(AccountKind kind) { return NameOf(kind, kAccountKindNames); }
std::optional<AccountKind> ParseAccountKind(std::string_view text) {
  return ParseByName(text, kAccountKindNames);
}

bool IsUserAccount(AccountKind kind) {
  return kind == AccountKind::kUser || kind == AccountKind::kRehearsalUser;
}
bool IsRehearsal(AccountKind kind) {
  return kind == AccountKind::kRehearsal || kind == AccountKind::kRehearsalUser;
}

std::string_view ToString(AccountHealth health) { return NameOf(health, kAccountHealthNames); }
std::optional<AccountHealth> ParseAccountHealth(std::string_view text) {
  return ParseByName(text, kAccountHealthNames);
}

std::string_view ToString(DeliveryMethod method) { return NameOf(method, kDeliveryMethodNames); }
std::optional<DeliveryMethod> ParseDeliveryMethod(std::string_view text) {
  return ParseByName(text, kDeliveryMethodNames);
}

std::string_view ToString(RequestKind kind) { return NameOf(kind, kRequestKindNames); }
std::optional<RequestKind> ParseRequestKind(std::string_view text) {
  return ParseByName(text, kRequestKindNames);
}

std::string_view ToString(TokenScope scope) { return NameOf(scope, kTokenScopeNames); }
std::optional<TokenScope> ParseTokenScope(std::string_view text) {
  return ParseByName(text, kTokenScopeNames);
}

int64_t StateCounts::Total() const {
  return std::accumulate(by_state.begin(), by_state.end(), int64_t{0});
}

}  // namespace tginvite::core
