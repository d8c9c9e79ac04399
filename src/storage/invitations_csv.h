// The invitations export: a campaign's invitations as CSV, one row per contact, as `tginvite
// export` writes them and the dashboard downloads them (GET /api/v1/campaigns/{name}/export.csv).
// Both write through here, so the two give the same bytes; every text cell goes through
// core::ExportCell (spreadsheet formulas neutralised).
#pragma once

#include <string>
#include <string_view>

#include "storage/catalog.h"

namespace tginvite::storage {

// The header row, with its CRLF. The start_link column comes last.
inline constexpr std::string_view kInvitationsCsvHeader =
    "telegram_user_id,username,first_name,last_name,phone,state,attempts,last_error,invite_link,"
    "sent_at,joined_at,updated_at,start_link\r\n";

// One row, with its CRLF; times in UTC ("2026-12-03 20:48:08Z"), empty when unset.
std::string InvitationsCsvRow(const ExportRow& row);

}  // namespace tginvite::storage
