// `tginvite import-legacy OLD.db --campaign NAME [--dry-run]`: moving over from the old Flask app.
//
// The old database is opened read-only. Its `contacts` rows are mapped by column name
// (case-insensitive, with the usual aliases) and parsed as a CSV row would be; its
// `invitation_logs` (one row per contact) and the contacts' `invitation_sent` flag say whom the
// old app already messaged. Those contacts are imported without a campaign and their outcome is
// then recorded in the campaign as sent, failed or unknown, with an attempt from the "old app":
// they are never pending, not even for a moment. The others go through the ordinary import into
// the campaign, so folding and conflicts behave as for a CSV. The `app_config` pacing values
// become the campaign's settings when valid. Every step is idempotent: a second run records and
// queues nothing new.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/contact_fields.h"
#include "core/duration.h"
#include "core/settings.h"
#include "storage/backups.h"
#include "storage/connection.h"
#include "storage/legacy.h"

namespace tginvite::cli {
namespace {

// Longest cell read from the old database: anything longer is garbage for every column we read.
constexpr int kMaxCell = 1000;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

// A value shown in a message: printable ASCII, at most 40 characters.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  return text.size() > 40 ? out + "…" : out;
}

std::string QuotedIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

// The old tables' columns we read, each with the names it goes by.
struct ColumnAliases {
  std::string_view role;
  std::vector<std::string_view> names;
};

const std::vector<ColumnAliases>& ContactColumns() {
  static const std::vector<ColumnAliases> kColumns = {
      {"id", {"id", "contact_id", "pk"}},
      {"telegram_user_id",
       {"telegram_user_id", "telegram_id", "user_id", "tg_id", "tg_user_id", "userid", "telegramid",
        "telegram_userid"}},
      {"username", {"username", "user_name", "tg_username", "telegram_username", "handle"}},
      {"first_name", {"first_name", "firstname", "fname", "given_name", "name"}},
      {"last_name", {"last_name", "lastname", "lname", "surname", "family_name"}},
      {"phone", {"phone", "phone_number", "phonenumber", "mobile", "telephone", "tel"}},
      {"invitation_sent",
       {"invitation_sent", "invited", "is_invited", "invite_sent", "sent", "invitationsent"}},
  };
  return kColumns;
}

const std::vector<ColumnAliases>& LogColumns() {
  static const std::vector<ColumnAliases> kColumns = {
      {"contact_id", {"contact_id", "contactid", "contact"}},
      {"status", {"status", "state", "result"}},
      {"error_message", {"error_message", "error", "last_error", "message", "reason"}},
      {"sent_at", {"sent_at", "timestamp", "time", "date"}},
      {"updated_at", {"updated_at"}},
      {"created_at", {"created_at"}},
  };
  return kColumns;
}

const std::vector<ColumnAliases>& ConfigColumns() {
  static const std::vector<ColumnAliases> kColumns = {
      {"key", {"key", "name", "config_key", "setting"}},
      {"value", {"value", "config_value", "val"}},
  };
  return kColumns;
}

// The old app's pacing keys and the settings they become; plain numbers are seconds.
std::optional<std::string_view> PacingKeyFor(std::string_view old_key) {
  static const std::map<std::string, std::string_view, std::less<>> kKeys = {
      {"batch_size", "pacing.batch_size"},
      {"batchsize", "pacing.batch_size"},
      {"cycle_interval", "pacing.cycle_interval"},
      {"cycle_interval_seconds", "pacing.cycle_interval"},
      {"cycle_seconds", "pacing.cycle_interval"},
      {"interval", "pacing.cycle_interval"},
      {"batch_interval", "pacing.cycle_interval"},
      {"min_delay", "pacing.delay_min"},
      {"delay_min", "pacing.delay_min"},
      {"min_delay_seconds", "pacing.delay_min"},
      {"max_delay", "pacing.delay_max"},
      {"delay_max", "pacing.delay_max"},
      {"max_delay_seconds", "pacing.delay_max"},
  };
  const std::string key = Lower(Trimmed(old_key));
  if (auto it = kKeys.find(key); it != kKeys.end()) return it->second;
  for (const auto& [name, setting] : kKeys) {
    if (setting == key) return setting;  // already a tginvite key
  }
  return std::nullopt;
}

// A table's columns mapped to roles: role -> the column's real name.
struct MappedTable {
  std::string name;
  std::map<std::string, std::string, std::less<>> columns;
  std::vector<std::string> unmapped;
};

Result<std::vector<std::string>> TableColumns(storage::Connection& db, const std::string& table) {
  std::vector<std::string> names;
  storage::Session session(db);
  RETURN_IF_ERROR(session.ForEach("SELECT name FROM pragma_table_info(?)", {table},
                                  [&names](const storage::Row& row) -> Status {
                                    names.push_back(row.Text(0));
                                    return Ok();
                                  }));
  return names;
}

Result<MappedTable> MapTable(storage::Connection& db, const std::string& table,
                             const std::vector<ColumnAliases>& aliases) {
  MappedTable mapped;
  mapped.name = table;
  ASSIGN_OR_RETURN(std::vector<std::string> names, TableColumns(db, table));
  std::set<std::string> used;
  for (const ColumnAliases& role : aliases) {
    // The first alias that is present wins: "sent_at" before "created_at".
    for (std::string_view alias : role.names) {
      auto it = std::find_if(names.begin(), names.end(), [&](const std::string& name) {
        return Lower(Trimmed(name)) == alias && !used.contains(name);
      });
      if (it != names.end()) {
        mapped.columns.emplace(std::string(role.role), *it);
        used.insert(*it);
        break;
      }
    }
  }
  for (const std::string& name : names) {
    if (!used.contains(name)) mapped.unmapped.push_back(name);
  }
  return mapped;
}

// SELECT of the mapped roles in order, every value as text of at most kMaxCell characters (NULL
// stays NULL), so that wrong types and huge values arrive as strings to be judged.
std::string SelectOf(const MappedTable& table, const std::vector<std::string_view>& roles) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < roles.size(); ++i) {
    if (i > 0) sql += ", ";
    auto it = table.columns.find(roles[i]);
    sql += it == table.columns.end() ? std::string("NULL")
                                     : fmt::format("substr(CAST({} AS TEXT), 1, {})",
                                                   QuotedIdentifier(it->second), kMaxCell);
  }
  return sql + " FROM " + QuotedIdentifier(table.name) + " ORDER BY rowid";
}

