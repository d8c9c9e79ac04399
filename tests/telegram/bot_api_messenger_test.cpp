// The Bot API messenger against the Bot API double over real HTTP on 127.0.0.1: request shapes,
// every scripted fault's classification, keep-alive, secrecy of the token, concurrency.
#include "telegram/bot_api/bot_api_messenger.h"

#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakes/bot_api_double.h"
#include "fakes/process.h"
#include "telegram/updates.h"

namespace tginvite::telegram {
namespace {

using namespace std::chrono_literals;
using tginvite::testing::BotApiDouble;
using tginvite::testing::BotApiDoubleOptions;
using ::tginvite::testing::WaitFor;
using Fault = BotApiDouble::Fault;

constexpr int64_t kUser = 5001;
constexpr int64_t kGroup = -1001234567890;
constexpr std::string_view kGroupText = "-1001234567890";

// Polls `condition` until it holds or `limit` passes.
bool WaitUntil(const std::function<bool()>& condition) { return WaitFor(condition, 5s); }

BotApiDoubleOptions Unlimited() {
  BotApiDoubleOptions options;
  options.account_rate = 0;
  options.chat_interval = 0ms;
  options.group_per_minute = 0;
  return options;
}

std::unique_ptr<Messenger> Connect(const BotApiDouble& server,
                                   std::chrono::milliseconds timeout = 3000ms) {
  BotApiOptions options;
  options.api_base = server.base_url();
  options.token = core::Secret(server.token());
  options.timeout = timeout;
  options.connect_timeout = 1000ms;
  return MakeBotApiMessenger(std::move(options));
}

InvitationMessage Invitation(int64_t user_id) {
  InvitationMessage message;
  message.user_id = user_id;
  message.text = "Hello <b>Ann</b>, join us: https://t.me/+AbCdEf";
  return message;
}

// A port on 127.0.0.1 that nothing listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

std::string KindOf(const Outcome& outcome) {
  return fmt::format("{} ({})", ToString(outcome.kind), outcome.description);
}

TEST(BotApiMessengerTest, SendsTheInvitationAsJsonWithHtmlAndAnInlineButton) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  InvitationMessage message = Invitation(kUser);
  message.button_text = "Join";
  message.button_url = "https://t.me/+AbCdEf";

  SendResult sent = messenger->SendInvitation(message);

  ASSERT_TRUE(sent.outcome.ok()) << KindOf(sent.outcome);
  EXPECT_GT(sent.message_id, 0);
  EXPECT_EQ(sent.outcome.http_status, 200);
  EXPECT_EQ(server.DeliveriesTo(kUser), 1);
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests.front();
  EXPECT_EQ(request.http_method, "POST");
  EXPECT_EQ(request.method, "sendMessage");
  EXPECT_EQ(request.path, "/bot<token>/sendMessage");
  EXPECT_EQ(request.content_type, "application/json");
  EXPECT_EQ(request.params["chat_id"], kUser);
  EXPECT_EQ(request.params["text"], message.text);
  EXPECT_EQ(request.params["parse_mode"], "HTML");
  EXPECT_EQ(request.params["link_preview_options"]["is_disabled"], true);
  const auto& button = request.params["reply_markup"]["inline_keyboard"][0][0];
  EXPECT_EQ(button["text"], "Join");
  EXPECT_EQ(button["url"], "https://t.me/+AbCdEf");
  EXPECT_EQ(request.params["reply_markup"]["inline_keyboard"].size(), 1u);
}

TEST(BotApiMessengerTest, SendsNoKeyboardWithoutButtonText) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  ASSERT_TRUE(messenger->SendInvitation(Invitation(kUser)).outcome.ok());
  EXPECT_FALSE(server.Requests().front().params.contains("reply_markup"));
}

