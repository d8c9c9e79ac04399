#include "cli/secret_keys.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/private_files.h"

namespace tginvite::cli {
namespace {

std::string_view Trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::optional<std::string> LooseModeWarning(const std::string& path) {
  std::optional<unsigned> mode = core::OpenToOthers(path);
  if (!mode) return std::nullopt;
  return fmt::format(
      "secret key file {} can be read or changed by other users (mode {:04o}): chmod 600 {}", path,
      *mode, path);
}

}  // namespace

std::string SecretKeys::Origin() const {
  return source == KeySource::kEnvironment ? std::string(kSecretKeyEnv) : key_file;
}

std::string SecretKeys::MissingKeyHint() const {
  return fmt::format(
      "{} is not set and there is no key file {}; `tginvite init` creates one there "
      "(--secret-key-file or {} names another file)",
      kSecretKeyEnv, key_file, kSecretKeyFileEnv);
}

storage::StoreSecrets SecretKeys::ForStore() const {
  storage::StoreSecrets secrets;
  secrets.missing_key_hint = MissingKeyHint();
  if (current) {
    secrets.key_origin = Origin();
    std::vector<core::SecretKey> also_open;
    if (next) also_open.push_back(*next);
    secrets.keyring = std::make_shared<const core::Keyring>(*current, std::move(also_open));
  }
  return secrets;
}

std::vector<std::string> SecretKeys::AllWarnings() const {
  std::vector<std::string> all = warnings;
  if (rotation_unfinished) {
    all.push_back(fmt::format(
        "{} is left by an unfinished `tginvite secrets rotate`: its key opens secrets too; run "
        "`tginvite secrets rotate` again to finish",
        NextKeyFile(key_file)));
  }
  return all;
}

std::string NextKeyFile(std::string_view key_file) { return std::string(key_file) + ".new"; }
std::string PreviousKeyFile(std::string_view key_file) { return std::string(key_file) + ".old"; }

Result<std::optional<core::SecretKey>> KeyFromEnvironment(std::string_view variable) {
  const char* value = std::getenv(std::string(variable).c_str());
  if (value == nullptr || *value == '\0') return std::optional<core::SecretKey>();
  Result<core::SecretKey> key = core::SecretKey::FromHex(Trimmed(value));
  if (!key) return key.error().WithContext(variable);
  return std::optional<core::SecretKey>(std::move(*key));
}

Result<std::optional<core::SecretKey>> ReadKeyFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<core::SecretKey>();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::kInvalidArgument, "secret key file {}: cannot be read: {}", path,
                std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string contents = text.str();
  Result<core::SecretKey> key = core::SecretKey::FromHex(Trimmed(contents));
  std::fill(contents.begin(), contents.end(), '\0');
  if (!key) return key.error().WithContext("secret key file " + path);
  return std::optional<core::SecretKey>(std::move(*key));
}

std::string KeyFileText(const core::SecretKey& key) { return key.ToHex().Reveal() + "\n"; }

Result<SecretKeys> LoadSecretKeys(const std::string& key_file) {
  SecretKeys keys;
  keys.key_file = key_file;
  ASSIGN_OR_RETURN(keys.current, KeyFromEnvironment(kSecretKeyEnv));
  if (keys.current) {
    keys.source = KeySource::kEnvironment;
    ASSIGN_OR_RETURN(keys.next, KeyFromEnvironment(kNewSecretKeyEnv));
    return keys;
  }
  ASSIGN_OR_RETURN(keys.current, ReadKeyFile(key_file));
  if (!keys.current) return keys;
  keys.source = KeySource::kFile;
  if (std::optional<std::string> warning = LooseModeWarning(key_file)) {
    keys.warnings.push_back(*warning);
  }
  const std::string next_file = NextKeyFile(key_file);
  ASSIGN_OR_RETURN(keys.next, ReadKeyFile(next_file));
  if (keys.next) {
    keys.rotation_unfinished = true;
    if (std::optional<std::string> warning = LooseModeWarning(next_file)) {
      keys.warnings.push_back(*warning);
    }
  }
  return keys;
}

Result<bool> CreateKeyFile(const std::string& key_file) {
  const core::SecretKey key = core::SecretKey::Generate();
  const std::filesystem::path folder = std::filesystem::path(key_file).parent_path();
  RETURN_IF_ERROR_CTX(core::CreatePrivateFolders(folder), "create the secret key file");
  Status created = core::CreatePrivateFile(key_file, KeyFileText(key), core::IfExists::kFail);
  if (!created && created.error().code == ErrorCode::kAlreadyExists) return false;
  RETURN_IF_ERROR_CTX(created, "create the secret key file");
  return true;
}

}  // namespace tginvite::cli
