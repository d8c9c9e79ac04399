#include "storage/connection.h"

namespace tginvite::storage {

bool Row::IsNull(size_t column) const {
  return std::holds_alternative<std::monostate>(values_.at(column));
}

int64_t Row::Int(size_t column) const {
  const Value& v = values_.at(column);
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}

double Row::Real(size_t column) const {
  const Value& v = values_.at(column);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return 0;
}

std::string Row::Text(size_t column) const {
  const Value& v = values_.at(column);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return "";
}

std::optional<int64_t> Row::OptInt(size_t column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

Result<std::vector<Row>> Session::Query(std::string_view sql, std::initializer_list<Value> params) {
  std::vector<Row> rows;
  RETURN_IF_ERROR(ForEach(sql, params, [&rows](const Row& row) -> Status {
    rows.push_back(row);
    return Ok();
  }));
  return rows;
}

Result<std::optional<Row>> Session::QueryOne(std::string_view sql,
                                             std::initializer_list<Value> params) {
  std::optional<Row> first;
  RETURN_IF_ERROR(ForEach(sql, params, [&first](const Row& row) -> Status {
    if (!first) first = row;
    return Ok();
  }));
  return first;
}

Result<int64_t> Session::QueryInt(std::string_view sql, std::initializer_list<Value> params) {
  ASSIGN_OR_RETURN(std::optional<Row> row, QueryOne(sql, params));
  if (!row) return Fail(ErrorCode::kNotFound, "query returned no row");
  return row->Int(0);
}

Value NullIfEmpty(std::string_view text) {
  if (text.empty()) return std::monostate{};
  return std::string(text);
}

Value NullIfNone(std::optional<int64_t> value) {
  if (!value) return std::monostate{};
  return *value;
}

}  // namespace tginvite::storage
