// Part of the Store (storage/store.h): the reads of the dashboard, the API and /metrics — pages of
// contacts by keyset, attempts, errors, per-minute counts, workers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/contact.h"
#include "core/error.h"
#include "core/model.h"
#include "storage/delivery.h"

namespace tginvite::storage {

// How many requests of one kind an account made with one outcome, from the attempts history.
struct AttemptTally {
  std::string account;
  std::string request;  // core::RequestKind's name
  std::string outcome;  // telegram::OutcomeKind's name ("sent", "flood", ...)
  int64_t count = 0;
};

// A page of contacts in a stable order, continued by keyset (`after` = the last page's
// `next_after`), so page 20,000 costs what page 1 costs.
struct ContactQuery {
  // With a campaign: the campaign's invitations, in invitation order, with their state. Without:
  // every contact, in contact order.
  std::optional<std::string> campaign;
  std::optional<core::InvitationState> state;  // needs a campaign
  // "" for all; digits: a Telegram user id; "+digits": a phone prefix; otherwise a
  // case-insensitive prefix of the username (a leading '@' is dropped), of the first name, of
  // "first last", or of the last name.
  std::string search;
  int64_t after = 0;  // 0: from the start
  int limit = 50;     // 1..500
  // Only this contact (with a campaign: only its invitation there), for a contact's own page.
  std::optional<int64_t> contact_id;
};

struct ContactView {
  int64_t id = 0;  // the contact's id
  core::ContactRecord contact;
  // With a campaign: its invitation of the contact.
  std::optional<core::InvitationState> state;
  int64_t attempts = 0;
  std::string last_error;
  std::optional<int64_t> sent_at;
  std::optional<int64_t> joined_at;
  std::string start_link;  // with a campaign: the contact's start link ("" as in ExportRow)
};

struct ContactPage {
  std::vector<ContactView> contacts;
  std::optional<int64_t> next_after;  // std::nullopt: this was the last page
};

// One recorded request, with what it was for.
struct AttemptView {
  int64_t id = 0;
  int64_t contact_id = 0;
  std::string campaign;
  core::ContactRecord contact;
  AttemptRecord attempt;
};

// How many of a campaign's invitations ended failed, unknown or skipped for one reason.
struct ErrorCount {
  core::InvitationState state = core::InvitationState::kFailed;
  std::string reason;
  int64_t count = 0;
};

// Invitations that became sent, joined or failed within one minute.
struct MinuteCounts {
  int64_t minute_start = 0;  // unix ms, a multiple of 60,000
  int64_t sent = 0;
  int64_t joined = 0;
  int64_t failed = 0;
};

class WebReads {
 public:
  virtual ~WebReads() = default;

  // Web reads. kNotFound for an unknown campaign or contact; kInvalidArgument for a state filter
  // without a campaign or a limit out of range.
  virtual Result<ContactPage> ListContacts(const ContactQuery& query) = 0;
  // Every attempt made for the contact, by any campaign, newest first.
  virtual Result<std::vector<AttemptView>> ContactAttempts(int64_t contact_id) = 0;
  // The campaign's most recent attempts, newest first.
  virtual Result<std::vector<AttemptView>> RecentAttempts(std::string_view campaign, int limit) = 0;
  // The campaign's failed, unknown and skipped invitations counted by state and last error, most
  // frequent first.
  virtual Result<std::vector<ErrorCount>> ErrorBreakdown(std::string_view campaign) = 0;
  // Per-minute transitions to sent, joined and failed since `since` (unix ms), oldest first;
  // minutes without any are absent. Kept by the database as the states change, so reading an
  // hour costs 60 rows whatever the send rate.
  virtual Result<std::vector<MinuteCounts>> CampaignMinutes(std::string_view campaign,
                                                            int64_t since) = 0;

  virtual Result<std::vector<WorkerInfo>> ListWorkers() = 0;
  // Every attempt ever recorded, counted by sending account, request and outcome (for /metrics),
  // ordered by account, request, outcome. Accounts without attempts are absent.
  virtual Result<std::vector<AttemptTally>> TallyAttempts() = 0;
};

}  // namespace tginvite::storage
