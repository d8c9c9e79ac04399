#include "dispatch/dispatcher.h"

#include <algorithm>
#include <condition_variable>
#include <optional>
#include <set>
#include <span>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/contact_fields.h"
#include "core/instruments.h"
#include "core/iso_time.h"
#include "core/message_template.h"
#include "dispatch/backoff.h"
#include "dispatch/batch.h"
#include "dispatch/leaving_window.h"
#include "dispatch/send_window.h"
#include "dispatch/sending_marks.h"
#include "dispatch/updates.h"
#include "dispatch/worker_pool.h"

namespace tginvite::dispatch {
namespace {

using core::InvitationState;
using std::chrono::milliseconds;

int64_t Millis(core::TimePoint t) { return core::ToUnixMillis(t); }

// How stale the flood pause a send checks may be; how long a claim's lead may grow.
constexpr milliseconds kFloodRecheck{10};
constexpr milliseconds kMaxLead{1000};

}  // namespace

storage::AttemptRecord AttemptOf(const std::string& worker, core::RequestKind request,
                                 int64_t started_at, const telegram::Outcome& outcome) {
  storage::AttemptRecord attempt;
  attempt.worker = worker;
  attempt.request = std::string(core::ToString(request));
  attempt.started_at = started_at;
  attempt.latency_ms = outcome.latency.count();
  attempt.http_status = outcome.http_status;
  attempt.error_code = outcome.error_code;
  attempt.error = outcome.ok() ? "" : outcome.description;
  attempt.outcome = std::string(telegram::ToString(outcome.kind));
  return attempt;
}

storage::OutcomeRecord Release(const storage::Claim& claim) {
  storage::OutcomeRecord release;
  release.invitation_id = claim.invitation_id;
  release.gen = claim.gen;
  release.state = InvitationState::kPending;
  release.next_attempt_at = 0;
  release.count = storage::AttemptCount::kNotCounted;
  return release;
}

namespace {

bool IsMember(std::string_view status) {
  return status == "member" || status == "administrator" || status == "creator" ||
         status == "restricted";
}

}  // namespace

std::string_view ToString(HealthState state) {
  switch (state) {
    case HealthState::kOk:
      return "ok";
    case HealthState::kDegraded:
      return "degraded";
    case HealthState::kPaused:
      return "paused";
  }
  return "?";
}

Dispatcher::Dispatcher(storage::Store& store, MessengerFactory messengers, const core::Clock& clock,
                       DispatcherOptions options)
    : store_(store),
      messenger_factory_(std::move(messengers)),
      clock_(clock),
      options_(std::move(options)),
      started_at_(Millis(clock.Now())),
      pool_(std::make_unique<WorkerPool>(kMaxPoolThreads)),
      random_(options_.seed) {
  sending_marks_ =
      std::make_unique<SendingMarks>([this](std::span<const storage::SendingMark> marks,
                                            milliseconds lease) -> Result<std::vector<int64_t>> {
        // A created link exists only in memory until this commits: retry rather than create it
        // again. If it still fails, nothing was sent and the rows go back to pending when their
        // lease expires.
        std::vector<int64_t> ours;
        RETURN_IF_ERROR_CTX(RetryWrite([&]() -> Status {
                              ASSIGN_OR_RETURN(
                                  ours, store_.MarkSending(marks, Millis(clock_.Now()), lease));
                              return Ok();
                            }),
                            "mark sending");
        return ours;
      });
}

Dispatcher::~Dispatcher() = default;

LeavingWindow& Dispatcher::LeavingWindowOf(int64_t account_id) {
  std::lock_guard lock(leaving_windows_mu_);
  std::unique_ptr<LeavingWindow>& window = leaving_windows_[account_id];
  if (!window) window = std::make_unique<LeavingWindow>();
  return *window;
}

Health Dispatcher::health() const {
  std::lock_guard lock(health_mu_);
  return health_;
}

void Dispatcher::SetHealth(HealthState state, std::string reason) {
  std::lock_guard lock(health_mu_);
  health_ = Health{state, std::move(reason)};
}

telegram::Messenger& Dispatcher::MessengerFor(const storage::Account& account,
                                              const core::Settings& settings) {
  std::lock_guard lock(messengers_mu_);
  std::shared_ptr<telegram::Messenger>& messenger = messengers_[account.id];
  if (!messenger) messenger = messenger_factory_(account, settings);
  return *messenger;
}

struct Dispatcher::Plan {
  // Accounts with running campaigns whose send window is open, and that can send.
  std::map<int64_t, std::shared_ptr<const AccountWork>> work;
  std::vector<std::string> blocked_accounts;  // accounts with work that cannot send, with why
  int64_t rescued = 0;
  core::TimePoint next_due{};  // the earliest send window opening; zero when none is closed
};

Result<Dispatcher::Plan> Dispatcher::MakePlan() {
  Plan plan;
  const core::TimePoint now = clock_.Now();
  // Several times a second on every worker, so only what it needs, in few reads: every scope's
  // settings at once, no counts, no send rates.
  ASSIGN_OR_RETURN(auto scopes, store_.LoadAllSettings());
  const core::RawSettings& stored_global = scopes[0];
  const core::ResolvedSettings global = core::ResolveSettings(stored_global, {});
  for (const core::SettingWarning& warning : global.warnings) {
    if (warn_once_.ShouldWarn(warning)) spdlog::warn("{}", warning.message);
  }
  ASSIGN_OR_RETURN(std::vector<storage::Campaign> campaigns, store_.ListRunningCampaigns());
  ASSIGN_OR_RETURN(std::vector<storage::Account> accounts, store_.ListAccounts());

  std::map<int64_t, std::shared_ptr<AccountWork>> work;
  std::vector<int64_t> resend;
  for (const storage::Campaign& campaign : campaigns) {
    // The campaign's schedule: nothing before starts_at; at ends_at the engine pauses it (the
    // store records the pause, by the engine, with the reason, and logs it).
    const int64_t now_ms = core::ToUnixMillis(now);
    if (campaign.ends_at && now_ms >= *campaign.ends_at) {
      RETURN_IF_ERROR(store_.PauseCampaignFor(
          campaign.id, fmt::format("schedule: its end ({}) has passed; change --ends-at to go on",
                                   core::FormatIsoUtc(*campaign.ends_at))));
      continue;
    }
    if (campaign.starts_at && now_ms < *campaign.starts_at) {
      const core::TimePoint starts = core::FromUnixMillis(*campaign.starts_at);
      if (plan.next_due == core::TimePoint{} || starts < plan.next_due) plan.next_due = starts;
      continue;
    }
    const core::ResolvedSettings resolved =
        core::ResolveSettings(stored_global, scopes[campaign.id]);
    for (const core::SettingWarning& warning : resolved.warnings) {
      if (warn_once_.ShouldWarn(warning)) {
        spdlog::warn("campaign {}: {}", campaign.name, warning.message);
      }
    }
    auto account = std::find_if(accounts.begin(), accounts.end(), [&](const storage::Account& a) {
      return a.id == campaign.account_id;
    });
    if (account == accounts.end()) continue;
    if (core::IsRehearsal(account->kind)) {
      const core::SettingWarning rehearsal = {
          "rehearsal:" + campaign.name,
          fmt::format("REHEARSAL: campaign {} uses account {}, which simulates Telegram: nothing "
                      "is sent to anyone",
                      campaign.name, account->name)};
      if (warn_once_.ShouldWarn(rehearsal)) spdlog::warn("{}", rehearsal.message);
    }
    if (resolved.settings.ambiguous == core::Settings::Ambiguous::kResend) {
      resend.push_back(campaign.id);
    }
    if (!InSendWindow(resolved.settings, now)) {
      const core::TimePoint opens = NextWindowOpening(resolved.settings, now);
      if (plan.next_due == core::TimePoint{} || opens < plan.next_due) plan.next_due = opens;
      continue;
    }
    Result<core::MessageTemplate> parsed = core::MessageTemplate::Parse(campaign.template_text);
    if (!parsed) {  // validated on create; a hand-edited template pauses its campaign
      RETURN_IF_ERROR(store_.PauseCampaignFor(campaign.id,
                                              fmt::format("template: {}", parsed.error().message)));
      continue;
    }
    std::shared_ptr<AccountWork>& w = work[account->id];
    if (!w) {
      w = std::make_shared<AccountWork>();
      w->account = *account;
      w->settings = global.settings;
    }
    w->campaigns.push_back(campaign);
    w->campaign_settings[campaign.id] = resolved.settings;
    w->templates.emplace(campaign.id, std::move(*parsed));
  }
  for (auto& [account_id, account_work] : work) {
    const storage::Account& account = account_work->account;
    if (account.CanSend()) {
      plan.work.emplace(account_id, std::move(account_work));
    } else if (account.token_access != storage::TokenAccess::kOpen) {
      std::string blocked =
          fmt::format("account {} cannot send: {}", account.name, account.token_problem);
      if (warn_once_.ShouldWarn({"token:" + account.name, blocked})) spdlog::error("{}", blocked);
      plan.blocked_accounts.push_back(std::move(blocked));
    } else {
      plan.blocked_accounts.push_back(fmt::format("account {} cannot send ({}): {}", account.name,
                                                  core::ToString(account.health),
                                                  account.health_reason));
    }
  }

  ASSIGN_OR_RETURN(plan.rescued, store_.RescueExpiredLeases(Millis(now), resend));
  if (plan.rescued > 0) spdlog::info("rescued {} invitations whose lease expired", plan.rescued);
  return plan;
}

Result<CycleReport> Dispatcher::RunOnce(std::stop_token stop) {
  ASSIGN_OR_RETURN(Plan plan, MakePlan());
  CycleReport report;
  report.rescued = plan.rescued;
  report.next_due = plan.next_due;
  report.blocked_accounts = std::move(plan.blocked_accounts);
  report.accounts = static_cast<int64_t>(plan.work.size() + report.blocked_accounts.size());
  std::vector<std::pair<Status, CycleReport>> results(plan.work.size());
  {
    std::vector<std::jthread> threads;
    size_t i = 0;
    for (const auto& entry : plan.work) {
      // Not a structured binding: clang before 16 cannot capture one in a lambda.
      const auto& account_work = entry.second;
      threads.emplace_back([this, &account_work, &results, i, stop] {
        results[i].first = ProcessAccount(*account_work, 1, stop, results[i].second);
      });
      ++i;
    }
  }
  Status first_error;
  for (auto& [status, account_report] : results) {
    if (!status && first_error) first_error = status;
    report.paused_accounts += account_report.paused_accounts;
    report.claimed += account_report.claimed;
    report.sent += account_report.sent;
    report.released_late += account_report.released_late;
    report.released_paused += account_report.released_paused;
    report.reslotted += account_report.reslotted;
    const core::TimePoint due = account_report.next_due;
    if (due != core::TimePoint{} && (report.next_due == core::TimePoint{} || due < report.next_due))
      report.next_due = due;
  }
  RETURN_IF_ERROR(first_error);
  return report;
}

// One claimed batch of an account on its way through the steps of ProcessAccount: what was
// claimed, what preparing it made, and what happened in it that stops the rest of it. The steps
// may run their requests on several threads; the fields under `mu` are shared by them.

Status Dispatcher::ProcessAccount(const AccountWork& work, int lanes, std::stop_token stop,
                                  CycleReport& report) {
  if (work.account.kind == core::AccountKind::kUser &&
      (!MessengerFor(work.account, work.settings).HostedHere() ||
       !HoldsUpdatesLease(work.account.id, kUserAccountLease))) {
    // A TDLib session is a database one process opens: one worker of a fleet drives a user
    // account, one on the machine with its session that holds its updates lease.
    return Ok();
  }
  Batch batch(work, std::move(stop));
  ASSIGN_OR_RETURN(bool claimed, ClaimBatch(batch, lanes, report));
  if (!claimed) return Ok();
  batch.messenger = &MessengerFor(work.account, work.settings);
  RETURN_IF_ERROR(PrepareSharedLinks(batch));  // 1. links
  PrepareClaims(batch);
  SelectSendable(batch);
  ReslotLate(batch, report);
  SendAll(batch, report);  // 2. each marked as leaving right before its slot, then sent at it
  Status recorded = RecordBatch(batch);  // 3. pauses, then outcomes
  if (batch.mark_error) return *batch.mark_error;
  return recorded;
}

Result<bool> Dispatcher::ClaimBatch(Batch& batch, int lanes, CycleReport& report) {
  const storage::Account& account = batch.work.account;
  const core::Settings& settings = batch.work.settings;
  storage::ClaimRequest& request = batch.request;
  request.account_id = account.id;
  request.worker_id = options_.worker_id;
  request.now = Millis(clock_.Now());
  request.lease = settings.lease;
  // A lane claims its share of the in-flight window, no more: the rows of a batch whose requests
  // left are `unknown` after a crash until their outcomes are recorded, at the batch's end. (Four
  // windows a claim at high rates saved at most a tenth of the CPU, and made 345 such rows in 20
  // kills where the bound is 320.)
  request.max_rows = std::max(1, settings.in_flight / std::max(1, lanes));
  request.horizon = milliseconds(1000);
  request.lead = LeadFor(account.id);
  request.clock = [this, &batch] {
    batch.limiter_locked_at = Millis(clock_.Now());
    return batch.limiter_locked_at;
  };
  // A little wider than 1 s / rate: the spacing never lets more than `rate` messages a second
  // through, and leaves LeavingWindow room for the jitter of the way to Telegram.
  request.emission_interval = EmissionInterval(settings.rate);
  request.chat_interval = settings.chat_interval;
  for (const storage::Campaign& campaign : batch.work.campaigns) {
    const core::Settings& s = batch.work.campaign_settings.at(campaign.id);
    request.campaigns.push_back(
        {campaign.id, s.batch_size, s.cycle_interval, s.delay_min, s.delay_max});
    batch.campaigns[campaign.id] = &campaign;
  }
  {
    std::lock_guard lock(random_mu_);
    request.seed = random_();
  }
  if (core::IsUserAccount(account.kind)) {
    // A user account writes first: contacts with only a @username or phone are looked up.
    request.reach = storage::ClaimRequest::Reach::kAnyIdentifier;
  }
  ASSIGN_OR_RETURN(bool within_cap, WithinDailyCap(batch, report));
  if (!within_cap) return false;
  Result<storage::ClaimResult> claim_result = [&] {
    core::ScopedTimer timer(core::Instruments().claim_seconds);
    return store_.ClaimInvitations(request);
  }();
  ASSIGN_OR_RETURN(storage::ClaimResult claimed, std::move(claim_result));
  batch.claimed_at = clock_.Now();
  if (claimed.flood_until > request.now) {
    report.next_due = core::FromUnixMillis(claimed.flood_until);
    report.paused_accounts = 1;
    return false;
  }
  if (claimed.next_due > 0) report.next_due = core::FromUnixMillis(claimed.next_due);
  batch.claims = std::move(claimed.claims);
  if (batch.claims.empty()) return false;
  report.claimed += static_cast<int64_t>(batch.claims.size());
  std::sort(
      batch.claims.begin(), batch.claims.end(),
      [](const storage::Claim& a, const storage::Claim& b) { return a.not_before < b.not_before; });
  batch.new_links.assign(batch.claims.size(), {});
  batch.eligible.assign(batch.claims.size(), 1);
  return true;
}

storage::OutcomeRecord Dispatcher::FailureRecord(const Batch& batch, const storage::Claim& claim,
                                                 const telegram::Outcome& outcome,
                                                 core::RequestKind request, int64_t started_at) {
  const core::Settings& s = batch.work.campaign_settings.at(claim.campaign_id);
  storage::OutcomeRecord record;
  record.invitation_id = claim.invitation_id;
  record.gen = claim.gen;
  record.attempt = AttemptOf(options_.worker_id, request, started_at, outcome);
  record.error = outcome.description;
  const int64_t at = Millis(clock_.Now());
  auto retry_later = [&] {
    if (claim.attempts + 1 >= s.max_attempts) {
      record.state = InvitationState::kFailed;
      record.error =
          fmt::format("gave up after {} attempts: {}", claim.attempts + 1, outcome.description);
    } else {
      std::lock_guard lock(random_mu_);
      record.state = InvitationState::kWaiting;
      record.next_attempt_at =
          at +
          FullJitterBackoff(s.backoff_base, s.backoff_cap, claim.attempts + 1, random_).count();
    }
  };
  switch (outcome.kind) {
    case OutcomeKind::kOk:
      break;
    case OutcomeKind::kFlood:
      record.state = InvitationState::kWaiting;
      record.count = storage::AttemptCount::kNotCounted;
      record.next_attempt_at =
          at + std::chrono::duration_cast<milliseconds>(outcome.retry_after).count();
      break;
    case OutcomeKind::kTransient:
      retry_later();
      break;
    case OutcomeKind::kPermanent:
      record.state = InvitationState::kFailed;
      if (outcome.reason == telegram::PermanentReason::kBlocked && claim.contact.telegram_user_id) {
        record.suppress_user = claim.contact.telegram_user_id;
      }
      break;
    case OutcomeKind::kCampaignFatal:
    case OutcomeKind::kAccountFatal:
      record.state = InvitationState::kPending;  // not this contact's fault
      record.count = storage::AttemptCount::kNotCounted;
      break;
    case OutcomeKind::kAmbiguous:
      if (request != core::RequestKind::kSend && request != core::RequestKind::kAdd) {
        retry_later();  // a link that may exist, a lookup: nobody was contacted
      } else if (s.ambiguous == core::Settings::Ambiguous::kResend) {
        retry_later();
      } else {
        record.state = InvitationState::kUnknown;
      }
      break;
  }
  return record;
}

Status Dispatcher::PrepareSharedLinks(Batch& batch) {
  for (const auto& [id, c] : batch.campaigns) {
    if (c->link_mode != core::LinkMode::kShared) continue;
    std::string& link = batch.shared_links[id];
    link = c->shared_link;
    if (link.empty() && !batch.stop.stop_requested()) {
      // Held while creating, so that this worker's lanes create one link, not one each.
      std::lock_guard lock(shared_links_mu_);
      std::string& created = shared_links_[id];
      if (created.empty()) {
        telegram::InviteLinkRequest link_request;
        link_request.chat = c->chat;
        link_request.name = c->name.substr(0, 32);
        link_request.member_limit = 0;
        telegram::InviteLinkResult made = batch.messenger->CreateInviteLink(link_request);
        if (made.outcome.ok()) {
          RETURN_IF_ERROR(store_.SetSharedLink(id, made.invite_link));
          created = made.invite_link;
        } else {
          storage::Claim none;
          none.campaign_id = id;
          batch.NoteFailure(none, made.outcome, Millis(clock_.Now()));
        }
      }
      link = created;
    }
    if (link.empty()) {
      std::lock_guard lock(batch.mu);
      batch.fatal_campaigns.emplace(id, "");  // no link yet: its rows wait for the next batch
    }
  }
  return Ok();
}

void Dispatcher::PrepareClaims(Batch& batch) {
  // A bot's member checks all at once on its exchange; what needs more requests (a personal link,
  // a user account's lookup) then runs on the pool's threads, the rest on this one.
  const std::vector<storage::Claim>& claims = batch.claims;
  std::vector<std::optional<telegram::MemberResult>> members = CheckMembers(batch);
  std::vector<size_t> on_threads;
  for (size_t i = 0; i < claims.size(); ++i) {
    if (members[i] && !NeedsLink(batch, claims[i])) {
      PrepareClaim(batch, i, std::move(members[i]));
    } else {
      on_threads.push_back(i);
    }
  }
  pool_->ParallelFor(on_threads.size(), batch.Window(),
                     [&](size_t k) {
                       const size_t i = on_threads[k];
                       PrepareClaim(batch, i, std::move(members[i]));
                     });
}

std::vector<std::optional<telegram::MemberResult>> Dispatcher::CheckMembers(Batch& batch) {
  const std::vector<storage::Claim>& claims = batch.claims;
  std::vector<std::optional<telegram::MemberResult>> members(claims.size());
  if (core::IsUserAccount(batch.work.account.kind)) return members;
  std::unique_ptr<telegram::Exchange> exchange = batch.messenger->OpenExchange();
  if (!exchange) return members;
  // A few at once: each check in flight holds a connection, which the exchange then keeps open.
  const size_t at_once = std::min(batch.Window(), kMemberChecksAtOnce);
  size_t next = 0;
  for (;;) {
    for (; next < claims.size() && exchange->InFlight() < at_once; ++next) {
      if (!claims[next].contact.telegram_user_id || batch.StoppedFor(claims[next])) continue;
      exchange->StartGetChatMember(next, batch.campaigns.at(claims[next].campaign_id)->chat,
                                   *claims[next].contact.telegram_user_id);
    }
    if (exchange->InFlight() == 0) break;
    for (telegram::Exchange::Answer& answer : exchange->Wait(milliseconds(50))) {
      members[answer.tag] =
          telegram::MemberResult{std::move(answer.outcome), std::move(answer.member_status)};
    }
  }
  return members;
}

void Dispatcher::PrepareClaim(Batch& batch, size_t i,
                              std::optional<telegram::MemberResult> checked) {
  const storage::Claim& claim = batch.claims[i];
  const storage::Campaign& campaign = *batch.campaigns.at(claim.campaign_id);
  auto skip = [&](std::string reason) {
    batch.eligible[i] = 0;
    storage::OutcomeRecord skipped = Release(claim);
    skipped.state = InvitationState::kSkipped;
    skipped.error = std::move(reason);
    batch.AddOutcome(std::move(skipped));
  };
  if (batch.StoppedFor(claim)) {
    batch.eligible[i] = 0;
    batch.AddOutcome(Release(claim));
    return;
  }
  if (!claim.contact.telegram_user_id) {
    if (!core::IsUserAccount(batch.work.account.kind)) {
      return skip(std::string(storage::kNoUserIdReason));
    }
    if (!ResolveContact(batch, i)) return;
  }
  // People already in the chat are not invited. If Telegram cannot say, the invitation goes.
  telegram::MemberResult member =
      checked ? std::move(*checked)
              : batch.messenger->GetChatMember(campaign.chat, *claim.contact.telegram_user_id);
  if (member.outcome.ok() && IsMember(member.status)) return skip("already a member");
  if (!NeedsLink(batch, claim)) return;
  telegram::InviteLinkRequest link_request;
  link_request.chat = campaign.chat;
  link_request.name = core::IdentityKey(claim.contact).substr(0, 32);
  const core::Settings& settings = batch.work.campaign_settings.at(claim.campaign_id);
  if (settings.link_expire_after.count() > 0) {
    // link.expire_after: Telegram's expire_date is in whole seconds (rounded up).
    link_request.expire_date =
        (Millis(clock_.Now()) + settings.link_expire_after.count() + 999) / 1000;
  }
  if (campaign.link_mode == core::LinkMode::kJoinRequest) {
    link_request.member_limit = 0;
    link_request.approval = telegram::InviteLinkRequest::Approval::kJoinRequest;
  }
  const int64_t started_at = Millis(clock_.Now());
  telegram::InviteLinkResult link = batch.messenger->CreateInviteLink(link_request);
  if (link.outcome.ok()) {
    batch.new_links[i] = {link.invite_link, link_request.expire_date.value_or(0) * 1000};
    return;
  }
  batch.eligible[i] = 0;
  batch.NoteFailure(claim, link.outcome, Millis(clock_.Now()));
  batch.AddOutcome(FailureRecord(batch, claim, link.outcome, core::RequestKind::kLink, started_at));
}

bool Dispatcher::NeedsLink(const Batch& batch, const storage::Claim& claim) const {
  const storage::Campaign& campaign = *batch.campaigns.at(claim.campaign_id);
  // An add needs no link (a refused one's message will).
  if (campaign.link_mode == core::LinkMode::kShared || AddsMember(batch, claim)) return false;
  if (claim.invite_link.empty()) return true;
  if (claim.link_expires_at == 0) return false;  // it never expires
  const milliseconds expire_after =
      batch.work.campaign_settings.at(claim.campaign_id).link_expire_after;
  // Half its lifetime for the person to use it; once links no longer expire, an hour.
  const milliseconds least_left =
      expire_after.count() > 0 ? expire_after / 2 : milliseconds(std::chrono::hours(1));
  return claim.link_expires_at - Millis(clock_.Now()) < least_left.count();
}

void Dispatcher::SelectSendable(Batch& batch) {
  std::vector<storage::Claim>& claims = batch.claims;
  for (size_t i = 0; i < claims.size(); ++i) {
    if (batch.eligible[i] && !batch.StoppedFor(claims[i])) {
      batch.to_send.push_back(i);
    } else if (batch.eligible[i]) {
      batch.eligible[i] = 0;
      batch.AddOutcome(batch.ReleaseKeepingLink(i));
    }
  }
  const core::TimePoint slots_from = batch.limiter_locked_at > 0
                                         ? core::FromUnixMillis(batch.limiter_locked_at)
                                         : batch.claimed_at;
  // The next claim's lead covers the preparation and the first request's mark.
  ObservePreparation(
      batch.work.account.id,
      std::chrono::duration_cast<milliseconds>(clock_.Now() - slots_from) + MarkLead());
}

std::vector<Dispatcher::Leaving> Dispatcher::MarkLeaving(Batch& batch,
                                                         std::span<const size_t> group) {
  std::vector<storage::SendingMark> marks;
  marks.reserve(group.size());
  for (size_t i : group) {
    const storage::Claim& claim = batch.claims[i];
    marks.push_back(
        {claim.invitation_id, claim.gen, batch.new_links[i].url, batch.new_links[i].expires_at});
  }
  Result<std::vector<bool>> ours = sending_marks_->Mark(marks, batch.work.settings.lease);
  if (!ours) {
    // Not sent; the rows go back to pending when their lease expires (they have no mark).
    std::lock_guard lock(batch.mu);
    if (!batch.mark_error) batch.mark_error = ours.error();
    batch.abort = true;
    return std::vector<Leaving>(group.size(), Leaving::kNotWritten);
  }
  std::vector<Leaving> leaving;
  leaving.reserve(group.size());
  for (bool held : *ours) leaving.push_back(held ? Leaving::kMayLeave : Leaving::kClaimLost);
  return leaving;
}

milliseconds Dispatcher::MarkLead() const {
  // Twice a typical commit, at least 1 ms, and never more than half the lateness a request may
  // have: a crash while a request waits between its mark and its slot makes it `unknown`.
  const auto typical = std::chrono::duration_cast<milliseconds>(
      2 * sending_marks_->TypicalCommit() + std::chrono::microseconds(999));
  return std::clamp(typical, milliseconds(1), kMaxLateness / 4);
}

void Dispatcher::ReslotLate(Batch& batch, CycleReport& report) {
  // A preparation slower than the lead: rows whose slots have passed take new ones rather than be
  // given back and prepared again (a getChatMember each, and a wasted claim). A paced campaign's
  // next invitation moves with its row: given back, its row would also have spent the pacing's
  // gap (minutes, by default) for nothing.
  std::vector<storage::Claim>& claims = batch.claims;
  storage::ReslotRequest reslot;
  std::vector<size_t> late;
  const int64_t marked_at = Millis(clock_.Now());
  for (size_t i : batch.to_send) {
    if (marked_at - claims[i].not_before > kMaxLateness.count() / 2) {
      reslot.rows.push_back({claims[i].invitation_id, claims[i].gen, claims[i].not_before,
                             claims[i].paced ? claims[i].campaign_id : int64_t{0}});
      late.push_back(i);
    }
  }
  if (late.empty()) return;
  reslot.account_id = batch.work.account.id;
  reslot.now = marked_at;
  reslot.clock = [this] { return Millis(clock_.Now()); };
  // The new slots start kMaxLateness from now: the time to commit them and wake the senders.
  // (From now itself, a loaded machine sent a good part of them late all the same.)
  reslot.delay = kMaxLateness;
  reslot.emission_interval = batch.request.emission_interval;
  reslot.chat_interval = batch.request.chat_interval;
  // On an error the rows keep their slots and are given back when sent, as before.
  Result<std::vector<int64_t>> slots = store_.ReslotLate(reslot);
  if (!slots) {
    ++core::Instruments().database_errors;
    spdlog::debug("account {}: late requests keep their slots: {}", batch.work.account.name,
                  slots.error().message);
    return;
  }
  for (size_t k = 0; k < late.size(); ++k) {
    if ((*slots)[k] == 0) continue;
    claims[late[k]].not_before = (*slots)[k];
    ++report.reslotted;
    ++core::Instruments().reslotted;
  }
}

// The requests of a batch on their way, for SendAll's one thread: on the messenger's Exchange
// when it has one (a bot's sends: no thread per request), else each on a pool thread.
class Dispatcher::Flight {
 public:
  Flight(Dispatcher& dispatcher, Batch& batch)
      : dispatcher_(dispatcher), batch_(batch), exchange_(batch.messenger->OpenExchange()) {}
  Flight(const Flight&) = delete;
  Flight& operator=(const Flight&) = delete;
  ~Flight() {  // what is still on its way ends first: its outcome is the batch's
    while (InFlight() > 0) Wait(milliseconds(50));
  }