TEST(BotApiMessengerTest, CreatesAPersonalLinkWithItsFields) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  InviteLinkRequest request;
  request.chat = std::string(kGroupText);
  request.name = "contact-42";
  request.expire_date = 1900000000;
  request.member_limit = 1;

  InviteLinkResult link = messenger->CreateInviteLink(request);

  ASSERT_TRUE(link.outcome.ok()) << KindOf(link.outcome);
  EXPECT_EQ(link.invite_link.rfind("https://t.me/+", 0), 0u) << link.invite_link;
  const auto params = server.Requests().front().params;
  EXPECT_EQ(params["chat_id"], kGroup);
  EXPECT_EQ(params["name"], "contact-42");
  EXPECT_EQ(params["expire_date"], 1900000000);
  EXPECT_EQ(params["member_limit"], 1);
  EXPECT_FALSE(params.contains("creates_join_request"));
  EXPECT_EQ(server.LinksByName()["contact-42"], 1);
  EXPECT_NE(messenger->CreateInviteLink(request).invite_link, link.invite_link);
}

TEST(BotApiMessengerTest, JoinRequestLinksNeverCarryAMemberLimit) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  InviteLinkRequest request;
  request.chat = std::string(kGroupText);
  request.name = "c1";
  request.member_limit = 1;
  request.approval = InviteLinkRequest::Approval::kJoinRequest;

  InviteLinkResult link = messenger->CreateInviteLink(request);

  ASSERT_TRUE(link.outcome.ok()) << KindOf(link.outcome);
  const auto params = server.Requests().front().params;
  EXPECT_EQ(params["creates_join_request"], true);
  EXPECT_FALSE(params.contains("member_limit"));
  EXPECT_FALSE(params.contains("expire_date"));
}

TEST(BotApiMessengerTest, OmitsAZeroMemberLimitAndSendsUsernamesAsStrings) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  InviteLinkRequest request;
  request.chat = "@mychannel";
  request.member_limit = 0;
  ASSERT_TRUE(messenger->CreateInviteLink(request).outcome.ok());
  const auto params = server.Requests().front().params;
  EXPECT_EQ(params["chat_id"], "@mychannel");
  EXPECT_FALSE(params.contains("member_limit"));
  EXPECT_FALSE(params.contains("name"));
}

TEST(BotApiMessengerTest, RevokesALink) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  InviteLinkRequest request;
  request.chat = std::string(kGroupText);
  InviteLinkResult link = messenger->CreateInviteLink(request);
  ASSERT_TRUE(link.outcome.ok());
  EXPECT_TRUE(messenger->RevokeInviteLink(request.chat, link.invite_link).ok());
  EXPECT_EQ(server.Requests().back().params["invite_link"], link.invite_link);
  // An unknown link is the target chat's business: fatal for the campaign, not a crash.
  EXPECT_EQ(messenger->RevokeInviteLink(request.chat, "https://t.me/+nope").kind,
            OutcomeKind::kCampaignFatal);
}

TEST(BotApiMessengerTest, GetMeReturnsTheBot) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  BotIdentityResult me = messenger->GetMe();
  ASSERT_TRUE(me.outcome.ok()) << KindOf(me.outcome);
  EXPECT_EQ(me.bot.id, 123456);
  EXPECT_EQ(me.bot.username, "test_bot");
  EXPECT_EQ(me.bot.first_name, "Test Bot");
}

TEST(BotApiMessengerTest, GetChatMemberSeesAJoin) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  MemberResult before = messenger->GetChatMember(std::string(kGroupText), kUser);
  ASSERT_TRUE(before.outcome.ok()) << KindOf(before.outcome);
  EXPECT_EQ(before.status, "left");
  server.AddJoin(kGroup, kUser, "https://t.me/+x");
  EXPECT_EQ(messenger->GetChatMember(std::string(kGroupText), kUser).status, "member");
  EXPECT_EQ(server.Requests().back().params["user_id"], kUser);
}

