// The HTTP/1.1 server under the web module: it owns the sockets and never lets a client hold more
// than its share. Reading is asynchronous on one network thread (Boost.Beast's parser over Asio),
// so a slow or idle connection costs a socket and a small buffer, never a thread; only a complete
// request reaches one of the handler threads.
//
// What a client cannot do:
//  - take long over its header: it must arrive whole within `header_timeout` of the connection
//    opening or of the previous answer (a slow-loris connection is closed);
//  - send a large header: over `max_header_bytes` (request line included) is refused with 431;
//  - send a body its route does not take: the route says which limit applies (router.h) and a
//    declared Content-Length over it is refused with 413 before a byte of the body is read; a
//    chunked body is counted while it is read and refused as soon as it passes the limit;
//  - make the server hold more than `body_budget` bytes of bodies at once (503, Retry-After);
//  - speak anything but HTTP/1.0 or HTTP/1.1, or send a malformed request (400);
//  - send a compressed body (Content-Encoding: 415; nothing is ever decompressed), a
//    Transfer-Encoding other than chunked (501), both Content-Length and Transfer-Encoding or two
//    differing Content-Lengths (400), or a POST/PUT with no length at all (411);
//  - queue more than `queue` requests for the handler threads (503, Retry-After);
//  - open more than `max_connections` connections (further ones are closed at once);
//  - keep a connection for more than `keep_alive_requests` requests.
// Every refusal is a JSON error body ({"error": {"code", "message"}}) and closes the connection
// when the rest of the request cannot be skipped safely. Every answer carries the security headers
// (X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Referrer-Policy: no-referrer; JSON
// answers Cache-Control: no-store unless the handler set one). A handler that throws is answered
// 500 and logged; nothing a client sends can end the process.
//
// Thread-safety: Start and Stop from one thread. Handlers run on the handler threads (or, for
// Execution::kInline routes, on the network thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "web/router.h"

namespace tginvite::web {

struct HttpLimits {
  size_t threads = 8;             // handler threads
  size_t queue = 64;              // complete requests waiting for a handler thread
  size_t max_connections = 1024;  // open connections, idle ones included
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_json_body = size_t{1} << 20;
  size_t max_upload_body = size_t{32} << 20;
  size_t body_budget = size_t{96} << 20;  // all bodies being read or handled at once
  std::chrono::milliseconds header_timeout{10000};
  // A body must arrive within body_timeout plus one second for every body_rate bytes.
  std::chrono::milliseconds body_timeout{30000};
  size_t body_rate = size_t{64} << 10;
  std::chrono::milliseconds write_timeout{30000};
  // After an answer that closes the connection, what the client still sends is read and dropped
  // for at most this long, so that it reads the answer (a 413, say) instead of a reset.
  std::chrono::milliseconds linger_timeout{5000};
  int keep_alive_requests = 1000;
};

// Told about every answer the server writes, handler or refusal: its status and how long the
// request took from its header to the answer.
using AnswerObserver = std::function<void(int status, std::chrono::steady_clock::duration)>;

class HttpServer {
 public:
  // `router` must outlive the server.
  HttpServer(const Router& router, HttpLimits limits, AnswerObserver observer = {});
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0: any free port) and starts the threads; returns the bound port.
  // kUnavailable when the address cannot be bound, kInvalidArgument when it is not an address.
  Result<int> Start(const std::string& host, int port);

  // Stops accepting, lets the requests being handled finish and their answers go out (at most a
  // few seconds), closes every connection and joins the threads. Idempotent.
  void Stop();

  // Serves `bytes` as if one client had sent them on one connection, with the same parser, limits,
  // routing and handlers, and returns everything the server would have written back (for fuzzing
  // and tests: no socket, no thread; every handler runs on the calling thread).
  static std::string ServeBytes(const Router& router, const HttpLimits& limits,
                                std::string_view bytes);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tginvite::web
