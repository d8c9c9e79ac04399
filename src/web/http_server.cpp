// Beast speaks std::string_view, like the rest of the code.
#define BOOST_BEAST_USE_STD_STRING_VIEW

#include "web/http_server.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "web/error_mapping.h"

namespace tginvite::web {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Tcp = asio::ip::tcp;
using Parser = bhttp::request_parser<bhttp::string_body>;
using Clock = std::chrono::steady_clock;

// Room for the largest header and one read of a body besides.
constexpr size_t kReadBufferExtra = size_t{64} << 10;

// A request the server answers itself, without a handler.
struct Refusal {
  int status = 400;
  std::string_view code;
  std::string message;
};

HttpResponse RefusalResponse(const Refusal& refusal) {
  HttpResponse response;
  response.status = refusal.status;
  response.content_type = "application/json";
  response.body = ErrorBody(refusal.code, refusal.message);
  if (refusal.status == 503) response.SetHeader("Retry-After", "1");
  return response;
}

bool IEquals(std::string_view a, std::string_view b) { return SameHeaderName(a, b); }

size_t BodyLimitOf(BodyKind kind, const HttpLimits& limits) {
  switch (kind) {
    case BodyKind::kNone:
      return 0;
    case BodyKind::kJson:
      return limits.max_json_body;
    case BodyKind::kUpload:
      return limits.max_upload_body;
  }
  return 0;
}

// Every parser starts with the largest body limit any route has, so that a declared length over
// it fails while the header is read (before its body could be reserved); the route's own limit is
// set once the header is known.
void Configure(Parser& parser, const HttpLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(std::max(limits.max_json_body, limits.max_upload_body));
}

// What the header of a request decides: a refusal, or the route and how large a body it takes.
struct Plan {
  std::optional<Refusal> refusal;
  RouteMatch match;
  size_t body_limit = 0;
  size_t reserve = 0;  // bytes of the body budget the request needs
  bool has_body = false;
  bool expect_continue = false;
};

Plan PlanRequest(const Parser& parser, const Router& router, const HttpLimits& limits) {
  const auto& head = parser.get();
  Plan plan;
  const bool chunked = parser.chunked();
  const boost::optional<std::uint64_t> length = parser.content_length();
  plan.has_body = chunked || (length && *length > 0);
  auto refuse = [&plan](int status, std::string_view code, std::string message) {
    plan.refusal = Refusal{status, code, std::move(message)};
    return plan;
  };
  if (std::string_view encoding = head[bhttp::field::content_encoding];
      !encoding.empty() && !IEquals(encoding, "identity")) {
    return refuse(415, "unsupported_encoding",
                  "request bodies must not be compressed (Content-Encoding)");
  }
  if (head.count(bhttp::field::transfer_encoding) > 0 && !chunked) {
    return refuse(501, "not_implemented", "Transfer-Encoding: only chunked is supported");
  }
  const std::string_view method = head.method_string();
  if ((method == "POST" || method == "PUT" || method == "PATCH") && !chunked && !length) {
    return refuse(411, "length_required",
                  "a request with a body needs a Content-Length header (send an empty body as "
                  "Content-Length: 0)");
  }
  const std::string_view target = head.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path.front() != '/') {
    return refuse(400, "bad_request", "the request target must be a path");
  }
  std::optional<RouteMatch> match = router.Find(method, path);
  if (!match) {
    return refuse(404, "not_found",
                  fmt::format("no such route: {} {}", PrintableForLog(method, 16),
                              PrintableForLog(path, 120)));
  }
  plan.match = std::move(*match);
  plan.body_limit = BodyLimitOf(plan.match.route->body, limits);
  if ((length && *length > plan.body_limit) || (chunked && plan.body_limit == 0)) {
    return refuse(413, "payload_too_large",
                  plan.body_limit == 0
                      ? std::string("this route takes no request body")
                      : fmt::format("request body over {} bytes", plan.body_limit));
  }
  plan.reserve = chunked ? plan.body_limit : static_cast<size_t>(length.value_or(0));
  plan.expect_continue = IEquals(head[bhttp::field::expect], "100-continue");
  return plan;
}

// Errors of the parser that a client caused, as the answer it gets; std::nullopt for a
// connection that simply ended or timed out (nothing can be written back then).
std::optional<Refusal> ReadRefusal(beast::error_code ec, const HttpLimits& limits) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return Refusal{431, "header_too_large",
                   fmt::format("the request header is over {} bytes", limits.max_header_bytes)};
  }
  if (ec == bhttp::error::body_limit) {
    return Refusal{413, "payload_too_large", "request body over the route's limit"};
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
    return std::nullopt;
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return Refusal{400, "bad_request", "malformed HTTP request"};
  }
  return std::nullopt;
}

