#include "web/error_mapping.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tginvite::web {
namespace {

TEST(ErrorMappingTest, EveryCodeHasItsStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kAlreadyExists), 409);
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

}  // namespace
}  // namespace tginvite::web
