#include "web/qr.h"

#include <cerrno>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <qrencode.h>

namespace tginvite::web {
namespace {

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

Result<QrModules> EncodeQr(std::string_view text) {
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "qr code: nothing to encode");
  // The largest QR code holds 2,953 bytes at level L; anything near an int's range is refused
  // before it is cast.
  if (text.size() > 4096) {
    return Fail(ErrorCode::kInvalidArgument, "qr code: {} bytes do not fit in a QR code",
                text.size());
  }
  static std::mutex mu;
  std::unique_ptr<QRcode, QrFree> code;
  int error = 0;
  {
    std::lock_guard lock(mu);
    errno = 0;
    // Byte mode takes any bytes (a NUL included) and version 0 lets the encoder pick the
    // smallest version that fits.
    code.reset(QRcode_encodeData(static_cast<int>(text.size()),
                                 reinterpret_cast<const unsigned char*>(text.data()), 0,
                                 QR_ECLEVEL_M));
    error = errno;
  }
  if (!code) {
    if (error == ERANGE || error == EINVAL) {
      return Fail(ErrorCode::kInvalidArgument, "qr code: {} bytes do not fit in a QR code",
                  text.size());
    }
    return Fail(ErrorCode::kInternal, "qr code: libqrencode failed (errno {})", error);
  }
  QrModules modules;
  modules.size = code->width;
  modules.dark.resize(static_cast<size_t>(code->width) * code->width);
  for (size_t i = 0; i < modules.dark.size(); ++i) {
    modules.dark[i] = (code->data[i] & 1) != 0;  // bit 0: dark; the other bits say why
  }
  return modules;
}

std::string QrSvg(const QrModules& modules) {
  const int side = modules.size + 2 * kQrQuietZone;
  std::string path;
  // One rectangle per horizontal run of dark modules: "M x y h len v1 h -len z".
  for (int y = 0; y < modules.size; ++y) {
    for (int x = 0; x < modules.size;) {
      if (!modules.At(x, y)) {
        ++x;
        continue;
      }
      int end = x;
      while (end < modules.size && modules.At(end, y)) ++end;
      path += fmt::format("M{} {}h{}v1h-{}z", x + kQrQuietZone, y + kQrQuietZone, end - x, end - x);
      x = end;
    }
  }
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{0}\" "
      "viewBox=\"0 0 {1} {1}\" shape-rendering=\"crispEdges\">"
      "<rect width=\"{1}\" height=\"{1}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{2}\"/></svg>\n",
      side * kQrModulePixels, side, path);
}

Result<std::string> QrCodeSvg(std::string_view text) {
  ASSIGN_OR_RETURN(QrModules modules, EncodeQr(text));
  return QrSvg(modules);
}

}  // namespace tginvite::web
