// How tginvite writes its log: spdlog's default logger, set up once per process from the global
// options (--log-format, --log-level). Text lines read the same on a terminal and in
// `journalctl -u tginvite`: one line per message (line breaks and other control characters in a
// message are escaped), the level coloured only on a terminal, and under systemd — when the stream
// is the one JOURNAL_STREAM names — no timestamp of ours (the journal stamps each line) but a
// `<N>` priority prefix that journald reads and strips. docs/operations.md, "Logs".
//
// Thread-safety: ConfigureLogging before any thread logs; the rest are pure.
#pragma once

#include <string>
#include <string_view>

namespace tginvite::cli {

enum class LogFormat { kText, kJson };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
// run, serve and up log to standard output (the service's log); every other command to standard
// error, so that what it prints (a CSV export to -, a token) stays its own.
enum class LogStream { kStdout, kStderr };

struct LogSetup {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
  LogStream stream = LogStream::kStdout;
};

// Replaces spdlog's default logger: `setup.stream`, lines at `setup.level` and above, as text
// (`2026-11-27T19:45:08.364 info worker vm:31291 started on sqlite`; in the journal
// `<6>info worker …`) or one JSON object a line
// (`{"ts":"2026-11-27T19:45:08.364Z","level":"info","msg":"…"}`). NO_COLOR turns colours off.
void ConfigureLogging(const LogSetup& setup);

// A message as one line: \n, \r and \t become those two-character escapes, other control
// characters (C0, DEL, and C1 written as UTF-8) \xNN or \u00NN. Everything else is kept as it is.
std::string OneLogLine(std::string_view message);

// True when the open file `fd` is the one `journal_stream` ("DEVICE:INODE", systemd's
// JOURNAL_STREAM) names; false for null or anything else.
bool IsJournalStream(int fd, const char* journal_stream);

}  // namespace tginvite::cli
