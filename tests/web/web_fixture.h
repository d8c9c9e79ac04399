// What the web tests start from: a fresh SQLite store (with the test key) with a REHEARSAL account
// "demo" and a draft campaign "spring".
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "fakes/temp_dir.h"
#include "fakes/test_keys.h"
#include "storage/store.h"

namespace tginvite::web {

inline std::unique_ptr<storage::Store> OpenStoreWithCampaign(const testing::TempDir& dir) {
  auto store = storage::OpenStore("sqlite:" + dir.File("t.db"), testing::TestStoreOptions());
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return nullptr;
  EXPECT_TRUE((*store)->AddAccount(
      {"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
  EXPECT_TRUE(
      (*store)->CreateCampaign({"spring", "demo", "-1001234567890", "Hello {first_name}: {link}",
                                core::LinkMode::kPersonal, ""}));
  return std::move(*store);
}

}  // namespace tginvite::web
