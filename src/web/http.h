// HTTP requests and answers as the web module's handlers see them, free of any HTTP library: the
// server (web/http_server.h) parses the wire format into an HttpRequest and writes the
// HttpResponse back. Bytes from the network stay bytes here: a path, a query value or a header may
// hold anything, invalid UTF-8 and NUL included, and every consumer must treat it so.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tginvite::web {

// The query string's parameters, percent-decoded ('+' is a space).
using Query = std::multimap<std::string, std::string>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ... (HEAD is served as GET, without the body)
  bool head = false;   // it came as HEAD: nothing is done for it that only a download should do
  std::string target;  // as sent: "/api/v1/contacts?q=%40bob"
  std::string path;    // the target before '?', still percent-encoded
  Query query;
  std::vector<std::pair<std::string, std::string>> headers;  // in the order sent
  std::string body;
  std::string remote_addr;          // the peer's IP address
  std::vector<std::string> params;  // the route's {x} segments, percent-decoded, in order

  // The first value of a header (names compare case-insensitively); "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beside Content-Type/-Length

  // Sets a header, replacing an earlier value of the same name.
  void SetHeader(std::string_view name, std::string_view value);
  // The header's value, "" when unset.
  std::string_view GetHeader(std::string_view name) const;
};

// True when two header names are equal ignoring ASCII case.
bool SameHeaderName(std::string_view a, std::string_view b);

// "%41b+c" -> "Ab c" when `plus_is_space`; a '%' not followed by two hex digits stays as it is.
std::string PercentDecode(std::string_view text, bool plus_is_space);

// "a=1&b=%20x&c" -> {a: "1", b: " x", c: ""}.
Query ParseQuery(std::string_view query);

// Text safe to put in a log line or a message about a request: printable ASCII stays, any other
// byte becomes %XX, and it is cut to `max` characters ("..." appended when cut).
std::string PrintableForLog(std::string_view text, size_t max = 200);

}  // namespace tginvite::web