  // Claim i's request leaves now; it took `taken` in the account's LeavingWindow, which learns
  // when it really left.
  void Start(size_t i, core::TimePoint taken) {
    const storage::Claim& claim = batch_.claims[i];
    LeavingWindow& window = dispatcher_.LeavingWindowOf(batch_.work.account.id);
    if (exchange_ && !dispatcher_.AddsMember(batch_, claim)) {
      started_at_[i] = Millis(dispatcher_.clock_.Now());
      exchange_->StartSend(i, dispatcher_.MessageFor(batch_, i));
      window.Left(taken, dispatcher_.clock_.Now());  // its bytes are with the kernel
      return;
    }
    {
      std::lock_guard lock(mu_);
      ++on_threads_;
    }
    dispatcher_.pool_->Post([this, i, taken, &window] {
      bool sent = false;
      try {
        window.Left(taken, dispatcher_.clock_.Now());  // a busy pool may start it late
        sent = dispatcher_.SendOne(batch_, i);
      } catch (const std::exception& e) {  // its row keeps its mark: `unknown` when rescued
        spdlog::error("account {}: a send failed: {}", batch_.work.account.name, e.what());
      }
      {
        std::lock_guard lock(mu_);
        --on_threads_;
        ++ended_;
        if (sent) ++sent_;
      }
      ended_cv_.notify_all();
    });
  }

