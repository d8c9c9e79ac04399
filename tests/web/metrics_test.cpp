// GET /metrics over real HTTP on 127.0.0.1, with a real SQLite store: the exposition parses, every
// metric has HELP and TYPE, the values are what the store holds, label values are escaped, and
// the endpoint needs the same authentication as the API.
#include "web/metrics.h"

#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <httplib.h>

#include "fakes/process.h"
#include "fakes/temp_dir.h"
#include "web/auth.h"
#include "web/server.h"
#include "web/web_fixture.h"

namespace tginvite::web {
namespace {

using core::InvitationState;

constexpr std::string_view kApiToken = "tgi_metrics-test-token-0123456789abcdef";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A parsed exposition: samples keyed by name and their labels as written (unescaped), in order.
struct Exposition {
  std::map<std::string, std::string> help;
  std::map<std::string, std::string> type;
  std::map<std::string, double> samples;  // "name{a=x,b=y}" (unescaped values) or "name"
  std::vector<std::string> errors;
};

Exposition Parse(const std::string& text) {
  Exposition e;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      std::string rest = line.substr(7);
      size_t space = rest.find(' ');
      if (space == std::string::npos) {
        e.errors.push_back("bad comment: " + line);
        continue;
      }
      (line[2] == 'H' ? e.help : e.type)[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    std::string key = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      key += '{';
      ++i;
      bool first = true;
      while (i < line.size() && line[i] != '}') {
        if (line[i] == ',') ++i;
        size_t eq = line.find("=\"", i);
        if (eq == std::string::npos) break;
        std::string label = line.substr(i, eq - i);
        i = eq + 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            char next = line[i + 1];
            value += next == 'n' ? '\n' : next;
            i += 2;
          } else {
            value += line[i++];
          }
        }
        ++i;  // closing quote
        if (!first) key += ',';
        key += label;
        key += '=';
        key += value;
        first = false;
      }
      if (i >= line.size()) {
        e.errors.push_back("unterminated labels: " + line);
        continue;
      }
      key += '}';
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      e.errors.push_back("no value: " + line);
      continue;
    }
    e.samples[key] = std::stod(line.substr(i + 1));
  }
  return e;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStoreWithCampaign(dir_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->AddAccount(
        {"spare", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
    ASSERT_TRUE(store_->CreateApiToken({"prometheus", TokenHash(kApiToken)}));

    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.http.threads = 2;
    server_ = std::make_unique<Server>(*store_, std::move(options));
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().message;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    client_->set_connection_timeout(5);
    client_->set_read_timeout(10);
  }

  // Imports `n` contacts into spring, starts it and claims them all.
  std::vector<storage::Claim> ClaimAll(int n) {
    class Source final : public storage::ImportSource {
     public:
      explicit Source(int n) : n_(n) {}
      std::optional<storage::ImportRow> Next() override {
        if (next_ >= n_) return std::nullopt;
        storage::ImportRow row;
        row.line = next_ + 2;
        row.contact.telegram_user_id = 1000 + next_++;
        return row;
      }
      void OnResult(const storage::ImportRow&, const storage::ImportRowResult&) override {}
      bool CommitAllowed() const override { return true; }

     private:
      int n_;
      int next_ = 0;
    } source(n);
    storage::ImportOptions import;
    import.campaign = "spring";
    auto imported = store_->ImportContacts(source, import);
    EXPECT_TRUE(imported) << imported.error().message;
    EXPECT_TRUE(store_->ChangeCampaign("spring", storage::CampaignAction::kStart,
                                       core::Actor::Cli("test")));
    auto campaign = store_->FindCampaign("spring");
    EXPECT_TRUE(campaign);
    storage::ClaimRequest request;
    request.account_id = campaign->campaign.account_id;
    request.worker_id = "w";
    request.now = NowMs();
    request.horizon = std::chrono::seconds(10);
    request.campaigns = {{campaign->campaign.id, 0, {}, {}, {}}};
    auto claimed = store_->ClaimInvitations(request);
    EXPECT_TRUE(claimed) << claimed.error().message;
    std::vector<storage::SendingMark> marks;
    for (const storage::Claim& c : claimed->claims) marks.push_back({c.invitation_id, c.gen, ""});
    EXPECT_TRUE(store_->MarkSending(marks, request.now, std::chrono::seconds(30)));
    return claimed->claims;
  }

  static storage::OutcomeRecord Outcome(const storage::Claim& claim, std::string outcome,
                                        InvitationState state) {
    storage::OutcomeRecord record;
    record.invitation_id = claim.invitation_id;
    record.gen = claim.gen;
    record.state = state;
    record.next_attempt_at = NowMs() + 60000;
    record.attempt =
        storage::AttemptRecord{"w", "send", NowMs(), 5, 200, 0, "", std::move(outcome)};
    return record;
  }

  Exposition Scrape() {
    httplib::Result res =
        client_->Get("/metrics", {{"Authorization", "Bearer " + std::string(kApiToken)}});
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), kMetricsContentType);
    EXPECT_EQ(res->body.find(kApiToken), std::string::npos) << "a token leaked into /metrics";
    body_ = res->body;
    return Parse(res->body);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string body_;
};

