// What the storage contract suite's files share: imports from a list of contacts, a campaign on a
// rehearsal account, counts, the export, and a claim as one worker would make it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "storage/import_rows.h"
#include "storage/store.h"

namespace tginvite::storage::contract {

inline Result<ImportTotals> Import(Store& store, std::vector<core::ContactRecord> contacts,
                                   ImportOptions options = {}) {
  testing::VectorSource source(testing::Rows(std::move(contacts)));
  return store.ImportContacts(source, options);
}

inline void CreateCampaign(Store& store, std::string name = "spring") {
  ASSERT_TRUE(
      store.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}) ||
      true);
  NewCampaign campaign{
      name, "demo", "-1001234567890", "Hello {first_name}: {link}", core::LinkMode::kPersonal, ""};
  auto created = store.CreateCampaign(campaign);
  ASSERT_TRUE(created) << created.error().message;
}

inline core::StateCounts CountsOf(Store& store, std::string_view campaign) {
  auto found = store.FindCampaign(campaign);
  EXPECT_TRUE(found) << found.error().message;
  return found ? found->counts : core::StateCounts{};
}

inline std::vector<ExportRow> ExportAll(Store& store, std::string_view campaign) {
  std::vector<ExportRow> rows;
  Status status = store.ExportInvitations(campaign, [&rows](const ExportRow& row) -> Status {
    rows.push_back(row);
    return Ok();
  });
  EXPECT_TRUE(status) << status.error().message;
  return rows;
}

// A claim of every due invitation of the running campaign, as one worker "w" would make it.
inline ClaimRequest ClaimRequestFor(Store& store, std::string_view campaign) {
  ClaimRequest request;
  auto found = store.FindCampaign(campaign);
  EXPECT_TRUE(found) << found.error().message;
  if (!found) return request;
  request.account_id = found->campaign.account_id;
  request.worker_id = "w";
  request.now = 1'700'000'000'000;
  request.horizon = std::chrono::seconds(10);
  request.campaigns = {{found->campaign.id, 0, {}, {}, {}}};
  return request;
}

// Claims and marks as about to be sent; std::nullopt (with the failure reported) on an error.
inline std::optional<std::vector<Claim>> ClaimAndMarkSending(Store& store,
                                                             const ClaimRequest& request) {
  auto claimed = store.ClaimInvitations(request);
  EXPECT_TRUE(claimed) << claimed.error().message;
  if (!claimed) return std::nullopt;
  std::vector<SendingMark> marks;
  for (const Claim& c : claimed->claims) marks.push_back({c.invitation_id, c.gen, ""});
  Result<std::vector<int64_t>> marked =
      store.MarkSending(marks, request.now, std::chrono::seconds(30));
  EXPECT_TRUE(marked) << marked.error().message;
  if (!marked) return std::nullopt;
  return std::move(claimed->claims);
}

}  // namespace tginvite::storage::contract