  size_t InFlight() {
    std::lock_guard lock(mu_);
    return on_threads_ + (exchange_ ? exchange_->InFlight() : 0);
  }

  // Waits at most `timeout` (real time) for requests to end, notes their outcomes, and returns
  // how many ended.
  size_t Wait(milliseconds timeout) {
    size_t ended = 0;
    if (exchange_ && exchange_->InFlight() > 0) {
      bool threads_too = false;
      {
        std::lock_guard lock(mu_);
        threads_too = on_threads_ > 0 || ended_ > 0;
      }
      // Both kinds at once (never for one account): poll the exchange in short turns.
      for (telegram::Exchange::Answer& answer :
           exchange_->Wait(threads_too ? std::min(timeout, milliseconds(1)) : timeout)) {
        const size_t i = answer.tag;
        telegram::SendResult result{std::move(answer.outcome), answer.message_id};
        core::Instruments().send_seconds.Observe(result.outcome.latency);
        const bool sent = dispatcher_.NoteSent(batch_, i, result, started_at_[i]);
        std::lock_guard lock(mu_);
        if (sent) ++sent_;
        ++ended;
      }
      if (ended > 0 || !threads_too) return ended + TakeEnded();
    }
    std::unique_lock lock(mu_);
    ended_cv_.wait_for(lock, timeout, [this] { return ended_ > 0; });
    return ended + std::exchange(ended_, 0);
  }