TEST(MetricsEscapeTest, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST_F(MetricsTest, NeedsAuthenticationLikeTheApi) {
  httplib::Result anonymous = client_->Get("/metrics");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  httplib::Result wrong = client_->Get("/metrics", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  Exposition e = Scrape();
  EXPECT_TRUE(e.errors.empty());
}

TEST_F(MetricsTest, ValuesMatchTheStore) {
  std::vector<storage::Claim> claims = ClaimAll(4);
  ASSERT_EQ(claims.size(), 4u);
  std::vector<storage::OutcomeRecord> outcomes = {
      Outcome(claims[0], "sent", InvitationState::kSent),
      Outcome(claims[1], "sent", InvitationState::kSent),
      Outcome(claims[2], "flood", InvitationState::kWaiting),
      Outcome(claims[3], "we\"ird\\", InvitationState::kFailed)};
  auto applied = store_->RecordOutcomes(outcomes, NowMs());
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_EQ(*applied, 4);
  auto demo = store_->FindAccount("demo");
  ASSERT_TRUE(demo);
  auto spare = store_->FindAccount("spare");
  ASSERT_TRUE(spare);
  const int64_t now = NowMs();
  ASSERT_TRUE(store_->PauseAccount(demo->id, now + 30000));
  ASSERT_TRUE(store_->SetAccountHealth(spare->id, core::AccountHealth::kUnauthorized,
                                       "the token was revoked"));
  ASSERT_TRUE(store_->Heartbeat({"live", "h", 1, now, now, "ok", "", 0}));
  ASSERT_TRUE(store_->Heartbeat({"stale", "h", 2, now - 600000, now - 120000, "ok", "", 0}));
  // Two requests before the scrape: one 401 and one 404.
  ASSERT_TRUE(client_->Get("/api/v1/campaigns"));
  ASSERT_TRUE(client_->Get("/no/such/route"));

  // The server counts a request just after it has answered it, so a scrape that follows at once
  // may miss the last one: scrape until both are counted.
  Exposition e;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        e = Scrape();
        return e.samples["tginvite_http_requests_total{code=401}"] >= 1 &&
               e.samples["tginvite_http_requests_total{code=404}"] >= 1;
      },
      std::chrono::seconds(5)))
      << body_;
  EXPECT_TRUE(e.errors.empty()) << e.errors.front();
  std::set<std::string> names;
  for (const auto& [key, value] : e.samples) {
    std::string name = key.substr(0, key.find('{'));
    // A histogram's samples are named after its family with a suffix.
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      std::string family = name.substr(0, name.size() - std::min(name.size(), suffix.size()));
      if (name.ends_with(suffix) && e.type[family] == "histogram") name = family;
    }
    names.insert(name);
  }
  for (const std::string& name : names) {
    EXPECT_TRUE(e.help.contains(name)) << name << " has no HELP";
    EXPECT_TRUE(e.type.contains(name)) << name << " has no TYPE";
  }
  for (const std::string name :
       {"tginvite_invitations", "tginvite_sends_total", "tginvite_flood_waits_total",
        "tginvite_account_flood_pause_seconds", "tginvite_account_healthy", "tginvite_workers_live",
        "tginvite_http_requests_total", "tginvite_claim_duration_seconds",
        "tginvite_send_duration_seconds", "tginvite_http_request_duration_seconds",
        "tginvite_database_errors_total", "tginvite_requests_given_back_total"}) {
    EXPECT_TRUE(names.contains(name)) << name << " missing:\n" << body_;
  }
  EXPECT_EQ(e.type["tginvite_invitations"], "gauge");
  EXPECT_EQ(e.type["tginvite_sends_total"], "counter");

  auto spring = store_->FindCampaign("spring");
  ASSERT_TRUE(spring);
  for (InvitationState state : core::kAllInvitationStates) {
    std::string key =
        "tginvite_invitations{campaign=spring,state=" + std::string(core::ToString(state)) + "}";
    ASSERT_TRUE(e.samples.contains(key)) << key << "\n" << body_;
    EXPECT_EQ(e.samples[key], static_cast<double>(spring->counts[state])) << key;
  }
  EXPECT_EQ(e.samples["tginvite_invitations{campaign=spring,state=sent}"], 2);
  EXPECT_EQ(e.samples["tginvite_invitations{campaign=spring,state=waiting}"], 1);
  EXPECT_EQ(e.samples["tginvite_sends_total{account=demo,outcome=sent}"], 2);
  EXPECT_EQ(e.samples["tginvite_sends_total{account=demo,outcome=flood}"], 1);
  EXPECT_EQ(e.samples["tginvite_sends_total{account=demo,outcome=we\"ird\\}"], 1) << body_;
  EXPECT_NE(body_.find(R"(outcome="we\"ird\\")"), std::string::npos) << body_;
  EXPECT_EQ(e.samples["tginvite_flood_waits_total{account=demo}"], 1);
  EXPECT_EQ(e.samples["tginvite_flood_waits_total{account=spare}"], 0);
  EXPECT_GE(e.samples["tginvite_account_flood_pause_seconds{account=demo}"], 25);
  EXPECT_LE(e.samples["tginvite_account_flood_pause_seconds{account=demo}"], 30);
  EXPECT_EQ(e.samples["tginvite_account_flood_pause_seconds{account=spare}"], 0);
  EXPECT_EQ(e.samples["tginvite_account_healthy{account=demo}"], 1);
  EXPECT_EQ(e.samples["tginvite_account_healthy{account=spare}"], 0);
  EXPECT_EQ(e.samples["tginvite_workers_live"], 1);
  EXPECT_EQ(e.samples["tginvite_http_requests_total{code=401}"], 1);
  EXPECT_EQ(e.samples["tginvite_http_requests_total{code=404}"], 1);

  // The two requests before the scrape were timed: the +Inf bucket holds every observation and
  // the buckets never decrease.
  EXPECT_GE(e.samples["tginvite_http_request_duration_seconds_count"], 2);
  EXPECT_EQ(e.samples["tginvite_http_request_duration_seconds_bucket{le=+Inf}"],
            e.samples["tginvite_http_request_duration_seconds_count"]);
  double previous = 0;
  for (const char* le : {"0.0005", "0.001", "0.005", "0.02", "0.1", "1", "2.5"}) {
    double bucket =
        e.samples[std::string("tginvite_http_request_duration_seconds_bucket{le=") + le + "}"];
    EXPECT_GE(bucket, previous) << le;
    previous = bucket;
  }
}

}  // namespace
}  // namespace tginvite::web