std::optional<std::string> Cell(const storage::Row& row, size_t column) {
  if (row.IsNull(column)) return std::nullopt;
  return row.Text(column);
}

enum class Flag { kUnset, kTrue, kFalse, kGarbage };

Flag ParseFlag(const std::optional<std::string>& value) {
  if (!value) return Flag::kUnset;
  const std::string text = Lower(Trimmed(*value));
  if (text.empty()) return Flag::kUnset;
  static const std::set<std::string, std::less<>> kYes = {"1",   "1.0", "true", "t",
                                                          "yes", "y",   "sent", "on"};
  static const std::set<std::string, std::less<>> kNo = {"0",  "0.0", "false", "f",
                                                         "no", "n",   "off"};
  if (kYes.contains(text)) return Flag::kTrue;
  if (kNo.contains(text)) return Flag::kFalse;
  return Flag::kGarbage;
}

enum class LogStatus { kPending, kSent, kFailed, kUnknown };

LogStatus ParseStatus(const std::optional<std::string>& value) {
  const std::string text = value ? Lower(Trimmed(*value)) : "";
  static const std::set<std::string, std::less<>> kSent = {
      "sent",    "success", "succeeded", "successful", "ok",    "delivered",
      "invited", "done",    "completed", "complete",   "joined"};
  static const std::set<std::string, std::less<>> kFailed = {"failed", "failure", "fail",
                                                             "error",  "blocked", "rejected"};
  static const std::set<std::string, std::less<>> kPending = {"", "pending", "queued", "new",
                                                              "scheduled"};
  if (kSent.contains(text)) return LogStatus::kSent;
  if (kFailed.contains(text)) return LogStatus::kFailed;
  if (kPending.contains(text)) return LogStatus::kPending;
  return LogStatus::kUnknown;
}

