// `tginvite secrets rotate`: reseals every secret under a new key.
//
// With the key file (./data/secret.key by default), in three steps, each of which survives a
// crash:
//  1. the new key is written to secret.key.new (0600, atomically) — unless an earlier run left
//     one there: then that key is the new one, since secrets may be sealed under it already;
//  2. every secret is resealed under the new key in one transaction, by a keyring that opens
//     under the old and the new key;
//  3. the old key is kept as secret.key.old (0600, atomically; it replaces the one an earlier
//     rotation kept), then secret.key.new is renamed over secret.key.
// Until step 3 is done every command loads secret.key.new beside secret.key, so whichever key the
// secrets are under, they open; running the command again finishes the rotation.
//
// With TGINVITE_SECRET_KEY the command has nowhere to write a key: the new key comes from
// TGINVITE_NEW_SECRET_KEY, which every command also accepts for opening, and the operator moves it
// into TGINVITE_SECRET_KEY afterwards.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/clock.h"
#include "core/private_files.h"

namespace tginvite::cli {
namespace {

// Workers seen in the last minute: they loaded the old key when they started.
std::vector<std::string> RunningWorkers(storage::Store& store) {
  std::vector<std::string> running;
  Result<std::vector<storage::WorkerInfo>> workers = store.ListWorkers();
  if (!workers) return running;
  const int64_t now = core::ToUnixMillis(core::SystemClock().Now());
  for (const storage::WorkerInfo& w : *workers) {
    if (w.stopped_at == 0 && now - w.heartbeat_at < 60'000) running.push_back(w.id);
  }
  return running;
}

Result<int64_t> Reseal(const GlobalOptions& global, const SecretKeys& keys,
                       const core::SecretKey& old_key, const core::SecretKey& new_key) {
  storage::StoreOptions options = keys.StoreOptionsFor(storage::OpenMode::kExisting);
  options.secrets.keyring =
      std::make_shared<const core::Keyring>(new_key, std::vector<core::SecretKey>{old_key});
  ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::OpenStore(global.db, options));
  std::vector<std::string> running = RunningWorkers(*store);
  if (!running.empty()) {
    PrintWarnings({fmt::format(
        "worker{} {} {} running: {} the previous key at start and cannot open the resealed tokens "
        "until restarted with the new one",
        running.size() == 1 ? "" : "s", fmt::join(running, ", "),
        running.size() == 1 ? "is" : "are", running.size() == 1 ? "it loaded" : "they loaded")});
  }
  Result<int64_t> resealed = store->SealSecrets(storage::Store::SealScope::kEverySecret);
  if (!resealed) return resealed.error().WithContext("nothing was resealed");
  return resealed;
}

int RotateInEnvironment(const GlobalOptions& global, const SecretKeys& keys) {
  if (!keys.next) {
    return Report(Fail(
        ErrorCode::kInvalidArgument,
        "secrets rotate: the key comes from {0}, so there is no file to write a new key to: put "
        "64 new hex digits in {1} (`openssl rand -hex 32` makes some) and run this again; then "
        "give every process the new key as {0}",
        kSecretKeyEnv, kNewSecretKeyEnv));
  }
  if (*keys.next == *keys.current) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "secrets rotate: {} holds the key in force ({})", kNewSecretKeyEnv,
                       keys.current->id()));
  }
  Result<int64_t> resealed = Reseal(global, keys, *keys.current, *keys.next);
  if (!resealed) return Report(resealed.error().WithContext("secrets rotate"));
  fmt::print(
      "resealed {} secret{} under key {} (from {}), which no longer opens with key {}. Now give "
      "every process that key as {} and remove {}: until then, one that has only the previous key "
      "cannot open the tokens.\n",
      *resealed, *resealed == 1 ? "" : "s", keys.next->id(), kNewSecretKeyEnv, keys.current->id(),
      kSecretKeyEnv, kNewSecretKeyEnv);
  return kExitOk;
}

int RotateInFiles(const GlobalOptions& global, const SecretKeys& keys) {
  const std::string next_file = NextKeyFile(keys.key_file);
  const std::string previous_file = PreviousKeyFile(keys.key_file);
  const core::SecretKey& old_key = *keys.current;
  std::optional<core::SecretKey> new_key = keys.next;
  if (new_key) {
    fmt::print("finishing the rotation to key {} that an earlier run began ({})\n", new_key->id(),
               next_file);
  } else {
    new_key = core::SecretKey::Generate();
    if (Status written = core::ReplacePrivateFile(next_file, KeyFileText(*new_key)); !written) {
      return Report(written.error().WithContext("secrets rotate: write the new key"));
    }
  }
  if (*new_key == old_key) {  // secret.key.new is a copy of secret.key: only the files are left
    fmt::print("{} holds the key in force already\n", next_file);
  }
  Result<int64_t> resealed = Reseal(global, keys, old_key, *new_key);
  if (!resealed) {
    return Report(resealed.error().WithContext(
        fmt::format("secrets rotate (the new key stays in {} for the next try)", next_file)));
  }
  if (Status kept = core::ReplacePrivateFile(previous_file, KeyFileText(old_key)); !kept) {
    return Report(kept.error().WithContext("secrets rotate: keep the previous key"));
  }
  if (Status moved = core::RenameDurably(next_file, keys.key_file); !moved) {
    return Report(moved.error().WithContext("secrets rotate: put the new key in place"));
  }
  fmt::print(
      "resealed {} secret{} under key {}, now in {}; the previous key {} is kept in {}: it opens "
      "only database backups made before now (delete it when you no longer keep any). Back up "
      "the new key, separately from the database.\n",
      *resealed, *resealed == 1 ? "" : "s", new_key->id(), keys.key_file, old_key.id(),
      previous_file);
  return kExitOk;
}

}  // namespace

int RunSecretsRotate(const GlobalOptions& global) {
  Result<SecretKeys> keys = LoadSecretKeys(global.secret_key_file);
  if (!keys) return Report(keys.error().WithContext("secrets rotate"));
  PrintWarnings(keys->warnings);
  switch (keys->source) {
    case KeySource::kNone:
      return Report(Fail(ErrorCode::kInvalidArgument,
                         "secrets rotate: there is no key to rotate: {}", keys->MissingKeyHint()));
    case KeySource::kEnvironment:
      return RotateInEnvironment(global, *keys);
    case KeySource::kFile:
      return RotateInFiles(global, *keys);
  }
  return kExitFailure;
}

}  // namespace tginvite::cli
