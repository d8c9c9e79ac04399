// The web reads' start links, on every engine (this file is part of the storage contract suite:
// it runs wherever StoreContractTest is instantiated).
#include <regex>

#include "storage/import_rows.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using core::InvitationState;
using testing::Contact;
using testing::Options;
using testing::Rows;
using testing::VectorSource;

// A campaign of reach `both` with a contact known by id (pending) and one known only by username
// (awaiting_start). Returns the campaign's account id.
int64_t CampaignWithTwoContacts(Store& store) {
  EXPECT_TRUE(
      store.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
  NewCampaign campaign{"links",
                       "demo",
                       "-1001234567890",
                       "Hello {first_name}: {link}",
                       core::LinkMode::kPersonal,
                       "",
                       core::CampaignReach::kBoth};
  auto created = store.CreateCampaign(campaign);
  EXPECT_TRUE(created) << created.error().message;
  VectorSource source(Rows({Contact(501, "ann_a", "Ann"), Contact(std::nullopt, "bob_b", "Bob")}));
  auto imported = store.ImportContacts(source, Options("links"));
  EXPECT_TRUE(imported) << imported.error().message;
  return created ? created->account_id : 0;
}

ContactPage Page(Store& store, ContactQuery query) {
  auto page = store.ListContacts(query);
  EXPECT_TRUE(page) << page.error().message;
  return page ? *page : ContactPage{};
}

ContactQuery InCampaign(std::string campaign) {
  ContactQuery query;
  query.campaign = std::move(campaign);
  return query;
}

std::map<std::string, std::string> ExportedLinks(Store& store) {
  std::map<std::string, std::string> links;
  Status exported = store.ExportInvitations("links", [&links](const ExportRow& row) -> Status {
    links[row.contact.username] = row.start_link;
    return Ok();
  });
  EXPECT_TRUE(exported) << exported.error().message;
  return links;
}

TEST_P(StoreContractTest, ContactPagesOfACampaignCarryEachContactsStartLink) {
  const int64_t account = CampaignWithTwoContacts(*store_);

  // Until getMe told the bot's username there is no link to show.
  ContactPage page = Page(*store_, InCampaign("links"));
  ASSERT_EQ(page.contacts.size(), 2u);
  for (const ContactView& view : page.contacts) EXPECT_EQ(view.start_link, "") << view.id;

  ASSERT_TRUE(store_->SetBotUsername(account, "tginvite_test_bot"));
  page = Page(*store_, InCampaign("links"));
  ASSERT_EQ(page.contacts.size(), 2u);
  const std::map<std::string, std::string> exported = ExportedLinks(*store_);
  const std::regex link("https://t\\.me/tginvite_test_bot\\?start=[0-9a-f]{32}");
  for (const ContactView& view : page.contacts) {
    SCOPED_TRACE(view.contact.username);
    EXPECT_TRUE(std::regex_match(view.start_link, link)) << view.start_link;
    EXPECT_EQ(view.start_link, exported.at(view.contact.username)) << "the export's link";
  }
  EXPECT_NE(page.contacts[0].start_link, page.contacts[1].start_link);
  EXPECT_EQ(page.contacts[0].state, InvitationState::kPending);
  EXPECT_EQ(page.contacts[1].state, InvitationState::kAwaitingStart);

  // Without a campaign a contact has no invitation, so no start link.
  for (const ContactView& view : Page(*store_, ContactQuery{}).contacts) {
    EXPECT_EQ(view.start_link, "") << view.id;
  }
}

TEST_P(StoreContractTest, AContactPageReadsOneContactAndItsRenewedLink) {
  const int64_t account = CampaignWithTwoContacts(*store_);
  ASSERT_TRUE(store_->SetBotUsername(account, "tginvite_test_bot"));
  ContactPage all = Page(*store_, InCampaign("links"));
  ASSERT_EQ(all.contacts.size(), 2u);
  const ContactView bob = all.contacts[1];
  ASSERT_EQ(bob.contact.username, "bob_b");

  ContactQuery one = InCampaign("links");
  one.contact_id = bob.id;
  ContactPage page = Page(*store_, one);
  ASSERT_EQ(page.contacts.size(), 1u);
  EXPECT_EQ(page.contacts[0].id, bob.id);
  EXPECT_EQ(page.contacts[0].start_link, bob.start_link);
  EXPECT_FALSE(page.next_after.has_value());

  auto renewed = store_->RenewStartLink("links", "username:bob_b");
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_NE(*renewed, bob.start_link);
  page = Page(*store_, one);
  ASSERT_EQ(page.contacts.size(), 1u);
  EXPECT_EQ(page.contacts[0].start_link, *renewed) << "the old link stopped working";

  ContactQuery anywhere;
  anywhere.contact_id = bob.id;
  page = Page(*store_, anywhere);
  ASSERT_EQ(page.contacts.size(), 1u);
  EXPECT_EQ(page.contacts[0].contact.username, "bob_b");
  EXPECT_FALSE(page.contacts[0].state.has_value());

  // A contact without an invitation in the campaign, and no contact at all: empty pages.
  ASSERT_TRUE(store_->CreateCampaign(
      {"other", "demo", "-1001234567891", "Hi {link}", core::LinkMode::kPersonal, ""}));
  ContactQuery elsewhere = InCampaign("other");
  elsewhere.contact_id = bob.id;
  EXPECT_TRUE(Page(*store_, elsewhere).contacts.empty());
  one.contact_id = bob.id + 1000;
  EXPECT_TRUE(Page(*store_, one).contacts.empty());
}

}  // namespace
}  // namespace tginvite::storage