  int64_t sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  size_t TakeEnded() {
    std::lock_guard lock(mu_);
    return std::exchange(ended_, 0);
  }

  Dispatcher& dispatcher_;
  Batch& batch_;
  std::unique_ptr<telegram::Exchange> exchange_;
  std::map<size_t, int64_t> started_at_;  // the exchange's requests: when each left
  std::mutex mu_;
  std::condition_variable ended_cv_;
  size_t on_threads_ = 0;  // under mu_
  size_t ended_ = 0;       // under mu_: ended on threads since the last Wait
  int64_t sent_ = 0;       // under mu_
};

void Dispatcher::SendAll(Batch& batch, CycleReport& report) {
  // One thread takes the requests in slot order. Each is marked as leaving a moment before its
  // slot (MarkLead: what the mark's commit takes), together with the others whose slots come
  // within that lead after it, in one commit; it leaves at its slot, and only then: one that
  // would leave more than kMaxLateness after its slot, or while another worker's 429 pauses the
  // account, is given back unsent. A crash leaves as `unknown` only the requests marked by then:
  // those in flight and those about to leave.
  const storage::Account& account = batch.work.account;
  std::vector<size_t>& order = batch.to_send;
  std::stable_sort(order.begin(), order.end(), [&batch](size_t a, size_t b) {
    return batch.claims[a].not_before < batch.claims[b].not_before;  // ReslotLate moves some
  });
  const size_t n = order.size();
  const size_t in_flight = batch.Window();
  int64_t released_late = 0;
  int64_t released_paused = 0;
  std::vector<Leaving> leaving(n, Leaving::kNotWritten);
  std::vector<std::optional<core::TimePoint>> leave_at(n);
  size_t marked = 0;  // order[0, marked) went through their marks
  size_t next = 0;    // the next to leave
  {
    Flight flight(*this, batch);
    // Until `deadline`, collecting the requests that end meanwhile; false when stopped. Returns
    // early when one ends (its outcome may pause the account or a campaign).
    auto wait_until = [&](core::TimePoint deadline) {
      milliseconds waited{0};
      for (;;) {
        if (batch.stop.stop_requested()) return false;
        const auto remaining = std::chrono::duration_cast<milliseconds>(deadline - clock_.Now());
        if (remaining <= milliseconds(0)) return true;
        if (flight.InFlight() == 0) return clock_.SleepUntil(deadline, batch.stop);
        const auto turn = std::min(remaining, milliseconds(50));  // a stop is seen within 50 ms
        const auto started = std::chrono::steady_clock::now();
        if (flight.Wait(turn) > 0) return true;
        waited +=
            std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
        // A clock that does not move with real time (a test's) is moved to the deadline.
        if (waited >= remaining) return clock_.SleepUntil(deadline, batch.stop);
      }
    };
    auto give_back = [&](size_t k) { batch.AddOutcome(batch.ReleaseKeepingLink(order[k])); };
    while (next < n) {
      const size_t i = order[next];
      const storage::Claim& claim = batch.claims[i];
      const core::TimePoint slot = core::FromUnixMillis(claim.not_before);
      if (batch.StoppedFor(claim)) {
        if (next >= marked || leaving[next] != Leaving::kClaimLost) give_back(next);
        ++next;
        continue;
      }
      if (next >= marked) {
        // Its mark, with those whose slots come within the lead after it.
        const milliseconds lead = MarkLead();
        if (slot - lead > clock_.Now()) {
          wait_until(slot - lead);
          continue;
        }
        if (FloodPaused(account.id)) {
          ++released_paused;
          give_back(next++);
          marked = next;
          continue;
        }
        size_t end = next + 1;
        while (end < n && batch.claims[order[end]].not_before <= claim.not_before + lead.count()) {
          ++end;
        }
        const std::span<const size_t> group(order.data() + next, end - next);
        std::vector<Leaving> results = MarkLeaving(batch, group);
        std::copy(results.begin(), results.end(), leaving.begin() + static_cast<ptrdiff_t>(next));
        marked = end;
        continue;
      }
      if (leaving[next] == Leaving::kClaimLost) {  // someone else's now: nothing to record
        ++next;
        continue;
      }
      if (leaving[next] == Leaving::kNotWritten) {
        give_back(next++);
        continue;
      }
      if (flight.InFlight() >= in_flight) {  // the window first: its answers may stop this one
        flight.Wait(milliseconds(50));
        continue;
      }
      if (slot > clock_.Now()) {
        wait_until(slot);
        continue;
      }
      if (!leave_at[next]) {
        if (FloodPaused(account.id)) {
          ++released_paused;
          give_back(next++);
          continue;
        }
        // When it may leave: at its slot, unless the account's last `rate` requests left so late
        // that it would make more than `rate` in a second.
        leave_at[next] = LeavingWindowOf(account.id)
                             .Take(clock_.Now(), batch.work.settings.rate, slot + kMaxLateness);
        if (!leave_at[next]) {
          ++released_late;
          give_back(next++);
          continue;
        }
      }
      if (*leave_at[next] > clock_.Now()) {
        wait_until(*leave_at[next]);
        continue;
      }
      flight.Start(i, *leave_at[next]);
      ++next;
    }
    while (flight.InFlight() > 0) flight.Wait(milliseconds(50));
    report.sent += flight.sent();
  }
  report.released_late += released_late;
  report.released_paused += released_paused;
  core::Instruments().given_back_late += released_late;
  core::Instruments().given_back_paused += released_paused;
  if (released_late > 0) {
    spdlog::debug("account {}: {} requests given back unsent: their slot had passed", account.name,
                  released_late);
  }
}

telegram::InvitationMessage Dispatcher::MessageFor(const Batch& batch, size_t i) const {
  const storage::Claim& claim = batch.claims[i];
  const storage::Campaign& campaign = *batch.campaigns.at(claim.campaign_id);
  std::string link = batch.new_links[i].url;
  if (link.empty()) link = claim.invite_link;
  if (auto shared = batch.shared_links.find(campaign.id);
      link.empty() && shared != batch.shared_links.end()) {
    link = shared->second;
  }
  const core::MessageTemplate& text = batch.work.templates.at(claim.campaign_id);
  telegram::InvitationMessage message;
  message.user_id = claim.contact.telegram_user_id.value_or(0);
  message.text = text.Render({claim.contact.first_name, claim.contact.last_name,
                              claim.contact.username, link, campaign.name});
  if (!text.uses("link")) {
    message.button_text = "Join";
    message.button_url = link;
  }
  return message;
}

bool Dispatcher::SendOne(Batch& batch, size_t i) {
  const storage::Claim& claim = batch.claims[i];
  if (AddsMember(batch, claim)) return AddOne(batch, i);
  const telegram::InvitationMessage message = MessageFor(batch, i);
  const int64_t started_at = Millis(clock_.Now());
  telegram::SendResult result = [&] {
    core::ScopedTimer timer(core::Instruments().send_seconds);
    return batch.messenger->SendInvitation(message);
  }();
  return NoteSent(batch, i, result, started_at);
}

bool Dispatcher::NoteSent(Batch& batch, size_t i, const telegram::SendResult& result,
                          int64_t started_at) {
  const storage::Claim& claim = batch.claims[i];
  if (result.outcome.ok()) {
    storage::OutcomeRecord record;
    record.invitation_id = claim.invitation_id;
    record.gen = claim.gen;
    record.state = InvitationState::kSent;
    record.attempt =
        AttemptOf(options_.worker_id, core::RequestKind::kSend, started_at, result.outcome);
    batch.AddOutcome(std::move(record));
    return true;
  }
  const int64_t answered_at = Millis(clock_.Now());
  batch.NoteFailure(claim, result.outcome, answered_at);
  if (result.outcome.kind == OutcomeKind::kFlood) {
    // The other workers see the pause before their next send, not at the end of this batch.
    const int64_t until =
        answered_at + std::chrono::duration_cast<milliseconds>(result.outcome.retry_after).count();
    if (store_.PauseAccount(batch.work.account.id, until)) {
      std::lock_guard lock(flood_.mu);
      int64_t& known = flood_.until[batch.work.account.id];
      known = std::max(known, until);
    }
  }
  batch.AddOutcome(
      FailureRecord(batch, claim, result.outcome, core::RequestKind::kSend, started_at));
  return false;
}

Status Dispatcher::RecordBatch(Batch& batch) {
  // Pauses first, so that no claim runs before them, then the outcomes, which are recorded
  // whatever became of the pauses.
  const storage::Account& account = batch.work.account;
  Status paused;
  auto keep_first_error = [&paused](Status written) {
    if (!written && paused) paused = std::move(written);
  };
  if (batch.flood_until > 0) {
    spdlog::warn("account {}: flood control: paused for {} ms", account.name,
                 batch.flood_until - Millis(clock_.Now()));
    keep_first_error(
        RetryWrite([&] { return store_.PauseAccount(account.id, batch.flood_until); }));
  }
  for (const auto& [campaign_id, reason] : batch.fatal_campaigns) {
    if (reason.empty()) continue;
    // The store logs the pause, by the engine, once it is written.
    const int64_t id = campaign_id;  // clang before 16 cannot capture a structured binding
    const std::string why = reason;
    keep_first_error(RetryWrite([&] { return store_.PauseCampaignFor(id, why); }));
  }
  if (!batch.account_fatal.empty()) {
    spdlog::error("account {}: cannot send: {}", account.name, batch.account_fatal);
    keep_first_error(RetryWrite([&] {
      return store_.SetAccountHealth(account.id, batch.account_health, batch.account_fatal);
    }));
  }
  // A lookup goes with its invitation's outcome (every claim ends with one).
  for (auto& [invitation_id, attempt] : batch.lookups) {
    auto outcome = std::find_if(
        batch.outcomes.begin(), batch.outcomes.end(),
        [id = invitation_id](const storage::OutcomeRecord& o) { return o.invitation_id == id; });
    if (outcome != batch.outcomes.end()) outcome->earlier_attempts.push_back(std::move(attempt));
  }
  // These requests happened: their outcomes are kept until they are recorded.
  RETURN_IF_ERROR(RetryWrite([&]() -> Status {
    RETURN_IF_ERROR(store_.RecordOutcomes(batch.outcomes, Millis(clock_.Now())));
    return Ok();
  }));
  return paused;
}

milliseconds Dispatcher::LeadFor(int64_t account_id) {
  std::lock_guard lock(lead_mu_);
  auto it = leads_.find(account_id);
  return it == leads_.end() ? milliseconds(0) : it->second;
}

void Dispatcher::ObservePreparation(int64_t account_id, milliseconds took) {
  std::lock_guard lock(lead_mu_);
  milliseconds& lead = leads_[account_id];
  // A quarter more than the last preparation, or a slowly decaying earlier maximum. (The first
  // claim has none: its late rows take new slots, and the next claims start later.)
  const milliseconds grown = took + (took + milliseconds(3)) / 4;
  lead = std::min(std::max(grown, lead * 7 / 8), kMaxLead);
}

bool Dispatcher::FloodPaused(int64_t account_id) {
  std::lock_guard lock(flood_.mu);
  const core::TimePoint now = clock_.Now();
  if (!flood_.ok || now - flood_.read_at > kFloodRecheck) {
    Result<std::map<int64_t, int64_t>> pauses = store_.FloodPauses();
    // When the pauses cannot be read, the request does not go: it is claimed again later.
    flood_.read_at = clock_.Now();
    flood_.ok = pauses.has_value();
    if (pauses) flood_.until = std::move(*pauses);
  }
  if (!flood_.ok) return true;
  auto until = flood_.until.find(account_id);
  return until != flood_.until.end() && until->second > Millis(now);
}

Status Dispatcher::RetryWrite(const std::function<Status()>& write) {
  milliseconds backoff(50);
  const core::TimePoint give_up = clock_.Now() + std::chrono::seconds(60);
  for (;;) {
    Status written = write();
    if (written) return written;
    ++core::Instruments().database_errors;
    if (clock_.Now() >= give_up) return written;
    SetHealth(HealthState::kDegraded, written.error().message);
    clock_.SleepUntil(clock_.Now() + backoff, {});
    backoff = std::min(backoff * 2, milliseconds(2000));
  }
}

Status Dispatcher::PollUpdatesOnce(std::chrono::seconds timeout, std::stop_token stop) {
  ASSIGN_OR_RETURN(std::vector<storage::Account> accounts, store_.ListAccounts());
  ASSIGN_OR_RETURN(core::ResolvedSettings global,
                   storage::LoadResolvedSettings(store_, std::nullopt));
  bool long_polled = false;
  for (const storage::Account& account : accounts) {
    if (stop.stop_requested()) break;
    if (!account.CanSend()) continue;
    if (!MessengerFor(account, global.settings).HostedHere()) continue;  // its session is elsewhere
    const bool polls = account.updates_via == core::UpdatesVia::kPoll;
    // One worker per bot reads and applies its updates (a second getUpdates ends the first with
    // 409 Conflict, and a join request is approved once): a lease that outlives this round by a
    // margin, taken or renewed right before it. Accounts whose updates come by webhook or
    // forwarding have them in the inbox already; the lease still picks one worker to apply them.
    const std::chrono::seconds round = polls ? timeout : std::chrono::seconds(0);
    if (!HoldsUpdatesLease(account.id, round + std::chrono::seconds(15))) continue;
    telegram::Messenger& messenger = MessengerFor(account, global.settings);
    LearnBotUsername(account, messenger);
    if (messenger.IsRehearsal() && Due(expected_starts_told_[account.id], kExpectStartsEvery)) {
      // The simulator presses Start for some of the links that are out.
      if (auto waiting = store_.AwaitingStarts(account.id, 500); waiting && !waiting->empty()) {
        std::vector<telegram::ExpectedStart> expected;
        for (storage::AwaitingStart& w : *waiting) {
          expected.push_back({std::move(w.start_key), std::move(w.username)});
        }
        messenger.ExpectStarts(expected);
      }
    }
    if (polls) {
      long_polled = true;
      RETURN_IF_ERROR(PollAccount(account, messenger, timeout));
    }
    RETURN_IF_ERROR(ApplyInbox(account, messenger));
    RETURN_IF_ERROR(RetryStartWaitsOf(account.id));
  }
  long_polled_ = long_polled;
  return Ok();
}

Status Dispatcher::PollAccount(const storage::Account& account, telegram::Messenger& messenger,
                               std::chrono::seconds timeout) {
  telegram::UpdatesResult updates = messenger.GetUpdates(account.updates_offset, timeout);
  {
    std::lock_guard lock(updates_mu_);
    std::string& last = updates_errors_[account.id];
    const std::string now_failing = updates.outcome.ok() ? "" : updates.outcome.description;
    if (now_failing != last && !now_failing.empty()) {
      spdlog::warn("account {}: cannot read updates, so starts, joins and blocks go unseen: {}",
                   account.name, now_failing);
    }
    last = now_failing;
  }
  if (!updates.outcome.ok() || updates.updates.empty()) return Ok();
  std::vector<storage::InboxUpdate> rows;
  int64_t next_offset = account.updates_offset;
  for (const telegram::Update& update : updates.updates) {
    next_offset = std::max(next_offset, update.update_id + 1);
    rows.push_back(ToInbox(update));
  }
  // The offset moves with the rows: an update is confirmed to Telegram only once it is kept.
  RETURN_IF_ERROR(store_.IngestUpdates(account.id, rows, next_offset));
  return Ok();
}

Status Dispatcher::ApplyInbox(const storage::Account& account, telegram::Messenger& messenger) {
  using Kind = storage::InboxUpdate::Kind;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::InboxUpdate> inbox,
                     store_.PendingUpdates(account.id, kInboxBatch));
    if (inbox.empty()) return Ok();
    storage::UpdateEffects effects;
    std::map<int64_t, const storage::InboxUpdate*> starts;
    for (const storage::InboxUpdate& update : inbox) {
      effects.processed.push_back(update.update_id);
      const bool joined = IsMember(update.new_status) && !IsMember(update.old_status);
      if (update.kind == Kind::kChatMember && joined) {
        effects.membership.push_back({storage::MembershipEvent::Kind::kJoined, update.chat_id,
                                      update.user_id, update.invite_link, update.update_id});
      } else if (update.kind == Kind::kMyChatMember && update.chat_id == update.user_id &&
                 update.new_status == "kicked") {
        effects.membership.push_back({storage::MembershipEvent::Kind::kBlockedBot, update.chat_id,
                                      update.user_id, "", update.update_id});
      } else if (update.kind == Kind::kJoinRequest) {
        ASSIGN_OR_RETURN(bool invited,
                         store_.IsInvitedJoinRequest(account.id, update.chat_id, update.user_id,
                                                     update.invite_link));
        if (!invited) continue;
        telegram::Outcome approved =
            messenger.ApproveJoinRequest(std::to_string(update.chat_id), update.user_id);
        if (approved.ok()) {
          effects.membership.push_back({storage::MembershipEvent::Kind::kJoined, update.chat_id,
                                        update.user_id, update.invite_link, update.update_id});
        }
      } else if (update.kind == Kind::kStart) {
        effects.starts.push_back(
            {update.update_id, update.user_id, update.username, update.start_payload});
        starts[update.update_id] = &update;
      }
    }
    ASSIGN_OR_RETURN(std::vector<storage::StartResult> results,
                     store_.ApplyUpdates(account.id, effects));
    for (const storage::StartResult& result : results) {
      ++core::Instruments().starts[static_cast<size_t>(result.match)];
      const storage::InboxUpdate& start = *starts.at(result.update_id);
      const std::string who = fmt::format("user {}{}", start.user_id,
                                          start.start_payload.empty() ? " (bare /start)" : "");
      if (result.match == storage::StartMatch::kLinked) {
        spdlog::info("account {}: {} pressed Start: {} invitation(s) queued", account.name, who,
                     result.queued);
      } else {
        spdlog::info("account {}: /start from {} left alone: {}", account.name, who,
                     storage::ToString(result.match));
      }
    }
    if (inbox.size() < static_cast<size_t>(kInboxBatch)) return Ok();
  }
}

