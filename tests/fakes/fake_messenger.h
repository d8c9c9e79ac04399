// A scripted Messenger for dispatcher tests: every call succeeds unless a test queued another
// outcome for that user (sends) or for the next link creations; it records what was asked.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "telegram/messenger.h"

namespace tginvite::testing {

class FakeMessenger final : public telegram::Messenger {
 public:
  static telegram::Outcome Make(telegram::OutcomeKind kind, std::string description = "scripted",
                                telegram::PermanentReason reason = telegram::PermanentReason::kNone,
                                std::chrono::seconds retry_after = std::chrono::seconds(0)) {
    telegram::Outcome outcome;
    outcome.kind = kind;
    outcome.reason = reason;
    outcome.description = std::move(description);
    outcome.retry_after = retry_after;
    outcome.http_status = kind == telegram::OutcomeKind::kOk ? 200 : 400;
    return outcome;
  }

  // The next sends to `user_id` answer these outcomes, in order; then success.
  void ScriptSend(int64_t user_id, telegram::Outcome outcome) {
    std::lock_guard lock(mu_);
    send_script_[user_id].push_back(std::move(outcome));
  }
  void ScriptLink(telegram::Outcome outcome) {
    std::lock_guard lock(mu_);
    link_script_.push_back(std::move(outcome));
  }
  // Stamps every send with this clock's time (see sends_to).
  void UseClock(const core::Clock* clock) {
    std::lock_guard lock(mu_);
    clock_ = clock;
  }
  // When each message to `user_id` was sent, by the clock given to UseClock.
  std::vector<core::TimePoint> sends_to(int64_t user_id) const {
    std::lock_guard lock(mu_);
    std::vector<core::TimePoint> times;
    for (size_t i = 0; i < sent_.size(); ++i) {
      if (sent_[i].user_id == user_id) times.push_back(send_times_[i]);
    }
    return times;
  }
  // getChatMember answers "member" for this user from now on.
  void AddMember(int64_t user_id) {
    std::lock_guard lock(mu_);
    members_.push_back(user_id);
  }
  void QueueUpdate(telegram::Update update) {
    std::lock_guard lock(mu_);
    updates_.push_back(std::move(update));
  }

  // User accounts: FindUser finds `username` (or phone) as `user_id`; adds of users whose privacy
  // refuses them answer kPermanent/kPrivacy; the next adds answer the scripted outcomes first.
  void AddUser(std::string username_or_phone, int64_t user_id) {
    std::lock_guard lock(mu_);
    directory_[std::move(username_or_phone)] = user_id;
  }
  void RefuseAdds(int64_t user_id) {
    std::lock_guard lock(mu_);
    refuses_adds_.push_back(user_id);
  }
  void ScriptAdd(telegram::Outcome outcome) {
    std::lock_guard lock(mu_);
    add_script_.push_back(std::move(outcome));
  }
  std::vector<int64_t> added() const {
    std::lock_guard lock(mu_);
    return added_;
  }
  std::vector<std::string> lookups() const {
    std::lock_guard lock(mu_);
    return lookups_;
  }

  telegram::LookupResult FindUser(const telegram::ContactLookup& contact) override {
    std::lock_guard lock(mu_);
    const std::string key = contact.username.empty() ? contact.phone : contact.username;
    lookups_.push_back(key);
    auto it = directory_.find(key);
    if (it == directory_.end()) {
      return {Make(telegram::OutcomeKind::kPermanent, "USERNAME_NOT_OCCUPIED",
                   telegram::PermanentReason::kNotFound),
              0};
    }
    return {Make(telegram::OutcomeKind::kOk), it->second};
  }
  telegram::AddMemberResult AddChatMember(const std::string&, int64_t user_id) override {
    std::lock_guard lock(mu_);
    if (!add_script_.empty()) {
      telegram::Outcome outcome = add_script_.front();
      add_script_.pop_front();
      if (!outcome.ok()) return {outcome, false};
    }
    if (std::find(refuses_adds_.begin(), refuses_adds_.end(), user_id) != refuses_adds_.end()) {
      return {Make(telegram::OutcomeKind::kPermanent, "USER_PRIVACY_RESTRICTED",
                   telegram::PermanentReason::kPrivacy),
              false};
    }
    const bool already = std::find(members_.begin(), members_.end(), user_id) != members_.end();
    if (!already) {
      added_.push_back(user_id);
      members_.push_back(user_id);
    }
    return {Make(telegram::OutcomeKind::kOk), already};
  }

