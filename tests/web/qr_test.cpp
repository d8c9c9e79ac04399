// The QR encoder of start links: the modules libqrencode gives, and the SVG drawn from them read
// back module by module.
#include "web/qr.h"

#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tginvite::web {
namespace {

constexpr std::string_view kLink =
    "https://t.me/tginvite_test_bot?start=0123456789abcdef0123456789abcdef";

// True when the 7×7 finder pattern (a dark ring, a light ring, a dark 3×3 centre) has its corner
// at (left, top).
bool FinderAt(const QrModules& code, int left, int top) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      const int ring = std::min(std::min(x, y), std::min(6 - x, 6 - y));
      const bool dark = ring != 1;
      if (code.At(left + x, top + y) != dark) return false;
    }
  }
  return true;
}

// The SVG's dark modules, drawn back into a grid of side × side: the path must be nothing but
// "M x y h n v1 h -n z" rectangles.
std::vector<std::vector<bool>> Rasterise(const std::string& svg, int side) {
  std::vector<std::vector<bool>> grid(side, std::vector<bool>(side, false));
  std::smatch path;
  EXPECT_TRUE(std::regex_search(svg, path, std::regex("<path fill=\"#000\" d=\"([^\"]*)\"/>")));
  const std::string d = path[1];
  const std::regex run("M(\\d+) (\\d+)h(\\d+)v1h-(\\d+)z");
  size_t covered = 0;
  for (auto it = std::sregex_iterator(d.begin(), d.end(), run); it != std::sregex_iterator();
       ++it) {
    const int x = std::stoi((*it)[1]);
    const int y = std::stoi((*it)[2]);
    const int n = std::stoi((*it)[3]);
    EXPECT_EQ(n, std::stoi((*it)[4]));
    for (int i = 0; i < n; ++i) {
      EXPECT_LT(x + i, side);
      EXPECT_LT(y, side);
      if (x + i < side && y < side) grid[y][x + i] = true;
    }
    covered += it->length();
  }
  EXPECT_EQ(covered, d.size()) << "the path holds something other than module runs";
  return grid;
}

TEST(QrTest, EncodesALinkWithTheThreeFinderPatterns) {
  auto code = EncodeQr(kLink);
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ((code->size - 17) % 4, 0) << "a QR code is 17 + 4 × version modules wide";
  EXPECT_LE(code->size, 41) << "a start link fits a small code";
  EXPECT_TRUE(FinderAt(*code, 0, 0));
  EXPECT_TRUE(FinderAt(*code, code->size - 7, 0));
  EXPECT_TRUE(FinderAt(*code, 0, code->size - 7));
  EXPECT_FALSE(FinderAt(*code, code->size - 7, code->size - 7)) << "no fourth finder";

  auto other = EncodeQr("https://t.me/tginvite_test_bot?start=ffffffffffffffffffffffffffffffff");
  ASSERT_TRUE(other);
  EXPECT_NE(other->dark, code->dark) << "another link, another code";
}

TEST(QrTest, TheSvgIsOnePathOfTheDarkModulesInsideAQuietZone) {
  auto code = EncodeQr(kLink);
  ASSERT_TRUE(code) << code.error().message;
  const std::string svg = QrSvg(*code);
  const int side = code->size + 2 * kQrQuietZone;
  EXPECT_TRUE(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"")) << svg;
  EXPECT_NE(svg.find(fmt::format("viewBox=\"0 0 {0} {0}\"", side)), std::string::npos) << svg;
  EXPECT_NE(svg.find(fmt::format("width=\"{0}\" height=\"{0}\"", side * kQrModulePixels)),
            std::string::npos);
  EXPECT_NE(svg.find("shape-rendering=\"crispEdges\""), std::string::npos);
  EXPECT_NE(svg.find(fmt::format("<rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/>", side)),
            std::string::npos)
      << "a light background, so the code reads on a dark page too";
  size_t paths = 0;
  for (size_t at = svg.find("<path"); at != std::string::npos; at = svg.find("<path", at + 1)) {
    ++paths;
  }
  EXPECT_EQ(paths, 1u);
  EXPECT_LT(svg.size(), 8000u);

  const std::vector<std::vector<bool>> grid = Rasterise(svg, side);
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      const int cx = x - kQrQuietZone;
      const int cy = y - kQrQuietZone;
      const bool inside = cx >= 0 && cy >= 0 && cx < code->size && cy < code->size;
      const bool want = inside && code->At(cx, cy);
      ASSERT_EQ(grid[y][x], want) << "module (" << x << ", " << y << ")";
    }
  }
  auto direct = QrCodeSvg(kLink);
  ASSERT_TRUE(direct);
  EXPECT_EQ(*direct, svg);
}

TEST(QrTest, NothingAndTooMuchAreRefused) {
  auto empty = EncodeQr("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  for (size_t size : {size_t{3000}, size_t{100000}}) {
    auto huge = EncodeQr(std::string(size, 'x'));
    ASSERT_FALSE(huge) << size;
    EXPECT_EQ(huge.error().code, ErrorCode::kInvalidArgument) << huge.error().message;
  }
  auto nul = EncodeQr(std::string("a\0b", 3));
  EXPECT_TRUE(nul) << "bytes, not a C string";
}

}  // namespace
}  // namespace tginvite::web
