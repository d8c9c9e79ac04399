// `tginvite run`: the worker.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/messengers.h"
#include "cli/output.h"
#include "core/private_files.h"
#include "dispatch/dispatcher.h"
#include "storage/database_url.h"
#include "web/auth.h"
#include "web/server.h"

namespace tginvite::cli {
namespace {

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// Turns SIGINT/SIGTERM into a stop request; a second signal ends the process at once. Signals are
// blocked in every thread and taken by one waiting thread, so no handler runs in signal context.
class SignalStop {
 public:
  explicit SignalStop(std::stop_source& source) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    sigaddset(&signals_, kWake);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    waiter_ = std::jthread([this, &source] {
      int signal = 0;
      if (sigwait(&signals_, &signal) != 0 || signal == kWake) return;
      spdlog::info("stopping: finishing the requests in flight (signal again to exit at once)");
      source.request_stop();
      if (sigwait(&signals_, &signal) != 0 || signal == kWake) return;
      std::_Exit(130);
    });
  }
  ~SignalStop() { pthread_kill(waiter_.native_handle(), kWake); }
  SignalStop(const SignalStop&) = delete;
  SignalStop& operator=(const SignalStop&) = delete;

 private:
  // Sent by the destructor to the waiting thread, which then ends; never from outside.
  static constexpr int kWake = SIGUSR1;

  sigset_t signals_;
  std::jthread waiter_;
};

void PrintProgress(storage::Store& store) {
  Result<std::vector<storage::CampaignSummary>> campaigns = store.ListCampaigns();
  if (!campaigns) return;
  for (const storage::CampaignSummary& s : *campaigns) {
    if (s.campaign.state != core::CampaignState::kRunning) continue;
    using core::InvitationState;
    const core::StateCounts& n = s.counts;
    spdlog::info(
        "{}campaign {}: {} sent, {} joined, {} failed, {} unknown, {} to go ({}/min)",
        core::IsRehearsal(s.campaign.account_kind) ? "REHEARSAL " : "",
        s.campaign.name, WithThousands(n[InvitationState::kSent] + n[InvitationState::kJoined]),
        WithThousands(n[InvitationState::kJoined]), WithThousands(n[InvitationState::kFailed]),
        WithThousands(n[InvitationState::kUnknown]),
        WithThousands(n[InvitationState::kPending] + n[InvitationState::kWaiting] +
                      n[InvitationState::kSending]),
        WithThousands(s.sent_last_minute));
  }
}

}  // namespace

