// The Store: everything tginvite keeps, in business terms, as a few role interfaces (catalog,
// accounts, contact import, delivery, update inbox, web reads, web authentication, backups, the
// old app's outcomes) that one engine
// object implements: SqliteStore or PgStore, both on SqlStore (storage/sql_store.h). The same
// contract test suite runs against each, split along the same roles.
//
// Implementations are thread-safe: any thread may call any method. Every write is one
// transaction run by the transaction guard (storage/transaction.h), so a failed call leaves
// nothing half-written and the store usable. Errors: kInvalidArgument for input that breaks a
// rule (the message says which), kNotFound / kAlreadyExists for names, kAborted / kUnavailable
// when the database is busy or down (retry later), kInternal for corruption.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secret_box.h"
#include "core/settings.h"
#include "storage/accounts.h"
#include "storage/backups.h"
#include "storage/catalog.h"
#include "storage/contact_import.h"
#include "storage/delivery.h"
#include "storage/erasure.h"
#include "storage/inbox.h"
#include "storage/legacy.h"
#include "storage/web_auth.h"
#include "storage/web_reads.h"

namespace tginvite::storage {

// Every role, implemented by one engine object. Callers that need one role take that interface
// (a DeliveryStore&, a WebReads&...); the CLI and the processes' wiring hold the whole Store.
class Store : public Catalog,
              public AccountStore,
              public ContactImporter,
              public DeliveryStore,
              public UpdateInbox,
              public WebReads,
              public WebAuthStore,
              public Backups,
              public LegacyRecorder,
              public Erasure {
 public:
  ~Store() override = default;

  virtual std::string_view backend() const = 0;
  // The schema version this binary migrates the database to (the database is at it once open).
  virtual int schema_version() const = 0;
};

// The settings in force for a scope: defaults, then global values, then the campaign's.
Result<core::ResolvedSettings> LoadResolvedSettings(Catalog& store, const SettingScope& scope);

enum class OpenMode {
  kCreate,    // create the database (and its folder) when missing
  kExisting,  // kNotFound when missing
};

// The keys that seal the secrets a store keeps. The store never reads a key file: its caller
// loads the keys and hands them over.
struct StoreSecrets {
  std::shared_ptr<const core::Keyring> keyring;  // null: no key; sealed secrets stay closed
  // How to give the store a key, for messages when it has none ("set TGINVITE_SECRET_KEY or
  // create ./data/secret.key with `tginvite init`").
  std::string missing_key_hint = "no secret key was given";
  // Where the keyring's key came from, for messages ("./data/secret.key"); may be empty.
  std::string key_origin;
};

struct StoreOptions {
  OpenMode mode = OpenMode::kCreate;
  StoreSecrets secrets;
};

// Opens a store from a URL: "sqlite:PATH" (a bare path is taken as sqlite too),
// "sqlite:PATH?synchronous=full" for fsync on every commit, or "postgresql://...". Applies pending
// migrations. A new SQLite database file is created readable by its owner alone (0600), in a
// folder created 0700.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options);
// The same without a secret key: sealed secrets can be neither stored nor opened.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, OpenMode mode);

// The database file of a "sqlite:" URL (or bare path), std::nullopt for PostgreSQL and
// ":memory:".
std::optional<std::string> SqliteFileOf(std::string_view url);

}  // namespace tginvite::storage