TEST(BotApiMessengerTest, GetUpdatesParsesTheThreeKinds) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.AddJoin(kGroup, 11, "https://t.me/+join");
  server.AddJoinRequest(kGroup, 12, "https://t.me/+request");
  server.AddBlock(13);

  UpdatesResult result = messenger->GetUpdates(0, 1s);

  ASSERT_TRUE(result.outcome.ok()) << KindOf(result.outcome);
  ASSERT_EQ(result.updates.size(), 3u);
  const Update& join = result.updates[0];
  EXPECT_EQ(join.update_id, 1);
  EXPECT_EQ(join.kind, Update::Kind::kChatMember);
  EXPECT_EQ(join.chat_id, kGroup);
  EXPECT_EQ(join.user_id, 11);
  EXPECT_EQ(join.old_status, "left");
  EXPECT_EQ(join.new_status, "member");
  EXPECT_EQ(join.invite_link, "https://t.me/+join");
  const Update& request = result.updates[1];
  EXPECT_EQ(request.kind, Update::Kind::kJoinRequest);
  EXPECT_EQ(request.user_id, 12);
  EXPECT_EQ(request.invite_link, "https://t.me/+request");
  const Update& block = result.updates[2];
  EXPECT_EQ(block.kind, Update::Kind::kMyChatMember);
  EXPECT_EQ(block.chat_id, 13);
  EXPECT_EQ(block.user_id, 13);
  EXPECT_EQ(block.new_status, "kicked");

  const auto params = server.Requests().front().params;
  EXPECT_EQ(params["offset"], 0);
  EXPECT_EQ(params["timeout"], 1);
  EXPECT_EQ(params["allowed_updates"],
            nlohmann::json({"message", "chat_member", "chat_join_request", "my_chat_member"}));

  UpdatesResult next = messenger->GetUpdates(block.update_id + 1, 0s);
  ASSERT_TRUE(next.outcome.ok());
  EXPECT_TRUE(next.updates.empty());
}

TEST(BotApiMessengerTest, GetUpdatesReadsStartsWithTheirPayloadAndSender) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.AddStart(21, "Ada_L", "k3y-ABC_123");
  server.AddStart(22, "", "");
  server.AddStart(23, "eve", "not a key!");

  UpdatesResult result = messenger->GetUpdates(0, 1s);

  ASSERT_TRUE(result.outcome.ok()) << KindOf(result.outcome);
  ASSERT_EQ(result.updates.size(), 3u);
  EXPECT_EQ(result.updates[0].kind, Update::Kind::kStart);
  EXPECT_EQ(result.updates[0].user_id, 21);
  EXPECT_EQ(result.updates[0].username, "ada_l");
  EXPECT_EQ(result.updates[0].start_payload, "k3y-ABC_123");
  EXPECT_EQ(result.updates[1].kind, Update::Kind::kStart);
  EXPECT_EQ(result.updates[1].start_payload, "");
  EXPECT_EQ(result.updates[2].start_payload, kInvalidStartPayload);
}

TEST(BotApiMessengerTest, AWebhookTakesTheUpdatesUntilItIsDeleted) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  Outcome refused = messenger->SetWebhook({"http://example.org/hook", "s3cret"});
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.description.find("HTTPS URL must be provided"), std::string::npos);
  ASSERT_TRUE(messenger->SetWebhook({"https://example.org/hook", "s3cret"}).ok());
  EXPECT_EQ(server.Webhook(),
            std::make_pair(std::string("https://example.org/hook"), std::string("s3cret")));
  const auto params = server.Requests().back().params;
  EXPECT_EQ(params["allowed_updates"],
            nlohmann::json({"message", "chat_member", "chat_join_request", "my_chat_member"}));
  EXPECT_FALSE(messenger->GetUpdates(0, 0s).outcome.ok());  // 409 while the webhook is set
  ASSERT_TRUE(messenger->DeleteWebhook().ok());
  EXPECT_TRUE(messenger->GetUpdates(0, 0s).outcome.ok());
}

TEST(BotApiMessengerTest, GetUpdatesLongPollsPastTheRequestTimeout) {
  BotApiDouble server(Unlimited());
  // The request timeout (300 ms) is shorter than the long poll: the poll must add to it.
  auto messenger = Connect(server, 300ms);
  UpdatesResult result = messenger->GetUpdates(1, 1s);
  ASSERT_TRUE(result.outcome.ok()) << KindOf(result.outcome);
  EXPECT_TRUE(result.updates.empty());
  EXPECT_GE(result.outcome.latency, 900ms);
}

