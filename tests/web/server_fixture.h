// A web server over real HTTP on 127.0.0.1 (a random port) with a real SQLite store, and the
// client-side helpers the API tests share: log in, send with cookie and CSRF token, check errors,
// and keep every body served so a test can check that no secret was ever in one.
#pragma once

#include <csignal>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fakes/temp_dir.h"
#include "web/auth.h"
#include "web/server.h"
#include "web/web_fixture.h"

namespace tginvite::web {

using nlohmann::json;

constexpr std::string_view kPassword = "s3cret-admin-password";

struct Login {
  std::string session;  // the cookie's value
  std::string csrf;
  std::string set_cookie;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // httplib's client writes without MSG_NOSIGNAL: a server that refuses a body early and closes
    // must fail the request, not kill the test.
    std::signal(SIGPIPE, SIG_IGN);
    store_ = OpenStoreWithCampaign(dir_);
    ASSERT_NE(store_, nullptr);
  }

  void SetPassword() {
    auto hash = HashPassword(core::Secret(std::string(kPassword)));
    ASSERT_TRUE(hash);
    ASSERT_TRUE(store_->SetAdminPasswordHash(*hash));
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.http.threads = 4;
    server_ = std::make_unique<Server>(*store_, std::move(options));
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    client_->set_connection_timeout(5);
    client_->set_read_timeout(10);
  }

  // Every body the server sent, to check afterwards that no secret leaked.
  const httplib::Result& Keep(const httplib::Result& res) {
    if (res) bodies_ += res->body + "\n";
    return res;
  }

  httplib::Result Get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Result res = client_->Get(path.c_str(), headers);
    Keep(res);
    return res;
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const httplib::Headers& headers = {}) {
    httplib::Result res = client_->Post(path.c_str(), headers, body, "application/json");
    Keep(res);
    return res;
  }

  // Any method, with a body of any type.
  httplib::Result Send(const std::string& method, const std::string& path,
                       const std::string& body = "", const httplib::Headers& headers = {},
                       const std::string& content_type = "application/json") {
    httplib::Result res =
        method == "GET"     ? client_->Get(path.c_str(), headers)
        : method == "HEAD"  ? client_->Head(path.c_str(), headers)
        : method == "POST" ? client_->Post(path.c_str(), headers, body, content_type.c_str())
        : method == "PUT"  ? client_->Put(path.c_str(), headers, body, content_type.c_str())
        : method == "PATCH" ? client_->Patch(path.c_str(), headers, body, content_type.c_str())
                            : client_->Delete(path.c_str(), headers, body, content_type.c_str());
    Keep(res);
    return res;
  }

  Login LogIn(const httplib::Headers& headers = {}) {
    httplib::Result res =
        Post("/api/v1/login", json{{"password", std::string(kPassword)}}.dump(), headers);
    Login login;
    EXPECT_TRUE(res);
    if (!res) return login;
    EXPECT_EQ(res->status, 200) << res->body;
    login.set_cookie = res->get_header_value("Set-Cookie");
    const std::string prefix = "tginvite_session=";
    EXPECT_TRUE(login.set_cookie.starts_with(prefix)) << login.set_cookie;
    login.session =
        login.set_cookie.substr(prefix.size(), login.set_cookie.find(';') - prefix.size());
    json body = json::parse(res->body);
    login.csrf = body.value("csrf_token", "");
    EXPECT_FALSE(login.csrf.empty());
    return login;
  }

  static httplib::Headers CookieHeaders(const Login& login, std::string csrf = "") {
    httplib::Headers headers{{"Cookie", "tginvite_session=" + login.session}};
    if (!csrf.empty()) headers.emplace("X-CSRF-Token", csrf);
    return headers;
  }

  static void ExpectError(const httplib::Result& res, int status, std::string_view code = "") {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    json body = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res->body;
    ASSERT_TRUE(body.contains("error")) << res->body;
    EXPECT_TRUE(body["error"]["message"].is_string()) << res->body;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
    if (!code.empty()) {
      EXPECT_EQ(body["error"]["code"], code) << res->body;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
  std::string bodies_;
};

}  // namespace tginvite::web
