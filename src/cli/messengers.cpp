#include "cli/messengers.h"

#include <mutex>

#include "core/secret.h"
#include "telegram/tdlib/td_json.h"
#include "telegram/bot_api/bot_api_messenger.h"
#include "telegram/rehearsal/rehearsal_messenger.h"

namespace tginvite::cli {

namespace {

std::mutex setup_mu;
UserAccountSetup& Setup() {
  static UserAccountSetup setup;
  return setup;
}

// A messenger for an account that cannot send: every request says why (the dispatcher marks the
// account unauthorized with that reason).
class UnusableMessenger final : public telegram::Messenger {
 public:
  explicit UnusableMessenger(std::string why) { outcome_.kind = telegram::OutcomeKind::kAccountFatal;
    outcome_.description = std::move(why); }
  bool IsRehearsal() const override { return false; }
  telegram::BotIdentityResult GetMe() override { return {outcome_, {}}; }
  telegram::InviteLinkResult CreateInviteLink(const telegram::InviteLinkRequest&) override {
    return {outcome_, ""};
  }
  telegram::Outcome RevokeInviteLink(const std::string&, const std::string&) override {
    return outcome_;
  }
  telegram::SendResult SendInvitation(const telegram::InvitationMessage&) override {
    return {outcome_, 0};
  }
  telegram::MemberResult GetChatMember(const std::string&, int64_t) override {
    return {outcome_, ""};
  }
  telegram::UpdatesResult GetUpdates(int64_t, std::chrono::seconds) override {
    return {outcome_, {}};
  }
  telegram::Outcome ApproveJoinRequest(const std::string&, int64_t) override { return outcome_; }
  telegram::Outcome SetWebhook(const telegram::WebhookRequest&) override { return outcome_; }
  telegram::Outcome DeleteWebhook() override { return outcome_; }
  telegram::LookupResult FindUser(const telegram::ContactLookup&) override {
    return {outcome_, 0};
  }
  telegram::AddMemberResult AddChatMember(const std::string&, int64_t) override {
    return {outcome_, false};
  }

 private:
  telegram::Outcome outcome_;
};

}  // namespace

void ConfigureUserAccounts(UserAccountSetup setup) {
  std::lock_guard lock(setup_mu);
  Setup() = std::move(setup);
}

Result<telegram::tdlib::TdlibAccount> TdlibAccountFor(const storage::Account& account) {
  if (account.token_access != storage::TokenAccess::kOpen) {
    return Fail(ErrorCode::kInvalidArgument, "account {}: {}", account.name, account.token_problem);
  }
  std::string why;
  std::optional<core::UserCredentials> credentials =
      core::ParseUserCredentials(account.token.Reveal(), &why);
  if (!credentials) {
    return Fail(ErrorCode::kInvalidArgument, "account {}: its credentials cannot be read: {}",
                account.name, why);
  }
  std::lock_guard lock(setup_mu);
  const UserAccountSetup& setup = Setup();
  if (!setup.key) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {}: no secret key is loaded, so its session cannot be opened",
                account.name);
  }
  telegram::tdlib::TdlibAccount tdlib;
  tdlib.name = account.name;
  tdlib.credentials = std::move(*credentials);
  tdlib.database_directory = setup.tdlib_dir + "/" + account.name;
  tdlib.database_key = telegram::tdlib::DatabaseKeyFor(*setup.key, account.name);
  for (const core::SecretKey& older : setup.older_keys) {
    tdlib.old_database_keys.push_back(telegram::tdlib::DatabaseKeyFor(older, account.name));
  }
  return tdlib;
}

std::unique_ptr<telegram::Messenger> MakeMessenger(const storage::Account& account,
                                                   const core::Settings& settings) {
  if (core::IsRehearsal(account.kind)) {
    telegram::RehearsalOptions options;
    options.seed = static_cast<uint64_t>(account.id) * 7919 + 17;
    options.user_account = account.kind == core::AccountKind::kRehearsalUser;
    if (options.user_account) options.not_started = 0;  // a person may write first
    return telegram::MakeRehearsalMessenger(options);
  }
  if (account.kind == core::AccountKind::kUser) {
    Result<std::shared_ptr<telegram::tdlib::TdJson>> td = telegram::tdlib::TdJson::Load();
    if (!td) {
      return std::make_unique<UnusableMessenger>("TDLib not found: " + td.error().message);
    }
    Result<telegram::tdlib::TdlibAccount> tdlib = TdlibAccountFor(account);
    if (!tdlib) return std::make_unique<UnusableMessenger>(tdlib.error().message);
    tdlib->timeout = std::max<std::chrono::milliseconds>(settings.http_timeout * 2,
                                                         std::chrono::seconds(30));
    return telegram::tdlib::MakeTdlibMessenger(std::move(*td), std::move(*tdlib));
  }
  telegram::BotApiOptions options;
  options.api_base = account.api_base;
  options.token = account.token;
  options.timeout = settings.http_timeout;
  options.proxy = settings.http_proxy;
  return telegram::MakeBotApiMessenger(options);
}

Result<telegram::BotIdentity> CheckBotIdentity(storage::Store& store,
                                               const storage::NewAccount& account) {
  if (account.kind != core::AccountKind::kBot || !core::LooksLikeBotToken(account.token.Reveal())) {
    return telegram::BotIdentity{};
  }
  ASSIGN_OR_RETURN(core::ResolvedSettings settings,
                   storage::LoadResolvedSettings(store, std::nullopt));
  storage::Account probe;
  probe.kind = account.kind;
  probe.token = account.token;
  probe.api_base = account.api_base;
  telegram::BotIdentityResult me = MakeMessenger(probe, settings.settings)->GetMe();
  if (me.outcome.kind == telegram::OutcomeKind::kAccountFatal) {
    return Fail(ErrorCode::kInvalidArgument, "{}", me.outcome.description);
  }
  if (!me.outcome.ok()) return Fail(ErrorCode::kUnavailable, "{}", me.outcome.description);
  if (me.bot.id == 0) me.bot.id = core::BotIdOfToken(account.token.Reveal()).value_or(0);
  return me.bot;
}

Result<std::string> CheckBotToken(storage::Store& store, const storage::NewAccount& account) {
  ASSIGN_OR_RETURN(telegram::BotIdentity bot, CheckBotIdentity(store, account));
  if (bot.id == 0 && bot.username.empty()) return std::string();
  return "@" + bot.username;
}

std::string SessionFolderOf(std::string_view account) {
  std::lock_guard lock(setup_mu);
  return Setup().tdlib_dir + "/" + std::string(account);
}

}  // namespace tginvite::cli
