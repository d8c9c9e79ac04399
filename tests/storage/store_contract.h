// The storage contract: one test suite that every Store implementation must pass, in one file per
// role (tests/storage/*_contract_test.cpp). A backend plugs in by instantiating it with a factory
// (see store_sqlite_test.cpp).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "fakes/temp_dir.h"
#include "storage/store.h"

namespace tginvite::storage {

struct StoreBackend {
  std::string name;
  // Opens an empty store whose files, if any, live in `dir`. A backend that is not reachable here
  // returns kUnavailable and the suite is skipped with that message.
  std::function<Result<std::unique_ptr<Store>>(const testing::TempDir& dir)> open;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

inline void StoreContractTest::SetUp() {
  Result<std::unique_ptr<Store>> opened = GetParam().open(dir_);
  if (!opened && opened.error().code == ErrorCode::kUnavailable) {
    GTEST_SKIP() << GetParam().name << " is not reachable: " << opened.error().message;
  }
  ASSERT_TRUE(opened) << opened.error().message;
  store_ = std::move(opened).value();
}

}  // namespace tginvite::storage
