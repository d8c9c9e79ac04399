#include <exception>

#include <fmt/format.h>

#include "cli/app.h"

int main(int argc, char** argv) {
  try {
    return tginvite::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tginvite: internal error: {}\n", e.what());
    return 1;
  }
}
