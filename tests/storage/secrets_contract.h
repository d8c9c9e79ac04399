// The secrets-at-rest contract: how every Store keeps bot tokens sealed, opens them, and seals
// what an older version left in plaintext. A backend plugs in by instantiating the suite with a
// factory of test databases (see store_sqlite_test.cpp, store_postgres_pgtest.cpp).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "fakes/temp_dir.h"
#include "storage/connection.h"
#include "storage/store.h"

namespace tginvite::storage {

// One database made for one test: stores can be opened over it again and again (with other
// keys), and a raw connection does what no store would (write a plaintext token, read a column
// as it is stored).
class SecretsDatabase {
 public:
  virtual ~SecretsDatabase() = default;
  virtual Result<std::unique_ptr<Store>> Open(const StoreSecrets& secrets) = 0;
  virtual Result<std::unique_ptr<Connection>> Connect() = 0;
};

struct SecretsBackend {
  std::string name;
  // Makes an empty database whose files, if any, live in `dir`; kUnavailable skips the suite.
  std::function<Result<std::unique_ptr<SecretsDatabase>>(const testing::TempDir& dir)> make;
};

inline void PrintTo(const SecretsBackend& backend, std::ostream* os) { *os << backend.name; }

class SecretsContractTest : public ::testing::TestWithParam<SecretsBackend> {
 protected:
  void SetUp() override;

  // A store over the test's database with `secrets` (asserting that it opens).
  std::unique_ptr<Store> Open(const StoreSecrets& secrets);
  // The accounts.bot_token column of an account, as stored.
  std::string StoredToken(std::string_view account);
  // Runs one statement on a raw connection.
  void Sql(std::string_view sql, std::initializer_list<Value> params = {});

  testing::TempDir dir_;
  std::unique_ptr<SecretsDatabase> db_;
};

}  // namespace tginvite::storage