TEST(BotApiMessengerTest, GetUpdatesReturnsAsSoonAsAnUpdateArrives) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  auto poll = std::async(std::launch::async, [&] { return messenger->GetUpdates(1, 5s); });
  ASSERT_TRUE(WaitUntil([&] { return server.RequestCount("getUpdates") == 1; }));
  server.AddJoin(kGroup, kUser, "");
  UpdatesResult result = poll.get();
  ASSERT_TRUE(result.outcome.ok()) << KindOf(result.outcome);
  ASSERT_EQ(result.updates.size(), 1u);
  EXPECT_EQ(result.updates[0].user_id, kUser);
  EXPECT_LT(result.outcome.latency, 5s);
}

TEST(BotApiMessengerTest, ApprovesAJoinRequestOnce) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.AddJoinRequest(kGroup, kUser, "https://t.me/+r");
  Outcome first = messenger->ApproveJoinRequest(std::string(kGroupText), kUser);
  EXPECT_TRUE(first.ok()) << KindOf(first);
  EXPECT_EQ(server.Approvals(), 1);
  Outcome again = messenger->ApproveJoinRequest(std::string(kGroupText), kUser);
  EXPECT_EQ(again.kind, OutcomeKind::kPermanent) << KindOf(again);
  EXPECT_EQ(server.Approvals(), 1);
}

struct SendFaultCase {
  Fault fault;
  OutcomeKind kind;
  PermanentReason reason;
  int http_status;
  int64_t deliveries;
};

class SendFaultTest : public ::testing::TestWithParam<SendFaultCase> {};

TEST_P(SendFaultTest, IsClassified) {
  const SendFaultCase& c = GetParam();
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.ScriptUser(kUser, c.fault);

  SendResult sent = messenger->SendInvitation(Invitation(kUser));

  EXPECT_EQ(ToString(sent.outcome.kind), ToString(c.kind)) << sent.outcome.description;
  EXPECT_EQ(static_cast<int>(sent.outcome.reason), static_cast<int>(c.reason));
  EXPECT_EQ(sent.outcome.http_status, c.http_status);
  EXPECT_EQ(server.DeliveriesTo(kUser), c.deliveries);
  EXPECT_FALSE(sent.outcome.description.empty());
}

// Every answer of one Exchange's requests, or fewer when they do not all end within 10 s.
std::vector<Exchange::Answer> WaitAll(Exchange& exchange) {
  std::vector<Exchange::Answer> answers;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (exchange.InFlight() > 0 && std::chrono::steady_clock::now() < deadline) {
    for (Exchange::Answer& answer : exchange.Wait(100ms)) answers.push_back(std::move(answer));
  }
  return answers;
}

TEST_P(SendFaultTest, IsClassifiedTheSameOnAnExchange) {
  const SendFaultCase& c = GetParam();
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.ScriptUser(kUser, c.fault);
  std::unique_ptr<Exchange> exchange = messenger->OpenExchange();
  ASSERT_NE(exchange, nullptr);

  exchange->StartSend(7, Invitation(kUser));
  std::vector<Exchange::Answer> answers = WaitAll(*exchange);

  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].tag, 7u);
  const Outcome& outcome = answers[0].outcome;
  EXPECT_EQ(ToString(outcome.kind), ToString(c.kind)) << outcome.description;
  EXPECT_EQ(static_cast<int>(outcome.reason), static_cast<int>(c.reason));
  EXPECT_EQ(outcome.http_status, c.http_status);
  EXPECT_EQ(server.DeliveriesTo(kUser), c.deliveries);
  EXPECT_FALSE(outcome.description.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SendFaultTest,
    ::testing::Values(
        SendFaultCase{Fault::kBlocked, OutcomeKind::kPermanent, PermanentReason::kBlocked, 403, 0},
        SendFaultCase{Fault::kDeactivated, OutcomeKind::kPermanent, PermanentReason::kDeactivated,
                      403, 0},
        SendFaultCase{Fault::kNotStarted, OutcomeKind::kPermanent, PermanentReason::kNotStarted,
                      403, 0},
        SendFaultCase{Fault::kChatNotFound, OutcomeKind::kPermanent, PermanentReason::kOther, 400,
                      0},
        SendFaultCase{Fault::kServerError500, OutcomeKind::kTransient, PermanentReason::kNone, 500,
                      0},
        SendFaultCase{Fault::kBadGatewayHtml, OutcomeKind::kTransient, PermanentReason::kNone, 502,
                      0},
        SendFaultCase{Fault::kFlood, OutcomeKind::kFlood, PermanentReason::kNone, 429, 0},
        SendFaultCase{Fault::kUnauthorized, OutcomeKind::kAccountFatal, PermanentReason::kNone, 401,
                      0},
        SendFaultCase{Fault::kGarbage200, OutcomeKind::kAmbiguous, PermanentReason::kNone, 200, 1},
        SendFaultCase{Fault::kDeliverThenReset, OutcomeKind::kAmbiguous, PermanentReason::kNone, 0,
                      1},
        SendFaultCase{Fault::kResetBeforeDelivery, OutcomeKind::kAmbiguous, PermanentReason::kNone,
                      0, 0}));

