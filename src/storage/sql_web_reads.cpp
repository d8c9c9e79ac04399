// SqlStore's reads for the web interface: contact pages by keyset, attempts, the error breakdown
// and the per-minute chart, plus the operator's "retry failed" and the worker's "anything left?".
// Every read is bounded by an index (see the "web reads" migrations), so a page deep in a million
// contacts costs what the first page costs. Prefix searches are byte-order ranges (SqlDialect).
#include <charconv>

#include <fmt/format.h>

#include "core/invitation_states.h"
#include "storage/sql_dialect.h"
#include "storage/sql_store.h"
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

// ASCII lower-case, as lower() folds on both engines (PostgreSQL's under the "C" collation).
std::string FoldAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A WHERE fragment over contacts `c` for a search term, with its parameters appended.
void AppendSearch(const SqlDialect& dialect, std::string_view term, std::string& sql,
                  std::vector<Value>& params) {
  bool digits = !term.empty() && term.size() <= 19;
  for (char c : term) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    int64_t id = 0;
    std::from_chars(term.data(), term.data() + term.size(), id);
    sql += " AND c.telegram_user_id = ?";
    params.emplace_back(id);
    return;
  }
  // expression >= prefix AND expression < prefix + prefix_end, with its two parameters.
  auto prefix_range = [&](std::string_view expression, std::string_view prefix) {
    params.emplace_back(std::string(prefix));
    params.emplace_back(std::string(prefix) + std::string(dialect.prefix_end));
    return fmt::format("{0} {1} ? AND {0} {2} ?", expression, dialect.at_least, dialect.below);
  };
  if (term.size() > 1 && term.front() == '+') {
    sql += " AND " + prefix_range("c.phone", term);
    return;
  }
  const std::string name = FoldAscii(term);
  const std::string username = name.starts_with('@') ? name.substr(1) : name;
  // One statement at a time: the parameters go in the order the fragments are written.
  const std::string by_username = prefix_range("c.username", username);
  const std::string by_full_name =
      prefix_range(dialect.lower("c.first_name || ' ' || c.last_name"), name);
  const std::string by_last_name = prefix_range(dialect.lower("c.last_name"), name);
  sql += fmt::format(" AND (({}) OR ({}) OR (c.last_name <> '' AND {}))", by_username, by_full_name,
                     by_last_name);
}

}  // namespace

Result<int64_t> SqlStore::RetryFailed(std::string_view campaign) {
  int64_t retried = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(tx, campaign));
    ASSIGN_OR_RETURN(
        retried, tx.Execute("UPDATE invitations SET state = 'pending', attempts = 0, "
                            "next_attempt_at = 0, last_error = 'retried by the operator after: ' "
                            "|| COALESCE(last_error, ''), updated_at = ? "
                            "WHERE campaign_id = ? AND state = 'failed'",
                            {NowUnixMillis(), campaign_id}));
    return Ok();
  }));
  return retried;
}

Result<ContactPage> SqlStore::ListContacts(const ContactQuery& query) {
  if (query.limit < 1 || query.limit > kMaxPage) {
    return Fail(ErrorCode::kInvalidArgument, "limit {}: expected 1 to {}", query.limit, kMaxPage);
  }
  if (query.state && !query.campaign) {
    return Fail(ErrorCode::kInvalidArgument, "a state filter needs a campaign");
  }
  ContactPage page;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    std::optional<int64_t> campaign_id;
    std::string bot_username;
    if (query.campaign) {
      ASSIGN_OR_RETURN(CampaignRef campaign, CampaignRefIn(session, *query.campaign));
      campaign_id = campaign.id;
      bot_username = std::move(campaign.bot_username);
    }
    // One page is `limit` rows; one more tells whether a next page exists.
    const size_t wanted = static_cast<size_t>(query.limit) + 1;
    std::vector<std::pair<int64_t, ContactView>> rows;  // (keyset key, row)
    auto collect = [&rows, &bot_username](const Row& row) -> Status {
      rows.emplace_back(row.Int(0), ContactViewFromRow(row, bot_username));
      return Ok();
    };
    // The page's rows for a WHERE over contacts `c` (and, with a campaign, invitations `i`).
    auto select = [&](const std::string& where, std::vector<Value> params, size_t limit) {
      std::string sql =
          campaign_id
              ? "SELECT " + std::string(query.search.empty() ? "i.id" : "c.id") +
                    ", c.id, c.telegram_user_id, c.username, c.first_name, c.last_name, c.phone, "
                    "i.state, i.attempts, i.last_error, i.sent_at, i.joined_at, i.start_key "
                    "FROM invitations i JOIN contacts c ON c.id = i.contact_id "
                    "WHERE i.campaign_id = ? AND " +
                    where
              : "SELECT c.id, c.id, c.telegram_user_id, c.username, c.first_name, c.last_name, "
                "c.phone, NULL, 0, NULL, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), NULL FROM "
                "contacts c "
                "WHERE " +
                    where;
      if (campaign_id) params.insert(params.begin(), *campaign_id);
      if (query.contact_id) {
        sql += " AND c.id = ?";
        params.emplace_back(*query.contact_id);
      }
      if (query.state) {
        sql += " AND i.state = ?";
        params.emplace_back(std::string(core::ToString(*query.state)));
      }
      sql +=
          query.search.empty() && campaign_id ? " ORDER BY i.id LIMIT ?" : " ORDER BY c.id LIMIT ?";
      params.emplace_back(static_cast<int64_t>(limit));
      return session.connection().ForEach(sql, params, collect);
    };

    if (query.search.empty()) {
      // Keyset on the invitation's id in a campaign (its index walks the campaign in order), on
      // the contact's id otherwise.
      RETURN_IF_ERROR(select(campaign_id ? "i.id > ?" : "c.id > ?", {query.after}, wanted));
    } else {
      // A search pages by contact id, in two steps, so that a common prefix never makes SQLite
      // join and sort every match: the matching ids come from the search indexes alone (sorting
      // ids is cheap), a block at a time; then only those rows are read, until the page is full.
      constexpr size_t kBlock = 1000;
      int64_t after = query.after;
      while (rows.size() < wanted) {
        std::string ids_sql = "SELECT c.id FROM contacts c WHERE +c.id > ?";
        std::vector<Value> ids_params = {after};
        AppendSearch(Dialect(), query.search, ids_sql, ids_params);
        ids_sql += " ORDER BY c.id LIMIT ?";
        ids_params.emplace_back(static_cast<int64_t>(kBlock));
        std::vector<int64_t> ids;
        RETURN_IF_ERROR(session.connection().ForEach(ids_sql, ids_params, [&ids](const Row& row) {
          ids.push_back(row.Int(0));
          return Ok();
        }));
        if (ids.empty()) break;
        std::string in = "c.id IN (?";
        for (size_t i = 1; i < ids.size(); ++i) in += ",?";
        in += ")";
        RETURN_IF_ERROR(
            select(in, std::vector<Value>(ids.begin(), ids.end()), wanted - rows.size()));
        if (ids.size() < kBlock) break;
        after = ids.back();
      }
    }
    if (rows.size() == wanted) {
      rows.pop_back();
      page.next_after = rows.back().first;
    }
    for (auto& [key, view] : rows) page.contacts.push_back(std::move(view));
    return Ok();
  }));
  return page;
}

