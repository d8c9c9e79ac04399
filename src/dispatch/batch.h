// The dispatcher's batch of one account, shared by the steps in dispatcher.cpp and the user
// account's steps in user_steps.cpp. Internal to dispatch/.
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/message_template.h"
#include "dispatch/dispatcher.h"

namespace tginvite::dispatch {

using telegram::OutcomeKind;

// An attempt as recorded: what was asked (path-neutral), when, and how it ended.
storage::AttemptRecord AttemptOf(const std::string& worker, core::RequestKind request,
                                 int64_t started_at, const telegram::Outcome& outcome);
// A claim given back unsent: pending again at once, no attempt counted.
storage::OutcomeRecord Release(const storage::Claim& claim);

struct Dispatcher::AccountWork {
  storage::Account account;
  core::Settings settings;  // global: rate, in-flight window, lease, HTTP
  std::vector<storage::Campaign> campaigns;
  std::map<int64_t, core::Settings> campaign_settings;
  std::map<int64_t, core::MessageTemplate> templates;
};

struct Dispatcher::Batch {
  Batch(const AccountWork& account_work, std::stop_token stop_token)
      : work(account_work), stop(std::move(stop_token)) {}

  const AccountWork& work;
  const std::stop_token stop;
  telegram::Messenger* messenger = nullptr;
  storage::ClaimRequest request;
  std::vector<storage::Claim> claims;  // by slot
  std::map<int64_t, const storage::Campaign*> campaigns;
  // When the account's limiter was locked: the slots count from there, and so does the
  // preparation the next claim's lead must cover (the rest of the claim's transaction included).
  int64_t limiter_locked_at = 0;
  core::TimePoint claimed_at{};

  // Preparing: per claim, a link created for it and whether it may still be sent; per campaign, a
  // shared link; then the claims marked as sending, which alone are sent.
  struct NewLink {
    std::string url;         // empty: none was created
    int64_t expires_at = 0;  // unix ms; 0: never
  };
  std::vector<NewLink> new_links;
  std::vector<char> eligible;
  std::map<int64_t, std::string> shared_links;
  std::vector<size_t> to_send;

  std::mutex mu;
  std::atomic<bool> abort{false};                  // a flood pause or a refused account
  int64_t flood_until = 0;                         // under mu
  std::map<int64_t, std::string> fatal_campaigns;  // under mu; "" : no link yet, not paused
  std::string account_fatal;                       // under mu
  core::AccountHealth account_health = core::AccountHealth::kUnauthorized;  // under mu
  std::vector<storage::OutcomeRecord> outcomes;    // under mu
  // A user account's lookups (by invitation) that found someone: recorded with the invitation's
  // outcome. And how many phone lookups this batch made (tdlib.import_contacts_per_day).
  std::vector<std::pair<int64_t, storage::AttemptRecord>> lookups;  // under mu
  int64_t imports = 0;                                               // under mu
  // A sending mark that could not be written: nothing more of the batch is sent.
  std::optional<Error> mark_error;  // under mu

  // The lane's share of the account's in-flight window: what it claimed at most, and what it
  // keeps in flight at once.
  size_t Window() const { return static_cast<size_t>(std::max(request.max_rows, 1)); }

  // Claim i given back unsent, with the link created for it (kept for its next attempt).
  storage::OutcomeRecord ReleaseKeepingLink(size_t i) const {
    storage::OutcomeRecord release = Release(claims[i]);
    release.invite_link = new_links[i].url;
    release.link_expires_at = new_links[i].expires_at;
    return release;
  }

  void AddOutcome(storage::OutcomeRecord outcome) {
    std::lock_guard lock(mu);
    outcomes.push_back(std::move(outcome));
  }

  // What a failed request means for the rest of the batch. `answered_at`: unix ms.
  void NoteFailure(const storage::Claim& claim, const telegram::Outcome& outcome,
                   int64_t answered_at) {
    std::lock_guard lock(mu);
    if (outcome.kind == OutcomeKind::kFlood) {
      // Counted from when the answer arrived: never before the server's own pause ends.
      flood_until = std::max(
          flood_until,
          answered_at + std::chrono::duration_cast<std::chrono::milliseconds>(outcome.retry_after).count());
      abort = true;
    } else if (outcome.kind == OutcomeKind::kAccountFatal) {
      account_fatal = outcome.description;
      account_health = outcome.account_health;
      abort = true;
    } else if (outcome.kind == OutcomeKind::kCampaignFatal) {
      fatal_campaigns.emplace(claim.campaign_id, outcome.description);
    }
  }

  bool StoppedFor(const storage::Claim& claim) {
    if (abort || stop.stop_requested()) return true;
    std::lock_guard lock(mu);
    return fatal_campaigns.count(claim.campaign_id) > 0;
  }
};

}  // namespace tginvite::dispatch
