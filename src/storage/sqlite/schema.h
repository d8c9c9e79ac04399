// The SQLite schema: versioned, forward-only migrations embedded in the binary.
#pragma once

#include <span>
#include <string_view>

#include "core/error.h"
#include "storage/connection.h"
#include "storage/transaction.h"

namespace tginvite::storage {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
  // What a statement cannot do, run after `sql` in the same transaction; null for most.
  Status (*run)(Tx& tx) = nullptr;
};

std::span<const Migration> SqliteMigrations();

// Applies every migration newer than the database's schema_version, each in its own transaction.
// kInternal when the database is newer than this binary.
Status MigrateSqlite(Connection& conn);

}  // namespace tginvite::storage
