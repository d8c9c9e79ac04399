#include "storage/invitations_csv.h"

#include <ctime>

#include <fmt/format.h>

#include "core/csv_writer.h"

namespace tginvite::storage {
namespace {

std::string UtcTime(int64_t unix_ms) {
  if (unix_ms == 0) return "";
  const auto seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace

std::string InvitationsCsvRow(const ExportRow& row) {
  const core::ContactRecord& c = row.contact;
  auto cell = [](std::string_view value) { return core::ExportCell(value); };
  return fmt::format(
      "{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
      c.telegram_user_id ? std::to_string(*c.telegram_user_id) : "", cell(c.username),
      cell(c.first_name), cell(c.last_name), cell(c.phone), core::ToString(row.state), row.attempts,
      cell(row.last_error), cell(row.invite_link), row.sent_at ? UtcTime(*row.sent_at) : "",
      row.joined_at ? UtcTime(*row.joined_at) : "", UtcTime(row.updated_at), cell(row.start_link));
}

}  // namespace tginvite::storage
