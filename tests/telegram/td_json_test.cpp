// The real TDLib from npm (@prebuilt-tdlib/linux-x64-glibc, which `make setup` installs), loaded as
// the user-account path will load it: it reports its version and a client walks to the point
// where it wants a phone number, all without the network. Skipped, with the reason, when the
// library is absent.
#include "telegram/tdlib/td_json.h"

#include <chrono>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes/temp_dir.h"

namespace tginvite::telegram::tdlib {
namespace {

using Json = nlohmann::json;

std::shared_ptr<TdJson> LoadOrSkip() {
  Result<std::shared_ptr<TdJson>> td = TdJson::Load();
  if (!td) return nullptr;
  (void)(*td)->Execute(R"({"@type":"setLogVerbosityLevel","new_verbosity_level":0})");
  return *td;
}

// The next update of `type` (or an answer with `extra`) within the deadline; null when none came.
Json WaitFor(const TdJson& td, std::string_view type, std::string_view extra = "") {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = td.Receive(1.0);
    if (text.empty()) continue;
    Json event = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object()) continue;
    if (!extra.empty() && event.value("@extra", "") == extra) return event;
    if (event.value("@type", "") == "updateAuthorizationState" &&
        event["authorization_state"].value("@type", "") == type) {
      return event;
    }
  }
  return nullptr;
}

TEST(TdJsonTest, TheNpmLibraryLoadsAndNamesItsVersion) {
  std::shared_ptr<TdJson> td = LoadOrSkip();
  if (!td) GTEST_SKIP() << "TDLib not found: " << TdJson::Load().error().message;
  EXPECT_EQ(td->Version(), "1.8.67") << td->path();
  EXPECT_NE(DescribeTdLib().find("TDLib 1.8.67"), std::string::npos) << DescribeTdLib();
  // An offline request answers synchronously.
  const Json entities = Json::parse(td->Execute(
      R"({"@type":"getTextEntities","text":"join @tginvite_demo at https://t.me/x"})"));
  EXPECT_EQ(entities["@type"], "textEntities") << entities.dump();
}

TEST(TdJsonTest, AClientAcceptsItsParametersWithoutTheNetwork) {
  std::shared_ptr<TdJson> td = LoadOrSkip();
  if (!td) GTEST_SKIP() << "TDLib not found: " << TdJson::Load().error().message;
  testing::TempDir dir;
  const int client = td->CreateClientId();
  td->Send(client, R"({"@type":"getOption","name":"version","@extra":"hello"})");
  ASSERT_FALSE(WaitFor(*td, "authorizationStateWaitTdlibParameters").is_null());

  Json parameters = {{"@type", "setTdlibParameters"},
                     {"@extra", "parameters"},
                     {"use_test_dc", true},
                     {"database_directory", dir.File("td")},
                     {"files_directory", dir.File("td-files")},
                     {"database_encryption_key", ""},
                     {"use_file_database", false},
                     {"use_chat_info_database", false},
                     {"use_message_database", false},
                     {"use_secret_chats", false},
                     {"api_id", 1},  // a placeholder: nothing is sent
                     {"api_hash", "0123456789abcdef0123456789abcdef"},
                     {"system_language_code", "en"},
                     {"device_model", "tginvite test"},
                     {"system_version", "Debian 12"},
                     {"application_version", "0.1.0"}};
  td->Send(client, parameters.dump());
  // The answer and the next state, in whichever order they come.
  Json answer;
  bool wants_phone = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((answer.is_null() || !wants_phone) && std::chrono::steady_clock::now() < deadline) {
    Json event = Json::parse(td->Receive(1.0), nullptr, /*allow_exceptions=*/false);
    if (!event.is_object()) continue;
    if (event.value("@extra", "") == "parameters") answer = event;
    if (event.value("@type", "") == "updateAuthorizationState" &&
        event["authorization_state"].value("@type", "") == "authorizationStateWaitPhoneNumber") {
      wants_phone = true;
    }
  }
  ASSERT_FALSE(answer.is_null()) << "no answer to setTdlibParameters";
  EXPECT_EQ(answer["@type"], "ok") << answer.dump();
  EXPECT_TRUE(wants_phone) << "the client did not ask for a phone number";

  td->Send(client, R"({"@type":"close"})");
  EXPECT_FALSE(WaitFor(*td, "authorizationStateClosed").is_null());
}

TEST(TdJsonTest, ALibraryWithoutTheJsonInterfaceIsRefusedByName) {
  Result<std::shared_ptr<TdJson>> libm = TdJson::LoadFrom("libm.so.6");
  ASSERT_FALSE(libm);
  EXPECT_NE(libm.error().message.find("no td_create_client_id, td_send, td_receive, td_execute"),
            std::string::npos)
      << libm.error().message;
  Result<std::shared_ptr<TdJson>> missing = TdJson::LoadFrom("/nonexistent/libtdjson.so");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tginvite::telegram::tdlib
