// Web reads (WebReads, storage/web_reads.h) on every engine: contact pages by keyset, searches,
// attempts, errors, minutes, tallies, start links. Part of the storage contract suite: it runs
// wherever StoreContractTest is instantiated.
#include <regex>
#include <tuple>

#include "storage/contract_helpers.h"
#include "storage/import_rows.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using contract::ClaimAndMarkSending;
using contract::ClaimRequestFor;
using contract::CountsOf;
using contract::CreateCampaign;
using contract::Import;
using core::ContactRecord;
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
TEST_P(StoreContractTest, TallyAttemptsCountsByAccountRequestAndOutcome) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  auto empty = store_->TallyAttempts();
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->empty());

  const ClaimRequest request = ClaimRequestFor(*store_, "spring");
  std::optional<std::vector<Claim>> claims = ClaimAndMarkSending(*store_, request);
  ASSERT_TRUE(claims.has_value());
  ASSERT_EQ(claims->size(), 3u);
  auto outcome = [&](size_t i, std::string request_name, std::string kind, InvitationState state) {
    OutcomeRecord record;
    record.invitation_id = (*claims)[i].invitation_id;
    record.gen = (*claims)[i].gen;
    record.state = state;
    record.next_attempt_at = request.now + 60000;
    record.attempt =
        AttemptRecord{"w", std::move(request_name), request.now, 12, 200, 0, "", std::move(kind)};
    return record;
  };
  std::vector<OutcomeRecord> outcomes = {outcome(0, "send", "sent", InvitationState::kSent),
                                         outcome(1, "send", "flood", InvitationState::kWaiting),
                                         outcome(2, "link", "flood", InvitationState::kWaiting)};
  auto applied = store_->RecordOutcomes(outcomes, request.now + 100);
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_EQ(*applied, 3);

  auto tallies = store_->TallyAttempts();
  ASSERT_TRUE(tallies) << tallies.error().message;
  std::vector<std::tuple<std::string, std::string, std::string, int64_t>> got;
  for (const AttemptTally& t : *tallies) got.emplace_back(t.account, t.request, t.outcome, t.count);
  using Row = std::tuple<std::string, std::string, std::string, int64_t>;
  EXPECT_EQ(got, (std::vector<Row>{{"demo", "link", "flood", 1},
                                   {"demo", "send", "flood", 1},
                                   {"demo", "send", "sent", 1}}));
}

std::vector<int64_t> AllUserIds(Store& store, ContactQuery query) {
  std::vector<int64_t> ids;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = store.ListContacts(query);
    EXPECT_TRUE(page) << page.error().message;
    if (!page) break;
    for (const ContactView& view : page->contacts) {
      ids.push_back(view.contact.telegram_user_id.value_or(0));
    }
    if (!page->next_after) break;
    query.after = *page->next_after;
  }
  return ids;
}

