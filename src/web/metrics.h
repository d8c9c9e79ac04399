// Prometheus metrics for GET /metrics, in the text exposition format version 0.0.4.
//
// Every figure but the HTTP request count is read from the store at scrape time, so any number of
// processes (workers, web servers) share one truth: invitations by campaign and state, requests
// and 429s per account from the attempts history, each account's flood pause and health, and the
// live workers. Label values are escaped (backslash, double quote, newline); account names come
// from users. No token or secret ever appears in a label.
//
// Thread-safety: RequestCounter is thread-safe; RenderMetrics is as thread-safe as the store.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.h"
#include "storage/store.h"

namespace tginvite::web {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4";

// A worker is live while its last heartbeat is younger than this.
inline constexpr int64_t kWorkerLiveMs = 60000;

// Counts the HTTP responses this process served, by status code.
class RequestCounter {
 public:
  void Count(int status);
  std::map<int, int64_t> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<int, int64_t> counts_;
};

// `value` escaped for a label value: \ -> \\, " -> \", newline -> \n.
std::string EscapeLabelValue(std::string_view value);

// The whole exposition. `now` is unix ms; errors are the store's.
Result<std::string> RenderMetrics(storage::Store& store, int64_t now,
                                  const std::map<int, int64_t>& http_requests);

}  // namespace tginvite::web
