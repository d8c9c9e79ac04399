// How the REST API shows the store's objects as JSON. One function per object, so a field has
// one name everywhere. Nothing here ever emits a secret: accounts are shown without their token.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/contact.h"
#include "core/model.h"
#include "storage/store.h"

namespace tginvite::web {

// {"pending": n, "sending": n, ...}: every state, zeros included.
nlohmann::json CountsJson(const core::StateCounts& counts);
// A campaign; `actions` lists what the operator may do (core::OperatorActions): "delete" for a
// finished campaign only when its `counts` are given.
nlohmann::json CampaignJson(const storage::Campaign& campaign,
                            const core::StateCounts* counts = nullptr);
// The campaign with its counts, rate, ETA and funnel, and its account's health (`account` may be
// null when it was not found).
nlohmann::json SummaryJson(const storage::CampaignSummary& summary,
                           const storage::Account* account);
nlohmann::json ContactJson(const storage::ContactView& view);
nlohmann::json AttemptJson(const storage::AttemptView& view);
// {"id", "at" (unix ms), "actor", "action", "from", "to", "detail"}.
nlohmann::json CampaignEventJson(const storage::CampaignEvent& event);
nlohmann::json AccountJson(const storage::Account& account);
nlohmann::json WorkerJson(const storage::WorkerInfo& worker, int64_t now);

// How people recognise a contact: "First Last", else "@username", else the phone, else the id.
std::string ContactLabel(const core::ContactRecord& contact);

}  // namespace tginvite::web
