#include "telegram/messenger.h"

namespace tginvite::telegram {

std::string_view ToString(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kOk: return "ok";
    case OutcomeKind::kFlood: return "flood";
    case OutcomeKind::kTransient: return "transient";
    case OutcomeKind::kPermanent: return "permanent";
    case OutcomeKind::kCampaignFatal: return "campaign_fatal";
    case OutcomeKind::kAccountFatal: return "account_fatal";
    case OutcomeKind::kAmbiguous: return "ambiguous";
  }
  return "?";
}

}  // namespace tginvite::telegram
