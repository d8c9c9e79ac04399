// Where the fake TDLib (tests/fakes/fake_tdjson) is: $TGINVITE_FAKE_TDJSON, else the path CMake
// compiled into suites built with FAKE_TDJSON; "" when neither says.
#pragma once

#include <cstdlib>
#include <string>

namespace tginvite::testing {

inline std::string FakeTdJsonPath() {
  if (const char* env = std::getenv("TGINVITE_FAKE_TDJSON"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef TGINVITE_FAKE_TDJSON_PATH
  return TGINVITE_FAKE_TDJSON_PATH;
#else
  return "";
#endif
}

}  // namespace tginvite::testing
