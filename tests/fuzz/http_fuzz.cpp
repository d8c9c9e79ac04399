// Fuzzes the web server's whole request path in process: raw bytes as one client would send them
// on one connection, through HttpServer's parser and limits, the router, authentication and every
// API handler, to the bytes of the answers (web::Server::ServeBytes: no socket, no thread).
//
// The store is an in-memory SQLite database with a REHEARSAL account, a campaign, a contact and an
// API token whose value the seeds use ("Authorization: Bearer fuzz-token"), so inputs reach the
// handlers behind authentication. No admin password is set: a login answers 503 at once instead of
// spending 50 ms in argon2. Inputs change the store (a campaign created, a setting put); it is
// opened anew every 2,000 inputs so that it cannot grow without end.
//
// Checked besides "no crash, no leak, no undefined behaviour": every answer starts with a status
// line; a JSON answer's body parses (invalid UTF-8 in it would not).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "storage/store.h"
#include "web/auth.h"
#include "web/server.h"

namespace tginvite::fuzz {
namespace {

constexpr std::string_view kToken = "fuzz-token";
constexpr int kInputsPerStore = 2000;

std::unique_ptr<storage::Store> NewStore() {
  Result<std::unique_ptr<storage::Store>> opened =
      storage::OpenStore("sqlite::memory:", storage::OpenMode::kCreate);
  FUZZ_CHECK(opened);
  storage::Store& s = **opened;
  FUZZ_CHECK(s.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
  FUZZ_CHECK(s.CreateCampaign({"spring", "demo", "-1001234567890", "Hello {first_name}: {link}",
                               core::LinkMode::kPersonal, ""}));
  FUZZ_CHECK(s.CreateApiToken({"fuzz", web::TokenHash(kToken), core::TokenScope::kWrite, {}}));
  return std::move(*opened);
}

struct World {
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<web::Server> server;
  int inputs = 0;

  web::Server& Fresh() {
    if (!server || ++inputs % kInputsPerStore == 0) {
      server.reset();
      store = NewStore();
      web::ServerOptions options;
      options.http.max_json_body = 64 << 10;
      options.http.max_upload_body = 256 << 10;
      server = std::make_unique<web::Server>(*store, options);
    }
    return *server;
  }
};

// Checks each answer in `out` (answers follow each other; a HEAD answer has no body).
void CheckAnswers(std::string_view out) {
  while (!out.empty()) {
    FUZZ_CHECK(out.starts_with("HTTP/1.1 "));
    const size_t head_end = out.find("\r\n\r\n");
    FUZZ_CHECK(head_end != std::string_view::npos);
    const std::string_view head = out.substr(0, head_end);
    out.remove_prefix(head_end + 4);
    size_t length = 0;
    if (size_t at = head.find("\r\nContent-Length: "); at != std::string_view::npos) {
      length = std::stoul(std::string(head.substr(at + 18, head.find("\r\n", at + 2) - at - 18)));
    }
    // A HEAD answer's length describes a body that is not sent: the next answer follows at once
    // (no body the server writes starts with a status line).
    if (out.starts_with("HTTP/1.1 ") || length > out.size()) continue;
    const std::string_view body = out.substr(0, length);
    out.remove_prefix(length);
    if (head.find("\r\nContent-Type: application/json") != std::string_view::npos) {
      FUZZ_CHECK(!nlohmann::json::parse(body, nullptr, false).is_discarded());
    }
  }
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tginvite::fuzz::World world;
  const std::string out = world.Fresh().ServeBytes(
      std::string_view(reinterpret_cast<const char*>(data), size));
  tginvite::fuzz::CheckAnswers(out);
  return 0;
}