bool Dispatcher::Due(core::TimePoint& last, std::chrono::milliseconds every) const {
  const core::TimePoint now = clock_.Now();
  if (last != core::TimePoint{} && now - last < every) return false;
  last = now;
  return true;
}

Status Dispatcher::RetryStartWaitsOf(int64_t account_id) {
  if (!Due(start_waits_retried_[account_id], kStartWaitsRetry)) return Ok();
  ASSIGN_OR_RETURN(int64_t linked, store_.RetryStartWaits(account_id));
  if (linked > 0) spdlog::info("{} earlier /start(s) matched contacts imported since", linked);
  return Ok();
}

void Dispatcher::LearnBotUsername(const storage::Account& account, telegram::Messenger& messenger) {
  if (!account.bot_username.empty() || !Due(username_asked_[account.id], kUsernameRetry)) return;
  telegram::BotIdentityResult me = messenger.GetMe();
  if (!me.outcome.ok() || me.bot.username.empty()) return;
  if (Status saved = store_.SetBotUsername(account.id, me.bot.username); !saved) {
    spdlog::warn("account {}: cannot keep the bot's username: {}", account.name,
                 saved.error().message);
  }
}

bool Dispatcher::HoldsUpdatesLease(int64_t account_id, std::chrono::seconds lease) {
  const core::TimePoint now = clock_.Now();
  Result<bool> held =
      store_.LeaseUpdates(account_id, options_.worker_id, Millis(now), Millis(now + lease));
  std::lock_guard lock(updates_mu_);
  // When the lease cannot be read, this worker polls only if it held the lease last time.
  bool& last = updates_leases_[account_id];
  if (held) last = *held;
  return last;
}

