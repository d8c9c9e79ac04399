// Runs a program to completion and captures its exit code, stdout and stderr: for tests that
// drive the whole `tginvite` binary.
#pragma once

#include <chrono>
#include <functional>
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

namespace tginvite::testing {

// A program started in the background, its output going to files; killed (SIGKILL) and reaped
// on destruction if still running.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const ProcessOptions& options,
               const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  void Signal(int signal);
  // Waits up to `timeout` for it to exit; the exit code (128 + signal when killed), or -1 when
  // it is still running.
  int Wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  int pid_ = -1;
  int exit_code_ = -1;
};

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace tginvite::testing
