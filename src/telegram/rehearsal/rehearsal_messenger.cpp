#include "telegram/rehearsal/rehearsal_messenger.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace tginvite::telegram {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kPrefix = "REHEARSAL: ";
constexpr std::string_view kLinkPrefix = "https://t.me/+";
constexpr std::string_view kRehearsalLinkPrefix = "https://t.me/+REHEARSAL";
constexpr size_t kMaxUpdatesPerCall = 100;
constexpr int64_t kMaxFloodSeconds = 3;

// Which failures a call can draw.
enum class CallKind { kSend, kOther };

// A draw's result before it becomes an Outcome.
enum class Draw { kOk, kBlocked, kNotStarted, kTransient, kFlood };

// Splits one seed into independent streams, so latencies and joins do not shift outcomes.
uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + stream * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1), the same on every standard library.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

int64_t UniformInt(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

int64_t ParseChat(const std::string& chat) {
  int64_t id = 0;
  auto [end, error] = std::from_chars(chat.data(), chat.data() + chat.size(), id);
  return error == std::errc() && end == chat.data() + chat.size() ? id : 0;
}

// The first t.me invite link in `text`, or "".
std::string FindLink(std::string_view text) {
  size_t at = text.find(kLinkPrefix);
  if (at == std::string_view::npos) return "";
  size_t end = at + kLinkPrefix.size();
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0 ||
                               text[end] == '_' || text[end] == '-')) {
    ++end;
  }
  return std::string(text.substr(at, end - at));
}

Outcome Succeeded() {
  Outcome outcome;
  outcome.http_status = 200;
  outcome.description = fmt::format("{}nothing was sent", kPrefix);
  return outcome;
}

Outcome Failed(OutcomeKind kind, PermanentReason reason, int code, std::string_view text) {
  Outcome outcome;
  outcome.kind = kind;
  outcome.reason = reason;
  outcome.http_status = code;
  outcome.error_code = code;
  outcome.description = fmt::format("{}{}", kPrefix, text);
  return outcome;
}

class RehearsalMessenger final : public Messenger {
 public:
  explicit RehearsalMessenger(RehearsalOptions options)
      : options_(options),
        outcomes_(StreamSeed(options.seed, 1)),
        latencies_(StreamSeed(options.seed, 2)),
        joins_(StreamSeed(options.seed, 3)),
        links_rng_(StreamSeed(options.seed, 4)),
        starts_(StreamSeed(options.seed, 5)) {}

