#include <csignal>
#include <exception>

#include <fmt/format.h>

#include "cli/app.h"

int main(int argc, char** argv) {
  // A peer that goes away mid-write (a browser, Telegram, PostgreSQL) is an error to handle where
  // the write happens, never a signal that ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return tginvite::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tginvite: internal error: {}\n", e.what());
    return 1;
  }
}