void Dispatcher::GiveUpUpdatesLeases() {
  std::map<int64_t, bool> leases;
  {
    std::lock_guard lock(updates_mu_);
    leases.swap(updates_leases_);
  }
  const int64_t now = Millis(clock_.Now());
  for (const auto& [account_id, held] : leases) {
    if (held) (void)store_.LeaseUpdates(account_id, options_.worker_id, now, now);
  }
}

bool Dispatcher::OnlyBlockedWorkLeft() {
  Result<std::vector<storage::CampaignSummary>> campaigns = store_.ListCampaigns();
  Result<std::vector<storage::Account>> accounts = store_.ListAccounts();
  if (!campaigns || !accounts) return false;
  for (const storage::CampaignSummary& s : *campaigns) {
    if (s.campaign.state != core::CampaignState::kRunning) continue;
    const int64_t left = s.counts[InvitationState::kPending] + s.counts[InvitationState::kWaiting] +
                         s.counts[InvitationState::kSending];
    if (left == 0) continue;
    for (const storage::Account& a : *accounts) {
      if (a.id == s.campaign.account_id && a.CanSend()) return false;
    }
  }
  return true;
}

void Dispatcher::Heartbeat() {
  Health now = health();
  storage::WorkerInfo info{options_.worker_id,   options_.host,
                           options_.pid,         started_at_,
                           Millis(clock_.Now()), std::string(ToString(now.state)),
                           now.reason,           0};
  (void)store_.Heartbeat(info);  // best effort: a busy database must not stop the worker
}

