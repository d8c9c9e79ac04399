// Reading TDLib's JSON without exceptions: a field of the wrong type reads as absent. (TDLib sends
// int64 values as strings, int32/int53 as numbers; both are accepted where a number is wanted.)
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tginvite::telegram::tdlib {

inline const nlohmann::json& Field(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

inline std::string StringField(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& value = Field(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

inline std::optional<int64_t> IntField(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& value = Field(object, key);
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size()) return n;
  }
  return std::nullopt;
}

inline bool BoolField(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& value = Field(object, key);
  return value.is_boolean() && value.get<bool>();
}

// The object's "@type", "" when it has none.
inline std::string TypeOf(const nlohmann::json& object) { return StringField(object, "@type"); }

}  // namespace tginvite::telegram::tdlib