TEST_P(StoreContractTest, ContactPagesFollowTheKeysetAndFilterByState) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(
      *store_,
      {Contact(11), Contact(12), Contact(13), Contact(14), Contact(15), Contact(16), Contact(17)},
      Options("spring")));
  ASSERT_TRUE(store_->AddSuppression("id:13", "asked to be left alone"));

  ContactQuery query;
  query.campaign = "spring";
  query.limit = 3;
  auto first = store_->ListContacts(query);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->contacts.size(), 3u);
  ASSERT_TRUE(first->next_after.has_value());
  EXPECT_EQ(first->contacts[2].state, InvitationState::kSkipped);
  EXPECT_EQ(AllUserIds(*store_, query), (std::vector<int64_t>{11, 12, 13, 14, 15, 16, 17}));

  query.state = InvitationState::kSkipped;
  EXPECT_EQ(AllUserIds(*store_, query), (std::vector<int64_t>{13}));
  query.state = InvitationState::kPending;
  EXPECT_EQ(AllUserIds(*store_, query), (std::vector<int64_t>{11, 12, 14, 15, 16, 17}));

  // A search pages too (two of the seven match "name1").
  ASSERT_TRUE(
      Import(*store_, {Contact(18, "", "Name10"), Contact(19, "", "Name11")}, Options("spring")));
  ContactQuery search;
  search.campaign = "spring";
  search.search = "name1";
  search.limit = 1;
  EXPECT_EQ(AllUserIds(*store_, search), (std::vector<int64_t>{18, 19}));
  search.campaign.reset();
  EXPECT_EQ(AllUserIds(*store_, search), (std::vector<int64_t>{18, 19}));

  ContactQuery everyone;
  everyone.limit = 2;
  EXPECT_EQ(AllUserIds(*store_, everyone),
            (std::vector<int64_t>{11, 12, 13, 14, 15, 16, 17, 18, 19}));
  auto page = store_->ListContacts(everyone);
  ASSERT_TRUE(page);
  EXPECT_FALSE(page->contacts[0].state.has_value());

  ContactQuery bad;
  bad.state = InvitationState::kSent;
  EXPECT_EQ(store_->ListContacts(bad).error().code, ErrorCode::kInvalidArgument);
  bad = {};
  bad.limit = 0;
  EXPECT_EQ(store_->ListContacts(bad).error().code, ErrorCode::kInvalidArgument);
  bad = {};
  bad.campaign = "nope";
  EXPECT_EQ(store_->ListContacts(bad).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ContactSearchMatchesIdsPhonesUsernamesAndNames) {
  CreateCampaign(*store_);
  ContactRecord anna = Contact(101, "annas", "Anna");
  anna.last_name = "Schmidt";
  ContactRecord bob = Contact(102, "bobby", "Bob", "+4930123456");
  ContactRecord alice = Contact(103, "alice", "Alice");
  alice.last_name = "Anders";
  ContactRecord zed = Contact(std::nullopt, "zed", "Zed", "+4479460000");
  ASSERT_TRUE(Import(*store_, {anna, bob, alice, zed}, Options("spring")));

  auto search = [&](std::string term, bool in_campaign) {
    ContactQuery query;
    if (in_campaign) query.campaign = "spring";
    query.search = std::move(term);
    std::vector<std::string> usernames;
    auto page = store_->ListContacts(query);
    EXPECT_TRUE(page) << page.error().message;
    if (page) {
      for (const ContactView& v : page->contacts) usernames.push_back(v.contact.username);
    }
    return usernames;
  };
  using Names = std::vector<std::string>;
  for (bool in_campaign : {false, true}) {
    SCOPED_TRACE(in_campaign ? "in a campaign" : "all contacts");
    EXPECT_EQ(search("102", in_campaign), Names{"bobby"});
    EXPECT_EQ(search("+4930", in_campaign), Names{"bobby"});
    EXPECT_EQ(search("+44", in_campaign), Names{"zed"});
    EXPECT_EQ(search("@ali", in_campaign), Names{"alice"});
    EXPECT_EQ(search("ANNA S", in_campaign), Names{"annas"});
    EXPECT_EQ(search("schm", in_campaign), Names{"annas"});
    EXPECT_EQ(search("an", in_campaign), (Names{"annas", "alice"}));  // username/name, last name
    EXPECT_EQ(search("nobody", in_campaign), Names{});
    EXPECT_EQ(search("%", in_campaign), Names{});
  }
}

