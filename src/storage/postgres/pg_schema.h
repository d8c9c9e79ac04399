// The PostgreSQL schema: versioned, forward-only migrations embedded in the binary, the same
// tables and rules as the SQLite schema in PostgreSQL's dialect.
#pragma once

#include <span>

#include "core/error.h"
#include "storage/postgres/pg_connection.h"
#include "storage/migration.h"

namespace tginvite::storage {

std::span<const Migration> PgMigrations();

// Whether the database holds a tginvite schema at all.
Result<bool> PgHasSchema(PgConnection& conn);

// Applies every migration newer than the database's schema_version, each in its own
// transaction, while holding a session-level advisory lock, so two processes starting at once
// apply each migration exactly once (the second waits, then finds nothing left to do). kInternal
// when the database is newer than this binary.
Status MigratePg(PgConnection& conn);

}  // namespace tginvite::storage
