// The web server against hostile requests, over real HTTP on 127.0.0.1: each one gets a 4xx with
// the JSON error body, and the next request is served. (A `GET /%FF` used to end the process: the
// 404 handler put the decoded path into a JSON body whose writer threw on invalid UTF-8.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "fakes/raw_http.h"
#include "web/auth.h"
#include "web/server_fixture.h"

namespace tginvite::web {
namespace {

using namespace std::chrono_literals;
using testing::BodyOf;
using testing::RawRequest;
using testing::StatusOf;

// About 10 MiB of zeros, gzipped to a few KiB: what a decompressing server would choke on.
std::string GzipBomb() {
  std::string zeros(10 << 20, '\0');
  uLongf size = compressBound(static_cast<uLong>(zeros.size()));
  std::string out(size, '\0');
  z_stream stream{};
  deflateInit2(&stream, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);  // gzip framing
  stream.next_in = reinterpret_cast<Bytef*>(zeros.data());
  stream.avail_in = static_cast<uInt>(zeros.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string RawPost(std::string_view path, std::string_view extra_headers, std::string_view body) {
  return fmt::format("POST {} HTTP/1.1\r\nHost: x\r\n{}Content-Length: {}\r\n\r\n{}", path,
                     extra_headers, body.size(), body);
}

class HostileRequestsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    SetPassword();
    StartServer();
    core::Secret token = NewToken();
    ASSERT_TRUE(store_->CreateApiToken({"ops", TokenHash(token.Reveal())}));
    bearer_ = "Authorization: Bearer " + token.Reveal() + "\r\n";
  }

  std::string bearer_;
};

struct Case {
  std::string name;
  std::string request;
  int status;
};

// Invariant I12 (docs/invariants.md)
TEST_F(HostileRequestsTest, EachGetsA4xxAndTheNextRequestIsServed) {
  const std::string deep(100000, '[');
  const std::string bomb = GzipBomb();
  ASSERT_LT(bomb.size(), 64u << 10);
  std::string many_headers = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10000; ++i) many_headers += fmt::format("X-H{}: v\r\n", i);
  many_headers += "\r\n";
  std::string chunked_json =
      "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 40; ++i) chunked_json += "8000\r\n" + std::string(0x8000, ' ') + "\r\n";
  chunked_json += "0\r\n\r\n";
  const std::vector<Case> cases = {
      {"invalid UTF-8 path", "GET /%FF HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"invalid UTF-8 asset", "GET /assets/%FF HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"overlong UTF-8, OPTIONS", "OPTIONS /%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"NUL in the path", "GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"raw bytes in the path", "GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"invalid UTF-8 campaign name",
       "GET /api/v1/campaigns/%FF%00%C0 HTTP/1.1\r\nHost: x\r\n" + bearer_ + "\r\n", 404},
      {"invalid UTF-8 in a query",
       "GET /api/v1/contacts?after=%FF HTTP/1.1\r\nHost: x\r\n" + bearer_ + "\r\n", 400},
      {"64 KiB path", "GET /" + std::string(64 << 10, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
      {"10,000 headers", many_headers, 431},
      {"duplicate Content-Length",
       "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: "
       "3\r\n\r\n{}",
       400},
      {"Content-Length and chunked",
       "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       400},
      {"chunked JSON over 1 MiB", chunked_json, 413},
      {"chunked body on a route without one",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
       413},
      {"gzip bomb", RawPost("/api/v1/imports", bearer_ + "Content-Encoding: gzip\r\n", bomb), 415},
      {"body without a length", "POST /api/v1/login HTTP/1.1\r\nHost: x\r\n\r\n{\"password\":1}",
       411},
      {"JSON nested 100,000 deep (login)", RawPost("/api/v1/login", "", deep), 400},
      {"JSON nested 100,000 deep (settings)",
       "PUT /api/v1/settings/pacing.batch_size HTTP/1.1\r\nHost: x\r\n" + bearer_ +
           fmt::format("Content-Length: {}\r\n\r\n{}", deep.size(), deep),
       400},
      {"invalid UTF-8 in JSON", RawPost("/api/v1/login", "", "{\"password\": \"\xff\"}"), 400},
      {"invalid UTF-8 campaign in a JSON body",
       RawPost("/api/v1/campaigns", bearer_,
               "{\"name\": \"a\\ud800b\", \"account\": \"demo\", \"chat\": \"-100123\", "
               "\"template\": \"{link}\"}"),
       400},
      {"control bytes in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\x7f\x01\r\n\r\n",
       400},
      {"HTTP/0.9", "GET /\r\n\r\n", 400},
      {"TLS on the plain port", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = RawRequest(port_, c.request);
    ASSERT_TRUE(response) << "no answer";
    EXPECT_EQ(StatusOf(*response), c.status) << response->substr(0, 300);
    auto body = nlohmann::json::parse(BodyOf(*response), nullptr, false);
    ASSERT_TRUE(body.is_object()) << "not a JSON body: " << BodyOf(*response).substr(0, 200);
    EXPECT_TRUE(body["error"]["code"].is_string()) << body.dump();
    EXPECT_NE(response->find("X-Content-Type-Options: nosniff"), std::string::npos);
    auto healthz = RawRequest(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(healthz) << "the server stopped answering";
    EXPECT_EQ(StatusOf(*healthz), 200);
  }
}

TEST_F(HostileRequestsTest, NoAnswerEchoesTheRawPath) {
  auto response = RawRequest(port_, "GET /<script>%FF\xfe HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_TRUE(StatusOf(*response) == 404 || StatusOf(*response) == 400) << *response;
  EXPECT_EQ(response->find("<script>\xff"), std::string::npos);
  EXPECT_EQ(response->find('\xfe'), std::string::npos) << "raw bytes are escaped";
}

}  // namespace
}  // namespace tginvite::web
