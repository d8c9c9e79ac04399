// Fuzzes the dashboard's CSV import (POST /api/v1/imports): ImportStaging::Stage on a fuzzed
// upload, campaign and region against a SQLite store that already holds contacts, a campaign and
// a suppression; then the report or the error serialised as the server sends them (nlohmann's
// dump() with its default, throwing, handling of invalid UTF-8, which is stricter than the server's
// JsonText; ErrorBody).
//
// Input: a byte choosing the campaign (none, "spring", or a fuzzed name) and the region, the
// fuzzed name when chosen ('\0'-terminated), then the CSV. Checked besides "no crash":
// - the report serialises, and every row is either valid or rejected, each rejection with a line;
// - an error is a 4xx (kInvalidArgument or kNotFound) whose body serialises (a fuzzed campaign
//   name is quoted in it).
// The upload is staged as a dry run, so the store is the same for every input.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "storage/store.h"
#include "web/error_mapping.h"
#include "web/imports.h"

namespace tginvite::fuzz {
namespace {

constexpr std::array<std::string_view, 5> kRegions = {"", "DE", "US", "xx", "\xFF"};

constexpr std::string_view kExisting =
    "telegram_user_id,username,phone,first_name,last_name\n"
    "1001,alice_one,+4930123456,Alice,A\n"
    "1002,bob_two,,Bob,\n"
    ",carol_three,+12025550123,Carol,C\n";

// The store every run stages against, opened once.
storage::Store& TheStore() {
  static storage::Store* const store = [] {
    Result<std::unique_ptr<storage::Store>> opened =
        storage::OpenStore("sqlite::memory:", storage::OpenMode::kCreate);
    FUZZ_CHECK(opened);
    storage::Store& s = **opened;
    FUZZ_CHECK(s.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
    FUZZ_CHECK(s.CreateCampaign({"spring", "demo", "-1001234567890", "Hello {first_name}: {link}",
                                 core::LinkMode::kPersonal, ""}));
    FUZZ_CHECK(s.AddSuppression("username:bob_two", "blocked the bot"));
    web::ImportStaging staging;
    Result<nlohmann::json> staged = staging.Stage(s, {std::string(kExisting), "spring", ""}, 0);
    FUZZ_CHECK(staged);
    FUZZ_CHECK(staging.Commit(s, (*staged)["id"].get<std::string>(), 0));
    return opened->release();
  }();
  return *store;
}

void Run(const uint8_t* data, size_t size) {
  storage::Store& store = TheStore();
  FuzzInput input(data, size);
  const uint8_t choice = input.TakeByte();
  web::ImportRequest request;
  request.region = std::string(kRegions[(choice >> 2) % kRegions.size()]);
  switch (choice & 3) {
    case 1:
      request.campaign = "spring";
      break;
    case 2:
      request.campaign = std::string(input.TakeString(64));
      break;
    default:
      break;
  }
  request.csv = std::string(input.TakeRest());

  web::ImportStaging staging;
  const Result<nlohmann::json> report = staging.Stage(store, request, 1'000'000);
  if (!report) {
    const Error& error = report.error();
    FUZZ_CHECK(error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kNotFound);
    (void)web::ErrorBody(error);  // as server.cpp's SendError
    return;
  }
  (void)report->dump();  // throws on invalid UTF-8: stricter than the server's JsonText
  const int64_t rows = (*report)["rows"].get<int64_t>();
  const int64_t valid = (*report)["valid"].get<int64_t>();
  const int64_t rejected = (*report)["rejected"].get<int64_t>();
  FUZZ_CHECK(rows >= 0 && valid >= 0 && rejected >= 0);
  FUZZ_CHECK(valid + rejected == rows);
  FUZZ_CHECK(!(*report)["committed"].get<bool>());
  int64_t last_line = 0;
  for (const nlohmann::json& problem : (*report)["problems"]) {
    const int64_t line = problem["line"].get<int64_t>();
    FUZZ_CHECK(line >= 2 && line >= last_line);
    last_line = line;
  }
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tginvite::fuzz::Run(data, size);
  return 0;
}
