// Telegram updates into the store's inbox, whoever delivered them (the poller, the webhook, an
// operator's bot program forwarding them): one conversion, so that a copy of an update delivered
// twice is the same row and is applied once.
#pragma once

#include <string_view>
#include <vector>

#include "core/error.h"
#include "storage/store.h"
#include "telegram/messenger.h"

namespace tginvite::dispatch {

storage::InboxUpdate ToInbox(const telegram::Update& update);

// The most updates one webhook call or forwarded batch may carry (getUpdates returns at most 100).
inline constexpr size_t kMaxUpdatesPerBatch = 1000;

// Reads a webhook body (one Update object) or a forwarded batch (an array of Update objects, or
// {"updates": [...]}) into inbox rows. Items without an integer update_id are skipped and
// counted in `skipped`. kInvalidArgument for a body that is not JSON of those shapes, or holds
// more than kMaxUpdatesPerBatch items. Never throws.
struct ParsedUpdates {
  std::vector<storage::InboxUpdate> updates;
  int64_t skipped = 0;
};
Result<ParsedUpdates> ParseUpdateBatch(std::string_view body);

}  // namespace tginvite::dispatch
