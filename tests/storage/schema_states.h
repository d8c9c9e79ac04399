// Both schemas' CHECK constraints admit exactly core's states: a state added to core without the
// migration that widens the CHECK fails here, on each engine.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "core/model.h"
#include "storage/connection.h"
#include "storage/import_rows.h"
#include "storage/store.h"

namespace tginvite::testing {

inline void ExpectSchemaAdmitsCoreStates(storage::Store& store, storage::Connection& conn) {
  ASSERT_TRUE(
      store.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
  storage::NewCampaign campaign{
      "spring", "demo", "-1001234567890", "Hello: {link}", core::LinkMode::kPersonal, ""};
  ASSERT_TRUE(store.CreateCampaign(campaign));
  VectorSource source(Rows({Contact(1)}));
  auto imported = store.ImportContacts(source, Options("spring"));
  ASSERT_TRUE(imported) << imported.error().message;

  storage::Session session(conn);
  for (core::CampaignState state : core::kAllCampaignStates) {
    Result<int64_t> changed =
        session.Execute("UPDATE campaigns SET state = ? WHERE name = ?",
                        {std::string(core::ToString(state)), std::string("spring")});
    EXPECT_TRUE(changed) << core::ToString(state) << ": " << changed.error().message;
  }
  EXPECT_FALSE(session.Execute("UPDATE campaigns SET state = 'bogus' WHERE name = 'spring'"));
  for (core::InvitationState state : core::kAllInvitationStates) {
    Result<int64_t> changed =
        session.Execute("UPDATE invitations SET state = ?", {std::string(core::ToString(state))});
    EXPECT_TRUE(changed) << core::ToString(state) << ": " << changed.error().message;
  }
  EXPECT_FALSE(session.Execute("UPDATE invitations SET state = 'bogus'"));
}

}  // namespace tginvite::testing