Result<std::vector<AttemptView>> SqlStore::ContactAttempts(int64_t contact_id) {
  std::vector<AttemptView> attempts;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(std::optional<Row> found,
                     session.QueryOne("SELECT id FROM contacts WHERE id = ?", {contact_id}));
    if (!found) return Fail(ErrorCode::kNotFound, "no contact with id {}", contact_id);
    // The attempts of the contact's invitations, and those of deleted campaigns (detached: they
    // keep the campaign's name and the contact's id).
    return session.ForEach(
        "SELECT * FROM (" + std::string(kAttemptColumns) +
            "FROM invitations i JOIN attempts a ON a.invitation_id = i.id "
            "JOIN campaigns camp ON camp.id = i.campaign_id JOIN contacts c ON c.id = i.contact_id "
            "WHERE i.contact_id = ? "
            "UNION ALL SELECT a.id, a.contact_id, a.campaign_name, c.telegram_user_id, "
            "c.username, c.first_name, c.last_name, c.phone, a.worker, a.request, a.started_at, "
            "a.latency_ms, a.http_status, a.error_code, a.error, a.outcome "
            "FROM attempts a JOIN contacts c ON c.id = a.contact_id "
            "WHERE a.invitation_id IS NULL AND a.contact_id = ?) t ORDER BY 1 DESC LIMIT ?",
        {contact_id, contact_id, int64_t{kMaxAttempts}}, [&attempts](const Row& row) -> Status {
          attempts.push_back(AttemptViewFromRow(row));
          return Ok();
        });
  }));
  return attempts;
}

Result<std::vector<AttemptView>> SqlStore::RecentAttempts(std::string_view campaign, int limit) {
  if (limit < 1 || limit > kMaxAttempts) {
    return Fail(ErrorCode::kInvalidArgument, "limit {}: expected 1 to {}", limit, kMaxAttempts);
  }
  std::vector<AttemptView> attempts;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(session, campaign));
    // Attempts newest first (CROSS JOIN with the join condition in WHERE keeps attempts the outer
    // loop on SQLite, which would otherwise walk the campaign's invitations; PostgreSQL plans it
    // as any inner join), kept when their invitation is the campaign's: an active campaign finds
    // its last `limit` within the last few hundred rows.
    return session.ForEach(
        std::string(kAttemptColumns) +
            "FROM attempts a CROSS JOIN invitations i JOIN campaigns camp ON camp.id = "
            "i.campaign_id "
            "JOIN contacts c ON c.id = i.contact_id "
            "WHERE i.id = a.invitation_id AND i.campaign_id = ? ORDER BY a.id DESC LIMIT ?",
        {campaign_id, int64_t{limit}}, [&attempts](const Row& row) -> Status {
          attempts.push_back(AttemptViewFromRow(row));
          return Ok();
        });
  }));
  return attempts;
}

Result<std::vector<ErrorCount>> SqlStore::ErrorBreakdown(std::string_view campaign) {
  std::vector<ErrorCount> errors;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(session, campaign));
    return session.ForEach(
        std::string(Dialect().error_counts), {campaign_id}, [&errors](const Row& row) -> Status {
          errors.push_back(
              {core::ParseInvitationState(row.Text(0)).value_or(core::InvitationState::kFailed),
               row.Text(1), row.Int(2)});
          return Ok();
        });
  }));
  return errors;
}

Result<std::vector<MinuteCounts>> SqlStore::CampaignMinutes(std::string_view campaign,
                                                            int64_t since) {
  std::vector<MinuteCounts> minutes;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t campaign_id, CampaignIdIn(session, campaign));
    return session.ForEach(std::string(Dialect().minute_counts), {campaign_id, since / 60'000},
                           [&minutes](const Row& row) -> Status {
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

Result<bool> SqlStore::HasOutstandingWork() {
  bool outstanding = false;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t n,
                     session.QueryInt(fmt::format(fmt::runtime(Dialect().outstanding_work),
                                                  core::QuotedNames(core::kUnfinishedStates))));
    outstanding = n != 0;
    return Ok();
  }));
  return outstanding;
}

}  // namespace tginvite::storage
