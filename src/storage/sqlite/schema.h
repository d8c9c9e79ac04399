// The SQLite schema: versioned, forward-only migrations embedded in the binary.
#pragma once

#include <span>
#include <string_view>

#include "core/error.h"
#include "storage/connection.h"
#include "storage/migration.h"

namespace tginvite::storage {

std::span<const Migration> SqliteMigrations();

// Applies every migration newer than the database's schema_version, each in its own transaction.
// kInternal when the database is newer than this binary.
Status MigrateSqlite(Connection& conn);

}  // namespace tginvite::storage