  std::vector<telegram::InvitationMessage> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  // Sends that were delivered (ok or ambiguous: the request may have arrived), per user.
  std::map<int64_t, int> delivered() const {
    std::lock_guard lock(mu_);
    return delivered_;
  }
  std::vector<telegram::InviteLinkRequest> links() const {
    std::lock_guard lock(mu_);
    return links_;
  }
  std::vector<int64_t> approvals() const {
    std::lock_guard lock(mu_);
    return approvals_;
  }

  bool IsRehearsal() const override { return false; }
  telegram::BotIdentityResult GetMe() override {
    return {Make(telegram::OutcomeKind::kOk), {1, "fake_bot", "Fake"}};
  }
  telegram::InviteLinkResult CreateInviteLink(const telegram::InviteLinkRequest& request) override {
    std::lock_guard lock(mu_);
    links_.push_back(request);
    if (!link_script_.empty()) {
      telegram::Outcome outcome = link_script_.front();
      link_script_.pop_front();
      if (!outcome.ok()) return {outcome, ""};
    }
    return {Make(telegram::OutcomeKind::kOk), "https://t.me/+link" + std::to_string(links_.size())};
  }
  telegram::Outcome RevokeInviteLink(const std::string&, const std::string&) override {
    return Make(telegram::OutcomeKind::kOk);
  }
  telegram::SendResult SendInvitation(const telegram::InvitationMessage& message) override {
    std::lock_guard lock(mu_);
    sent_.push_back(message);
    send_times_.push_back(clock_ != nullptr ? clock_->Now() : core::TimePoint{});
    telegram::Outcome outcome = Make(telegram::OutcomeKind::kOk);
    if (auto it = send_script_.find(message.user_id);
        it != send_script_.end() && !it->second.empty()) {
      outcome = it->second.front();
      it->second.pop_front();
    }
    if (outcome.ok() || outcome.kind == telegram::OutcomeKind::kAmbiguous) {
      ++delivered_[message.user_id];
    }
    return {outcome, outcome.ok() ? static_cast<int64_t>(sent_.size()) : 0};
  }
  telegram::MemberResult GetChatMember(const std::string&, int64_t user_id) override {
    std::lock_guard lock(mu_);
    bool member = std::find(members_.begin(), members_.end(), user_id) != members_.end();
    return {Make(telegram::OutcomeKind::kOk), member ? "member" : "left"};
  }
  telegram::UpdatesResult GetUpdates(int64_t offset, std::chrono::seconds) override {
    std::lock_guard lock(mu_);
    telegram::UpdatesResult result{Make(telegram::OutcomeKind::kOk), {}};
    for (const telegram::Update& u : updates_) {
      if (u.update_id >= offset) result.updates.push_back(u);
    }
    return result;
  }
  telegram::Outcome ApproveJoinRequest(const std::string&, int64_t user_id) override {
    std::lock_guard lock(mu_);
    approvals_.push_back(user_id);
    return Make(telegram::OutcomeKind::kOk);
  }
  telegram::Outcome SetWebhook(const telegram::WebhookRequest& request) override {
    std::lock_guard lock(mu_);
    webhooks_.push_back(request);
    return Make(telegram::OutcomeKind::kOk);
  }
  telegram::Outcome DeleteWebhook() override {
    std::lock_guard lock(mu_);
    webhooks_.push_back({});
    return Make(telegram::OutcomeKind::kOk);
  }
  // Every SetWebhook, and an empty request for each DeleteWebhook, in order.
  std::vector<telegram::WebhookRequest> webhooks() const {
    std::lock_guard lock(mu_);
    return webhooks_;
  }

 private:
  mutable std::mutex mu_;
  std::map<int64_t, std::deque<telegram::Outcome>> send_script_;
  std::deque<telegram::Outcome> link_script_;
  std::vector<telegram::Update> updates_;
  std::vector<telegram::InvitationMessage> sent_;
  std::map<int64_t, int> delivered_;
  std::vector<telegram::InviteLinkRequest> links_;
  std::vector<int64_t> approvals_;
  std::vector<telegram::WebhookRequest> webhooks_;
  std::vector<int64_t> members_;
  const core::Clock* clock_ = nullptr;
  std::vector<core::TimePoint> send_times_;
  std::map<std::string, int64_t> directory_;
  std::vector<int64_t> refuses_adds_;
  std::deque<telegram::Outcome> add_script_;
  std::vector<int64_t> added_;
  std::vector<std::string> lookups_;
};

}  // namespace tginvite::testing
