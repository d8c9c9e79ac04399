// The PgStore's reads for the web interface: contact pages by keyset, attempts, the error
// breakdown and the per-minute chart, plus the operator's "retry failed" — the same semantics as
// storage/sqlite/sqlite_web_reads.cpp. Prefix searches are byte-order ranges, which the
// text_pattern_ops indexes of the "web reads" migration serve under any collation.
#include <charconv>

#include "storage/postgres/pg_store.h"
#include "storage/sql_web_rows.h"

namespace tginvite::storage {
namespace {

using internal::AttemptViewFromRow;
using internal::CampaignIdIn;
using internal::CampaignRef;
using internal::CampaignRefIn;
using internal::ContactViewFromRow;
using internal::kAttemptColumns;
using internal::kMaxAttempts;
constexpr int kMaxPage = internal::kMaxContactPage;

// ASCII lower-case, as lower() under the "C" collation folds.
std::string FoldAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The upper bound of a prefix range in byte order: every string starting with `prefix` sorts
// below `prefix` + U+10FFFF, the highest code point (a bare 0xff byte is not valid UTF-8, which
// PostgreSQL refuses).
std::string PrefixEnd(std::string_view prefix) { return std::string(prefix) + "\xf4\x8f\xbf\xbf"; }

// A WHERE fragment over contacts `c` for a search term, with its parameters appended.
void AppendSearch(std::string_view term, std::string& sql, std::vector<Value>& params) {
  bool digits = !term.empty() && term.size() <= 19;
  for (char c : term) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    int64_t id = 0;
    std::from_chars(term.data(), term.data() + term.size(), id);
    sql += " AND c.telegram_user_id = ?";
    params.emplace_back(id);
    return;
  }
  if (term.size() > 1 && term.front() == '+') {
    sql += " AND c.phone ~>=~ ? AND c.phone ~<~ ?";
    params.emplace_back(std::string(term));
    params.emplace_back(PrefixEnd(term));
    return;
  }
  std::string name = FoldAscii(term);
  std::string username = name.starts_with('@') ? name.substr(1) : name;
  // Byte-order range operators of text_pattern_ops: the indexes serve them even in a generic
  // plan of a prepared statement, which a LIKE with a parameter cannot use.
  sql +=
      " AND ((c.username ~>=~ ? AND c.username ~<~ ?)"
      " OR (lower((c.first_name || ' ' || c.last_name) COLLATE \"C\") ~>=~ ? AND"
      " lower((c.first_name || ' ' || c.last_name) COLLATE \"C\") ~<~ ?)"
      " OR (c.last_name <> '' AND lower(c.last_name COLLATE \"C\") ~>=~ ? AND"
      " lower(c.last_name COLLATE \"C\") ~<~ ?))";
  params.emplace_back(username);
  params.emplace_back(PrefixEnd(username));
  params.emplace_back(name);
  params.emplace_back(PrefixEnd(name));
  params.emplace_back(name);
  params.emplace_back(PrefixEnd(name));
}

}  // namespace

Result<int64_t> PgStore::RetryFailed(std::string_view campaign) {
  int64_t retried = 0;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(tx, campaign));
    ASSIGN_OR_RETURN(
        retried, tx.Execute("UPDATE invitations SET state = 'pending', attempts = 0, "
                            "next_attempt_at = 0, last_error = 'retried by the operator after: ' "
                            "|| COALESCE(last_error, ''), updated_at = ? "
                            "WHERE campaign_id = ? AND state = 'failed'",
                            {NowMillis(), campaign_id}));
    return Ok();
  }));
  return retried;
}

Result<ContactPage> PgStore::ListContacts(const ContactQuery& query) {
  if (query.limit < 1 || query.limit > kMaxPage) {
    return Fail(ErrorCode::kInvalidArgument, "limit {}: expected 1 to {}", query.limit, kMaxPage);
  }
  if (query.state && !query.campaign) {
    return Fail(ErrorCode::kInvalidArgument, "a state filter needs a campaign");
  }
  ContactPage page;
  RETURN_IF_ERROR(Read([&](Session& session) -> Status {
    std::string sql;
    std::vector<Value> params;
    std::string bot_username;
    if (query.campaign) {
      ASSIGN_OR_RETURN(CampaignRef campaign, CampaignRefIn(session, *query.campaign));
      bot_username = std::move(campaign.bot_username);
      sql =
          "SELECT i.id, c.id, c.telegram_user_id, c.username, c.first_name, c.last_name, "
          "c.phone, i.state, i.attempts, i.last_error, i.sent_at, i.joined_at, i.start_key "
          "FROM invitations i JOIN contacts c ON c.id = i.contact_id "
          "WHERE i.campaign_id = ? AND i.id > ?";
      params = {campaign.id, query.after};
      if (query.state) {
        sql += " AND i.state = ?";
        params.emplace_back(std::string(core::ToString(*query.state)));
      }
      if (!query.search.empty()) AppendSearch(query.search, sql, params);
      if (query.contact_id) {
        sql += " AND i.contact_id = ?";
        params.emplace_back(*query.contact_id);
      }
      sql += " ORDER BY i.id LIMIT ?";
    } else {
      sql =
          "SELECT c.id, c.id, c.telegram_user_id, c.username, c.first_name, c.last_name, "
          "c.phone, NULL, 0, NULL, NULL::bigint, NULL::bigint, NULL FROM contacts c "
          "WHERE c.id > ?";
      params = {query.after};
      if (!query.search.empty()) AppendSearch(query.search, sql, params);
      if (query.contact_id) {
        sql += " AND c.id = ?";
        params.emplace_back(*query.contact_id);
      }
      sql += " ORDER BY c.id LIMIT ?";
    }
    params.emplace_back(int64_t{query.limit} + 1);  // one more tells whether a next page exists
    int64_t last_key = 0;
    return session.connection().ForEach(sql, params, [&](const Row& row) -> Status {
      if (static_cast<int>(page.contacts.size()) == query.limit) {
        page.next_after = last_key;
        return Ok();
      }
      last_key = row.Int(0);
      page.contacts.push_back(ContactViewFromRow(row, bot_username));
      return Ok();
    });
  }));
  return page;
}

