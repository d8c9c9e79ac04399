// The command line: parses argv with CLI11 and runs one command. The composition root: the only
// place that picks concrete implementations (the store from --db).
#pragma once

namespace tginvite::cli {

// Returns the process exit code: 0 ok, 1 runtime failure, 2 bad usage or bad input.
int Main(int argc, char** argv);

}  // namespace tginvite::cli