Status Dispatcher::RevokeLinksOnce(std::stop_token stop) {
  ASSIGN_OR_RETURN(std::vector<storage::Account> accounts, store_.ListAccounts());
  ASSIGN_OR_RETURN(core::ResolvedSettings global,
                   storage::LoadResolvedSettings(store_, std::nullopt));
  const core::Settings& s = global.settings;
  for (const storage::Account& account : accounts) {
    if (stop.stop_requested()) break;
    if (!account.CanSend()) continue;
    if (account.flood_until > Millis(clock_.Now())) continue;
    telegram::Messenger& messenger = MessengerFor(account, s);
    if (!messenger.HostedHere()) continue;
    storage::LinkRevokeClaim claim;
    claim.account_id = account.id;
    claim.worker = options_.worker_id;
    claim.now = Millis(clock_.Now());
    claim.limit = std::max(s.in_flight, 1);
    claim.emission_interval = EmissionInterval(s.rate);
    claim.lease = s.lease + s.http_timeout;
    ASSIGN_OR_RETURN(std::vector<storage::LinkToRevoke> links, store_.ClaimLinksToRevoke(claim));
    std::vector<storage::LinkRevocation> done;
    int64_t flood_until = 0;
    for (const storage::LinkToRevoke& link : links) {
      if (!clock_.SleepUntil(core::TimePoint(milliseconds(link.slot)), stop)) break;
      const int64_t started_at = Millis(clock_.Now());
      telegram::Outcome outcome = messenger.RevokeInviteLink(link.chat, link.invite_link);
      storage::LinkRevocation revocation;
      revocation.invitation_id = link.invitation_id;
      revocation.attempt =
          AttemptOf(options_.worker_id, core::RequestKind::kRevokeLink, started_at, outcome);
      const int64_t now = Millis(clock_.Now());
      auto retry_at = [&](int64_t at) {
        revocation.result = storage::LinkRevocation::Result::kRetry;
        revocation.retry_at = at;
      };
      switch (outcome.kind) {
        case telegram::OutcomeKind::kOk:
        case telegram::OutcomeKind::kPermanent:
        case telegram::OutcomeKind::kCampaignFatal:
          // Revoked, or nothing a retry could change (revoked or expired already, no rights
          // in the chat any more): recorded, and not tried again.
          break;
        case telegram::OutcomeKind::kFlood:
          flood_until =
              std::max(flood_until,
                       now + std::chrono::duration_cast<milliseconds>(outcome.retry_after).count());
          retry_at(flood_until);
          break;
        case telegram::OutcomeKind::kAccountFatal:
          spdlog::error("account {}: cannot revoke links: {}", account.name, outcome.description);
          RETURN_IF_ERROR(RetryWrite([&] {
            return store_.SetAccountHealth(account.id, core::AccountHealth::kUnauthorized,
                                           outcome.description);
          }));
          retry_at(now + s.backoff_base.count());
          break;
        case telegram::OutcomeKind::kTransient:
        case telegram::OutcomeKind::kAmbiguous:
          if (link.tries + 1 < s.max_attempts) {
            std::lock_guard lock(random_mu_);
            retry_at(
                now +
                FullJitterBackoff(s.backoff_base, s.backoff_cap, link.tries + 1, random_).count());
          }  // else given up: recorded, like an invitation that failed max_attempts times
          break;
      }
      done.push_back(std::move(revocation));
      if (flood_until > 0 || outcome.kind == telegram::OutcomeKind::kAccountFatal) break;
    }
    if (flood_until > 0) {
      RETURN_IF_ERROR(RetryWrite([&] { return store_.PauseAccount(account.id, flood_until); }));
    }
    // Links claimed but not tried (a stop, a pause) are tried again once their lease passed.
    if (!done.empty()) {
      RETURN_IF_ERROR(RetryWrite([&]() -> Status {
        RETURN_IF_ERROR(store_.RecordLinkRevocations(done, Millis(clock_.Now())));
        return Ok();
      }));
    }
  }
  return Ok();
}

