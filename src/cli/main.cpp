#include <malloc.h>

#include <csignal>
#include <exception>

#include <fmt/format.h>

#include "cli/app.h"

int main(int argc, char** argv) {
  // A peer that goes away mid-write (a browser, Telegram, PostgreSQL) is an error to handle where
  // the write happens, never a signal that ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  // glibc gives the free top of a thread's heap back to the kernel once it passes 128 KiB, and the
  // next request faults the pages in again: with dozens of threads sending, a madvise and its page
  // faults for every two invitations. Up to 16 MiB of free top per heap is kept instead.
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  try {
    return tginvite::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tginvite: internal error: {}\n", e.what());
    return 1;
  }
}
