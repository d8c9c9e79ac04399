#include "telegram/tdlib/td_json.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include <dlfcn.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace tginvite::telegram::tdlib {
namespace {

constexpr std::string_view kNpmLibrary =
    "node_modules/@prebuilt-tdlib/linux-x64-glibc/libtdjson.so";
constexpr std::string_view kPackagedLibrary = "lib/tginvite/libtdjson.so";

// Where the library may be, in the order they are tried.
std::vector<std::string> Candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("TGINVITE_TDJSON"); env != nullptr && *env != '\0') {
    paths.emplace_back(env);
    return paths;  // asked for exactly this one
  }
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back((exe.parent_path().parent_path() / kNpmLibrary).string());
    paths.push_back((exe.parent_path().parent_path() / kPackagedLibrary).string());
  }
#ifdef TGINVITE_SOURCE_TREE
  paths.push_back((std::filesystem::path(TGINVITE_SOURCE_TREE) / kNpmLibrary).string());
#endif
  paths.emplace_back("libtdjson.so");
  return paths;
}

template <typename Fn>
Fn Symbol(void* handle, const char* name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

Result<std::shared_ptr<TdJson>> TdJson::LoadFrom(const std::string& path) {
  // One TdJson per library and process: its clients share one receive thread (td_receive serves
  // every client of the library and must not be called from two threads).
  static std::mutex mu;
  static auto* loaded = new std::map<std::string, std::shared_ptr<TdJson>>();  // never unloaded
  std::lock_guard lock(mu);
  if (auto it = loaded->find(path); it != loaded->end()) return it->second;
  Result<std::shared_ptr<TdJson>> opened = Open(path);
  if (opened) (*loaded)[path] = *opened;
  return opened;
}

Result<std::shared_ptr<TdJson>> TdJson::Open(const std::string& path) {
  // RTLD_LOCAL: TDLib's own symbols (it bundles OpenSSL and zlib) stay out of the process's.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Fail(ErrorCode::kNotFound, "{}: {}", path, why != nullptr ? why : "cannot be loaded");
  }
  std::shared_ptr<TdJson> td(new TdJson());
  td->path_ = path;
  td->create_client_id_ = Symbol<CreateClientIdFn>(handle, "td_create_client_id");
  td->send_ = Symbol<SendFn>(handle, "td_send");
  td->receive_ = Symbol<ReceiveFn>(handle, "td_receive");
  td->execute_ = Symbol<ExecuteFn>(handle, "td_execute");
  std::string missing;
  for (auto [name, found] : {std::pair{"td_create_client_id", td->create_client_id_ != nullptr},
                             {"td_send", td->send_ != nullptr},
                             {"td_receive", td->receive_ != nullptr},
                             {"td_execute", td->execute_ != nullptr}}) {
    if (!found) missing += std::string(missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) {
    dlclose(handle);
    return Fail(ErrorCode::kNotFound, "{}: not TDLib's JSON interface (no {})", path, missing);
  }
  return td;  // never dlclose'd: see the header
}

Result<std::shared_ptr<TdJson>> TdJson::Load() {
  std::string tried;
  for (const std::string& path : Candidates()) {
    if (path.find('/') != std::string::npos && !std::filesystem::exists(path)) {
      tried += (tried.empty() ? "" : "; ") + path + ": no such file";
      continue;
    }
    Result<std::shared_ptr<TdJson>> loaded = LoadFrom(path);
    if (loaded) return loaded;
    tried += (tried.empty() ? "" : "; ") + loaded.error().message;
  }
  return Fail(ErrorCode::kNotFound, "{}", tried);
}

std::string TdJson::Version() const {
  const nlohmann::json answer = nlohmann::json::parse(
      Execute(R"({"@type":"getOption","name":"version"})"), nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object()) return "";
  auto value = answer.find("value");
  if (value == answer.end() || !value->is_string()) return "";
  return value->get<std::string>();
}

int TdJson::CreateClientId() const { return create_client_id_(); }

void TdJson::Send(int client_id, std::string_view request) const {
  send_(client_id, std::string(request).c_str());
}

std::string TdJson::Receive(double timeout_seconds) const {
  const char* answer = receive_(timeout_seconds);
  return answer != nullptr ? std::string(answer) : std::string();
}

std::string TdJson::Execute(std::string_view request) const {
  const char* answer = execute_(std::string(request).c_str());
  return answer != nullptr ? std::string(answer) : std::string();
}

std::string DescribeTdLib() {
  Result<std::shared_ptr<TdJson>> td = TdJson::Load();
  if (!td) return "TDLib: not found (" + td.error().message + ")";
  const std::string version = (*td)->Version();
  return "TDLib " + (version.empty() ? std::string("of unknown version") : version) + " (" +
         (*td)->path() + ")";
}

}  // namespace tginvite::telegram::tdlib