void Dispatcher::PollLoop(std::stop_token stop) {
  milliseconds backoff(200);
  while (!stop.stop_requested()) {
    if (Status revoked = RevokeLinksOnce(stop); !revoked) {
      spdlog::warn("revoke links: {}", revoked.error().message);
    }
    Status polled = PollUpdatesOnce(options_.updates_timeout, stop);
    if (polled) {
      backoff = milliseconds(200);
      // A long poll waited already; without one (webhook or forwarded updates only), the inbox
      // is looked at every second.
      const milliseconds pause = long_polled_ ? milliseconds(100) : milliseconds(1000);
      if (!clock_.SleepUntil(clock_.Now() + pause, stop)) return;
      continue;
    }
    spdlog::warn("poll updates: {}", polled.error().message);
    if (!clock_.SleepUntil(clock_.Now() + backoff, stop)) return;
    backoff = std::min(backoff * 2, milliseconds(10000));
  }
}

struct Dispatcher::AccountLoop {
  std::mutex mu;
  std::shared_ptr<const AccountWork> work;  // what the lanes send; replaced by each plan
  bool paused = false;                      // the last batch found a flood pause
  std::string error;                        // the last batch's error; empty after a success
  std::vector<std::jthread> lanes;          // declared last: joined before the rest goes
};

void Dispatcher::NoteCycleError(const std::string& message) {
  ++core::Instruments().database_errors;
  std::lock_guard lock(error_mu_);
  if (message != last_logged_error_) {
    spdlog::error("cycle failed, retrying with backoff: {}", message);
    last_logged_error_ = message;
  }
}

void Dispatcher::NoteRecovered() {
  std::lock_guard lock(error_mu_);
  if (!last_logged_error_.empty()) {
    spdlog::info("recovered: cycles succeed again");
    last_logged_error_.clear();
  }
}

void Dispatcher::LaneLoop(AccountLoop& loop, int lane, std::stop_token stop) {
  milliseconds backoff(100);
  while (!stop.stop_requested()) {
    std::shared_ptr<const AccountWork> work;
    {
      std::lock_guard lock(loop.mu);
      work = loop.work;
    }
    const int lanes = std::clamp(work->settings.in_flight, 1, kLanesPerAccount);
    if (lane >= lanes) {  // a window too small to share: this lane waits
      if (!clock_.SleepUntil(clock_.Now() + kPlanInterval, stop)) return;
      continue;
    }
    CycleReport report;
    Status done = ProcessAccount(*work, lanes, stop, report);
    {
      std::lock_guard lock(loop.mu);
      loop.paused = report.paused_accounts > 0;
      loop.error = done ? "" : done.error().message;
    }
    if (!done) {
      NoteCycleError(done.error().message);
      if (!clock_.SleepUntil(clock_.Now() + backoff, stop)) return;
      backoff = std::min(backoff * 2, milliseconds(5000));
      continue;
    }
    backoff = milliseconds(100);
    if (report.claimed > 0) continue;  // straight on to the next batch
    // Nothing due yet: wait for the next slot, a flood pause's end, or a new plan.
    core::TimePoint wake = clock_.Now() + milliseconds(1000);
    if (report.next_due != core::TimePoint{}) {
      wake = std::min(wake, std::max(report.next_due, clock_.Now() + milliseconds(5)));
    }
    if (!clock_.SleepUntil(wake, stop)) return;
  }
}

int Dispatcher::Run(std::stop_token stop) {
  std::jthread poller([this](std::stop_token poll_stop) { PollLoop(poll_stop); });
  std::stop_callback stop_poller(stop, [&poller] { poller.request_stop(); });
  std::map<int64_t, std::unique_ptr<AccountLoop>> loops;
  auto stop_loop = [](AccountLoop& loop) {
    for (std::jthread& lane : loop.lanes) lane.request_stop();
    loop.lanes.clear();  // joins: unsent claims are given back and outcomes recorded first
  };
  milliseconds backoff(100);
  int exit_code = 0;
  while (!stop.stop_requested()) {
    Result<Plan> plan = MakePlan();
    if (!plan) {
      NoteCycleError(plan.error().message);
      SetHealth(HealthState::kDegraded, plan.error().message);
      Heartbeat();
      if (!clock_.SleepUntil(clock_.Now() + backoff, stop)) break;
      backoff = std::min(backoff * 2, milliseconds(5000));
      continue;
    }
    backoff = milliseconds(100);

    // Lanes for accounts that gained work, new work for the others, none for those without.
    for (auto it = loops.begin(); it != loops.end();) {
      if (plan->work.count(it->first) > 0) {
        ++it;
        continue;
      }
      stop_loop(*it->second);
      it = loops.erase(it);
    }
    for (auto& [account_id, account_work] : plan->work) {
      std::unique_ptr<AccountLoop>& loop = loops[account_id];
      if (!loop) loop = std::make_unique<AccountLoop>();
      {
        std::lock_guard lock(loop->mu);
        loop->work = std::move(account_work);
      }
      while (loop->lanes.size() < static_cast<size_t>(kLanesPerAccount)) {
        loop->lanes.emplace_back(
            [this, raw = loop.get(), lane = static_cast<int>(loop->lanes.size())](
                std::stop_token lane_stop) { LaneLoop(*raw, lane, lane_stop); });
      }
    }

    // Health: the first error or blocked account, else paused when every account is.
    std::string error;
    int64_t paused = 0;
    for (auto& [account_id, loop] : loops) {
      std::lock_guard lock(loop->mu);
      if (error.empty()) error = loop->error;
      paused += loop->paused ? 1 : 0;
    }
    if (!error.empty()) {
      SetHealth(HealthState::kDegraded, error);
    } else if (!plan->blocked_accounts.empty()) {
      SetHealth(HealthState::kDegraded, plan->blocked_accounts.front());
    } else if (!loops.empty() && paused == static_cast<int64_t>(loops.size())) {
      SetHealth(HealthState::kPaused, "flood control: every account with work is paused");
    } else {
      SetHealth(HealthState::kOk, "");
      NoteRecovered();
    }
    Heartbeat();

    if (options_.until == DispatcherOptions::Until::kIdle) {
      Result<bool> outstanding = store_.HasOutstandingWork();
      if (outstanding && !*outstanding) break;
      if (outstanding && !plan->blocked_accounts.empty() && OnlyBlockedWorkLeft()) {
        // Nothing left can ever be sent without an operator: waiting for idle would never end.
        for (const std::string& blocked : plan->blocked_accounts) spdlog::error("{}", blocked);
        spdlog::error("invitations are left that no account can send; stopping");
        exit_code = 1;
        break;
      }
    }
    if (!clock_.SleepUntil(clock_.Now() + kPlanInterval, stop)) break;
  }
  for (auto& [account_id, loop] : loops) {  // all at once, then wait for each
    for (std::jthread& lane : loop->lanes) lane.request_stop();
  }
  loops.clear();
  poller.request_stop();
  poller.join();
  GiveUpUpdatesLeases();  // so that another worker takes over the polling at once
  storage::WorkerInfo info{options_.worker_id,   options_.host, options_.pid, started_at_,
                           Millis(clock_.Now()), "stopped",     "",           Millis(clock_.Now())};
  (void)store_.Heartbeat(info);
  return exit_code;
}

}  // namespace tginvite::dispatch
