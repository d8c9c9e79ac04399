// The Bot API test double (tests/fakes/bot_api_double.h) as a standalone server, for whole-process
// load runs (bench/fleet_benchmark.sh). Account i's token is FleetBenchToken(i) (printed by
// --print-token I). On start it prints "port N"; then, every 100 ms,
//   "t_ms deliveries violations early conflicts duplicates"
// (t_ms since start); it ends on SIGINT/SIGTERM.
//
// usage: fleet_double --accounts N [--rate R] [--tolerance-ms T | --window] [--latency-ms L]
//                     [--threads K]
//        fleet_double --print-token I
// --window: the rate is a strict count of messages in any sliding second, not a GCRA.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <signal.h>
#include <time.h>

#include "fakes/bot_api_double.h"

namespace {

std::string FleetBenchToken(int account) {
  return fmt::format("{}:BENCH-fleet-token-AbCdEfGhIjKlMnOpQrStUv{:02d}", 700000 + account,
                     account);
}

}  // namespace

int main(int argc, char** argv) {
  int accounts = 10;
  tginvite::testing::BotApiDoubleOptions options;
  options.account_rate = 0;
  options.latency = std::chrono::milliseconds(2);
  options.threads = 256;
  options.max_recorded_requests = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--window") {
      options.sliding_window = true;
      continue;
    }
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) {
      std::fprintf(stderr, "fleet_double: %s needs a value\n", arg.c_str());
      return 2;
    }
    ++i;
    if (arg == "--print-token") {
      std::printf("%s\n", FleetBenchToken(std::atoi(value)).c_str());
      return 0;
    } else if (arg == "--accounts") {
      accounts = std::atoi(value);
    } else if (arg == "--rate") {
      options.account_rate = std::atof(value);
    } else if (arg == "--tolerance-ms") {
      options.rate_tolerance = std::chrono::milliseconds(std::atoi(value));
    } else if (arg == "--latency-ms") {
      options.latency = std::chrono::milliseconds(std::atoi(value));
    } else if (arg == "--threads") {
      options.threads = std::atoi(value);
    } else {
      std::fprintf(stderr, "fleet_double: unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  options.tokens.clear();
  for (int a = 0; a < accounts; ++a) options.tokens.push_back(FleetBenchToken(a));

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the server's threads start

  tginvite::testing::BotApiDouble api(options);
  std::printf("port %d\n", api.port());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  const timespec tick{0, 100'000'000};
  for (;;) {
    const int signal = sigtimedwait(&stop, nullptr, &tick);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::printf(
        "%lld %lld %lld %lld %lld %lld\n", static_cast<long long>(ms),
        static_cast<long long>(api.TotalDeliveries()), static_cast<long long>(api.RateViolations()),
        static_cast<long long>(api.EarlyRequests()), static_cast<long long>(api.Conflicts()),
        static_cast<long long>(api.DuplicateDeliveries()));
    std::fflush(stdout);
    if (signal == SIGINT || signal == SIGTERM) return 0;
  }
}
