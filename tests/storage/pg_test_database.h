// A fresh PostgreSQL database per test, on the server named by TGINVITE_TEST_PG (a libpq URL of
// a database the test may use to CREATE and DROP others; scripts/with-postgres.sh starts one and
// sets it). Without TGINVITE_TEST_PG, or when the server is unreachable, Create() returns
// kUnavailable with a message saying so, and tests skip with it.
#pragma once

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "storage/postgres/pg_connection.h"

namespace tginvite::testing {

class PgTestDatabase {
 public:
  // Creates an empty database with a unique name.
  static Result<std::unique_ptr<PgTestDatabase>> Create() {
    const char* admin = std::getenv("TGINVITE_TEST_PG");
    if (admin == nullptr || *admin == '\0') {
      return Fail(ErrorCode::kUnavailable,
                  "TGINVITE_TEST_PG is not set (a libpq URL; scripts/with-postgres.sh or `make "
                  "test` starts a server and sets it)");
    }
    static std::atomic<int> counter{0};
    std::string name = fmt::format("tginvite_test_{}_{}", getpid(), counter.fetch_add(1));
    {
      ASSIGN_OR_RETURN(std::unique_ptr<storage::PgConnection> conn,
                       storage::PgConnection::Open(admin));
      // One statement each: a multi-statement string runs as one transaction, which these refuse.
      RETURN_IF_ERROR(conn->ExecuteScript(fmt::format("DROP DATABASE IF EXISTS {}", name)));
      RETURN_IF_ERROR(
          conn->ExecuteScript(fmt::format("CREATE DATABASE {} TEMPLATE template0", name)));
    }
    return std::unique_ptr<PgTestDatabase>(new PgTestDatabase(admin, std::move(name)));
  }

  ~PgTestDatabase() { Drop(); }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  // The database's URL: the admin URL with its database name replaced.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // Drops the database, ending any session still connected to it.
  void Drop() {
    if (dropped_) return;
    dropped_ = true;
    if (auto conn = storage::PgConnection::Open(admin_)) {
      (void)(*conn)->ExecuteScript(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
    }
  }

  // `url` with its database name replaced by `database`.
  static std::string WithDatabase(std::string_view url, std::string_view database) {
    std::string_view query;
    if (size_t q = url.find('?'); q != std::string_view::npos) {
      query = url.substr(q);
      url = url.substr(0, q);
    }
    size_t authority = url.find("://");
    authority = authority == std::string_view::npos ? 0 : authority + 3;
    size_t slash = url.find('/', authority);
    std::string base(slash == std::string_view::npos ? url : url.substr(0, slash));
    return fmt::format("{}/{}{}", base, database, query);
  }

 private:
  PgTestDatabase(std::string admin, std::string name)
      : admin_(std::move(admin)), name_(std::move(name)), url_(WithDatabase(admin_, name_)) {}

  std::string admin_;
  std::string name_;
  std::string url_;
  bool dropped_ = false;
};

// A fixture with a fresh database in `db_`, or skipped with the reason when PostgreSQL is not
// reachable. A fixture that derives from it and has its own SetUp calls this one first and
// returns when IsSkipped() or HasFatalFailure().
class PgDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = PgTestDatabase::Create();
    if (!db && db.error().code == ErrorCode::kUnavailable) {
      GTEST_SKIP() << "PostgreSQL is not reachable: " << db.error().message;
    }
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(db).value();
  }

  std::unique_ptr<PgTestDatabase> db_;
};

}  // namespace tginvite::testing
