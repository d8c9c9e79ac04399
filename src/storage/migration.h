// A schema migration: both engines keep their schema as versioned, forward-only migrations
// embedded in the binary (storage/sqlite/schema.h, storage/postgres/pg_schema.h), applied on open.
#pragma once

#include <string_view>

#include "core/error.h"
#include "storage/transaction.h"

namespace tginvite::storage {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
  // What a statement cannot do, run after `sql` in the same transaction; null for most.
  Status (*run)(Tx& tx) = nullptr;
};

}  // namespace tginvite::storage