struct LinkFaultCase {
  Fault fault;
  OutcomeKind kind;
};

class LinkFaultTest : public ::testing::TestWithParam<LinkFaultCase> {};

TEST_P(LinkFaultTest, IsClassified) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.ScriptMethod("createChatInviteLink", GetParam().fault);
  InviteLinkRequest request;
  request.chat = std::string(kGroupText);
  InviteLinkResult link = messenger->CreateInviteLink(request);
  EXPECT_EQ(ToString(link.outcome.kind), ToString(GetParam().kind)) << link.outcome.description;
  EXPECT_TRUE(link.invite_link.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, LinkFaultTest,
    ::testing::Values(LinkFaultCase{Fault::kChatNotFound, OutcomeKind::kCampaignFatal},
                      LinkFaultCase{Fault::kNotEnoughRights, OutcomeKind::kCampaignFatal},
                      LinkFaultCase{Fault::kBotKicked, OutcomeKind::kCampaignFatal},
                      LinkFaultCase{Fault::kUnauthorized, OutcomeKind::kAccountFatal},
                      LinkFaultCase{Fault::kServerError500, OutcomeKind::kTransient},
                      LinkFaultCase{Fault::kBadGatewayHtml, OutcomeKind::kTransient},
                      LinkFaultCase{Fault::kGarbage200, OutcomeKind::kAmbiguous},
                      LinkFaultCase{Fault::kDeliverThenReset, OutcomeKind::kAmbiguous}));

TEST(BotApiMessengerTest, NotAMemberOfTheTargetChatIsFatalForTheCampaign) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.ScriptMethodReply(
      "createChatInviteLink", 403,
      R"({"ok":false,"error_code":403,"description":"Forbidden: bot is not a member of the supergroup chat"})");
  InviteLinkRequest request;
  request.chat = std::string(kGroupText);
  EXPECT_EQ(messenger->CreateInviteLink(request).outcome.kind, OutcomeKind::kCampaignFatal);
}

// Invariant I4 (docs/invariants.md)
TEST(BotApiMessengerTest, FloodTakesRetryAfterFromTheBody) {
  BotApiDoubleOptions options = Unlimited();
  options.retry_after_seconds = 7;
  BotApiDouble server(options);
  auto messenger = Connect(server);
  server.ScriptUser(kUser, Fault::kFlood);
  Outcome outcome = messenger->SendInvitation(Invitation(kUser)).outcome;
  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kFlood)) << outcome.description;
  EXPECT_EQ(outcome.retry_after, 7s);
  EXPECT_EQ(outcome.error_code, 429);
  EXPECT_EQ(outcome.description, "Too Many Requests: retry after 7");
}

TEST(BotApiMessengerTest, FloodTakesRetryAfterFromTheHeader) {
  BotApiDoubleOptions options = Unlimited();
  options.retry_after_seconds = 3;
  BotApiDouble server(options);
  auto messenger = Connect(server);
  server.ScriptUser(kUser, Fault::kFloodHeaderOnly);
  Outcome outcome = messenger->SendInvitation(Invitation(kUser)).outcome;
  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kFlood)) << outcome.description;
  EXPECT_EQ(outcome.retry_after, 3s);
}

