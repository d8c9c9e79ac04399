#include "telegram/messenger.h"

namespace tginvite::telegram {

std::string_view ToString(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kOk:
      return "ok";
    case OutcomeKind::kFlood:
      return "flood";
    case OutcomeKind::kTransient:
      return "transient";
    case OutcomeKind::kPermanent:
      return "permanent";
    case OutcomeKind::kCampaignFatal:
      return "campaign_fatal";
    case OutcomeKind::kAccountFatal:
      return "account_fatal";
    case OutcomeKind::kAmbiguous:
      return "ambiguous";
  }
  return "?";
}

Outcome NotForBots(std::string_view request) {
  Outcome outcome;
  outcome.kind = OutcomeKind::kAccountFatal;
  outcome.description = std::string(request) + " needs a user account: a bot cannot do it";
  return outcome;
}

LookupResult Messenger::FindUser(const ContactLookup& /*contact*/) {
  return {NotForBots("looking people up"), 0};
}

AddMemberResult Messenger::AddChatMember(const std::string& /*chat*/, int64_t /*user_id*/) {
  return {NotForBots("adding members"), false};
}

}  // namespace tginvite::telegram
