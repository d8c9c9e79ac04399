// What the fuzz targets under tests/fuzz share: FuzzInput, which splits one input into the values
// a run needs, and FUZZ_CHECK, which turns a broken property into a crash that libFuzzer saves.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Aborts with the condition and its place when `condition` is false: under libFuzzer a crash whose
// input is saved, under the corpus replay a failed test.
#define FUZZ_CHECK(condition)                                                              \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)

namespace tginvite::fuzz {

// Takes values from the front of an input: bytes for small choices, and strings that end at a
// '\0' (dropped) or at the end of the input. Whatever is left is the rest. The same bytes always
// give the same values, so a saved input replays exactly; an input used up gives 0 and "".
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t TakeByte() {
    if (rest_.empty()) return 0;
    const auto byte = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return byte;
  }

  // A value in 0..count-1 (count > 0), from one byte.
  size_t TakeIndex(size_t count) { return TakeByte() % count; }

  // A value in 0..65535, from two bytes.
  uint16_t TakeUint16() {
    const uint16_t high = TakeByte();
    return static_cast<uint16_t>(high << 8 | TakeByte());
  }

  // Up to the next '\0' and at most `max_size` bytes; a longer string leaves its tail for the
  // next value.
  std::string_view TakeString(size_t max_size) {
    const size_t end = std::min(rest_.find('\0'), std::min(max_size, rest_.size()));
    const std::string_view taken = rest_.substr(0, end);
    rest_.remove_prefix(end);
    if (!rest_.empty() && rest_.front() == '\0') rest_.remove_prefix(1);
    return taken;
  }

  bool empty() const { return rest_.empty(); }

  std::string_view TakeRest() {
    const std::string_view rest = rest_;
    rest_ = {};
    return rest;
  }

 private:
  std::string_view rest_;
};

}  // namespace tginvite::fuzz
