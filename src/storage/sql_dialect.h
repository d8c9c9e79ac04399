// What the two SQL engines write differently in the statements SqlStore shares: the rest of each
// statement is the same text on SQLite and PostgreSQL. Each engine gives one SqlDialect.
#pragma once

#include <string>
#include <string_view>

namespace tginvite::storage {

struct SqlDialect {
  // Byte-order comparisons for a prefix range. PostgreSQL uses the text_pattern_ops operators
  // (~>=~, ~<~): its indexes serve them under any collation, even in a generic plan of a prepared
  // statement, which a LIKE with a parameter cannot use.
  std::string_view at_least = ">=";
  std::string_view below = "<";
  // Appended to a prefix, the upper bound of its range: every string starting with the prefix
  // sorts below it. SQLite: 0xff (never in UTF-8); PostgreSQL refuses invalid UTF-8, so U+10FFFF.
  std::string_view prefix_end = "\xff";
  // lower() of a text expression as the search indexes hold it (PostgreSQL: under the "C"
  // collation, so that only ASCII folds, as in SQLite).
  std::string (*lower)(std::string_view expression) = nullptr;

  // A campaign's failed, unknown and skipped invitations counted by (state, reason, n) for ?1 =
  // the campaign's id, most frequent first, at most 100: SQLite keeps them by triggers, PostgreSQL
  // counts them.
  std::string_view error_counts;
  // Per-minute counts (minute, state, n), oldest first, for ?1 = the campaign's id and ?2 = the
  // first minute: SQLite's triggers keep them in one table; PostgreSQL adds the deltas not folded
  // yet.
  std::string_view minute_counts;
  // 1 while some running campaign has an unfinished invitation, else 0; {0} is where the
  // unfinished states go (core::kUnfinishedStates, quoted).
  std::string_view outstanding_work;
  // What the engine keeps per campaign beside the invitations (counts, per-minute counts and
  // their deltas), deleted with the campaign: one `DELETE ... WHERE campaign_id = ?1` per
  // statement, separated by ';'.
  std::string_view delete_campaign_derived;
};

}  // namespace tginvite::storage
