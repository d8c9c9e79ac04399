// Secret keys for tests: fixed, so that a failing test can be replayed; never used outside tests.
#pragma once

#include <memory>
#include <string_view>

#include "core/secret_box.h"
#include "storage/store.h"

namespace tginvite::testing {

inline constexpr std::string_view kTestKeyHex =
    "7f3a9c0e51d24b68a0c1e2f3041526374859a6b7c8d9eaf0b1c2d3e4f5061728";
inline constexpr std::string_view kOtherTestKeyHex =
    "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

inline core::SecretKey TestKey(std::string_view hex = kTestKeyHex) {
  return *core::SecretKey::FromHex(hex);
}

// What a store opened by a test seals with: TestKey(hex) alone.
inline storage::StoreSecrets TestSecrets(std::string_view hex = kTestKeyHex) {
  storage::StoreSecrets secrets;
  secrets.keyring = std::make_shared<const core::Keyring>(TestKey(hex));
  secrets.missing_key_hint = "the test gave no key";
  return secrets;
}

inline storage::StoreOptions TestStoreOptions(storage::OpenMode mode = storage::OpenMode::kCreate) {
  storage::StoreOptions options;
  options.mode = mode;
  options.secrets = TestSecrets();
  return options;
}

}  // namespace tginvite::testing
