// Row decoding shared by the SQL stores' files (SQLite and PostgreSQL).
#pragma once

#include "core/contact.h"
#include "storage/connection.h"

namespace tginvite::storage::internal {

// Reads a contact from five consecutive columns starting at `first`, in the order
// telegram_user_id, username, first_name, last_name, phone.
inline core::ContactRecord ContactFromColumns(const Row& row, size_t first) {
  core::ContactRecord contact;
  contact.telegram_user_id = row.OptInt(first);
  contact.username = row.Text(first + 1);
  contact.first_name = row.Text(first + 2);
  contact.last_name = row.Text(first + 3);
  contact.phone = row.Text(first + 4);
  return contact;
}

}  // namespace tginvite::storage::internal
