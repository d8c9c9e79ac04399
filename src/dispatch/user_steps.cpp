// The dispatcher's steps that a user account takes: its daily cap (which a bot takes too once
// pacing.daily_cap is set), finding a contact by @username or phone, and adding a contact to the
// chat. Each request is one recorded attempt;
// an add, like a message, leaves only under its row's write-ahead `sending` mark, so a crash
// never repeats it.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/instruments.h"
#include "dispatch/batch.h"
#include "dispatch/dispatcher.h"

namespace tginvite::dispatch {
namespace {

using core::InvitationState;
using std::chrono::milliseconds;

constexpr int64_t kDayMillis = 24 * 3600 * 1000;

int64_t NowMillis(const core::Clock& clock) { return core::ToUnixMillis(clock.Now()); }

}  // namespace

Result<bool> Dispatcher::WithinDailyCap(Batch& batch, CycleReport& report) {
  // A bot honours pacing.daily_cap only when it is set: its default caps user accounts alone.
  const int cap = core::IsUserAccount(batch.work.account.kind) ? batch.work.settings.daily_cap
                                                               : batch.work.settings.bot_daily_cap;
  if (cap <= 0) return true;
  const int64_t now = NowMillis(clock_);
  constexpr std::array kContacting = {core::RequestKind::kSend, core::RequestKind::kAdd};
  ASSIGN_OR_RETURN(storage::Store::AttemptUsage used,
                   store_.CountAttempts(batch.work.account.id, kContacting, now - kDayMillis));
  if (used.count < cap) {
    batch.request.max_rows =
        static_cast<int>(std::min<int64_t>(batch.request.max_rows, cap - used.count));
    return true;
  }
  // The cap frees up one contact at a time, 24 h after each.
  const int64_t frees_at = std::max(now + 1000, used.oldest + kDayMillis);
  report.next_due = core::FromUnixMillis(frees_at);
  const core::SettingWarning capped = {
      "daily_cap:" + batch.work.account.name + ":" + std::to_string(frees_at / kDayMillis),
      fmt::format("account {}: pacing.daily_cap ({}) reached: the next contact in {} min",
                  batch.work.account.name, cap, (frees_at - now) / 60'000)};
  if (warn_once_.ShouldWarn(capped)) spdlog::info("{}", capped.message);
  return false;
}

bool Dispatcher::ResolveContact(Batch& batch, size_t i) {
  storage::Claim& claim = batch.claims[i];
  auto give_back = [&] {
    batch.eligible[i] = 0;
    batch.AddOutcome(Release(claim));
  };
  const bool by_phone = claim.contact.username.empty();
  if (by_phone) {
    // importContacts has very tight limits: tdlib.import_contacts_per_day, counted in the
    // attempts (so a restart keeps the count) plus this batch's own.
    const int64_t now = NowMillis(clock_);
    constexpr std::array kImports = {core::RequestKind::kImport};
    Result<storage::Store::AttemptUsage> used =
        store_.CountAttempts(batch.work.account.id, kImports, now - kDayMillis);
    std::lock_guard lock(batch.mu);
    if (!used || used->count + batch.imports >= batch.work.settings.import_contacts_per_day) {
      batch.eligible[i] = 0;
      storage::OutcomeRecord later = Release(claim);
      later.state = InvitationState::kWaiting;
      later.next_attempt_at = now + (used ? std::max<int64_t>(60'000, used->oldest + kDayMillis - now)
                                          : 60'000);
      later.error = used ? "tdlib.import_contacts_per_day reached: looked up by phone later"
                         : "the attempts could not be counted: " + used.error().message;
      batch.outcomes.push_back(std::move(later));
      return false;
    }
    ++batch.imports;
  }
  telegram::ContactLookup lookup;
  lookup.username = claim.contact.username;
  lookup.phone = claim.contact.phone;
  lookup.first_name = claim.contact.first_name;
  lookup.last_name = claim.contact.last_name;
  const core::RequestKind request = by_phone ? core::RequestKind::kImport : core::RequestKind::kResolve;
  const int64_t started_at = NowMillis(clock_);
  telegram::LookupResult found = batch.messenger->FindUser(lookup);
  storage::AttemptRecord attempt = AttemptOf(options_.worker_id, request, started_at, found.outcome);
  if (!found.outcome.ok()) {
    batch.eligible[i] = 0;
    batch.NoteFailure(claim, found.outcome, NowMillis(clock_));
    storage::OutcomeRecord failed = FailureRecord(batch, claim, found.outcome, request, started_at);
    if (found.outcome.reason == telegram::PermanentReason::kNotFound) {
      failed.error = by_phone ? "not found on Telegram by phone number: " + found.outcome.description
                              : "no such @username: " + found.outcome.description;
    }
    batch.AddOutcome(std::move(failed));
    return false;
  }
  Result<bool> linked = store_.SetResolvedUserId(claim.invitation_id, found.user_id);
  if (!linked) {
    spdlog::debug("invitation {}: the user id found could not be stored: {}", claim.invitation_id,
                  linked.error().message);
    give_back();
    return false;
  }
  std::lock_guard lock(batch.mu);
  batch.lookups.push_back({claim.invitation_id, std::move(attempt)});
  if (!*linked) {
    batch.eligible[i] = 0;
    storage::OutcomeRecord skipped = Release(claim);
    skipped.state = InvitationState::kSkipped;
    skipped.error = "the same Telegram user as another contact";
    batch.outcomes.push_back(std::move(skipped));
    return false;
  }
  claim.contact.telegram_user_id = found.user_id;
  return true;
}

bool Dispatcher::AddsMember(const Batch& batch, const storage::Claim& claim) const {
  const storage::Campaign& campaign = *batch.campaigns.at(claim.campaign_id);
  return core::IsUserAccount(batch.work.account.kind) &&
         campaign.method != core::DeliveryMethod::kMessage && claim.step == storage::kFirstStep;
}

bool Dispatcher::AddOne(Batch& batch, size_t i) {
  const storage::Claim& claim = batch.claims[i];
  const storage::Campaign& campaign = *batch.campaigns.at(claim.campaign_id);
  const int64_t started_at = NowMillis(clock_);
  telegram::AddMemberResult added = [&] {
    core::ScopedTimer timer(core::Instruments().send_seconds);
    return batch.messenger->AddChatMember(campaign.chat, claim.contact.telegram_user_id.value_or(0));
  }();
  storage::OutcomeRecord record;
  record.invitation_id = claim.invitation_id;
  record.gen = claim.gen;
  record.attempt = AttemptOf(options_.worker_id, core::RequestKind::kAdd, started_at, added.outcome);
  if (added.outcome.ok()) {
    record.state = InvitationState::kJoined;  // in the chat now: nothing to wait for
    if (added.already_member) record.error = "already a member";
    batch.AddOutcome(std::move(record));
    return true;
  }
  if (added.outcome.kind == OutcomeKind::kPermanent &&
      added.outcome.reason == telegram::PermanentReason::kPrivacy) {
    if (campaign.method == core::DeliveryMethod::kAddThenMessage) {
      // Their privacy refuses adds: the personal link goes in a message instead, as its own
      // fenced step (claimed again at once, paced like any message).
      record.state = InvitationState::kPending;
      record.next_step = storage::kMessageStep;
      record.next_attempt_at = 0;
      record.count = storage::AttemptCount::kNotCounted;
    } else {
      record.state = InvitationState::kFailed;
      record.error = "their privacy settings do not allow adding them";
    }
    batch.AddOutcome(std::move(record));
    return false;
  }
  batch.NoteFailure(claim, added.outcome, NowMillis(clock_));
  batch.AddOutcome(
      FailureRecord(batch, claim, added.outcome, core::RequestKind::kAdd, started_at));
  return false;
}

}  // namespace tginvite::dispatch
