#include "storage/postgres/pg_connection.h"

#include <charconv>
#include <memory>

#include <libpq-fe.h>

namespace tginvite::storage {
namespace {

// Type OIDs of the columns decoded as numbers (pg_type.dat).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

ErrorCode CodeForState(std::string_view state) {
  if (state == "40001" || state == "40P01" || state == "55P03") return ErrorCode::kAborted;
  if (state == "23505") return ErrorCode::kAlreadyExists;
  if (state.starts_with("23")) return ErrorCode::kInvalidArgument;
  // Connection exceptions, insufficient resources (disk full, too many connections), operator
  // intervention (shutdown, cannot connect now), system errors.
  if (state.starts_with("08") || state.starts_with("53") || state.starts_with("57P") ||
      state.starts_with("58")) {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

std::string FirstLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (size_t nl = text.find('\n'); nl != std::string_view::npos) text = text.substr(0, nl);
  return std::string(text);
}

// Drops every value of a "password" keyword from `message` (libpq does not quote it, but a
// message must never be able to carry it).
std::string Scrub(std::string message, const std::string& password) {
  if (password.empty()) return message;
  for (size_t at; (at = message.find(password)) != std::string::npos;) {
    message.replace(at, password.size(), "<redacted>");
  }
  return message;
}

Value Decode(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return std::monostate{};
  const char* text = PQgetvalue(result, row, column);
  const int length = PQgetlength(result, row, column);
  switch (PQftype(result, column)) {
    case kBoolOid:
      return int64_t{text[0] == 't' ? 1 : 0};
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kNumericOid: {
      int64_t value = 0;
      auto [end, ec] = std::from_chars(text, text + length, value);
      if (ec == std::errc() && end == text + length) return value;
      return std::strtod(text, nullptr);  // a numeric with a fraction
    }
    case kFloat4Oid:
    case kFloat8Oid:
      return std::strtod(text, nullptr);
    default:
      return std::string(text, static_cast<size_t>(length));
  }
}

std::string ToText(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {};
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return fmt::format("{}", v);
        } else {
          return v;
        }
      },
      value);
}

// COPY's text format: backslash escapes for the characters that delimit rows and columns.
void AppendCopyField(std::string& line, const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) {
    line += "\\N";
    return;
  }
  for (char c : ToText(value)) {
    switch (c) {
      case '\\':
        line += "\\\\";
        break;
      case '\t':
        line += "\\t";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      default:
        line += c;
    }
  }
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url) {
  // Defaults first: the URL's own values, expanded in place of dbname, override them.
  const char* keywords[] = {"connect_timeout", "application_name", "keepalives_idle",
                            "keepalives_interval", "keepalives_count", "dbname", nullptr};
  const char* values[] = {"5", "tginvite", "10", "5", "3", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Fail(ErrorCode::kUnavailable, "postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string password;
    char* parse_error = nullptr;
    if (PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error)) {
      for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = o->val;
      }
      PQconninfoFree(options);
    }
    PQfreemem(parse_error);
    std::string message = Scrub(FirstLine(PQerrorMessage(conn)), password);
    PQfinish(conn);
    return Fail(ErrorCode::kUnavailable, "postgresql: {}", message);
  }
  // The server's notices (and the FATAL it sends before it closes a connection at shutdown) would
  // go to stderr; the error that follows carries what matters.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConnection> result(new PgConnection(conn));
  // Times are unix milliseconds everywhere; the session's zone only matters for logs.
  RETURN_IF_ERROR(result->ExecuteScript("SET TIME ZONE 'UTC'; SET client_min_messages = warning"));
  return result;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::IsBroken() const { return broken_ || PQstatus(conn_) != CONNECTION_OK; }

bool PgConnection::InTransaction() const {
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
    case PQTRANS_ACTIVE:
      return true;
    default:
      return false;  // idle, or the connection is gone (then IsBroken() says so)
  }
}

namespace {

Error ErrorOf(PGconn* conn, const PGresult* result, std::string_view context) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? std::string(primary) : FirstLine(PQerrorMessage(conn));
  ErrorCode code = state != nullptr ? CodeForState(state) : ErrorCode::kInternal;
  if (PQstatus(conn) != CONNECTION_OK) code = ErrorCode::kUnavailable;
  if (message.empty()) message = "unknown error";
  return Error{code, fmt::format("{}: {}", context, message)};
}

}  // namespace

Status PgConnection::SimpleCommand(const char* command) {
  ResultPtr result(PQexec(conn_, command));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return ErrorOf(conn_, result.get(), fmt::format("database: {}", command));
  }
  return Ok();
}

Status PgConnection::Begin(TxKey) { return SimpleCommand("BEGIN"); }
Status PgConnection::Rollback(TxKey) { return SimpleCommand("ROLLBACK"); }

Status PgConnection::Commit(TxKey) {
  ResultPtr result(PQexec(conn_, "COMMIT"));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return ErrorOf(conn_, result.get(), "database: commit");
  }
  // COMMIT of a transaction that failed earlier succeeds as a ROLLBACK: nothing was written.
  if (std::string_view(PQcmdStatus(result.get())) == "ROLLBACK") {
    return Fail(ErrorCode::kInternal, "database: commit: the transaction had failed and was "
                                      "rolled back");
  }
  return Ok();
}