// Invariant I10 (docs/invariants.md)
TEST(BotApiMessengerTest, AHangIsAmbiguousWithinTheTimeout) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server, 300ms);
  server.ScriptUser(kUser, Fault::kHang);

  Outcome outcome = messenger->SendInvitation(Invitation(kUser)).outcome;

  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kAmbiguous)) << outcome.description;
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_GE(outcome.latency, 250ms);  // it waited for the timeout (curl may round it down)
  EXPECT_LT(outcome.latency, 3000ms);
  EXPECT_EQ(server.DeliveriesTo(kUser), 0);
  // The client gave up and closed: the double notices and lets the request go.
  EXPECT_TRUE(WaitUntil([&] { return server.Hanging() == 0; }));
}

// Invariant I10 (docs/invariants.md)
TEST(BotApiMessengerTest, AResetOnAReusedConnectionIsNotSilentlyResent) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  ASSERT_TRUE(messenger->SendInvitation(Invitation(kUser)).outcome.ok());
  server.ScriptUser(kUser + 1, Fault::kDeliverThenReset);

  Outcome outcome = messenger->SendInvitation(Invitation(kUser + 1)).outcome;

  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kAmbiguous)) << outcome.description;
  EXPECT_EQ(server.DeliveriesTo(kUser + 1), 1);
  EXPECT_EQ(server.RequestCount("sendMessage"), 2);
  EXPECT_EQ(server.Connections(), 1);
}

// Invariant I10 (docs/invariants.md)
TEST(BotApiMessengerTest, AResetBeforeDeliveryOnAReusedConnectionIsAmbiguousToo) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  ASSERT_TRUE(messenger->GetMe().outcome.ok());
  server.ScriptUser(kUser, Fault::kResetBeforeDelivery);

  Outcome outcome = messenger->SendInvitation(Invitation(kUser)).outcome;

  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kAmbiguous)) << outcome.description;
  EXPECT_EQ(server.RequestCount("sendMessage"), 1);
  EXPECT_EQ(server.DeliveriesTo(kUser), 0);
  // The next call opens a fresh connection and works.
  EXPECT_TRUE(messenger->SendInvitation(Invitation(kUser)).outcome.ok());
}

// Invariant I6 (docs/invariants.md)
TEST(BotApiMessengerTest, ARefusedConnectionIsTransient) {
  BotApiOptions options;
  options.api_base = fmt::format("http://127.0.0.1:{}", ClosedPort());
  options.token = core::Secret(std::string(tginvite::testing::kDoubleToken));
  options.timeout = 1000ms;
  auto messenger = MakeBotApiMessenger(std::move(options));

  Outcome outcome = messenger->SendInvitation(Invitation(kUser)).outcome;

  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kTransient)) << outcome.description;
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_NE(outcome.description.find("curl 7"), std::string::npos) << outcome.description;
}

TEST(BotApiMessengerTest, AMalformedApiBaseIsFatalForTheAccount) {
  BotApiOptions options;
  options.api_base = "http://127.0.0.1:99999";
  options.token = core::Secret(std::string(tginvite::testing::kDoubleToken));
  auto messenger = MakeBotApiMessenger(std::move(options));
  Outcome outcome = messenger->GetMe().outcome;
  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kAccountFatal)) << outcome.description;
}

TEST(BotApiMessengerTest, AWrongTokenIsFatalForTheAccount) {
  BotApiDouble server(Unlimited());
  BotApiOptions options;
  options.api_base = server.base_url();
  options.token = core::Secret("999:another-token-that-the-double-does-not-know");
  auto messenger = MakeBotApiMessenger(std::move(options));
  Outcome outcome = messenger->GetMe().outcome;
  EXPECT_EQ(ToString(outcome.kind), ToString(OutcomeKind::kAccountFatal)) << outcome.description;
  EXPECT_EQ(outcome.http_status, 401);
}