namespace {

// Starts the web server for `serve` and `up`: kInvalidArgument for a bad address, kUnavailable
// when it cannot be bound. Warns when no admin password is set (logins are refused then).
Result<std::unique_ptr<web::Server>> StartServer(storage::Store& store, const ServeOptions& options,
                                                 std::function<dispatch::Health()> worker_health) {
  ASSIGN_OR_RETURN(auto listen, web::ParseListen(options.listen));
  // Read once, for a warning; when the database does not answer, the server starts anyway.
  Result<std::optional<std::string>> password = store.AdminPasswordHash();
  if (!password) {
    spdlog::warn("could not check whether an admin password is set: {}", password.error().message);
  } else if (!*password) {
    spdlog::warn(
        "no admin password is set: logins are refused until you run `tginvite init` on a "
        "terminal or with TGINVITE_ADMIN_PASSWORD set");
  }
  web::ServerOptions server_options;
  server_options.host = listen.first;
  server_options.port = listen.second;
  server_options.worker_health = std::move(worker_health);
  server_options.behind_proxy = options.behind_proxy;
  server_options.http.threads = options.http_threads;
  server_options.check_account = [&store](const storage::NewAccount& account) {
    return CheckBotToken(store, account);
  };
  server_options.check_bot =
      [&store](const storage::NewAccount& account) -> Result<storage::CheckedBot> {
    ASSIGN_OR_RETURN(telegram::BotIdentity bot, CheckBotIdentity(store, account));
    return storage::CheckedBot{bot.id, bot.username};
  };
  server_options.remove_session = [](const storage::Account& account) -> Status {
    std::error_code error;
    std::filesystem::remove_all(SessionFolderOf(account.name), error);
    if (error) return Fail(ErrorCode::kUnavailable, "{}", error.message());
    return Ok();
  };
  // The dashboard logs user accounts in with the CLI's TDLib setup (TdJson::Load finds TDLib).
  server_options.tdlib_account = [](const storage::Account& account) {
    return TdlibAccountFor(account);
  };
  auto server = std::make_unique<web::Server>(store, std::move(server_options));
  RETURN_IF_ERROR(server->Start());
  return server;
}

int RunWorkerWith(storage::Store& store, const RunOptions& options,
                  const std::optional<ServeOptions>& serve) {
  // No database read here: one that fails (the server restarting just after it answered) would
  // end the worker, which must live through it. The dispatcher reads with backoff from its start.
  std::stop_source stop;
  SignalStop signals(stop);
  core::SystemClock clock;
  dispatch::DispatcherOptions dispatcher_options;
  dispatcher_options.host = Hostname();
  dispatcher_options.pid = getpid();
  dispatcher_options.worker_id =
      fmt::format("{}:{}", dispatcher_options.host, dispatcher_options.pid);
  dispatcher_options.until = options.until_idle ? dispatch::DispatcherOptions::Until::kIdle
                                                : dispatch::DispatcherOptions::Until::kStopped;
  // A run that ends when idle polls briefly, so that it ends promptly.
  dispatcher_options.updates_timeout =
      options.until_idle ? std::chrono::seconds(1) : options.updates_timeout;
  dispatch::Dispatcher dispatcher(store, MakeMessenger, clock, dispatcher_options);
  std::unique_ptr<web::Server> server;
  if (serve) {
    Result<std::unique_ptr<web::Server>> started =
        StartServer(store, *serve, [&dispatcher] { return dispatcher.health(); });
    if (!started) return Report(started.error());
    server = std::move(*started);
  }
  spdlog::info("worker {} started on {}", dispatcher_options.worker_id, store.backend());

  std::jthread progress(
      [&store, &clock, interval = options.progress_interval](std::stop_token halt) {
        while (clock.SleepUntil(clock.Now() + interval, halt)) PrintProgress(store);
      });
  int code = dispatcher.Run(stop.get_token());
  progress.request_stop();
  progress.join();
  if (server) server->Stop();
  PrintProgress(store);
  spdlog::info("worker {} stopped", dispatcher_options.worker_id);
  return code;
}

}  // namespace