HttpRequest BuildRequest(Parser& parser, RouteMatch& match, const std::string& remote_addr) {
  auto& head = parser.get();
  HttpRequest request;
  request.method = std::string(head.method_string());
  request.head = request.method == "HEAD";
  if (request.head) request.method = "GET";
  request.target = std::string(head.target());
  const size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos)
    request.query = ParseQuery(request.target.substr(question + 1));
  for (const auto& field : head) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(head.body());
  request.remote_addr = remote_addr;
  request.params = std::move(match.params);
  return request;
}

HttpResponse RunHandler(const Route& route, HttpRequest& request) {
  HttpResponse response;
  std::string what;
  try {
    route.handler(request, response);
    return response;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  spdlog::error("web: {} {}: unexpected exception: {}", request.method,
                PrintableForLog(request.path), PrintableForLog(what, 500));
  return RefusalResponse(Refusal{500, "internal", "internal error"});
}

// The answer's header block. Every answer gets the security headers; names and values lose any
// CR, LF or NUL, so no value can start a header of its own.
std::string SerializeHead(HttpResponse& response, bool keep_alive) {
  auto set_default = [&response](std::string_view name, std::string_view value) {
    if (response.GetHeader(name).empty()) response.SetHeader(name, value);
  };
  set_default("X-Content-Type-Options", "nosniff");
  set_default("X-Frame-Options", "DENY");
  set_default("Referrer-Policy", "no-referrer");
  set_default("Cache-Control", "no-store");
  auto clean = [](std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
      if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
    }
    return out;
  };
  const auto status = bhttp::int_to_status(static_cast<unsigned>(response.status));
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", response.status,
                                 std::string_view(bhttp::obsolete_reason(status)));
  if (!response.content_type.empty()) {
    head += fmt::format("Content-Type: {}\r\n", clean(response.content_type));
  }
  for (const auto& [name, value] : response.headers) {
    head += fmt::format("{}: {}\r\n", clean(name), clean(value));
  }
  const bool bodiless = response.status == 204 || response.status == 304 || response.status < 200;
  if (bodiless) {
    response.body.clear();
  } else {
    head += fmt::format("Content-Length: {}\r\n", response.body.size());
  }
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

// Bytes of request bodies held at once, across connections.
class BodyBudget {
 public:
  explicit BodyBudget(size_t capacity) : capacity_(capacity) {}

  bool TryReserve(size_t bytes) {
    size_t used = used_.load();
    do {
      if (bytes > capacity_ || used > capacity_ - bytes) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes));
    return true;
  }
  void Release(size_t bytes) { used_ -= bytes; }

 private:
  const size_t capacity_;
  std::atomic<size_t> used_{0};
};

// A fixed set of handler threads with a bounded queue: a request that finds the queue full is
// refused at once (503) rather than waiting without end.
class HandlerPool {
 public:
  HandlerPool(size_t threads, size_t queue) : threads_wanted_(threads), max_queue_(queue) {}
  ~HandlerPool() { Stop(); }

  void Start() {
    for (size_t i = 0; i < std::max<size_t>(threads_wanted_, 1); ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }

  bool TryPost(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || jobs_.size() >= max_queue_) return false;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

  // Runs what is queued, then joins the threads.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    threads_.clear();  // jthread joins
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  const size_t threads_wanted_;
  const size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::jthread> threads_;
};

// What every connection of one server shares.
struct Shared {
  Shared(const Router& r, HttpLimits l, AnswerObserver o)
      : router(r),
        limits(l),
        observer(std::move(o)),
        budget(l.body_budget),
        pool(l.threads, l.queue) {}

  void Observe(int status, Clock::time_point started) {
    if (observer) observer(status, Clock::now() - started);
  }
  void EnterBusy() {
    std::lock_guard lock(busy_mu);
    ++busy;
  }
  void LeaveBusy() {
    {
      std::lock_guard lock(busy_mu);
      --busy;
    }
    busy_cv.notify_all();
  }
  // Waits until no request is being handled or answered, at most `timeout`.
  void WaitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(busy_mu);
    busy_cv.wait_for(lock, timeout, [this] { return busy == 0; });
  }

