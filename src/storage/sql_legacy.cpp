// What the old app already did, recorded on SqlStore (storage/legacy.h): the same SQL on both
// engines; their triggers keep the counts.
#include <optional>
#include <string>

#include "core/invitation_states.h"
#include "core/secret_box.h"
#include "storage/sql_store.h"

namespace tginvite::storage {
namespace {

// The contact an outcome names: by user id, else username, else phone.
Result<std::optional<int64_t>> FindLegacyContact(Tx& tx, const core::ContactRecord& contact) {
  const auto find = [&tx](std::string_view column, Value value) -> Result<std::optional<int64_t>> {
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     tx.QueryOne(fmt::format("SELECT id FROM contacts WHERE {} = ?", column),
                                 {std::move(value)}));
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(row->Int(0));
  };
  if (contact.telegram_user_id) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, find("telegram_user_id", *contact.telegram_user_id));
    if (id) return id;
  }
  if (!contact.username.empty()) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, find("username", contact.username));
    if (id) return id;
  }
  if (!contact.phone.empty()) return find("phone", contact.phone);
  return std::optional<int64_t>();
}

// The attempt's outcome, as telegram::OutcomeKind names them.
std::string_view AttemptOutcomeOf(core::InvitationState state) {
  switch (state) {
    case core::InvitationState::kSent:
      return "ok";
    case core::InvitationState::kFailed:
      return "permanent";
    default:
      return "ambiguous";
  }
}

}  // namespace

Result<std::vector<LegacyResult>> SqlStore::RecordLegacyOutcomes(
    std::string_view campaign, std::span<const LegacyOutcome> outcomes, LegacyMode mode) {
  for (const LegacyOutcome& outcome : outcomes) {
    if (outcome.state != core::InvitationState::kSent &&
        outcome.state != core::InvitationState::kFailed &&
        outcome.state != core::InvitationState::kUnknown) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a legacy outcome is sent, failed or unknown, not {}",
                  core::ToString(outcome.state));
    }
  }
  const std::string open_states = core::QuotedNames(core::kOpenInvitationStates);
  std::vector<LegacyResult> results;
  const UnitOfWork body = [&](Tx& tx) -> Status {
    results.clear();
    ASSIGN_OR_RETURN(std::optional<Row> found,
                     tx.QueryOne("SELECT id, account_id FROM campaigns WHERE name = ?",
                                 {std::string(campaign)}));
    if (!found) return Fail(ErrorCode::kNotFound, "no campaign named \"{}\"", campaign);
    const int64_t campaign_id = found->Int(0);
    const int64_t account_id = found->Int(1);
    const int64_t now = NowUnixMillis();
    for (const LegacyOutcome& outcome : outcomes) {
      ASSIGN_OR_RETURN(std::optional<int64_t> contact_id, FindLegacyContact(tx, outcome.contact));
      if (!contact_id) {
        results.push_back(LegacyResult::kNoContact);
        continue;
      }
      const int64_t at = outcome.at > 0 ? outcome.at : now;
      const std::string state(core::ToString(outcome.state));
      const Value error = outcome.state == core::InvitationState::kSent
                              ? Value(std::monostate{})
                              : Value("old app: " + (outcome.error.empty()
                                                         ? std::string("no error recorded")
                                                         : outcome.error));
      // A time the old app did not keep stays unknown rather than becoming now.
      const Value sent_at = outcome.state == core::InvitationState::kSent && outcome.at > 0
                                ? Value(outcome.at)
                                : Value(std::monostate{});
      ASSIGN_OR_RETURN(std::optional<Row> existing,
                       tx.QueryOne("SELECT id FROM invitations WHERE campaign_id = ? AND "
                                   "contact_id = ?",
                                   {campaign_id, *contact_id}));
      int64_t invitation_id = 0;
      if (!existing) {
        ASSIGN_OR_RETURN(invitation_id,
                         tx.QueryInt("INSERT INTO invitations (campaign_id, contact_id, state, "
                                     "attempts, last_error, start_key, created_at, updated_at, "
                                     "sent_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING id",
                                     {campaign_id, *contact_id, state, error,
                                      core::RandomHex(16), now, now, sent_at}));
        results.push_back(LegacyResult::kRecorded);
      } else {
        invitation_id = existing->Int(0);
        // Only an invitation no request was made for yet takes the old app's outcome; one being
        // sent, or past that, is left as it is.
        ASSIGN_OR_RETURN(
            int64_t changed,
            tx.Execute(fmt::format("UPDATE invitations SET state = ?, last_error = ?, sent_at = ?, "
                                   "attempts = attempts + 1, lease_until = NULL, updated_at = ? "
                                   "WHERE id = ? AND state IN ({})",
                                   open_states),
                       {state, error, sent_at, now, invitation_id}));
        if (changed == 0) {
          results.push_back(LegacyResult::kKept);
          continue;
        }
        results.push_back(LegacyResult::kReplaced);
      }
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, error, outcome, "
          "account_id) VALUES (?, 0, ?, ?, ?, ?, ?, ?)",
          {invitation_id, std::string(kLegacyWorker), std::string(kLegacyRequest), at, error,
           std::string(AttemptOutcomeOf(outcome.state)), account_id}));
    }
    return Ok();
  };
  if (mode == LegacyMode::kDryRun) {
    RETURN_IF_ERROR(DryRunUnit(body));
  } else {
    RETURN_IF_ERROR(WriteUnit(body));
  }
  return results;
}

}  // namespace tginvite::storage