int RunWhenDatabaseAnswers(const GlobalOptions& global, const storage::StoreOptions& options,
                           const std::function<int(storage::Store&)>& command) {
  std::stop_source stop;
  std::unique_ptr<storage::Store> store;
  {
    SignalStop signals(stop);  // ends with this scope; the command installs its own
    core::SystemClock clock;
    std::chrono::milliseconds backoff(200);
    bool said = false;
    for (;;) {
      Result<std::unique_ptr<storage::Store>> opened = storage::OpenStore(global.db, options);
      if (opened) {
        store = std::move(opened).value();
        break;
      }
      if (opened.error().code != ErrorCode::kUnavailable) return Report(opened.error());
      if (!said) {
        spdlog::warn("degraded: database {} does not answer; retrying until it does: {}",
                     storage::RedactDatabaseUrl(global.db), opened.error().message);
        said = true;
      }
      if (!clock.SleepUntil(clock.Now() + backoff, stop.get_token())) {
        spdlog::info("stopped before the database answered");
        return kExitOk;
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    if (said) spdlog::info("database {} answers", storage::RedactDatabaseUrl(global.db));
  }
  return command(*store);
}

void PrepareLongRunning(storage::Store& store, const GlobalOptions& global,
                        const SecretKeys& keys) {
  for (const std::string& warning : keys.AllWarnings()) spdlog::warn("{}", warning);
  if (std::optional<std::string> file = storage::SqliteFileOf(global.db)) {
    if (std::optional<unsigned> mode = core::OpenToOthers(*file)) {
      spdlog::warn(
          "database file {} can be read or changed by other users (mode {:04o}): chmod 600 {}",
          *file, *mode, *file);
    }
  }
  if (!keys.current) {
    spdlog::warn(
        "no secret key is loaded, so bot tokens can be neither stored nor opened (REHEARSAL "
        "accounts work): {}",
        keys.MissingKeyHint());
  }
  Result<int64_t> sealed = store.SealSecrets(storage::Store::SealScope::kPlaintext);
  if (!sealed && sealed.error().code == ErrorCode::kInvalidArgument) {
    spdlog::warn("{}", sealed.error().message);  // tokens in plaintext, and no key to seal them
  } else if (!sealed) {
    spdlog::warn("could not look for bot tokens left in plaintext (the next start tries again): {}",
                 sealed.error().message);
  } else if (*sealed > 0) {
    spdlog::info("sealed {} bot token{} that an older version stored in plaintext (key {})",
                 *sealed, *sealed == 1 ? "" : "s", keys.current->id());
  }
}

int RunWorker(storage::Store& store, const RunOptions& options) {
  return RunWorkerWith(store, options, std::nullopt);
}

int RunUp(storage::Store& store, const RunOptions& run_options, const ServeOptions& options) {
  return RunWorkerWith(store, run_options, options);
}

int RunServe(storage::Store& store, const ServeOptions& options) {
  std::stop_source stop;
  SignalStop signals(stop);
  Result<std::unique_ptr<web::Server>> server = StartServer(store, options, nullptr);
  if (!server) return Report(server.error());
  core::SystemClock clock;
  while (clock.SleepUntil(clock.Now() + std::chrono::hours(24), stop.get_token())) {
  }
  (*server)->Stop();
  spdlog::info("web server stopped");
  return kExitOk;
}

}  // namespace tginvite::cli

namespace tginvite::cli {

int RunAccountCheck(storage::Store& store, const std::string& name) {
  Result<storage::Account> account = store.FindAccount(name);
  if (!account) return Report(account.error());
  if (account->token_access != storage::TokenAccess::kOpen) {
    return Report(
        Fail(ErrorCode::kInvalidArgument, "account {}: {}", name, account->token_problem));
  }
  Result<core::ResolvedSettings> settings = storage::LoadResolvedSettings(store, std::nullopt);
  if (!settings) return Report(settings.error());
  std::unique_ptr<telegram::Messenger> messenger = MakeMessenger(*account, settings->settings);
  telegram::BotIdentityResult me = messenger->GetMe();
  if (!me.outcome.ok()) {
    ErrorCode code = me.outcome.kind == telegram::OutcomeKind::kAccountFatal
                         ? ErrorCode::kInvalidArgument
                         : ErrorCode::kUnavailable;
    return Report(
        Error{code, fmt::format("account {}: getMe failed: {}", name, me.outcome.description)});
  }
  // getMe answering proves the token works, which cures `unauthorized` alone: a `limited`
  // account stays limited until the operator resumes it.
  const bool heals = account->health == core::AccountHealth::kUnauthorized;
  if (heals) {
    if (Status healed = store.SetAccountHealth(account->id, core::AccountHealth::kOk, "");
        !healed) {
      return Report(healed.error());
    }
  }
  if (account->kind == core::AccountKind::kBot && me.bot.id != 0) {
    // Recorded, so that `account update` knows the bot even once this token cannot be opened.
    if (Status kept = store.SetBotId(account->id, me.bot.id); !kept) return Report(kept.error());
  }
  if (!me.bot.username.empty() && me.bot.username != account->bot_username) {
    // The name start links carry (a bot's username can change).
    if (Status kept = store.SetBotUsername(account->id, me.bot.username); !kept) {
      return Report(kept.error());
    }
  }
  fmt::print("account {}: {}@{} (bot id {}){}\n", name,
             messenger->IsRehearsal() ? "REHEARSAL " : "", me.bot.username, me.bot.id,
             heals ? "; it may send again" : "");
  return kExitOk;
}

int RunAccountWebhook(storage::Store& store, const AccountWebhookOptions& options) {
  const int ways =
      (options.url.empty() ? 0 : 1) + (options.forward ? 1 : 0) + (options.poll ? 1 : 0);
  if (ways != 1) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "account webhook {}: give exactly one of --url URL, --forward or --poll",
                       options.name));
  }
  Result<storage::Account> found = store.FindAccount(options.name);
  if (!found) return Report(found.error());
  const storage::Account& account = *found;
  if (options.forward) {
    // The operator's bot keeps its own webhook or polling; tginvite only stops polling.
    if (Status saved = store.SetUpdatesVia(options.name, core::UpdatesVia::kForward, "", "");
        !saved) {
      return Report(saved.error());
    }
    fmt::print(
        "account {}: updates come from your bot program now: POST them to "
        "/api/v1/accounts/{}/updates with a token of scope write (tginvite stopped polling)\n",
        options.name, options.name);
    return kExitOk;
  }
  if (account.token_access != storage::TokenAccess::kOpen) {
    return Report(
        Fail(ErrorCode::kInvalidArgument, "account {}: {}", options.name, account.token_problem));
  }
  Result<core::ResolvedSettings> settings = storage::LoadResolvedSettings(store, std::nullopt);
  if (!settings) return Report(settings.error());
  std::unique_ptr<telegram::Messenger> messenger = MakeMessenger(account, settings->settings);
  if (options.poll) {
    if (account.updates_via == core::UpdatesVia::kWebhook) {
      // Only a webhook tginvite set is removed: one that the operator's bot owns is theirs.
      telegram::Outcome deleted = messenger->DeleteWebhook();
      if (!deleted.ok()) {
        return Report(Fail(ErrorCode::kUnavailable, "account {}: deleteWebhook failed: {}",
                           options.name, deleted.description));
      }
    }
    if (Status saved = store.SetUpdatesVia(options.name, core::UpdatesVia::kPoll, "", "");
        !saved) {
      return Report(saved.error());
    }
    fmt::print("account {}: tginvite polls its updates (getUpdates)\n", options.name);
    return kExitOk;
  }
  if (!options.url.starts_with("https://")) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "--url {}: Telegram posts only to https:// URLs", options.url));
  }
  const std::string path = "/telegram/webhook/" + options.name;
  if (!options.url.ends_with(path)) {
    fmt::print(stderr,
               "tginvite: warning: --url does not end with {}: make sure your proxy passes it "
               "there\n",
               path);
  }
  const core::Secret secret = web::NewToken();
  telegram::Outcome set = messenger->SetWebhook({options.url, secret.Reveal()});
  if (!set.ok()) {
    return Report(Fail(ErrorCode::kUnavailable, "account {}: setWebhook failed: {}", options.name,
                       set.description));
  }
  if (Status saved = store.SetUpdatesVia(options.name, core::UpdatesVia::kWebhook, options.url,
                                         web::TokenHash(secret.Reveal()));
      !saved) {
    // Telegram posts already, and tginvite would refuse the posts: say how to get back.
    return Report(saved.error().WithContext(fmt::format(
        "account {}: the webhook is set but could not be recorded (run the command again, or "
        "'tginvite account webhook {} --poll')",
        options.name, options.name)));
  }
  fmt::print("account {}: Telegram posts its updates to {} now (with a secret only tginvite "
             "knows); tginvite stopped polling\n",
             options.name, options.url);
  return kExitOk;
}

}  // namespace tginvite::cli