  const Router& router;
  const HttpLimits limits;
  AnswerObserver observer;
  BodyBudget budget;
  HandlerPool pool;
  std::atomic<size_t> connections{0};
  std::mutex busy_mu;
  std::condition_variable busy_cv;
  size_t busy = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Tcp::socket socket, Shared& shared)
      : stream_(std::move(socket)),
        buffer_(shared.limits.max_header_bytes + kReadBufferExtra),
        shared_(shared) {
    ++shared_.connections;
    beast::error_code ec;
    Tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_addr_ = peer.address().to_string();
  }

  ~Connection() {
    shared_.budget.Release(reserved_);
    if (busy_) shared_.LeaveBusy();
    --shared_.connections;
  }

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Connection::ReadHeader, shared_from_this()));
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    Configure(*parser_, shared_.limits);
    stream_.expires_after(shared_.limits.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Connection::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    started_ = Clock::now();
    if (ec) return OnReadError(ec);
    keep_alive_ = parser_->keep_alive();
    head_only_ = parser_->get().method() == bhttp::verb::head;
    Plan plan = PlanRequest(*parser_, shared_.router, shared_.limits);
    if (plan.refusal) {
      const bool close = plan.has_body || plan.refusal->status != 404;
      return Answer(RefusalResponse(*plan.refusal), close);
    }
    if (!shared_.budget.TryReserve(plan.reserve)) {
      return Answer(RefusalResponse({503, "unavailable", "the server is busy: retry in a moment"}),
                    true);
    }
    reserved_ = plan.reserve;
    match_ = std::move(plan.match);
    parser_->body_limit(plan.body_limit);
    if (parser_->chunked()) parser_->get().body().reserve(plan.body_limit);
    if (parser_->is_done()) return Dispatch();
    const auto deadline =
        shared_.limits.body_timeout +
        std::chrono::seconds(plan.reserve / std::max<size_t>(shared_.limits.body_rate, 1));
    if (plan.expect_continue) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(shared_.limits.write_timeout);
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this(), deadline](beast::error_code write_ec, size_t) {
                          if (write_ec) return;  // the connection is gone
                          self->ReadBody(deadline);
                        });
      return;
    }
    ReadBody(deadline);
  }

  void ReadBody(std::chrono::milliseconds deadline) {
    stream_.expires_after(deadline);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Connection::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Dispatch();
  }

  void OnReadError(beast::error_code ec) {
    if (std::optional<Refusal> refusal = ReadRefusal(ec, shared_.limits)) {
      return Answer(RefusalResponse(*refusal), true);
    }
    Close();
  }

  // Runs the route's handler for the complete request, on the network thread or the pool.
  void Dispatch() {
    const Route& route = *match_.route;
    HttpRequest request = BuildRequest(*parser_, match_, remote_addr_);
    busy_ = true;
    shared_.EnterBusy();
    if (route.execution == Execution::kInline) {
      return Answer(RunHandler(route, request), false);
    }
    auto self = shared_from_this();
    bool queued = shared_.pool.TryPost([self, &route, request = std::move(request)]() mutable {
      HttpResponse response = RunHandler(route, request);
      request = HttpRequest();  // the body's memory goes before the answer is written
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Answer(std::move(response), false);
      });
    });
    if (!queued) {
      Answer(RefusalResponse({503, "unavailable", "the server is busy: retry in a moment"}), true);
    }
  }

  void Answer(HttpResponse response, bool close) {
    shared_.budget.Release(reserved_);
    reserved_ = 0;
    ++served_;
    const bool keep_alive = !close && keep_alive_ && served_ < shared_.limits.keep_alive_requests;
    shared_.Observe(response.status, started_);
    out_response_ = std::move(response);
    out_head_ = SerializeHead(out_response_, keep_alive);
    std::array<asio::const_buffer, 2> buffers{
        asio::buffer(out_head_),
        head_only_ ? asio::const_buffer() : asio::buffer(out_response_.body)};
    stream_.expires_after(shared_.limits.write_timeout);
    asio::async_write(stream_, buffers,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        self->OnWritten(ec, keep_alive);
                      });
  }

  void OnWritten(beast::error_code ec, bool keep_alive) {
    if (busy_) {
      busy_ = false;
      shared_.LeaveBusy();
    }
    out_response_ = HttpResponse();
    out_head_.clear();
    if (ec) return Close();
    if (!keep_alive) return Linger();
    keep_alive_ = false;
    head_only_ = false;
    ReadHeader();
  }

  // Closes after an answer without resetting what the client is still sending: our side is shut,
  // its bytes are read and dropped until it closes too or linger_timeout passes.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(Tcp::socket::shutdown_send, ignored);
    stream_.expires_after(shared_.limits.linger_timeout);
    drain_ = std::make_unique<std::array<char, 4096>>();
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(*drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(Tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Shared& shared_;
  std::string remote_addr_;
  std::optional<Parser> parser_;
  RouteMatch match_;
  Clock::time_point started_ = Clock::now();
  size_t reserved_ = 0;
  bool busy_ = false;
  bool keep_alive_ = false;
  bool head_only_ = false;
  int served_ = 0;
  HttpResponse out_response_;
  std::string out_head_;
  std::unique_ptr<std::array<char, 4096>> drain_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const Router& router, HttpLimits limits, AnswerObserver observer)
      : shared_(router, limits, std::move(observer)) {}

  ~Impl() { Stop(); }

  Result<int> Start(const std::string& host, int port) {
    beast::error_code ec;
    asio::ip::address address =
        asio::ip::make_address(host == "localhost" ? std::string("127.0.0.1") : host, ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument, "listen on {}:{}: not an IP address", host, port);
    }
    Tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    if (acceptor_.open(endpoint.protocol(), ec) ||
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec) ||
        acceptor_.bind(endpoint, ec) ||
        acceptor_.listen(asio::socket_base::max_listen_connections, ec)) {
      return Fail(ErrorCode::kUnavailable, "listen on {}:{}: cannot bind the address ({})", host,
                  port, ec.message());
    }
    const int bound = acceptor_.local_endpoint(ec).port();
    shared_.pool.Start();
    Accept();
    io_thread_ = std::thread([this] { io_.run(); });
    started_ = true;
    return bound;
  }

  void Stop() {
    if (!started_) return;
    started_ = false;
    asio::post(io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      retry_timer_.cancel();
    });
    shared_.WaitIdle(std::chrono::seconds(5));
    shared_.pool.Stop();
    io_.stop();
    io_thread_.join();
  }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [this](beast::error_code ec, Tcp::socket socket) {
                             if (!acceptor_.is_open()) return;
                             if (ec) {
                               // Out of file descriptors, most likely: wait a little instead of
                               // spinning.
                               if (accept_warnings_++ % 100 == 0)
                                 spdlog::warn("web: accept: {}", ec.message());
                               retry_timer_.expires_after(std::chrono::milliseconds(100));
                               retry_timer_.async_wait([this](beast::error_code wait_ec) {
                                 if (!wait_ec) Accept();
                               });
                               return;
                             }
                             if (shared_.connections.load() >= shared_.limits.max_connections) {
                               beast::error_code ignored;
                               socket.close(ignored);
                             } else {
                               std::make_shared<Connection>(std::move(socket), shared_)->Start();
                             }
                             Accept();
                           });
  }

  Shared shared_;  // outlives io_: destroying io_ destroys the connections it still holds
  asio::io_context io_{1};
  Tcp::acceptor acceptor_{io_};
  asio::steady_timer retry_timer_{io_};
  std::thread io_thread_;
  bool started_ = false;
  uint64_t accept_warnings_ = 0;
};