std::string PgConnection::TranslatePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t digits = i + 1;
    while (digits < sql.size() && sql[digits] >= '0' && sql[digits] <= '9') ++digits;
    int number = 0;
    if (digits > i + 1) {
      std::from_chars(sql.data() + i + 1, sql.data() + digits, number);
      next = std::max(next, number);
      i = digits - 1;
    } else {
      number = ++next;
    }
    out += fmt::format("${}", number);
  }
  return out;
}

Result<std::string> PgConnection::Prepare(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  std::string name = fmt::format("s{}", statements_.size() + 1);
  std::string translated = TranslatePlaceholders(sql);
  ResultPtr result(PQprepare(conn_, name.c_str(), translated.c_str(), 0, nullptr));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return ErrorOf(conn_, result.get(), "database: prepare");
  }
  statements_.emplace(std::string(sql), name);
  return name;
}

namespace {

// Parameter values as libpq wants them: text, or a null pointer for NULL.
struct Params {
  explicit Params(std::span<const Value> params) {
    texts.reserve(params.size());
    for (const Value& v : params) texts.push_back(ToText(v));
    for (size_t i = 0; i < params.size(); ++i) {
      pointers.push_back(std::holds_alternative<std::monostate>(params[i]) ? nullptr
                                                                          : texts[i].c_str());
    }
  }
  int count() const { return static_cast<int>(pointers.size()); }
  std::vector<std::string> texts;
  std::vector<const char*> pointers;
};

}  // namespace

Result<int64_t> PgConnection::Execute(std::string_view sql, std::span<const Value> params) {
  ASSIGN_OR_RETURN(std::string name, Prepare(sql));
  Params p(params);
  ResultPtr result(PQexecPrepared(conn_, name.c_str(), p.count(), p.pointers.data(), nullptr,
                                  nullptr, 0));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorOf(conn_, result.get(), "database");
  }
  const char* tuples = PQcmdTuples(result.get());
  int64_t changed = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), changed);
  return changed;
}

Status PgConnection::ForEach(std::string_view sql, std::span<const Value> params,
                             const RowCallback& on_row) {
  ASSIGN_OR_RETURN(std::string name, Prepare(sql));
  Params p(params);
  if (PQsendQueryPrepared(conn_, name.c_str(), p.count(), p.pointers.data(), nullptr, nullptr,
                          0) == 0) {
    return ErrorOf(conn_, nullptr, "database");
  }
  // Rows are streamed one at a time; a callback must not run statements on this connection.
  PQsetSingleRowMode(conn_);
  Status status = Ok();
  std::vector<Value> values;
  // Every result is read to the end, so the connection is ready for the next statement.
  while (PGresult* raw = PQgetResult(conn_)) {
    ResultPtr result(raw);
    ExecStatusType kind = PQresultStatus(raw);
    if (kind == PGRES_SINGLE_TUPLE || kind == PGRES_TUPLES_OK) {
      if (!status) continue;
      const int columns = PQnfields(raw);
      for (int r = 0; r < PQntuples(raw); ++r) {
        values.clear();
        values.reserve(static_cast<size_t>(columns));
        for (int c = 0; c < columns; ++c) values.push_back(Decode(raw, r, c));
        status = on_row(Row(std::move(values)));
        values = {};
        if (!status) break;
      }
    } else if (kind != PGRES_COMMAND_OK && status) {
      status = ErrorOf(conn_, raw, "database");
    }
  }
  if (status && PQstatus(conn_) != CONNECTION_OK) {
    return Fail(ErrorCode::kUnavailable, "database: connection lost");
  }
  return status;
}

Status PgConnection::ExecuteScript(std::string_view sql) {
  std::string text(sql);
  ResultPtr result(PQexec(conn_, text.c_str()));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorOf(conn_, result.get(), "database");
  }
  return Ok();
}

Result<int64_t> PgConnection::CopyIn(std::string_view table_and_columns,
                                     std::span<const std::vector<Value>> rows) {
  std::string command = fmt::format("COPY {} FROM STDIN", table_and_columns);
  {
    ResultPtr started(PQexec(conn_, command.c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_IN) {
      return ErrorOf(conn_, started.get(), "database: copy");
    }
  }
  std::string buffer;
  bool failed = false;
  for (const std::vector<Value>& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) buffer += '\t';
      AppendCopyField(buffer, row[i]);
    }
    buffer += '\n';
    if (buffer.size() >= 64 * 1024) {
      failed = PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1;
      buffer.clear();
      if (failed) break;
    }
  }
  if (!failed && !buffer.empty()) {
    failed = PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1;
  }
  PQputCopyEnd(conn_, failed ? "client failed to send the rows" : nullptr);
  Status status = Ok();
  int64_t copied = 0;
  while (PGresult* raw = PQgetResult(conn_)) {
    ResultPtr result(raw);
    if (PQresultStatus(raw) == PGRES_COMMAND_OK) {
      const char* tuples = PQcmdTuples(raw);
      std::from_chars(tuples, tuples + std::strlen(tuples), copied);
    } else if (status) {
      status = ErrorOf(conn_, raw, "database: copy");
    }
  }
  RETURN_IF_ERROR(status);
  if (failed) return Fail(ErrorCode::kUnavailable, "database: copy: connection lost");
  return copied;
}

}  // namespace tginvite::storage