Result<std::vector<AttemptView>> PgStore::ContactAttempts(int64_t contact_id) {
  std::vector<AttemptView> attempts;
  RETURN_IF_ERROR(Read([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(std::optional<Row> found,
                     session.QueryOne("SELECT id FROM contacts WHERE id = ?", {contact_id}));
    if (!found) return Fail(ErrorCode::kNotFound, "no contact with id {}", contact_id);
    return session.ForEach(
        std::string(kAttemptColumns) +
            "FROM invitations i JOIN attempts a ON a.invitation_id = i.id "
            "JOIN campaigns camp ON camp.id = i.campaign_id JOIN contacts c ON c.id = i.contact_id "
            "WHERE i.contact_id = ? ORDER BY a.id DESC LIMIT ?",
        {contact_id, int64_t{kMaxAttempts}}, [&attempts](const Row& row) -> Status {
          attempts.push_back(AttemptViewFromRow(row));
          return Ok();
        });
  }));
  return attempts;
}

Result<std::vector<AttemptView>> PgStore::RecentAttempts(std::string_view campaign, int limit) {
  if (limit < 1 || limit > kMaxAttempts) {
    return Fail(ErrorCode::kInvalidArgument, "limit {}: expected 1 to {}", limit, kMaxAttempts);
  }
  std::vector<AttemptView> attempts;
  RETURN_IF_ERROR(Read([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(session, campaign));
    // Attempts newest first, kept when their invitation is the campaign's: an active campaign
    // finds its last `limit` within the last few hundred rows.
    return session.ForEach(
        std::string(kAttemptColumns) +
            "FROM attempts a JOIN invitations i ON i.id = a.invitation_id "
            "JOIN campaigns camp ON camp.id = i.campaign_id JOIN contacts c ON c.id = i.contact_id "
            "WHERE i.campaign_id = ? ORDER BY a.id DESC LIMIT ?",
        {campaign_id, int64_t{limit}}, [&attempts](const Row& row) -> Status {
          attempts.push_back(AttemptViewFromRow(row));
          return Ok();
        });
  }));
  return attempts;
}

Result<std::vector<ErrorCount>> PgStore::ErrorBreakdown(std::string_view campaign) {
  std::vector<ErrorCount> errors;
  RETURN_IF_ERROR(Read([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(session, campaign));
    return session.ForEach(
        "SELECT state, COALESCE(last_error, ''), count(*) FROM invitations "
        "WHERE campaign_id = ? AND state IN ('failed', 'unknown', 'skipped') "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 100",
        {campaign_id}, [&errors](const Row& row) -> Status {
          errors.push_back(
              {core::ParseInvitationState(row.Text(0)).value_or(core::InvitationState::kFailed),
               row.Text(1), row.Int(2)});
          return Ok();
        });
  }));
  return errors;
}

Result<std::vector<MinuteCounts>> PgStore::CampaignMinutes(std::string_view campaign,
                                                           int64_t since) {
  std::vector<MinuteCounts> minutes;
  RETURN_IF_ERROR(Read([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(session, campaign));
    return session.ForEach(
        "SELECT minute, state, SUM(n) FROM (SELECT minute, state, n FROM invitation_minutes "
        "WHERE campaign_id = ?1 AND minute >= ?2 UNION ALL SELECT minute, state, n FROM "
        "invitation_minute_deltas WHERE campaign_id = ?1 AND minute >= ?2) m "
        "GROUP BY minute, state ORDER BY minute, state",
        {campaign_id, since / 60'000}, [&minutes](const Row& row) -> Status {
          const int64_t start = row.Int(0) * 60'000;
          if (minutes.empty() || minutes.back().minute_start != start) {
            minutes.push_back({start, 0, 0, 0});
          }
          std::string state = row.Text(1);
          int64_t& slot = state == "sent"     ? minutes.back().sent
                          : state == "joined" ? minutes.back().joined
                                              : minutes.back().failed;
          slot += row.Int(2);
          return Ok();
        });
  }));
  return minutes;
}

}  // namespace tginvite::storage