HttpServer::HttpServer(const Router& router, HttpLimits limits, AnswerObserver observer)
    : impl_(std::make_unique<Impl>(router, limits, std::move(observer))) {}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::Start(const std::string& host, int port) {
  return impl_->Start(host, port);
}

void HttpServer::Stop() { impl_->Stop(); }

std::string HttpServer::ServeBytes(const Router& router, const HttpLimits& limits,
                                   std::string_view bytes) {
  std::string out;
  auto answer = [&out](HttpResponse response, bool keep_alive, bool head_only) {
    out += SerializeHead(response, keep_alive);
    if (!head_only) out += response.body;
  };
  // Feeds the parser from `bytes` until `done` holds; false when the input ran out or broke.
  auto feed = [&bytes](Parser& parser, beast::error_code& ec, auto done) {
    while (!done()) {
      if (bytes.empty()) return false;
      size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        if (used == 0) return false;  // the rest of the header never comes
      }
      if (ec) return false;
    }
    return true;
  };
  for (int served = 1; !bytes.empty(); ++served) {
    Parser parser;
    Configure(parser, limits);
    parser.eager(true);
    beast::error_code ec;
    if (!feed(parser, ec, [&parser] { return parser.is_header_done(); })) {
      if (std::optional<Refusal> refusal = ReadRefusal(ec, limits)) {
        answer(RefusalResponse(*refusal), false, false);
      }
      return out;
    }
    Plan plan = PlanRequest(parser, router, limits);
    if (plan.refusal) {
      const bool close = plan.has_body || plan.refusal->status != 404;
      answer(RefusalResponse(*plan.refusal), !close, false);
      if (close) return out;
      continue;
    }
    parser.body_limit(plan.body_limit);
    if (!feed(parser, ec, [&parser] { return parser.is_done(); })) {
      if (std::optional<Refusal> refusal = ReadRefusal(ec, limits)) {
        answer(RefusalResponse(*refusal), false, false);
      }
      return out;
    }
    const bool keep_alive = parser.keep_alive() && served < limits.keep_alive_requests;
    const bool head_only = parser.get().method() == bhttp::verb::head;
    HttpRequest request = BuildRequest(parser, plan.match, "127.0.0.1");
    answer(RunHandler(*plan.match.route, request), keep_alive, head_only);
    if (!keep_alive) break;
  }
  return out;
}

}  // namespace tginvite::web
