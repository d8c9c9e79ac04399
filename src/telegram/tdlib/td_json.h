// TDLib's JSON interface (td/telegram/td_json_client.h), loaded at run time with dlopen: Debian has
// no TDLib package, and the bot path must work without one. The library is looked for in this
// order:
//   1. $TGINVITE_TDJSON, a path to libtdjson.so;
//   2. the npm package @prebuilt-tdlib/linux-x64-glibc (package.json pins TDLib 1.8.67) beside
//      the binary's source tree: <exe>/../node_modules/…;
//   3. <exe>/../lib/tginvite/libtdjson.so: where the Debian package puts it (packaging/), so
//      /usr/bin/tginvite finds /usr/lib/tginvite/libtdjson.so;
//   4. the npm package in the tree the binary was built from;
//   5. the system's libtdjson.so (the dynamic linker's search path).
// Only the four functions of TDLib's "new" JSON interface are used; a library without them is
// refused with the name of what is missing.
//
// Thread-safety: Send and Execute may be called from any thread; Receive from one thread at a
// time (TDLib's rule). A TdJson is never unloaded: TDLib's threads may outlive any owner.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tginvite::telegram::tdlib {

class TdJson {
 public:
  // The library found as described above. kNotFound names every place tried and why each failed.
  static Result<std::shared_ptr<TdJson>> Load();
  // The library at `path` (for tests and $TGINVITE_TDJSON); the same object for the same path.
  static Result<std::shared_ptr<TdJson>> LoadFrom(const std::string& path);

  const std::string& path() const { return path_; }
  // TDLib's version ("1.8.67"), by the synchronous getOption; "" if it does not say.
  std::string Version() const;

  int CreateClientId() const;
  void Send(int client_id, std::string_view request) const;
  // The next answer or update of any client as JSON, "" after `timeout_seconds` without one.
  std::string Receive(double timeout_seconds) const;
  // A request TDLib can answer synchronously (getOption, getTextEntities, setLogVerbosityLevel).
  std::string Execute(std::string_view request) const;

 private:
  using CreateClientIdFn = int (*)();
  using SendFn = void (*)(int, const char*);
  using ReceiveFn = const char* (*)(double);
  using ExecuteFn = const char* (*)(const char*);

  TdJson() = default;
  static Result<std::shared_ptr<TdJson>> Open(const std::string& path);

  std::string path_;
  CreateClientIdFn create_client_id_ = nullptr;
  SendFn send_ = nullptr;
  ReceiveFn receive_ = nullptr;
  ExecuteFn execute_ = nullptr;
};

// One line for `tginvite --version`: "TDLib 1.8.67 (/path/libtdjson.so)", or "TDLib: not found
// (why)".
std::string DescribeTdLib();

}  // namespace tginvite::telegram::tdlib