  ~RehearsalMessenger() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
  }

  bool IsRehearsal() const override { return true; }

  BotIdentityResult GetMe() override {
    SleepLatency();
    BotIdentityResult out;
    out.outcome = Succeeded();
    out.bot.id = 0;
    out.bot.username = options_.user_account ? "rehearsal_user" : "rehearsal_bot";
    out.bot.first_name = "REHEARSAL (nothing is sent)";
    return out;
  }

  LookupResult FindUser(const ContactLookup& contact) override {
    if (!options_.user_account) return Messenger::FindUser(contact);
    SleepLatency();
    std::lock_guard lock(mu_);
    LookupResult out;
    out.outcome = ToOutcome(DrawLocked(CallKind::kOther));
    if (!out.outcome.ok()) return out;
    if (Uniform(outcomes_) < options_.not_found) {
      out.outcome =
          Failed(OutcomeKind::kPermanent, PermanentReason::kNotFound, 400,
                 contact.username.empty() ? "PHONE_NOT_OCCUPIED" : "USERNAME_NOT_OCCUPIED");
      return out;
    }
    out.user_id = SimulatedUserId(contact.username.empty() ? contact.phone : contact.username);
    return out;
  }

  AddMemberResult AddChatMember(const std::string& chat, int64_t user_id) override {
    if (!options_.user_account) return Messenger::AddChatMember(chat, user_id);
    SleepLatency();
    std::lock_guard lock(mu_);
    AddMemberResult out;
    out.outcome = ToOutcome(DrawLocked(CallKind::kOther));
    if (!out.outcome.ok()) return out;
    const int64_t chat_id = ParseChat(chat);
    if (members_.contains({chat_id, user_id})) {
      out.already_member = true;
      return out;
    }
    if (Uniform(outcomes_) < options_.privacy_refuses) {
      out.outcome = Failed(OutcomeKind::kPermanent, PermanentReason::kPrivacy, 403,
                           "USER_PRIVACY_RESTRICTED");
      return out;
    }
    members_.insert({chat_id, user_id});
    return out;
  }

  InviteLinkResult CreateInviteLink(const InviteLinkRequest& request) override {
    SleepLatency();
    InviteLinkResult out;
    std::lock_guard lock(mu_);
    out.outcome = ToOutcome(DrawLocked(CallKind::kOther));
    if (!out.outcome.ok()) return out;
    out.invite_link = NewLinkLocked();
    LinkInfo info;
    info.chat_id = ParseChat(request.chat);
    info.join_request = request.approval == InviteLinkRequest::Approval::kJoinRequest;
    links_[out.invite_link] = info;
    last_chat_ = info.chat_id;
    return out;
  }

  Outcome RevokeInviteLink(const std::string& chat, const std::string& invite_link) override {
    SleepLatency();
    std::lock_guard lock(mu_);
    Outcome outcome = ToOutcome(DrawLocked(CallKind::kOther));
    if (outcome.ok()) {
      links_.erase(invite_link);
      last_chat_ = ParseChat(chat);
    }
    return outcome;
  }

  SendResult SendInvitation(const InvitationMessage& message) override {
    SleepLatency();
    SendResult out;
    std::lock_guard lock(mu_);
    out.outcome = ToOutcome(DrawLocked(CallKind::kSend));
    if (!out.outcome.ok()) return out;
    out.message_id = ++last_message_id_;
    MaybeJoinLocked(message);
    return out;
  }

  MemberResult GetChatMember(const std::string& chat, int64_t user_id) override {
    SleepLatency();
    MemberResult out;
    std::lock_guard lock(mu_);
    out.outcome = ToOutcome(DrawLocked(CallKind::kOther));
    if (!out.outcome.ok()) return out;
    int64_t chat_id = ParseChat(chat);
    last_chat_ = chat_id;
    ReleaseDueLocked(SteadyClock::now());
    out.status = members_.contains({chat_id, user_id}) ? "member" : "left";
    return out;
  }

  UpdatesResult GetUpdates(int64_t offset, std::chrono::seconds timeout) override {
    const auto deadline = SteadyClock::now() + std::max(timeout, std::chrono::seconds(0));
    UpdatesResult out;
    out.outcome = Succeeded();
    std::unique_lock lock(mu_);
    while (true) {
      const auto now = SteadyClock::now();
      ReleaseDueLocked(now);
      while (!delivered_.empty() && delivered_.front().update_id < offset) delivered_.pop_front();
      if (!delivered_.empty() || closing_ || now >= deadline) break;
      auto wake = deadline;
      if (!pending_.empty()) wake = std::min(wake, pending_.front().due);
      cv_.wait_until(lock, wake);
    }
    for (const Update& update : delivered_) {
      if (out.updates.size() == kMaxUpdatesPerCall) break;
      out.updates.push_back(update);
    }
    return out;
  }

  Outcome ApproveJoinRequest(const std::string& chat, int64_t user_id) override {
    SleepLatency();
    std::lock_guard lock(mu_);
    Outcome outcome = ToOutcome(DrawLocked(CallKind::kOther));
    if (!outcome.ok()) return outcome;
    int64_t chat_id = ParseChat(chat);
    auto request = join_requests_.find({chat_id, user_id});
    if (request == join_requests_.end()) {
      return Failed(OutcomeKind::kPermanent, PermanentReason::kOther, 400,
                    "Bad Request: HIDE_REQUESTER_MISSING");
    }
    Update join;
    join.kind = Update::Kind::kChatMember;
    join.chat_id = chat_id;
    join.user_id = user_id;
    join.old_status = "left";
    join.new_status = "member";
    join.invite_link = request->second;
    join_requests_.erase(request);
    auto delay = std::chrono::milliseconds(UniformInt(joins_, 0, options_.min_join_delay.count()));
    ScheduleLocked(SteadyClock::now() + delay, std::move(join));
    return outcome;
  }

  Outcome SetWebhook(const WebhookRequest& /*request*/) override {
    SleepLatency();
    return Succeeded();
  }

  Outcome DeleteWebhook() override {
    SleepLatency();
    return Succeeded();
  }

  void ExpectStarts(const std::vector<ExpectedStart>& waiting) override {
    std::lock_guard lock(mu_);
    for (const ExpectedStart& contact : waiting) {
      if (!offered_.insert(contact.start_key).second) continue;  // decided once per link
      if (Uniform(starts_) >= options_.start_rate) continue;
      Update start;
      start.kind = Update::Kind::kStart;
      start.user_id = SimulatedUserId(contact.start_key);
      start.chat_id = start.user_id;
      start.username = contact.username;
      start.start_payload = contact.start_key;
      auto delay = std::chrono::milliseconds(
          UniformInt(starts_, options_.min_start_delay.count(), options_.max_start_delay.count()));
      ScheduleLocked(SteadyClock::now() + delay, std::move(start));
    }
  }

 private:
  // The simulated person behind a start link: the same link, the same user id (in a range no
  // real account of the rehearsal's lifetime is likely to hold, and never stored on a contact).
  static int64_t SimulatedUserId(std::string_view key) {
    uint64_t hash = 14695981039346656037ULL;  // FNV-1a
    for (char c : key) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return int64_t{900'000'000'000} + static_cast<int64_t>(hash % 100'000'000'000ULL);
  }

  struct LinkInfo {
    int64_t chat_id = 0;
    bool join_request = false;
  };

  struct Pending {
    SteadyClock::time_point due;
    Update update;
  };

  void SleepLatency() {
    std::unique_lock lock(mu_);
    auto latency = std::chrono::milliseconds(
        UniformInt(latencies_, options_.min_latency.count(), options_.max_latency.count()));
    cv_.wait_for(lock, latency, [this] { return closing_; });
  }

  Draw DrawLocked(CallKind kind) {
    double u = Uniform(outcomes_);
    double limit = 0;
    if (kind == CallKind::kSend) {
      if (u < (limit += options_.blocked)) return Draw::kBlocked;
      if (u < (limit += options_.not_started)) return Draw::kNotStarted;
    }
    if (u < (limit += options_.transient)) return Draw::kTransient;
    if (u < (limit += options_.flood)) return Draw::kFlood;
    return Draw::kOk;
  }

  Outcome ToOutcome(Draw draw) {
    switch (draw) {
      case Draw::kOk:
        return Succeeded();
      case Draw::kBlocked:
        return Failed(OutcomeKind::kPermanent, PermanentReason::kBlocked, 403,
                      options_.user_account ? "USER_IS_BLOCKED"
                                            : "Forbidden: bot was blocked by the user");
      case Draw::kNotStarted:
        return Failed(OutcomeKind::kPermanent, PermanentReason::kNotStarted, 403,
                      "Forbidden: bot can't initiate conversation with a user");
      case Draw::kTransient:
        return Failed(OutcomeKind::kTransient, PermanentReason::kNone, 500,
                      "Internal Server Error: restart");
      case Draw::kFlood: {
        int64_t seconds = UniformInt(outcomes_, 1, kMaxFloodSeconds);
        Outcome outcome = Failed(OutcomeKind::kFlood, PermanentReason::kNone, 429,
                                 fmt::format("Too Many Requests: retry after {}", seconds));
        outcome.retry_after = std::chrono::seconds(seconds);
        return outcome;
      }
    }
    return Succeeded();
  }

  std::string NewLinkLocked() {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    std::string link(kRehearsalLinkPrefix);
    for (int i = 0; i < 12; ++i) link.push_back(kAlphabet[links_rng_() % kAlphabet.size()]);
    link += fmt::format("{:x}", ++links_created_);  // unique even if the random part repeats
    return link;
  }

  void MaybeJoinLocked(const InvitationMessage& message) {
    if (Uniform(joins_) >= options_.join_rate) return;
    std::string link = FindLink(message.button_url);
    if (link.empty()) link = FindLink(message.text);
    if (link.empty()) return;
    LinkInfo info;
    if (auto known = links_.find(link); known != links_.end()) {
      info = known->second;
    } else {
      info.chat_id = last_chat_;
    }
    Update update;
    update.chat_id = info.chat_id;
    update.user_id = message.user_id;
    update.invite_link = link;
    if (info.join_request) {
      update.kind = Update::Kind::kJoinRequest;
    } else {
      update.kind = Update::Kind::kChatMember;
      update.old_status = "left";
      update.new_status = "member";
    }
    auto delay = std::chrono::milliseconds(
        UniformInt(joins_, options_.min_join_delay.count(), options_.max_join_delay.count()));
    ScheduleLocked(SteadyClock::now() + delay, std::move(update));
  }

  void ScheduleLocked(SteadyClock::time_point due, Update update) {
    Pending pending{due, std::move(update)};
    // After every equal due time: simultaneous updates keep their scheduling order.
    auto at = std::upper_bound(pending_.begin(), pending_.end(), pending,
                               [](const Pending& a, const Pending& b) { return a.due < b.due; });
    pending_.insert(at, std::move(pending));
    cv_.notify_all();
  }

  // Moves due updates to the delivered queue, numbering them as they become visible so that
  // update_ids only ever grow in the order a poller sees them.
  void ReleaseDueLocked(SteadyClock::time_point now) {
    while (!pending_.empty() && pending_.front().due <= now) {
      Update update = std::move(pending_.front().update);
      pending_.pop_front();
      update.update_id = ++last_update_id_;
      if (update.kind == Update::Kind::kChatMember && update.new_status == "member") {
        members_.insert({update.chat_id, update.user_id});
      } else if (update.kind == Update::Kind::kJoinRequest) {
        join_requests_[{update.chat_id, update.user_id}] = update.invite_link;
      }
      delivered_.push_back(std::move(update));
    }
  }

  const RehearsalOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closing_ = false;
  std::mt19937_64 outcomes_;
  std::mt19937_64 latencies_;
  std::mt19937_64 joins_;
  std::mt19937_64 links_rng_;
  std::mt19937_64 starts_;
  std::set<std::string> offered_;  // start keys already decided
  int64_t last_message_id_ = 0;
  int64_t last_update_id_ = 0;
  int64_t last_chat_ = 0;
  uint64_t links_created_ = 0;
  std::map<std::string, LinkInfo> links_;
  std::deque<Pending> pending_;
  std::deque<Update> delivered_;
  std::set<std::pair<int64_t, int64_t>> members_;
  std::map<std::pair<int64_t, int64_t>, std::string> join_requests_;
};

}  // namespace

std::unique_ptr<Messenger> MakeRehearsalMessenger(RehearsalOptions options) {
  return std::make_unique<RehearsalMessenger>(options);
}

}  // namespace tginvite::telegram
