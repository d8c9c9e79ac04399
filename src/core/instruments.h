// What this process measures about itself, for /metrics: latency histograms (claims, sends, HTTP
// requests) and a count of database errors. Unlike the rest of /metrics, which every process
// reads from the database, these belong to the process that serves them: a Prometheus scrape of
// `tginvite up` sees its own worker's claims and sends.
//
// Thread-safety: everything here may be used from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

namespace tginvite::core {

// A Prometheus-style histogram over fixed upper bounds in seconds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds_seconds);

  void Observe(std::chrono::nanoseconds duration);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound: observations <= it
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  Snapshot Take() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> buckets_;  // per bound, non-cumulative; the last one is +Inf
  uint64_t count_ = 0;
  double sum_ = 0;
};

struct ProcessInstruments {
  Histogram claim_seconds;  // Store::ClaimInvitations, one call per account and cycle
  Histogram send_seconds;   // Messenger::SendInvitation, one request to Telegram
  Histogram http_seconds;   // one HTTP request served by the web server
  std::atomic<int64_t> database_errors{0};  // store calls that failed (each retry counts)
  // Claimed requests given back unsent: their slot had passed by more than the allowed lateness,
  // or the account was paused by flood control after they were claimed.
  std::atomic<int64_t> given_back_late{0};
  std::atomic<int64_t> given_back_paused{0};
  // Claimed requests whose slot passed while they were prepared and that took a new one.
  std::atomic<int64_t> reslotted{0};
  // /starts applied, by storage::StartMatch (linked, unknown_payload, already_handled,
  // other_user, suppressed, same_person, waiting).
  std::array<std::atomic<int64_t>, 7> starts{};
};

// The process's instruments.
ProcessInstruments& Instruments();

// Measures from construction to destruction into a histogram.
class ScopedTimer {
 public:
  explicit ScopedTimer(Histogram& histogram)
      : histogram_(histogram), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() { histogram_.Observe(std::chrono::steady_clock::now() - start_); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  Histogram& histogram_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tginvite::core
