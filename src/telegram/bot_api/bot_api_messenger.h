// The Bot API Messenger: Telegram's HTTP Bot API over libcurl.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/secret.h"
#include "telegram/messenger.h"

namespace tginvite::telegram {

struct BotApiOptions {
  std::string api_base = "https://api.telegram.org";  // a self-hosted Bot API server or a double
  core::Secret token;
  std::chrono::milliseconds timeout{15000};  // per request; getUpdates adds its long-poll time
  std::chrono::milliseconds connect_timeout{5000};
  std::string proxy;  // "", "http://host:port" or "socks5://host:port"; "" ignores *_proxy env
};

// Calls `{api_base}/bot{token}/{method}` with POST and a JSON body, and classifies every answer
// (classify.h). Thread-safe: concurrent calls each take a libcurl handle from a small pool, and a
// handle keeps its connection alive for the next call. A request is written to the wire at most
// once per call: libcurl's silent resend after a connection died on reuse is refused, and the
// call reports kAmbiguous instead. GetUpdates passes `offset` through with Telegram's meaning
// (the first update_id wanted: the last one seen + 1). Never throws; the token never appears in
// an Outcome or a log line.
std::unique_ptr<Messenger> MakeBotApiMessenger(BotApiOptions options);

}  // namespace tginvite::telegram