// Unix milliseconds from what the old app stored (SQLAlchemy's "2024-01-02 03:04:05.123456",
// ISO 8601 with T, or a unix time in seconds or milliseconds), taken as UTC; 0 when unreadable.
int64_t ParseOldTime(const std::optional<std::string>& value) {
  if (!value) return 0;
  const std::string text = Trimmed(*value);
  if (!text.empty() && text.size() <= 20 &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    const int64_t n = std::stoll(text);
    if (n >= 1'000'000'000'000 && n < 32'503'680'000'000) return n;  // milliseconds up to 3000
    if (n >= 100'000'000 && n < 32'503'680'000) return n * 1000;     // seconds
    return 0;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char separator = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &year, &month, &day, &separator, &hour,
                  &minute, &second) != 7 ||
      (separator != ' ' && separator != 'T') || year < 1970 || year > 3000 || month < 1 ||
      month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return 0;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// "12345.0" (a user id stored as REAL) -> "12345".
std::string WholeNumber(std::string text) {
  text = Trimmed(text);
  const size_t dot = text.find('.');
  if (dot != std::string::npos && dot > 0 &&
      text.find_first_not_of('0', dot + 1) == std::string::npos) {
    text.resize(dot);
  }
  return text;
}

struct OldLog {
  int64_t row = 0;
  LogStatus status = LogStatus::kPending;
  std::string status_text;
  std::string error;
  int64_t at = 0;
};

// Which log wins when a hostile database has several for one contact: the one that says most
// surely that a message left.
int Rank(LogStatus status) {
  switch (status) {
    case LogStatus::kSent:
      return 3;
    case LogStatus::kUnknown:
      return 2;
    case LogStatus::kFailed:
      return 1;
    case LogStatus::kPending:
      return 0;
  }
  return 0;
}

// Rows for the store's importer, each result's conflicts printed with the old row it came from.
class LegacySource final : public storage::ImportSource {
 public:
  LegacySource(std::string label, std::vector<storage::ImportRow> rows,
               const storage::ErasedPeople& erased)
      : label_(std::move(label)), rows_(std::move(rows)), erased_(erased) {}

  std::optional<storage::ImportRow> Next() override {
    while (next_ < rows_.size()) {
      const storage::ImportRow& row = rows_[next_++];
      if (!erased_.Contains(row.contact)) return row;
      ++refused_;
      fmt::print("import-legacy {}: contacts row {}: {}\n", label_, row.line,
                 storage::ErasedPeople::kRefusal);
    }
    return std::nullopt;
  }
  // Rows of people erased on request, not handed to the store.
  int64_t refused() const { return refused_; }
  void OnResult(const storage::ImportRow& row, const storage::ImportRowResult& result) override {
    if (result.outcome == storage::ImportOutcome::kConflict) {
      fmt::print("import-legacy {}: contacts row {}: {}; not imported\n", label_, row.line,
                 result.conflict);
    }
  }
  bool CommitAllowed() const override { return true; }

 private:
  std::string label_;
  std::vector<storage::ImportRow> rows_;
  const storage::ErasedPeople& erased_;
  size_t next_ = 0;
  int64_t refused_ = 0;
};

// A table by its name, case-insensitively, among the aliases given.
std::optional<std::string> FindTable(const std::vector<std::string>& tables,
                                     std::initializer_list<std::string_view> names) {
  for (std::string_view wanted : names) {
    for (const std::string& table : tables) {
      if (Lower(table) == wanted) return table;
    }
  }
  return std::nullopt;
}

std::string_view StateWord(core::InvitationState state) { return core::ToString(state); }

}  // namespace

int RunImportLegacy(storage::Store& store, const LegacyImportOptions& options) {
  const std::string& label = options.file;
  const auto fail = [&label](ErrorCode code, const std::string& message) {
    return Report(Error{code, fmt::format("import-legacy {}: {}", label, message)});
  };
  Result<storage::CampaignSummary> campaign = store.FindCampaign(options.campaign);
  if (!campaign) return Report(campaign.error().WithContext("import-legacy"));
  Result<std::unique_ptr<storage::Connection>> opened =
      storage::OpenForeignSqliteReadOnly(options.file);
  if (!opened) return Report(opened.error().WithContext("import-legacy"));
  storage::Connection& old = **opened;

  std::vector<std::string> tables;
  if (Status listed =
          old.ForEach("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", {},
                      [&tables](const storage::Row& row) -> Status {
                        tables.push_back(row.Text(0));
                        return Ok();
                      });
      !listed) {
    return fail(ErrorCode::kInvalidArgument, "cannot read its tables: " + listed.error().message);
  }
  const std::optional<std::string> contacts_table = FindTable(tables, {"contacts", "contact"});
  if (!contacts_table) {
    std::string names;
    for (const std::string& table : tables) names += (names.empty() ? "" : ", ") + Shown(table);
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("no contacts table: not the old app's database (its tables: {})",
                            names.empty() ? "none" : names));
  }
  const std::optional<std::string> logs_table =
      FindTable(tables, {"invitation_logs", "invitation_log", "invitationlog", "invitationlogs"});
  const std::optional<std::string> config_table =
      FindTable(tables, {"app_config", "appconfig", "app_configs", "config"});

  // --- contacts: the columns
  Result<MappedTable> contacts = MapTable(old, *contacts_table, ContactColumns());
  if (!contacts) return fail(ErrorCode::kInvalidArgument, contacts.error().message);
  for (const std::string& column : contacts->unmapped) {
    fmt::print("import-legacy {}: {}.{}: not a column tginvite knows; not imported\n", label,
               *contacts_table, Shown(column));
  }
  if (!contacts->columns.contains("telegram_user_id") && !contacts->columns.contains("username") &&
      !contacts->columns.contains("phone")) {
    return fail(
        ErrorCode::kInvalidArgument,
        fmt::format("{} has no column for a Telegram user id, username or phone", *contacts_table));
  }
  if (!contacts->columns.contains("invitation_sent")) {
    fmt::print(
        "import-legacy {}: {} has no invitation_sent column: only the logs say whom the "
        "old app messaged\n",
        label, *contacts_table);
  }

  // --- invitation_logs, by the contact id they name
  std::map<std::string, OldLog> logs;
  int64_t log_rows = 0;
  if (!logs_table) {
    fmt::print(
        "import-legacy {}: no invitation_logs table: only invitation_sent says whom the "
        "old app messaged\n",
        label);
  } else {
    Result<MappedTable> mapped = MapTable(old, *logs_table, LogColumns());
    if (!mapped) return fail(ErrorCode::kInvalidArgument, mapped.error().message);
    if (!mapped->columns.contains("contact_id") || !mapped->columns.contains("status")) {
      fmt::print(
          "import-legacy {}: {} has no contact_id or status column: its rows are not "
          "used\n",
          label, *logs_table);
    } else {
      Status read = old.ForEach(
          SelectOf(*mapped, {"contact_id", "status", "error_message", "sent_at", "updated_at",
                             "created_at"}),
          {}, [&](const storage::Row& row) -> Status {
            ++log_rows;
            const std::optional<std::string> contact_id = Cell(row, 0);
            if (!contact_id || Trimmed(*contact_id).empty()) {
              fmt::print("import-legacy {}: {} row {}: no contact_id; ignored\n", label,
                         *logs_table, log_rows);
              return Ok();
            }
            OldLog log;
            log.row = log_rows;
            log.status = ParseStatus(Cell(row, 1));
            log.status_text = Shown(Trimmed(Cell(row, 1).value_or("")));
            log.error = Cell(row, 2).value_or("");
            // The first time that reads: when it was sent, last changed, or written.
            for (size_t column : {size_t{3}, size_t{4}, size_t{5}}) {
              if (log.at == 0) log.at = ParseOldTime(Cell(row, column));
            }
            const std::string key = WholeNumber(*contact_id);
            auto [it, inserted] = logs.emplace(key, log);
            if (!inserted) {
              fmt::print(
                  "import-legacy {}: {} row {}: a second log for contact {}; the one that "
                  "says most surely that a message left is used\n",
                  label, *logs_table, log_rows, Shown(key));
              if (Rank(log.status) > Rank(it->second.status)) it->second = log;
            }
            return Ok();
          });
      if (!read) {
        return fail(ErrorCode::kInvalidArgument,
                    fmt::format("cannot read {}: {}", *logs_table, read.error().message));
      }
    }
  }

  // --- contacts: the rows
  core::ContactParser parser(*core::HeaderMap::FromHeader({"telegram_user_id", "username",
                                                           "first_name", "last_name", "phone"}),
                             options.region);
  std::vector<storage::ImportRow> messaged_rows;
  std::vector<storage::LegacyOutcome> outcomes;
  std::vector<storage::ImportRow> fresh_rows;
  std::set<std::string> matched_logs;
  int64_t contact_rows = 0;
  int64_t rejected = 0;
  std::map<core::InvitationState, int64_t> by_state;
  Status read = old.ForEach(
      SelectOf(*contacts, {"id", "telegram_user_id", "username", "first_name", "last_name", "phone",
                           "invitation_sent"}),
      {}, [&](const storage::Row& row) -> Status {
        ++contact_rows;
        const std::optional<std::string> old_id = Cell(row, 0);
        const std::string where = old_id ? fmt::format("contact id {}", Shown(WholeNumber(*old_id)))
                                         : fmt::format("contacts row {}", contact_rows);
        std::vector<std::string> fields = {WholeNumber(Cell(row, 1).value_or("")),
                                           Cell(row, 2).value_or(""), Cell(row, 3).value_or(""),
                                           Cell(row, 4).value_or(""), Cell(row, 5).value_or("")};
        Result<core::ContactRecord> contact = parser.Parse(fields);
        // A name the rules refuse is dropped rather than the person.
        for (size_t name : {size_t{2}, size_t{3}}) {
          if (contact) break;
          const std::string_view column = name == 2 ? "first_name" : "last_name";
          if (!contact.error().message.starts_with(column)) break;
          fmt::print("import-legacy {}: {}: {}; imported without it\n", label, where,
                     contact.error().message);
          fields[name].clear();
          contact = parser.Parse(fields);
        }
        if (!contact) {
          ++rejected;
          fmt::print("import-legacy {}: {}: {}; not imported\n", label, where,
                     contact.error().message);
        }
        const Flag flag = ParseFlag(Cell(row, 6));
        std::optional<OldLog> log;
        if (old_id) {
          if (auto it = logs.find(WholeNumber(*old_id)); it != logs.end()) {
            log = it->second;
            matched_logs.insert(it->first);
          }
        }
        if (!contact) return Ok();
        if (flag == Flag::kGarbage) {
          fmt::print(
              "import-legacy {}: {}: invitation_sent \"{}\" is neither true nor false; "
              "taken as perhaps messaged\n",
              label, where, Shown(Cell(row, 6).value_or("")));
        }
        // What the old app did: a log that says so first, then the flag. A message that may
        // have left is never sent again automatically.
        std::optional<storage::LegacyOutcome> outcome;
        const auto make = [&](core::InvitationState state, std::string error, int64_t at) {
          storage::LegacyOutcome made;
          made.contact = *contact;
          made.state = state;
          made.error = std::move(error);
          made.at = at;
          return made;
        };
        const LogStatus status = log ? log->status : LogStatus::kPending;
        if (status == LogStatus::kSent || (flag == Flag::kTrue && status != LogStatus::kFailed)) {
          if (!log && flag == Flag::kTrue) {
            fmt::print("import-legacy {}: {}: invitation_sent but no log; recorded as sent\n",
                       label, where);
          } else if (status == LogStatus::kUnknown) {
            fmt::print(
                "import-legacy {}: {}: log status \"{}\" not understood; invitation_sent "
                "says sent\n",
                label, where, log->status_text);
          }
          outcome = make(core::InvitationState::kSent, "", log ? log->at : 0);
        } else if (status == LogStatus::kFailed) {
          if (flag == Flag::kTrue) {
            fmt::print(
                "import-legacy {}: {}: invitation_sent, yet the log says failed; recorded "
                "as sent\n",
                label, where);
            outcome = make(core::InvitationState::kSent, "", log->at);
          } else {
            outcome = make(core::InvitationState::kFailed, log->error, log->at);
          }
        } else if (status == LogStatus::kUnknown) {
          fmt::print(
              "import-legacy {}: {}: log status \"{}\" not understood; recorded as unknown "
              "(perhaps delivered: never sent again unless you resend unknowns)\n",
              label, where, log->status_text);
          outcome = make(core::InvitationState::kUnknown,
                         fmt::format("status \"{}\"", log->status_text), log->at);
        } else if (flag == Flag::kGarbage) {
          outcome = make(core::InvitationState::kUnknown, "invitation_sent unclear", 0);
        }
        storage::ImportRow import_row{contact_rows, *contact};
        if (outcome) {
          ++by_state[outcome->state];
          messaged_rows.push_back(std::move(import_row));
          outcomes.push_back(std::move(*outcome));
        } else {
          fresh_rows.push_back(std::move(import_row));
        }
        return Ok();
      });
  if (!read) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot read {}: {}", *contacts_table, read.error().message));
  }
  for (const auto& [contact_id, log] : logs) {
    if (!matched_logs.contains(contact_id)) {
      fmt::print("import-legacy {}: {} row {}: contact_id {} is no contact; ignored\n", label,
                 *logs_table, log.row, Shown(contact_id));
    }
  }

  // --- pacing settings
  struct Pacing {
    std::string old_key;
    std::string key;
    std::string value;  // canonical
  };
  std::vector<Pacing> pacing;
  if (!config_table) {
    fmt::print("import-legacy {}: no app_config table: the campaign keeps its pacing\n", label);
  } else {
    Result<MappedTable> mapped = MapTable(old, *config_table, ConfigColumns());
    if (!mapped) return fail(ErrorCode::kInvalidArgument, mapped.error().message);
    if (!mapped->columns.contains("key") || !mapped->columns.contains("value")) {
      fmt::print(
          "import-legacy {}: {} has no key and value columns: the campaign keeps its "
          "pacing\n",
          label, *config_table);
    } else {
      Status config = old.ForEach(
          SelectOf(*mapped, {"key", "value"}), {}, [&](const storage::Row& row) -> Status {
            const std::string old_key = Trimmed(Cell(row, 0).value_or(""));
            const std::optional<std::string_view> key = PacingKeyFor(old_key);
            // Other keys may hold anything, secrets too: only their names are shown.
            if (!key) {
              fmt::print("import-legacy {}: app_config {}: not a pacing setting; ignored\n", label,
                         Shown(old_key));
              return Ok();
            }
            std::string value = Trimmed(Cell(row, 1).value_or(""));
            const std::string shown = Shown(value);
            // The old app kept seconds as plain numbers.
            if (*key != "pacing.batch_size" && !value.empty() && value.size() <= 12 &&
                value.find_first_not_of("0123456789.") == std::string::npos &&
                std::count(value.begin(), value.end(), '.') <= 1 && value != ".") {
              const double seconds = std::stod(value);
              value = fmt::format("{}ms", static_cast<int64_t>(std::llround(seconds * 1000)));
            } else if (*key == "pacing.batch_size") {
              value = WholeNumber(value);
            }
            Result<std::string> valid = value.size() > 40
                                            ? Fail(ErrorCode::kInvalidArgument, "too long")
                                            : core::ValidateSetting(*key, value);
            if (!valid) {
              const core::SettingSpec* spec = core::FindSetting(*key);
              fmt::print(
                  "import-legacy {}: app_config {} = \"{}\": not a valid {} ({}); the "
                  "campaign keeps its value\n",
                  label, Shown(old_key), shown, *key,
                  spec != nullptr ? spec->range : std::string_view("invalid"));
              return Ok();
            }
            pacing.push_back({old_key, std::string(*key), *valid});
            return Ok();
          });
      if (!config) {
        return fail(ErrorCode::kInvalidArgument,
                    fmt::format("cannot read {}: {}", *config_table, config.error().message));
      }
    }
  }

  // --- what is written: messaged contacts and their outcomes first, then the others
  const storage::ImportMode mode =
      options.dry_run ? storage::ImportMode::kDryRun : storage::ImportMode::kBatches;
  fmt::print("import-legacy {}: {} contacts read, {} not importable; {} logs read\n", label,
             WithThousands(contact_rows), WithThousands(rejected), WithThousands(log_rows));
  Result<storage::ErasedPeople> erased = store.LoadErasedPeople();
  if (!erased) return Report(erased.error().WithContext("import-legacy " + label));
  {
    LegacySource source(label, messaged_rows, *erased);
    Result<storage::ImportTotals> totals =
        store.ImportContacts(source, {.campaign = std::nullopt, .mode = mode});
    if (!totals) return Report(totals.error().WithContext("import-legacy " + label));
  }
  if (options.dry_run) {
    fmt::print(
        "import-legacy {}: messaged by the old app: {} sent, {} failed, {} unknown: would "
        "be recorded in campaign {} and never sent again\n",
        label, by_state[core::InvitationState::kSent], by_state[core::InvitationState::kFailed],
        by_state[core::InvitationState::kUnknown], options.campaign);
  } else {
    Result<std::vector<storage::LegacyResult>> results =
        store.RecordLegacyOutcomes(options.campaign, outcomes, storage::LegacyMode::kWrite);
    if (!results) return Report(results.error().WithContext("import-legacy " + label));
    std::map<storage::LegacyResult, int64_t> counts;
    for (size_t i = 0; i < results->size(); ++i) {
      ++counts[(*results)[i]];
      if ((*results)[i] == storage::LegacyResult::kNoContact) {
        fmt::print(
            "import-legacy {}: contacts row {}: not imported, so its {} outcome is not "
            "recorded\n",
            label, messaged_rows[i].line, StateWord(outcomes[i].state));
      }
    }
    fmt::print(
        "import-legacy {}: messaged by the old app: {} sent, {} failed, {} unknown; "
        "campaign {}: {} recorded, {} replaced a queued invitation, {} already there\n",
        label, by_state[core::InvitationState::kSent], by_state[core::InvitationState::kFailed],
        by_state[core::InvitationState::kUnknown], options.campaign,
        counts[storage::LegacyResult::kRecorded], counts[storage::LegacyResult::kReplaced],
        counts[storage::LegacyResult::kKept]);
  }
  {
    LegacySource source(label, fresh_rows, *erased);
    Result<storage::ImportTotals> totals =
        store.ImportContacts(source, {.campaign = options.campaign, .mode = mode});
    if (!totals) return Report(totals.error().WithContext("import-legacy " + label));
    fmt::print(
        "import-legacy {}: never messaged: {} contacts ({} new, {} updated, {} already "
        "known, {} conflicts); campaign {}: {} invitations queued, {} skipped "
        "(suppressed), {} already there\n",
        label, WithThousands(static_cast<int64_t>(fresh_rows.size())),
        WithThousands(totals->imported), WithThousands(totals->updated),
        WithThousands(totals->duplicates), WithThousands(totals->conflicts), options.campaign,
        WithThousands(totals->enqueued), WithThousands(totals->skipped),
        WithThousands(static_cast<int64_t>(fresh_rows.size()) - totals->enqueued - totals->skipped -
                      totals->conflicts - source.refused()));
  }

  // --- pacing: checked together against what the campaign has, then stored one by one
  if (!pacing.empty()) {
    Result<core::RawSettings> global = store.LoadSettings(std::nullopt);
    Result<core::RawSettings> current = store.LoadSettings(options.campaign);
    if (!global || !current) {
      return Report((global ? current.error() : global.error()).WithContext("import-legacy"));
    }
    core::RawSettings candidate = *current;
    for (const Pacing& value : pacing) candidate[value.key] = value.value;
    if (Status rules = core::CheckSettingRules(*global, candidate); !rules) {
      fmt::print("import-legacy {}: app_config's delays: {}; the campaign keeps its delays\n",
                 label, rules.error().message);
      std::erase_if(pacing, [](const Pacing& value) {
        return value.key == "pacing.delay_min" || value.key == "pacing.delay_max";
      });
    }
    // Twice: a new delay_min above the old delay_max goes in once the new delay_max is there.
    std::vector<Pacing> left = pacing;
    for (int pass = 0; pass < 2 && !left.empty(); ++pass) {
      std::vector<Pacing> again;
      for (const Pacing& value : left) {
        Status put =
            options.dry_run ? Ok() : store.PutSetting(options.campaign, value.key, value.value);
        if (put) {
          fmt::print("import-legacy {}: app_config {} -> {} = {} (campaign {}){}\n", label,
                     Shown(value.old_key), value.key, value.value, options.campaign,
                     options.dry_run ? ", not written: dry run" : "");
        } else if (pass == 0) {
          again.push_back(value);
        } else {
          fmt::print("import-legacy {}: app_config {}: {}; the campaign keeps its value\n", label,
                     Shown(value.old_key), put.error().message);
        }
      }
      left = std::move(again);
    }
  }
  if (options.dry_run) fmt::print("import-legacy {}: dry run, nothing was written\n", label);
  return kExitOk;
}

}  // namespace tginvite::cli
