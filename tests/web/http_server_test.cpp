// The HTTP server under the web module, with routes of its own test, over real TCP on 127.0.0.1:
// what it refuses before reading, what it cuts while reading, and how it keeps serving when
// clients are slow, many or greedy.
#include "web/http_server.h"

#include <condition_variable>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "fakes/process.h"
#include "fakes/raw_http.h"

namespace tginvite::web {
namespace {

using namespace std::chrono_literals;
using testing::BodyOf;
using testing::RawConnection;
using testing::RawRequest;
using testing::StatusOf;

// A gate a handler waits at until the test opens it.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  bool WaitForWaiters(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return waiting_ >= n; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    router_.Add({"POST", "/echo",
                 [](HttpRequest& req, HttpResponse& res) {
                   res.content_type = "text/plain";
                   res.body = "got " + std::to_string(req.body.size());
                 },
                 BodyKind::kJson});
    router_.Add({"POST", "/upload",
                 [](HttpRequest& req, HttpResponse& res) {
                   res.body = "got " + std::to_string(req.body.size());
                 },
                 BodyKind::kUpload});
    router_.Add({"GET", "/hello", [](HttpRequest& req, HttpResponse& res) {
                   res.content_type = "text/plain";
                   res.body = "hello " + (req.params.empty() ? "" : req.params[0]);
                 }});
    router_.Add({"GET", "/items/{name}", [](HttpRequest& req, HttpResponse& res) {
                   res.body = "item [" + req.params[0] + "]";
                 }});
    router_.Add({"GET", "/slow", [this](HttpRequest&, HttpResponse& res) {
                   gate_.Wait();
                   res.body = "slow done";
                 }});
    router_.Add({"GET", "/live", [](HttpRequest&, HttpResponse& res) { res.body = "alive"; },
                 BodyKind::kNone, Execution::kInline});
    router_.Add({"GET", "/throw", [](HttpRequest&, HttpResponse&) {
                   throw std::runtime_error("handler bug \xff");
                 }});
  }

  ~HttpServerTest() override {
    gate_.Open();
    if (server_) server_->Stop();
  }

  void Start(HttpLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(router_, limits);
    auto port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
  }

  int Status(std::string_view request) {
    auto response = RawRequest(port_, request);
    return response ? StatusOf(*response) : 0;
  }

  Router router_;
  Gate gate_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, RoutesByTemplateAndDecodesParameters) {
  Start();
  auto response = RawRequest(port_, "GET /items/spring%20sale HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(StatusOf(*response), 200) << *response;
  EXPECT_EQ(BodyOf(*response), "item [spring sale]");
  EXPECT_EQ(Status("GET /items/ HTTP/1.1\r\nHost: x\r\n\r\n"), 404) << "an empty parameter";
  EXPECT_EQ(Status("GET /items/a/b HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
  EXPECT_EQ(Status("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
}

TEST_F(HttpServerTest, AnOversizedDeclaredBodyIsRefusedBeforeItIsRead) {
  HttpLimits limits;
  limits.max_json_body = 100;
  Start(limits);
  RawConnection connection(port_);
  // The header alone: the answer must come without a byte of the body.
  ASSERT_TRUE(connection.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  auto response = connection.ReadResponse(5s);
  ASSERT_TRUE(response) << "no answer before the body";
  EXPECT_EQ(StatusOf(*response), 413) << *response;
  EXPECT_NE(response->find("Connection: close"), std::string::npos) << *response;
  EXPECT_TRUE(connection.ClosedWithin(5s)) << "the unread body cannot be skipped: close";
  EXPECT_EQ(Status("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                   std::string(100, 'x')),
            200)
      << "the limit itself is allowed";
}

TEST_F(HttpServerTest, TheUploadRouteTakesMoreThanJsonRoutes) {
  HttpLimits limits;
  limits.max_json_body = 100;
  limits.max_upload_body = 1000;
  Start(limits);
  const std::string body(500, 'x');
  const std::string length = "Content-Length: 500\r\n\r\n";
  EXPECT_EQ(Status("POST /echo HTTP/1.1\r\nHost: x\r\n" + length + body), 413);
  EXPECT_EQ(Status("POST /upload HTTP/1.1\r\nHost: x\r\n" + length + body), 200);
  EXPECT_EQ(Status("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"), 413);
  EXPECT_EQ(Status("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"), 413)
      << "a route without a body takes none";
}

std::string Chunked(size_t total, size_t chunk) {
  std::string out;
  for (size_t sent = 0; sent < total; sent += chunk) {
    size_t n = std::min(chunk, total - sent);
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", n);
    out += size;
    out += std::string(n, 'c');
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

TEST_F(HttpServerTest, ChunkedBodiesAreCountedWhileReadAndCutAtTheLimit) {
  HttpLimits limits;
  limits.max_json_body = 100;
  Start(limits);
  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto fits = RawRequest(port_, head + Chunked(100, 30));
  ASSERT_TRUE(fits);
  EXPECT_EQ(StatusOf(*fits), 200) << *fits;
  EXPECT_EQ(BodyOf(*fits), "got 100");
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send(head));
  // Chunks keep coming; the answer comes once the limit is passed, not at the end.
  bool answered = false;
  for (int i = 0; i < 1000 && !answered; ++i) {
    if (!connection.Send("20\r\n" + std::string(32, 'c') + "\r\n")) break;
    if (i == 10) {
      auto response = connection.ReadResponse(5s);
      ASSERT_TRUE(response);
      EXPECT_EQ(StatusOf(*response), 413) << *response;
      answered = true;
    }
  }
  EXPECT_TRUE(answered);
}

TEST_F(HttpServerTest, ExpectContinueGetsA100OnlyForABodyThatFits) {
  HttpLimits limits;
  limits.max_json_body = 100;
  Start(limits);
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"));
  auto interim = connection.ReadResponse(5s);
  ASSERT_TRUE(interim);
  EXPECT_EQ(StatusOf(*interim), 100);
  ASSERT_TRUE(connection.Send("0123456789"));
  auto final_answer = connection.ReadResponse(5s);
  ASSERT_TRUE(final_answer);
  EXPECT_EQ(BodyOf(*final_answer), "got 10");
  EXPECT_EQ(Status("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
                   "1000\r\n\r\n"),
            413);
}

// Invariant I12 (docs/invariants.md)
TEST_F(HttpServerTest, MalformedAndAmbiguousFramingIsRefused) {
  Start();
  const std::pair<std::string, int> cases[] = {
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
       400},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello", 400},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       400},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx", 501},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nxx",
       415},
      {"POST /echo HTTP/1.1\r\nHost: x\r\n\r\n{\"a\":1}", 411},
      {"GET /hello HTTP/1.2\r\nHost: x\r\n\r\n", 400},
      {"GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 400},
      {"GET /hello HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01z\r\n\r\n", 400},
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not HTTP at all\r\n\r\n", 400},
      {"GET hello HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /" + std::string(64 << 10, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
  };
  for (const auto& [request, status] : cases) {
    EXPECT_EQ(Status(request), status) << PrintableForLog(request, 80);
    EXPECT_EQ(Status("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
  }
}

// Invariant I12 (docs/invariants.md)
TEST_F(HttpServerTest, AThrowingHandlerIs500AndServingGoesOn) {
  Start();
  auto response = RawRequest(port_, "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(StatusOf(*response), 500);
  EXPECT_EQ(response->find("handler bug"), std::string::npos) << "internals stay in the log";
  EXPECT_EQ(Status("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
}

TEST_F(HttpServerTest, EveryAnswerCarriesTheSecurityHeaders) {
  Start();
  for (const char* request :
       {"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    auto response = RawRequest(port_, request);
    ASSERT_TRUE(response) << request;
    EXPECT_NE(response->find("X-Content-Type-Options: nosniff\r\n"), std::string::npos)
        << *response;
    EXPECT_NE(response->find("X-Frame-Options: DENY\r\n"), std::string::npos) << *response;
    EXPECT_NE(response->find("Cache-Control: no-store\r\n"), std::string::npos) << *response;
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrderAndKeepAliveHasALimit) {
  HttpLimits limits;
  limits.keep_alive_requests = 3;
  Start(limits);
  RawConnection connection(port_);
  ASSERT_TRUE(
      connection.Send("GET /items/a HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /items/b HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /items/c HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /items/d HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (std::string_view name : {"a", "b", "c"}) {
    auto response = connection.ReadResponse(5s);
    ASSERT_TRUE(response) << name;
    EXPECT_EQ(BodyOf(*response), "item [" + std::string(name) + "]");
    EXPECT_EQ(response->find("Connection: close") != std::string::npos, name == "c") << *response;
  }
  EXPECT_TRUE(connection.ClosedWithin(5s)) << "the fourth request is not served on it";
}

TEST_F(HttpServerTest, HeadGetsTheHeadersWithoutTheBody) {
  Start();
  RawConnection connection(port_);
  ASSERT_TRUE(
      connection.Send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  // The first answer's Content-Length describes a body that is not sent: read the raw bytes.
  auto both = connection.ReadResponse(5s);
  ASSERT_TRUE(both);
  EXPECT_EQ(StatusOf(*both), 200);
  EXPECT_NE(both->find("Content-Length: 6\r\n"), std::string::npos) << *both;
  EXPECT_EQ(BodyOf(*both), "HTTP/1") << "the GET's answer follows the HEAD's header at once";
}

TEST_F(HttpServerTest, SlowHeadersAreCutAtTheHeaderDeadline) {
  HttpLimits limits;
  limits.header_timeout = 300ms;
  Start(limits);
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(connection.ClosedWithin(10s));
  EXPECT_EQ(Status("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
}

TEST_F(HttpServerTest, AFullQueueIsRefusedAt503AndInlineRoutesStillAnswer) {
  HttpLimits limits;
  limits.threads = 1;
  limits.queue = 1;
  Start(limits);
  RawConnection busy(port_);  // takes the only handler thread
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(gate_.WaitForWaiters(1, 10s));
  RawConnection queued(port_);  // waits in the queue
  ASSERT_TRUE(queued.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  RawConnection third(port_);
  ASSERT_TRUE(third.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Which of the two the server reads first is up to it: one is queued, the other refused at once.
  std::optional<std::string> refused = third.ReadResponse(3s);
  RawConnection* waiting = &queued;
  if (!refused) {
    refused = queued.ReadResponse(10s);
    waiting = &third;
  }
  ASSERT_TRUE(refused);
  EXPECT_EQ(StatusOf(*refused), 503) << *refused;
  EXPECT_NE(refused->find("Retry-After: 1"), std::string::npos) << *refused;
  EXPECT_EQ(Status("GET /live HTTP/1.1\r\nHost: x\r\n\r\n"), 200)
      << "an inline route needs no handler thread";
  gate_.Open();
  auto first = busy.ReadResponse(10s);
  ASSERT_TRUE(first);
  EXPECT_EQ(BodyOf(*first), "slow done");
  auto second = waiting->ReadResponse(10s);
  ASSERT_TRUE(second);
  EXPECT_EQ(StatusOf(*second), 200) << *second;
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAreClosed) {
  HttpLimits limits;
  limits.max_connections = 2;
  Start(limits);
  RawConnection a(port_);
  auto b = std::make_unique<RawConnection>(port_);
  ASSERT_TRUE(a.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(b->Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(a.ReadResponse(5s));
  ASSERT_TRUE(b->ReadResponse(5s));  // both are open and idle now
  RawConnection c(port_);
  EXPECT_TRUE(c.ClosedWithin(5s));
  b->Send("GET /hello HTTP/1.1\r\nConnection: close\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(b->ReadResponse(5s));
  EXPECT_TRUE(b->ClosedWithin(5s));
  b.reset();
  EXPECT_TRUE(
      testing::WaitFor([&] { return Status("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 200; }, 5s))
      << "a closed connection frees its place";
}

TEST_F(HttpServerTest, BodiesBeingReadShareOneBudget) {
  HttpLimits limits;
  limits.max_json_body = 100;
  limits.body_budget = 150;
  Start(limits);
  RawConnection first(port_);
  ASSERT_TRUE(first.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  // The first body holds 100 of the 150 bytes while it is read; a second one of 100 must wait.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return Status("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                      std::string(100, 'x')) == 503;
      },
      5s));
  ASSERT_TRUE(first.Send(std::string(97, 'x')));
  auto done = first.ReadResponse(5s);
  ASSERT_TRUE(done);
  EXPECT_EQ(BodyOf(*done), "got 100");
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return Status("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                      std::string(100, 'x')) == 200;
      },
      5s))
      << "the budget is given back";
}

TEST_F(HttpServerTest, ServeBytesAnswersAsTheSocketServerDoes) {
  HttpLimits limits;
  limits.max_json_body = 100;
  std::string out =
      HttpServer::ServeBytes(router_, limits,
                             "GET /items/x%41 HTTP/1.1\r\nHost: x\r\n\r\n"
                             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
  EXPECT_NE(out.find("item [xA]"), std::string::npos) << out;
  EXPECT_NE(out.find("got 3"), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 413"), std::string::npos) << out;
  EXPECT_TRUE(HttpServer::ServeBytes(router_, limits, "GET /hel").empty())
      << "an incomplete header gets no answer";
}

TEST(HttpTest, PercentDecodingAndQueries) {
  EXPECT_EQ(PercentDecode("a%20b+c%zz%4", false), "a b+c%zz%4");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  Query query = ParseQuery("a=1&b=%40x&c&&d=e=f");
  EXPECT_EQ(query.find("a")->second, "1");
  EXPECT_EQ(query.find("b")->second, "@x");
  EXPECT_EQ(query.find("c")->second, "");
  EXPECT_EQ(query.find("d")->second, "e=f");
  EXPECT_EQ(PrintableForLog("/a\xff\n"), "/a%FF%0A");
  EXPECT_EQ(PrintableForLog(std::string(300, 'a'), 10), "aaaaaaaaaa...");
}

}  // namespace
}  // namespace tginvite::web
