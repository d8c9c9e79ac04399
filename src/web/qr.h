// QR codes for contacts' start links, encoded in process by libqrencode and drawn as a small SVG:
// no image library, nothing fetched, and an operator can print or show the code as it is.
//
// Thread-safety: any thread (libqrencode is called under a lock, since a build of it without
// pthread support is not thread-safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tginvite::web {

// The modules of a QR code, `size` × `size`, row by row; true is dark. No quiet zone.
struct QrModules {
  int size = 0;
  std::vector<bool> dark;

  bool At(int x, int y) const { return dark[static_cast<size_t>(y) * size + x]; }
};

// The smallest QR code (byte mode, error correction level M: a code stays readable with 15 % of
// it lost) that holds `text`. kInvalidArgument when `text` is empty or too long for a QR code.
Result<QrModules> EncodeQr(std::string_view text);

// Quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
inline constexpr int kQrQuietZone = 4;
// Pixels per module of the SVG's intrinsic size: a 33-module code is 205 px wide.
inline constexpr int kQrModulePixels = 5;

// An SVG of the code: a light square with the quiet zone, then one <path> of the dark modules,
// drawn with shape-rendering="crispEdges" so modules stay sharp at any scale.
std::string QrSvg(const QrModules& modules);

// EncodeQr then QrSvg.
Result<std::string> QrCodeSvg(std::string_view text);

}  // namespace tginvite::web