// A worker sends for many bots to one server: their requests share the process's connections, so
// a worker keeps about as many open as it has requests in flight, not that many per bot.
TEST(BotApiMessengerTest, DifferentBotsShareConnectionsToOneServer) {
  BotApiDoubleOptions options = Unlimited();
  const std::string other_token = "654321:another-TEST-token-ZyXwVuTsRqPoNmLkJiHgFe987";
  options.tokens.push_back(other_token);
  BotApiDouble server(options);
  auto first = Connect(server);
  BotApiOptions second_options;
  second_options.api_base = server.base_url();
  second_options.token = core::Secret(other_token);
  second_options.timeout = 3000ms;
  auto second = MakeBotApiMessenger(std::move(second_options));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(first->GetMe().outcome.ok());
    ASSERT_TRUE(second->GetMe().outcome.ok());
  }
  EXPECT_EQ(server.RequestCount("getMe"), 10);
  EXPECT_EQ(server.Connections(), 1);
}

TEST(BotApiMessengerTest, SequentialCallsShareOneConnection) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(messenger->GetMe().outcome.ok());
  EXPECT_EQ(server.RequestCount("getMe"), 10);
  EXPECT_EQ(server.Connections(), 1);
}

// Invariant I7 (docs/invariants.md)
TEST(BotApiMessengerTest, TheTokenNeverAppearsInAnOutcome) {
  constexpr std::string_view kSecretPart = "SECRET-zzTopSecretValue-0123456789abcdef";
  const std::string token = fmt::format("987654:{}", kSecretPart);
  BotApiDoubleOptions double_options = Unlimited();
  double_options.tokens = {token};
  BotApiDouble server(double_options);
  auto messenger = Connect(server, 300ms);
  std::vector<Outcome> outcomes;

  // A server (or a proxy) that quotes the URL and the token back.
  server.ScriptMethodReply(
      "getMe", 400,
      fmt::format(
          R"({{"ok":false,"error_code":400,"description":"Bad Request: {}/bot{}/getMe {}"}})",
          server.base_url(), token, token));
  outcomes.push_back(messenger->GetMe().outcome);
  server.ScriptUser(kUser, Fault::kHang);
  outcomes.push_back(messenger->SendInvitation(Invitation(kUser)).outcome);
  server.ScriptUser(kUser, Fault::kDeliverThenReset);
  outcomes.push_back(messenger->SendInvitation(Invitation(kUser)).outcome);
  server.ScriptUser(kUser, Fault::kBadGatewayHtml);
  outcomes.push_back(messenger->SendInvitation(Invitation(kUser)).outcome);
  for (const std::string& base :
       {fmt::format("http://127.0.0.1:{}", ClosedPort()), std::string("http://127.0.0.1:99999"),
        std::string("gopher://x")}) {
    BotApiOptions options;
    options.api_base = base;
    options.token = core::Secret(token);
    options.timeout = 300ms;
    outcomes.push_back(MakeBotApiMessenger(std::move(options))->GetMe().outcome);
  }

  ASSERT_EQ(outcomes.size(), 7u);
  for (const Outcome& outcome : outcomes) {
    EXPECT_FALSE(outcome.ok());
    EXPECT_FALSE(outcome.description.empty());
    EXPECT_EQ(outcome.description.find(kSecretPart), std::string::npos) << outcome.description;
    EXPECT_EQ(outcome.description.find("987654:"), std::string::npos) << outcome.description;
  }
  EXPECT_NE(outcomes[0].description.find("/bot<redacted>/getMe"), std::string::npos)
      << outcomes[0].description;
}

// Invariant I1 (docs/invariants.md)
TEST(BotApiMessengerTest, ConcurrentSendersDeliverEachInvitationOnce) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Outcome outcome =
            messenger->SendInvitation(Invitation(100000 + t * kPerThread + i)).outcome;
        if (outcome.ok()) {
          ++ok;
        } else {
          ADD_FAILURE() << KindOf(outcome) << " after " << outcome.latency.count() << " ms";
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(server.TotalDeliveries(), kThreads * kPerThread);
  EXPECT_EQ(server.DuplicateDeliveries(), 0);
  for (int user = 100000; user < 100000 + kThreads * kPerThread; ++user) {
    ASSERT_EQ(server.DeliveriesTo(user), 1) << user;
  }
  EXPECT_LE(server.Connections(), kThreads);
}

