// A raw TCP client for HTTP tests that must send what no HTTP library would: malformed request
// lines, conflicting headers, bodies that never end, one byte at a time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tginvite::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; connected() tells whether it worked.
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `bytes`; false once the server closed or reset the connection.
  bool Send(std::string_view bytes);
  // Reads one response (status line, headers, Content-Length body) within `timeout`;
  // std::nullopt when the connection closed or the time ran out first.
  std::optional<std::string> ReadResponse(std::chrono::milliseconds timeout);
  // True when the server closed the connection within `timeout` (reading and dropping any bytes).
  bool ClosedWithin(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string pending_;  // bytes read past the last response
};

// The status code of a response read by ReadResponse ("HTTP/1.1 404 Not Found..." -> 404), 0
// when it has none.
int StatusOf(const std::string& response);

// The body of such a response.
std::string BodyOf(const std::string& response);

// One request on a fresh connection; the whole response, or std::nullopt.
std::optional<std::string> RawRequest(int port, std::string_view bytes,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A port on 127.0.0.1 that was free a moment ago (a race with another process is unlikely in a
// test); -1 when none could be found.
int FreePort();

}  // namespace tginvite::testing
