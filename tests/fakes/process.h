// Runs a program to completion and captures its exit code, stdout and stderr: for tests that
// drive the whole `tginvite` binary.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tginvite::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::string cwd;                         // empty: the test's working directory
  std::map<std::string, std::string> env;  // added to (or replacing) the test's environment
  std::vector<std::string> unset_env;      // removed from it
  std::string stdin_text;
};

// Runs `argv` (argv[0] is a path) and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace tginvite::testing