TEST(BotApiMessengerTest, AnExchangeHasManyRequestsInFlightAndAnswersEachByItsTag) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  server.AddJoin(kGroup, 300000, "https://t.me/+x");
  constexpr int kSends = 40;
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Exchange> exchange = messenger->OpenExchange();
    ASSERT_NE(exchange, nullptr);
    for (int i = 0; i < kSends; ++i) {
      exchange->StartSend(static_cast<uint64_t>(i), Invitation(200000 + round * kSends + i));
    }
    exchange->StartGetChatMember(1000, std::string(kGroupText), 300000);
    exchange->StartGetChatMember(1001, std::string(kGroupText), 300001);
    EXPECT_EQ(exchange->InFlight(), static_cast<size_t>(kSends + 2));

    std::vector<Exchange::Answer> answers = WaitAll(*exchange);

    ASSERT_EQ(answers.size(), static_cast<size_t>(kSends + 2));
    std::set<uint64_t> tags;
    for (const Exchange::Answer& answer : answers) {
      tags.insert(answer.tag);
      ASSERT_TRUE(answer.outcome.ok()) << answer.tag << ": " << KindOf(answer.outcome);
      if (answer.tag < kSends) {
        EXPECT_GT(answer.message_id, 0) << answer.tag;
      }
    }
    EXPECT_EQ(tags.size(), static_cast<size_t>(kSends + 2));
    auto member = [&](uint64_t tag) {
      return std::find_if(answers.begin(), answers.end(),
                          [tag](const Exchange::Answer& a) { return a.tag == tag; })
          ->member_status;
    };
    EXPECT_EQ(member(1000), "member");
    EXPECT_EQ(member(1001), "left");
    EXPECT_EQ(exchange->InFlight(), 0u);
  }
  EXPECT_EQ(server.TotalDeliveries(), 2 * kSends);
  EXPECT_EQ(server.DuplicateDeliveries(), 0);
  // The second exchange went over the first one's connections, not new ones.
  EXPECT_LE(server.Connections(), kSends + 2);
}

TEST(BotApiMessengerTest, AHangOnAnExchangeHoldsUpNoOtherRequest) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server, 500ms);
  server.ScriptUser(kUser, Fault::kHang);
  std::unique_ptr<Exchange> exchange = messenger->OpenExchange();
  ASSERT_NE(exchange, nullptr);

  exchange->StartSend(1, Invitation(kUser));
  exchange->StartSend(2, Invitation(kUser + 1));
  std::vector<Exchange::Answer> answers = WaitAll(*exchange);

  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].tag, 2u);  // answered while the other hung
  EXPECT_TRUE(answers[0].outcome.ok()) << KindOf(answers[0].outcome);
  EXPECT_EQ(answers[1].tag, 1u);
  EXPECT_EQ(ToString(answers[1].outcome.kind), ToString(OutcomeKind::kAmbiguous))
      << answers[1].outcome.description;
  EXPECT_GE(answers[1].outcome.latency, 400ms);
  EXPECT_EQ(server.DeliveriesTo(kUser), 0);
}

// Invariant I10 (docs/invariants.md), on an exchange.
TEST(BotApiMessengerTest, AResetOnAnExchangesReusedConnectionIsNotSilentlyResent) {
  BotApiDouble server(Unlimited());
  auto messenger = Connect(server);
  std::unique_ptr<Exchange> exchange = messenger->OpenExchange();
  ASSERT_NE(exchange, nullptr);
  exchange->StartSend(1, Invitation(kUser));
  ASSERT_EQ(WaitAll(*exchange).size(), 1u);
  server.ScriptUser(kUser + 1, Fault::kDeliverThenReset);

  exchange->StartSend(2, Invitation(kUser + 1));
  std::vector<Exchange::Answer> answers = WaitAll(*exchange);

  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(ToString(answers[0].outcome.kind), ToString(OutcomeKind::kAmbiguous))
      << answers[0].outcome.description;
  EXPECT_EQ(server.DeliveriesTo(kUser + 1), 1);
  EXPECT_EQ(server.RequestCount("sendMessage"), 2);
  EXPECT_EQ(server.Connections(), 1);
}

}  // namespace
}  // namespace tginvite::telegram
