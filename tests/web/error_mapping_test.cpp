#include "web/error_mapping.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tginvite::web {
namespace {

// Invariant I8 (docs/invariants.md)
TEST(ErrorMappingTest, EveryCodeHasItsStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kAborted), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
}

TEST(ErrorMappingTest, BodyCarriesCodeAndMessage) {
  auto body =
      nlohmann::json::parse(ErrorBody(Error{ErrorCode::kNotFound, "no campaign named \"x\""}));
  EXPECT_EQ(body["error"]["code"], "not_found");
  EXPECT_EQ(body["error"]["message"], "no campaign named \"x\"");
}

// Found by tests/fuzz/imports_fuzz.cpp: an import for a campaign named "autu\xdcn" failed with
// "no campaign named ...", and writing that error's body threw nlohmann's type_error 316.
TEST(ErrorMappingTest, BodyOfAMessageWithInvalidUtf8IsValidJson) {
  std::string body = ErrorBody(Error{ErrorCode::kNotFound, "no campaign named \"autu\xDCn\""});
  auto parsed = nlohmann::json::parse(body);
  EXPECT_EQ(parsed["error"]["message"], "no campaign named \"autu\uFFFDn\"");
}

TEST(ErrorMappingTest, JsonTextReplacesInvalidUtf8) {
  EXPECT_EQ(JsonText({{"name",
                       "a\xFF\xFE"
                       "b"}}),
            "{\"name\":\"a\uFFFD\uFFFDb\"}");
  EXPECT_EQ(JsonText({{"name", "\xC3\xA9"}}), "{\"name\":\"\xC3\xA9\"}");
}

}  // namespace
}  // namespace tginvite::web