TEST_P(StoreContractTest, AttemptsErrorsMinutesAndRetryingFailed) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  const ClaimRequest request = ClaimRequestFor(*store_, "spring");
  std::optional<std::vector<Claim>> claims = ClaimAndMarkSending(*store_, request);
  ASSERT_TRUE(claims.has_value());
  ASSERT_EQ(claims->size(), 3u);
  std::vector<OutcomeRecord> outcomes;
  for (size_t i = 0; i < 3; ++i) {
    OutcomeRecord record;
    record.invitation_id = (*claims)[i].invitation_id;
    record.gen = (*claims)[i].gen;
    record.state = i == 0 ? InvitationState::kSent : InvitationState::kFailed;
    record.error = i == 0 ? "" : "Bad Request: chat not found";
    record.attempt = AttemptRecord{"w",
                                   "send",
                                   request.now + static_cast<int64_t>(i),
                                   12,
                                   i == 0 ? 200 : 400,
                                   i == 0 ? 0 : 400,
                                   record.error,
                                   i == 0 ? "sent" : "permanent"};
    outcomes.push_back(record);
  }
  const int64_t recorded_at = request.now + 100;
  ASSERT_TRUE(store_->RecordOutcomes(outcomes, recorded_at));

  auto errors = store_->ErrorBreakdown("spring");
  ASSERT_TRUE(errors) << errors.error().message;
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].state, InvitationState::kFailed);
  EXPECT_EQ((*errors)[0].reason, "Bad Request: chat not found");
  EXPECT_EQ((*errors)[0].count, 2);

  auto minutes = store_->CampaignMinutes("spring", request.now - 3'600'000);
  ASSERT_TRUE(minutes) << minutes.error().message;
  ASSERT_EQ(minutes->size(), 1u);
  EXPECT_EQ((*minutes)[0].minute_start, recorded_at / 60'000 * 60'000);
  EXPECT_EQ((*minutes)[0].sent, 1);
  EXPECT_EQ((*minutes)[0].failed, 2);
  auto later = store_->CampaignMinutes("spring", recorded_at + 120'000);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->empty());

  auto recent = store_->RecentAttempts("spring", 2);
  ASSERT_TRUE(recent) << recent.error().message;
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_GT((*recent)[0].id, (*recent)[1].id);
  EXPECT_EQ((*recent)[0].campaign, "spring");
  EXPECT_EQ((*recent)[0].attempt.outcome, "permanent");
  EXPECT_EQ((*recent)[0].contact.telegram_user_id, std::optional<int64_t>(3));

  auto of_contact = store_->ContactAttempts((*recent)[0].contact_id);
  ASSERT_TRUE(of_contact) << of_contact.error().message;
  ASSERT_EQ(of_contact->size(), 1u);
  EXPECT_EQ((*of_contact)[0].attempt.error, "Bad Request: chat not found");
  EXPECT_EQ(store_->ContactAttempts(999999).error().code, ErrorCode::kNotFound);

  auto retried = store_->RetryFailed("spring");
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_EQ(*retried, 2);
  auto no_errors = store_->ErrorBreakdown("spring");
  ASSERT_TRUE(no_errors) << no_errors.error().message;
  EXPECT_TRUE(no_errors->empty()) << "retried invitations are no longer errors";
  core::StateCounts counts = CountsOf(*store_, "spring");
  EXPECT_EQ(counts[InvitationState::kPending], 2);
  EXPECT_EQ(counts[InvitationState::kFailed], 0);
  EXPECT_EQ(counts[InvitationState::kSent], 1);
  ContactQuery pending;
  pending.campaign = "spring";
  pending.state = InvitationState::kPending;
  auto page = store_->ListContacts(pending);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->contacts.size(), 2u);
  EXPECT_EQ(page->contacts[0].attempts, 0);
  EXPECT_EQ(store_->RetryFailed("nope").error().code, ErrorCode::kNotFound);

  // A suppression skips a pending invitation: an error by reason now.
  ASSERT_TRUE(store_->AddSuppression("id:2", "asked"));
  auto suppressed = store_->ErrorBreakdown("spring");
  ASSERT_TRUE(suppressed) << suppressed.error().message;
  ASSERT_EQ(suppressed->size(), 1u);
  EXPECT_EQ((*suppressed)[0].state, InvitationState::kSkipped);
  EXPECT_EQ((*suppressed)[0].reason, "suppressed");
  EXPECT_EQ((*suppressed)[0].count, 1);
}

}  // namespace tginvite::storage
