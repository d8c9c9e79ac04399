// Row decoding and lookups shared by the SQL stores' web reads (storage/sqlite/sqlite_web_reads.cpp
// and storage/postgres/pg_web_reads.cpp): the statements below mean the same on both engines.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "storage/connection.h"
#include "storage/sql_rows.h"
#include "storage/store.h"

namespace tginvite::storage::internal {

inline constexpr int kMaxContactPage = 500;
inline constexpr int kMaxAttempts = 1000;

// What the web reads need of a campaign: its id, and its account's bot for start links.
struct CampaignRef {
  int64_t id = 0;
  std::string bot_username;  // "" while getMe has not told it
};

inline Result<CampaignRef> CampaignRefIn(Session& session, std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<Row> row,
                   session.QueryOne("SELECT c.id, a.bot_username FROM campaigns c "
                                    "JOIN accounts a ON a.id = c.account_id WHERE c.name = ?",
                                    {std::string(name)}));
  if (!row) return Fail(ErrorCode::kNotFound, "no campaign named \"{}\"", name);
  return CampaignRef{row->Int(0), row->Text(1)};
}

inline Result<int64_t> CampaignIdIn(Session& session, std::string_view name) {
  ASSIGN_OR_RETURN(
      std::optional<Row> row,
      session.QueryOne("SELECT id FROM campaigns WHERE name = ?", {std::string(name)}));
  if (!row) return Fail(ErrorCode::kNotFound, "no campaign named \"{}\"", name);
  return row->Int(0);
}

// Each campaign's successful sends since `since` (unix ms), for all campaigns in one pass over the
// window's attempts (campaigns without one are left out). CROSS JOIN with the join condition in
// WHERE: SQLite then reads attempts_by_time first (the window is a few rows, the invitations may
// be millions), and PostgreSQL plans it as any inner join.
inline Result<std::map<int64_t, int64_t>> SentSinceByCampaign(Session& session, int64_t since) {
  std::map<int64_t, int64_t> sent;
  RETURN_IF_ERROR(
      session.ForEach("SELECT i.campaign_id, COUNT(*) FROM attempts a CROSS JOIN invitations i "
                      "WHERE i.id = a.invitation_id AND a.started_at >= ? AND a.request = 'send' "
                      "AND a.outcome = 'ok' GROUP BY i.campaign_id",
                      {since}, [&sent](const Row& row) -> Status {
                        sent[row.Int(0)] = row.Int(1);
                        return Ok();
                      }));
  return sent;
}

// Columns: key, contact id, five contact columns, then the invitation's state, attempts,
// last_error, sent_at, joined_at and start_key (NULL without a campaign). `bot_username` is the
// campaign's bot, for the start link.
inline ContactView ContactViewFromRow(const Row& row, std::string_view bot_username) {
  ContactView view;
  view.id = row.Int(1);
  view.contact = ContactFromColumns(row, 2);
  if (!row.IsNull(7)) view.state = core::ParseInvitationState(row.Text(7));
  view.attempts = row.Int(8);
  view.last_error = row.Text(9);
  view.sent_at = row.OptInt(10);
  view.joined_at = row.OptInt(11);
  if (!row.IsNull(12)) view.start_link = core::StartLink(bot_username, row.Text(12));
  return view;
}

inline constexpr std::string_view kAttemptColumns =
    "SELECT a.id, i.contact_id, camp.name, c.telegram_user_id, c.username, c.first_name, "
    "c.last_name, c.phone, a.worker, a.request, a.started_at, a.latency_ms, a.http_status, "
    "a.error_code, a.error, a.outcome ";

inline AttemptView AttemptViewFromRow(const Row& row) {
  AttemptView view;
  view.id = row.Int(0);
  view.contact_id = row.Int(1);
  view.campaign = row.Text(2);
  view.contact = ContactFromColumns(row, 3);
  view.attempt.worker = row.Text(8);
  view.attempt.request = row.Text(9);
  view.attempt.started_at = row.Int(10);
  view.attempt.latency_ms = row.Int(11);
  view.attempt.http_status = static_cast<int>(row.Int(12));
  view.attempt.error_code = static_cast<int>(row.Int(13));
  view.attempt.error = row.Text(14);
  view.attempt.outcome = row.Text(15);
  return view;
}

}  // namespace tginvite::storage::internal
