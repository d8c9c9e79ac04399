#include "fakes/bot_api_double.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tginvite::testing {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Fault = BotApiDouble::Fault;

constexpr time_t kKeepAliveSeconds = 5;
constexpr std::chrono::milliseconds kHangPoll{20};
constexpr std::chrono::seconds kMaxHang{120};
constexpr std::chrono::seconds kStartTimeout{5};
constexpr int64_t kMaxUpdatesPerCall = 100;
constexpr size_t kMaxLinkName = 32;
constexpr int64_t kSupergroupIdBelow = -1000000000000;

constexpr std::string_view kBadGatewayHtml =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n";
constexpr std::string_view kGarbageBody = "{\"ok\":true,\"result\":{\"message_id\":";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The methods the double implements, by lower-cased name.
const std::map<std::string, std::string>& CanonicalMethods() {
  static const std::map<std::string, std::string> kMethods = {
      {"getme", "getMe"},
      {"sendmessage", "sendMessage"},
      {"createchatinvitelink", "createChatInviteLink"},
      {"revokechatinvitelink", "revokeChatInviteLink"},
      {"getchatmember", "getChatMember"},
      {"getupdates", "getUpdates"},
      {"approvechatjoinrequest", "approveChatJoinRequest"},
      {"setwebhook", "setWebhook"},
      {"deletewebhook", "deleteWebhook"},
  };
  return kMethods;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Parameters arrive as JSON values or as strings (query, form): both are accepted, as Telegram
// does.
std::optional<int64_t> IntParam(const Json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size() && !text.empty()) return value;
  }
  return std::nullopt;
}

std::optional<std::string> StringParam(const Json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

bool BoolParam(const Json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return Lower(it->get_ref<const std::string&>()) == "true" || *it == "1";
  if (it->is_number_integer()) return it->get<int64_t>() != 0;
  return false;
}

// An object given as JSON, or as a JSON-encoded string.
std::optional<Json> ObjectParam(const Json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  if (it->is_object()) return *it;
  if (it->is_string()) {
    Json parsed = Json::parse(it->get_ref<const std::string&>(), nullptr, false);
    if (parsed.is_object()) return parsed;
  }
  return std::nullopt;
}

// --- sockets: the double drops connections itself, which httplib cannot do -------------------

int PortOf(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return -1;
}

// The open sockets of this process whose local port is `local_port` and which have a peer (a
// remote port of `remote_port`, or any when it is -1).
std::vector<int> FindConnections(int local_port, int remote_port) {
  std::vector<int> found;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  const int own = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    int fd = -1;
    std::string_view name(entry->d_name);
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (error != std::errc() || end != name.data() + name.size() || fd == own) continue;
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_size = sizeof(local);
    socklen_t peer_size = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) continue;
    if (PortOf(local) != local_port) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) continue;
    if (remote_port != -1 && PortOf(peer) != remote_port) continue;
    found.push_back(fd);
  }
  closedir(dir);
  return found;
}

int FindConnection(int local_port, int remote_port) {
  std::vector<int> found = FindConnections(local_port, remote_port);
  return found.empty() ? -1 : found.front();
}

// True once the client closed its end (or the socket failed).
bool PeerClosed(int fd) {
  char byte = 0;
  ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

// Resets the connection (RST, no answer) while leaving `fd` open on /dev/null for httplib, which
// still owns the number: its writes then fail and it closes the descriptor as usual.
void ResetConnection(int fd, int devnull) {
  linger abort_on_close{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  dup2(devnull, fd);
}

// --- answers ------------------------------------------------------------------------------

struct Answer {
  enum class Then { kRespond, kHang, kReset };
  Then then = Then::kRespond;
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::optional<int64_t> retry_after_header;
};

std::string Dump(const OrderedJson& value) {
  return value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

Answer Success(const OrderedJson& result) {
  OrderedJson envelope;
  envelope["ok"] = true;
  envelope["result"] = result;
  Answer answer;
  answer.body = Dump(envelope);
  return answer;
}

Answer Failure(int code, std::string_view description) {
  OrderedJson envelope;
  envelope["ok"] = false;
  envelope["error_code"] = code;
  envelope["description"] = description;
  Answer answer;
  answer.status = code;
  answer.body = Dump(envelope);
  return answer;
}

enum class FloodForm { kBodyAndHeader, kHeaderOnly };

Answer TooManyRequests(int64_t seconds, FloodForm form) {
  OrderedJson envelope;
  envelope["ok"] = false;
  envelope["error_code"] = 429;
  envelope["description"] = "Too Many Requests: retry after " + std::to_string(seconds);
  if (form == FloodForm::kBodyAndHeader) envelope["parameters"] = {{"retry_after", seconds}};
  Answer answer;
  answer.status = 429;
  answer.body = Dump(envelope);
  answer.retry_after_header = seconds;
  return answer;
}

Answer NoAnswer(Answer::Then then) {
  Answer answer;
  answer.then = then;
  answer.status = 0;
  return answer;
}

// httplib's server, with its listening socket in reach: httplib listens with a backlog of 5, and
// a burst of connections beyond that waits a whole SYN retransmission (1 s).
class Server : public httplib::Server {
 public:
  void WidenBacklog() { ::listen(svr_sock_, SOMAXCONN); }
};

enum class JoinedVia { kLink, kJoinRequest };
enum class BotDetail { kBrief, kFull };  // getMe's User carries the can_* fields too

// A scripted answer: a fault, or a raw reply.
struct Script {
  Fault fault = Fault::kServerError500;
  std::optional<Answer> reply;
};

}  // namespace

class BotApiDouble::Impl {
 public:
  explicit Impl(BotApiDoubleOptions options)
      : options_(std::move(options)), accounts_(options_.tokens.size()) {
    std::signal(SIGPIPE, SIG_IGN);  // a client that went away must not kill the test
    devnull_ = open("/dev/null", O_RDWR | O_CLOEXEC);
    const size_t threads = static_cast<size_t>(std::max(1, options_.threads));
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_keep_alive_max_count(1000000);
    server_.set_keep_alive_timeout(kKeepAliveSeconds);
    server_.set_tcp_nodelay(true);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res);
    };
    server_.Post(R"(/bot([^/]*)/([^/]+))", handler);
    server_.Get(R"(/bot([^/]*)/([^/]+))", handler);
    server_.Post(".*", handler);
    server_.Get(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    server_.WidenBacklog();
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto deadline = SteadyClock::now() + kStartTimeout;
    while (!server_.is_running() && SteadyClock::now() < deadline) std::this_thread::yield();
  }

  ~Impl() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
    // Idle keep-alive connections would hold their worker (and so the join) for up to
    // kKeepAliveSeconds: end them now.
    for (int fd : FindConnections(port_, -1)) shutdown(fd, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (devnull_ >= 0) close(devnull_);
  }

  int port() const { return port_; }
  const BotApiDoubleOptions& options() const { return options_; }

  void ScriptUser(int64_t user_id, Fault fault, int times) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < times; ++i) user_scripts_[user_id].push_back(Script{fault, std::nullopt});
  }

  void ScriptMethod(const std::string& method, const Script& script, int times) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < times; ++i) method_scripts_[Lower(method)].push_back(script);
  }

  void AddJoin(int64_t chat_id, int64_t user_id, const std::string& invite_link) {
    std::lock_guard lock(mu_);
    AddJoinLocked(chat_id, user_id, invite_link, JoinedVia::kLink);
  }

  void AddJoinRequest(int64_t chat_id, int64_t user_id, const std::string& invite_link) {
    std::lock_guard lock(mu_);
    join_requests_[{chat_id, user_id}] = invite_link;
    OrderedJson request;
    request["chat"] = ChatJson(chat_id);
    request["from"] = UserJson(user_id);
    request["user_chat_id"] = user_id;
    request["date"] = UnixNow();
    if (!invite_link.empty()) request["invite_link"] = LinkJson(invite_link);
    PushUpdateLocked("chat_join_request", std::move(request));
  }

  void AddStart(int64_t user_id, const std::string& username, const std::string& payload) {
    std::lock_guard lock(mu_);
    started_.insert(user_id);
    OrderedJson from = UserJson(user_id);
    OrderedJson chat = ChatJson(user_id);
    if (!username.empty()) {
      from["username"] = username;
      chat["username"] = username;
    }
    OrderedJson message;
    message["message_id"] = static_cast<int64_t>(updates_.size()) + 1;
    message["from"] = std::move(from);
    message["chat"] = std::move(chat);
    message["date"] = UnixNow();
    message["text"] = payload.empty() ? std::string("/start") : "/start " + payload;
    message["entities"] = OrderedJson::array({{{"offset", 0}, {"length", 6}, {"type", "bot_command"}}});
    PushUpdateLocked("message", std::move(message));
  }

  std::vector<Json> Updates() const {
    std::lock_guard lock(mu_);
    std::vector<Json> all;
    for (const OrderedJson& update : updates_) all.push_back(Json::parse(update.dump()));
    return all;
  }

  std::pair<std::string, std::string> Webhook() const {
    std::lock_guard lock(mu_);
    const Account& first = accounts_.front();
    return {first.webhook_url, first.webhook_secret};
  }

  void AddBlock(int64_t user_id) {
    std::lock_guard lock(mu_);
    blocked_.insert(user_id);
    OrderedJson changed;
    changed["chat"] = ChatJson(user_id);
    changed["from"] = UserJson(user_id);
    changed["date"] = UnixNow();
    changed["old_chat_member"] = {{"status", "member"}, {"user", BotJson(0)}};
    changed["new_chat_member"] = {{"status", "kicked"}, {"until_date", 0}, {"user", BotJson(0)}};
    PushUpdateLocked("my_chat_member", std::move(changed));
  }

  template <typename Fn>
  auto Read(Fn fn) const {
    std::lock_guard lock(mu_);
    return fn();
  }

  int64_t DeliveriesTo(int64_t chat_id) const {
    return Read([&]() -> int64_t {
      auto it = deliveries_.find(chat_id);
      return it == deliveries_.end() ? 0 : it->second;
    });
  }
  int64_t TotalDeliveries() const {
    return Read([&] { return total_deliveries_; });
  }
  int64_t DuplicateDeliveries() const {
    return Read([&] {
      int64_t duplicates = 0;
      for (const auto& [chat, n] : deliveries_) duplicates += std::max<int64_t>(0, n - 1);
      return duplicates;
    });
  }
  int64_t RateViolations() const {
    return Read([&] { return violations_; });
  }
  std::chrono::microseconds WorstViolation() const {
    return Read([&] { return worst_violation_; });
  }
  int64_t EarlyRequests() const {
    return Read([&] { return early_; });
  }
  int64_t LinksCreated() const {
    return Read([&] { return links_created_; });
  }
  std::map<std::string, int> LinksByName() const {
    return Read([&] { return links_by_name_; });
  }
  int64_t Connections() const {
    return Read([&] { return static_cast<int64_t>(connections_.size()); });
  }
  int64_t Approvals() const {
    return Read([&] { return approvals_; });
  }
  int64_t Conflicts() const {
    return Read([&] { return conflicts_; });
  }
  int64_t Hanging() const {
    return Read([&] { return hanging_; });
  }
  int64_t RequestCount(std::string_view method) const {
    return Read([&]() -> int64_t {
      auto it = requests_by_method_.find(Lower(method));
      return it == requests_by_method_.end() ? 0 : it->second;
    });
  }
  std::vector<RecordedRequest> Requests() const {
    return Read([&] { return requests_; });
  }

 private:
  struct Account {
    TimePoint message_tat{};
    std::deque<TimePoint> recent_messages;  // admitted within the last second (sliding_window)
    TimePoint pause_until{};
    int polls = 0;            // getUpdates in flight
    uint64_t poll_round = 0;  // a new getUpdates ends the older ones (409)
    int64_t confirmed = 0;    // the highest offset seen: updates below it are gone
    // The kinds getUpdates returns: the last allowed_updates sent (Telegram keeps it); empty:
    // Telegram's default, every kind but chat_member.
    std::set<std::string> allowed;
    std::string webhook_url;  // while set, getUpdates answers 409
    std::string webhook_secret;
  };

  void Handle(const httplib::Request& req, httplib::Response& res) {
    const TimePoint arrived = options_.clock ? options_.clock() : SteadyClock::now();
    const bool routed = req.matches.size() == 3;
    const std::string token = routed ? std::string(req.matches[1]) : "";
    const std::string method = routed ? std::string(req.matches[2]) : "";

    RecordedRequest record;
    record.http_method = req.method;
    record.path = routed ? "/bot<token>/" + method : req.path;
    record.content_type = req.get_header_value("Content-Type");
    record.arrived = arrived;
    Params parsed = ParseParams(req);
    record.params = parsed.values;
    auto known = std::find(options_.tokens.begin(), options_.tokens.end(), token);
    record.token_index =
        known == options_.tokens.end() ? -1 : static_cast<int>(known - options_.tokens.begin());
    const std::string lower = Lower(method);
    auto canonical = CanonicalMethods().find(lower);
    record.method = canonical == CanonicalMethods().end() ? method : canonical->second;

    std::unique_lock lock(mu_);
    const TimePoint now = std::max(arrived, served_at_);
    served_at_ = now;
    connections_.insert({req.remote_addr, req.remote_port});
    ++requests_by_method_[Lower(record.method)];
    const size_t index = requests_.size();
    const bool recorded = index < options_.max_recorded_requests;
    if (recorded) requests_.push_back(record);

    Answer answer;
    if (!routed || record.token_index < 0) {
      answer = routed ? Failure(401, "Unauthorized") : Failure(404, "Not Found");
    } else if (canonical == CanonicalMethods().end()) {
      answer = Failure(404, "Not Found: method not found");
    } else if (parsed.error) {
      answer = *parsed.error;
    } else {
      answer = Decide(lock, record.token_index, lower, record.params, now);
    }

    if (options_.latency.count() > 0) {
      cv_.wait_for(lock, options_.latency, [this] { return stopping_; });
    }
    switch (answer.then) {
      case Answer::Then::kRespond:
        res.status = answer.status;
        res.set_content(answer.body, answer.content_type.c_str());
        if (answer.retry_after_header) {
          res.set_header("Retry-After", std::to_string(*answer.retry_after_header));
        }
        break;
      case Answer::Then::kHang:
        ResetLocked(HangLocked(lock, req));
        break;
      case Answer::Then::kReset:
        ResetLocked(FindConnection(req.local_port, req.remote_port));
        break;
    }
    if (recorded)
      requests_[index].status = answer.then == Answer::Then::kRespond ? answer.status : 0;
  }

  // Holds the request until its client closes the connection or the double stops; returns the
  // connection's socket, or -1 when it cannot be found.
  int HangLocked(std::unique_lock<std::mutex>& lock, const httplib::Request& req) {
    ++hanging_;
    const int fd = FindConnection(req.local_port, req.remote_port);
    const auto deadline = SteadyClock::now() + kMaxHang;
    while (!stopping_ && SteadyClock::now() < deadline && !(fd >= 0 && PeerClosed(fd))) {
      cv_.wait_for(lock, kHangPoll);
    }
    --hanging_;
    return fd;
  }

  void ResetLocked(int fd) {
    if (fd >= 0) {
      ResetConnection(fd, devnull_);
    } else if (!stopping_) {
      std::fprintf(stderr, "bot api double: the connection to reset was not found\n");
    }
  }

  // A request's parameters from its query string, form, multipart or JSON body.
  struct Params {
    Json values = Json::object();
    std::optional<Answer> error;  // the body is not what its Content-Type says
  };

  static Params ParseParams(const httplib::Request& req) {
    Params params;
    for (const auto& [key, value] : req.params) params.values[key] = value;
    for (const auto& [key, file] : req.files) params.values[key] = file.content;
    const std::string content_type = Lower(req.get_header_value("Content-Type"));
    if (content_type.rfind("application/json", 0) == 0 && !req.body.empty()) {
      Json body = Json::parse(req.body, nullptr, false);
      if (!body.is_object()) {
        params.error = Failure(400, "Bad Request: JSON object expected");
        return params;
      }
      for (auto& [key, value] : body.items()) params.values[key] = value;
    }
    return params;
  }

  Answer Decide(std::unique_lock<std::mutex>& lock, int token_index, const std::string& method,
                const Json& params, TimePoint now) {
    Account& account = accounts_[static_cast<size_t>(token_index)];
    if (method != "getupdates" && now < account.pause_until) {
      ++early_;
      auto left = std::chrono::ceil<std::chrono::seconds>(account.pause_until - now);
      return TooManyRequests(std::max<int64_t>(1, left.count()), FloodForm::kBodyAndHeader);
    }
    if (method == "sendmessage") return SendMessage(account, token_index, params, now);

    std::optional<Script> script = Take(method_scripts_, method);
    auto effect = [&]() -> Answer {
      if (method == "getme") return Success(BotJson(token_index, BotDetail::kFull));
      if (method == "createchatinvitelink") return CreateLink(token_index, params);
      if (method == "revokechatinvitelink") return RevokeLink(params);
      if (method == "getchatmember") return GetChatMember(params);
      if (method == "approvechatjoinrequest") return Approve(params);
      if (method == "setwebhook") return SetWebhook(account, params);
      if (method == "deletewebhook") {
        account.webhook_url.clear();
        account.webhook_secret.clear();
        return Success(true);
      }
      return GetUpdates(lock, account, params, now);
    };
    if (script) return Apply(*script, account, now, effect);
    return effect();
  }

  Answer SendMessage(Account& account, int token_index, const Json& params, TimePoint now) {
    std::optional<int64_t> chat = IntParam(params, "chat_id");
    if (!chat) {
      std::optional<std::string> name = StringParam(params, "chat_id");
      return Failure(400, name && !name->empty() ? "Bad Request: chat not found"
                                                 : "Bad Request: chat_id is empty");
    }
    std::optional<std::string> text = StringParam(params, "text");
    if (!text || text->empty()) return Failure(400, "Bad Request: message text is empty");
    if (std::optional<std::string> mode = StringParam(params, "parse_mode")) {
      std::string lower = Lower(*mode);
      if (!lower.empty() && lower != "html" && lower != "markdown" && lower != "markdownv2") {
        return Failure(400, "Bad Request: unsupported parse_mode");
      }
    }
    if (!AdmitMessage(account, token_index, *chat, now)) {
      ++violations_;
      account.pause_until = now + std::chrono::seconds(options_.retry_after_seconds);
      return TooManyRequests(options_.retry_after_seconds, FloodForm::kBodyAndHeader);
    }
    std::optional<Script> script = Take(method_scripts_, std::string("sendmessage"));
    if (!script) script = Take(user_scripts_, *chat);
    auto effect = [&] { return Deliver(token_index, *chat, *text, params); };
    if (script) return Apply(*script, account, now, effect);
    if (blocked_.contains(*chat)) return Failure(403, "Forbidden: bot was blocked by the user");
    if (options_.require_start && *chat > 0 && !started_.contains(*chat)) {
      return Failure(403, "Forbidden: bot can't initiate conversation with a user");
    }
    return effect();
  }

  // GCRA per account, per chat and per group: a message may arrive up to `rate_tolerance` before
  // its slot. Admitted messages take their slots; refused ones take none.
  bool AdmitMessage(Account& account, int token_index, int64_t chat, TimePoint now) {
    using Nanos = std::chrono::nanoseconds;
    struct Lane {
      TimePoint* tat;
      Nanos interval;
    };
    std::vector<Lane> lanes;
    if (options_.account_rate > 0 && options_.sliding_window) {
      const auto limit = static_cast<size_t>(options_.account_rate);
      std::deque<TimePoint>& recent = account.recent_messages;
      while (!recent.empty() && now - recent.front() >= std::chrono::seconds(1)) recent.pop_front();
      if (recent.size() >= limit) {
        worst_violation_ = std::max(worst_violation_,
                                    std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::seconds(1) - (now - recent.front())));
        return false;
      }
    } else if (options_.account_rate > 0) {
      lanes.push_back(
          {&account.message_tat, std::chrono::duration_cast<Nanos>(
                                     std::chrono::duration<double>(1.0 / options_.account_rate))});
    }
    if (options_.chat_interval.count() > 0) {
      lanes.push_back({&chat_tat_[{token_index, chat}], options_.chat_interval});
    }
    if (chat < 0 && options_.group_per_minute > 0) {
      lanes.push_back(
          {&group_tat_[{token_index, chat}],
           std::chrono::duration_cast<Nanos>(std::chrono::minutes(1)) / options_.group_per_minute});
    }
    for (const Lane& lane : lanes) {
      const Nanos ahead = std::max(*lane.tat, now) - now;
      if (ahead > options_.rate_tolerance) {
        worst_violation_ = std::max(
            worst_violation_,
            std::chrono::duration_cast<std::chrono::microseconds>(ahead - options_.rate_tolerance));
        return false;
      }
    }
    for (const Lane& lane : lanes) *lane.tat = std::max(*lane.tat, now) + lane.interval;
    if (options_.account_rate > 0 && options_.sliding_window) {
      account.recent_messages.push_back(now);
    }
    return true;
  }

  template <typename Key>
  static std::optional<Script> Take(std::map<Key, std::deque<Script>>& scripts, const Key& key) {
    auto it = scripts.find(key);
    if (it == scripts.end() || it->second.empty()) return std::nullopt;
    Script script = it->second.front();
    it->second.pop_front();
    return script;
  }

  Answer Apply(const Script& script, Account& account, TimePoint now,
               const std::function<Answer()>& effect) {
    if (script.reply) return *script.reply;
    switch (script.fault) {
      case Fault::kBlocked:
        return Failure(403, "Forbidden: bot was blocked by the user");
      case Fault::kDeactivated:
        return Failure(403, "Forbidden: user is deactivated");
      case Fault::kNotStarted:
        return Failure(403, "Forbidden: bot can't initiate conversation with a user");
      case Fault::kChatNotFound:
        return Failure(400, "Bad Request: chat not found");
      case Fault::kServerError500:
        return Failure(500, "Internal Server Error: restart");
      case Fault::kBadGatewayHtml: {
        Answer answer;
        answer.status = 502;
        answer.body = kBadGatewayHtml;
        answer.content_type = "text/html";
        return answer;
      }
      case Fault::kHang:
        return NoAnswer(Answer::Then::kHang);
      case Fault::kResetBeforeDelivery:
        return NoAnswer(Answer::Then::kReset);
      case Fault::kDeliverThenReset:
        effect();
        return NoAnswer(Answer::Then::kReset);
      case Fault::kFlood:
      case Fault::kFloodHeaderOnly:
        account.pause_until = now + std::chrono::seconds(options_.retry_after_seconds);
        return TooManyRequests(options_.retry_after_seconds, script.fault == Fault::kFlood
                                                                 ? FloodForm::kBodyAndHeader
                                                                 : FloodForm::kHeaderOnly);
      case Fault::kGarbage200: {
        effect();
        Answer answer;
        answer.body = kGarbageBody;
        return answer;
      }
      case Fault::kUnauthorized:
        return Failure(401, "Unauthorized");
      case Fault::kNotEnoughRights:
        return Failure(400, "Bad Request: not enough rights to manage chat invite link");
      case Fault::kBotKicked:
        return Failure(403, "Forbidden: bot was kicked from the supergroup chat");
    }
    return Failure(500, "Internal Server Error: unknown fault");
  }

  Answer Deliver(int token_index, int64_t chat, const std::string& text, const Json& params) {
    ++deliveries_[chat];
    ++total_deliveries_;
    OrderedJson message;
    message["message_id"] = ++last_message_id_;
    message["from"] = BotJson(token_index);
    message["chat"] = ChatJson(chat);
    message["date"] = UnixNow();
    message["text"] = text;
    if (std::optional<Json> markup = ObjectParam(params, "reply_markup")) {
      message["reply_markup"] = OrderedJson::parse(markup->dump());
    }
    return Success(message);
  }

  Answer CreateLink(int token_index, const Json& params) {
    std::optional<std::string> chat = StringParam(params, "chat_id");
    if (!chat || chat->empty()) return Failure(400, "Bad Request: chat_id is empty");
    const std::string name = StringParam(params, "name").value_or("");
    if (name.size() > kMaxLinkName)
      return Failure(400, "Bad Request: invite link name is too long");
    const int64_t member_limit = IntParam(params, "member_limit").value_or(0);
    const int64_t expire_date = IntParam(params, "expire_date").value_or(0);
    const bool join_request = BoolParam(params, "creates_join_request");
    if (join_request && member_limit > 0) {
      return Failure(400,
                     "Bad Request: member limit can't be specified for links requiring "
                     "administrator approval");
    }
    std::string link;
    do {
      link = "https://t.me/+" + RandomHash();
    } while (links_.contains(link));
    OrderedJson result;
    result["invite_link"] = link;
    result["creator"] = BotJson(token_index);
    result["creates_join_request"] = join_request;
    result["is_primary"] = false;
    result["is_revoked"] = false;
    if (!name.empty()) result["name"] = name;
    if (expire_date > 0) result["expire_date"] = expire_date;
    if (member_limit > 0) result["member_limit"] = member_limit;
    links_[link] = result;
    ++links_created_;
    ++links_by_name_[name];
    return Success(result);
  }

  Answer RevokeLink(const Json& params) {
    auto link = links_.find(StringParam(params, "invite_link").value_or(""));
    if (link == links_.end()) return Failure(400, "Bad Request: INVITE_HASH_EXPIRED");
    link->second["is_revoked"] = true;
    return Success(link->second);
  }

  Answer GetChatMember(const Json& params) {
    std::optional<int64_t> chat = IntParam(params, "chat_id");
    std::optional<int64_t> user = IntParam(params, "user_id");
    if (!chat) return Failure(400, "Bad Request: chat not found");
    if (!user) return Failure(400, "Bad Request: user not found");
    OrderedJson member;
    member["status"] = members_.contains({*chat, *user}) ? "member" : "left";
    member["user"] = UserJson(*user);
    return Success(member);
  }

  Answer Approve(const Json& params) {
    std::optional<int64_t> chat = IntParam(params, "chat_id");
    std::optional<int64_t> user = IntParam(params, "user_id");
    if (!chat || !user) return Failure(400, "Bad Request: HIDE_REQUESTER_MISSING");
    auto request = join_requests_.find({*chat, *user});
    if (request == join_requests_.end()) return Failure(400, "Bad Request: HIDE_REQUESTER_MISSING");
    std::string link = request->second;
    join_requests_.erase(request);
    ++approvals_;
    AddJoinLocked(*chat, *user, link, JoinedVia::kJoinRequest);
    return Success(true);
  }

  Answer SetWebhook(Account& account, const Json& params) {
    std::optional<std::string> url = StringParam(params, "url");
    if (!url || url->empty()) {
      account.webhook_url.clear();  // Telegram: an empty url removes the webhook
      return Success(true);
    }
    if (!url->starts_with("https://")) {
      return Failure(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    }
    std::string secret = StringParam(params, "secret_token").value_or("");
    const bool secret_ok =
        secret.size() <= 256 && std::all_of(secret.begin(), secret.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        });
    if (!secret_ok) return Failure(400, "Bad Request: secret token contains unallowed characters");
    if (auto it = params.find("allowed_updates"); it != params.end() && it->is_array()) {
      account.allowed.clear();
      for (const Json& kind : *it) {
        if (kind.is_string()) account.allowed.insert(kind.get<std::string>());
      }
    }
    account.webhook_url = *url;
    account.webhook_secret = std::move(secret);
    return Success(true);
  }

  // Whether getUpdates hands this update out under the account's allowed_updates.
  static bool Allowed(const Account& account, const OrderedJson& update) {
    for (const auto& [key, value] : update.items()) {
      if (key == "update_id") continue;
      return account.allowed.empty() ? key != "chat_member" : account.allowed.contains(key);
    }
    return false;
  }

  Answer GetUpdates(std::unique_lock<std::mutex>& lock, Account& account, const Json& params,
                    TimePoint now) {
    if (!account.webhook_url.empty()) {
      return Failure(409,
                     "Conflict: can't use getUpdates method while webhook is active; use "
                     "deleteWebhook to delete the webhook first");
    }
    if (auto it = params.find("allowed_updates"); it != params.end() && it->is_array()) {
      account.allowed.clear();
      for (const Json& kind : *it) {
        if (kind.is_string()) account.allowed.insert(kind.get<std::string>());
      }
    }
    const int64_t offset = std::max<int64_t>(0, IntParam(params, "offset").value_or(0));
    const int64_t limit =
        std::clamp<int64_t>(IntParam(params, "limit").value_or(100), 1, kMaxUpdatesPerCall);
    const auto timeout = std::chrono::seconds(std::clamp<int64_t>(
        IntParam(params, "timeout").value_or(0), 0, options_.max_long_poll.count()));
    account.confirmed = std::max(account.confirmed, offset);
    const int64_t first = std::max<int64_t>(1, account.confirmed);
    const uint64_t round = ++account.poll_round;
    if (account.polls > 0) cv_.notify_all();
    ++account.polls;
    const auto deadline = now + timeout;
    OrderedJson result = OrderedJson::array();
    while (true) {
      if (account.poll_round != round) {
        --account.polls;
        ++conflicts_;
        return Failure(409,
                       "Conflict: terminated by other getUpdates request; make sure that only "
                       "one bot instance is running");
      }
      for (int64_t id = first; id <= static_cast<int64_t>(updates_.size()); ++id) {
        if (static_cast<int64_t>(result.size()) == limit) break;
        const OrderedJson& update = updates_[static_cast<size_t>(id - 1)];
        if (Allowed(account, update)) result.push_back(update);
      }
      if (!result.empty() || stopping_ || SteadyClock::now() >= deadline) break;
      cv_.wait_until(lock, deadline);
    }
    --account.polls;
    return Success(result);
  }

  void AddJoinLocked(int64_t chat_id, int64_t user_id, const std::string& invite_link,
                     JoinedVia via) {
    members_.insert({chat_id, user_id});
    OrderedJson changed;
    changed["chat"] = ChatJson(chat_id);
    changed["from"] = UserJson(user_id);
    changed["date"] = UnixNow();
    changed["old_chat_member"] = {{"status", "left"}, {"user", UserJson(user_id)}};
    changed["new_chat_member"] = {{"status", "member"}, {"user", UserJson(user_id)}};
    if (!invite_link.empty()) changed["invite_link"] = LinkJson(invite_link);
    if (via == JoinedVia::kJoinRequest) changed["via_join_request"] = true;
    PushUpdateLocked("chat_member", std::move(changed));
  }

  void PushUpdateLocked(const char* kind, OrderedJson payload) {
    OrderedJson update;
    update["update_id"] = static_cast<int64_t>(updates_.size()) + 1;
    update[kind] = std::move(payload);
    updates_.push_back(std::move(update));
    cv_.notify_all();
  }

  OrderedJson BotJson(int token_index, BotDetail detail = BotDetail::kBrief) const {
    int64_t id = 0;
    if (token_index >= 0 && static_cast<size_t>(token_index) < options_.tokens.size()) {
      const std::string& token = options_.tokens[static_cast<size_t>(token_index)];
      std::from_chars(token.data(), token.data() + token.find(':'), id);
    }
    OrderedJson bot;
    bot["id"] = id;
    bot["is_bot"] = true;
    bot["first_name"] = "Test Bot";
    bot["username"] = "test_bot";
    if (detail == BotDetail::kFull) {
      bot["can_join_groups"] = true;
      bot["can_read_all_group_messages"] = false;
      bot["supports_inline_queries"] = false;
    }
    return bot;
  }

  static OrderedJson UserJson(int64_t user_id) {
    OrderedJson user;
    user["id"] = user_id;
    user["is_bot"] = false;
    user["first_name"] = "User " + std::to_string(user_id);
    return user;
  }

  static OrderedJson ChatJson(int64_t chat_id) {
    OrderedJson chat;
    chat["id"] = chat_id;
    if (chat_id < 0) {
      chat["title"] = "Test group";
      chat["type"] = chat_id < kSupergroupIdBelow ? "supergroup" : "group";
    } else {
      chat["first_name"] = "User " + std::to_string(chat_id);
      chat["type"] = "private";
    }
    return chat;
  }

  OrderedJson LinkJson(const std::string& invite_link) const {
    if (auto known = links_.find(invite_link); known != links_.end()) return known->second;
    OrderedJson link;
    link["invite_link"] = invite_link;
    link["creator"] = BotJson(0);
    link["creates_join_request"] = false;
    link["is_primary"] = false;
    link["is_revoked"] = false;
    return link;
  }

  std::string RandomHash() {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    std::string hash;
    for (int i = 0; i < 16; ++i) hash.push_back(kAlphabet[random_() % kAlphabet.size()]);
    return hash;
  }

  const BotApiDoubleOptions options_;
  Server server_;
  std::thread thread_;
  int port_ = -1;
  int devnull_ = -1;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<Account> accounts_;
  std::map<std::pair<int, int64_t>, TimePoint> chat_tat_;
  std::map<std::pair<int, int64_t>, TimePoint> group_tat_;
  std::map<std::string, std::deque<Script>> method_scripts_;
  std::map<int64_t, std::deque<Script>> user_scripts_;
  std::map<int64_t, int64_t> deliveries_;
  int64_t total_deliveries_ = 0;
  int64_t violations_ = 0;
  int64_t early_ = 0;
  std::chrono::microseconds worst_violation_{0};
  TimePoint served_at_{};  // the latest time the rate model has seen
  int64_t links_created_ = 0;
  int64_t approvals_ = 0;
  int64_t conflicts_ = 0;
  int64_t hanging_ = 0;
  int64_t last_message_id_ = 0;
  std::map<std::string, int> links_by_name_;
  std::map<std::string, OrderedJson> links_;
  std::set<std::pair<std::string, int>> connections_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, int64_t> requests_by_method_;
  std::vector<OrderedJson> updates_;
  std::set<std::pair<int64_t, int64_t>> members_;
  std::map<std::pair<int64_t, int64_t>, std::string> join_requests_;
  std::set<int64_t> blocked_;
  std::set<int64_t> started_;  // users who pressed Start (AddStart)
  std::mt19937_64 random_{20240601};
};

BotApiDouble::BotApiDouble(BotApiDoubleOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

BotApiDouble::~BotApiDouble() = default;

std::string BotApiDouble::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port());
}
int BotApiDouble::port() const { return impl_->port(); }
const std::string& BotApiDouble::token() const { return impl_->options().tokens.front(); }

void BotApiDouble::ScriptUser(int64_t user_id, Fault fault, int times) {
  impl_->ScriptUser(user_id, fault, times);
}
void BotApiDouble::ScriptMethod(const std::string& method, Fault fault, int times) {
  impl_->ScriptMethod(method, Script{fault, std::nullopt}, times);
}
void BotApiDouble::ScriptMethodReply(const std::string& method, int http_status, std::string body,
                                     int times) {
  Answer answer;
  answer.status = http_status;
  answer.body = std::move(body);
  impl_->ScriptMethod(method, Script{Fault::kServerError500, answer}, times);
}

void BotApiDouble::AddJoin(int64_t chat_id, int64_t user_id, const std::string& invite_link) {
  impl_->AddJoin(chat_id, user_id, invite_link);
}
void BotApiDouble::AddJoinRequest(int64_t chat_id, int64_t user_id,
                                  const std::string& invite_link) {
  impl_->AddJoinRequest(chat_id, user_id, invite_link);
}
void BotApiDouble::AddBlock(int64_t user_id) { impl_->AddBlock(user_id); }
void BotApiDouble::AddStart(int64_t user_id, const std::string& username,
                            const std::string& payload) {
  impl_->AddStart(user_id, username, payload);
}
std::vector<nlohmann::json> BotApiDouble::Updates() const { return impl_->Updates(); }
std::pair<std::string, std::string> BotApiDouble::Webhook() const { return impl_->Webhook(); }

int64_t BotApiDouble::DeliveriesTo(int64_t chat_id) const { return impl_->DeliveriesTo(chat_id); }
int64_t BotApiDouble::TotalDeliveries() const { return impl_->TotalDeliveries(); }
int64_t BotApiDouble::DuplicateDeliveries() const { return impl_->DuplicateDeliveries(); }
int64_t BotApiDouble::RateViolations() const { return impl_->RateViolations(); }
std::chrono::microseconds BotApiDouble::WorstViolation() const { return impl_->WorstViolation(); }
int64_t BotApiDouble::EarlyRequests() const { return impl_->EarlyRequests(); }
int64_t BotApiDouble::LinksCreated() const { return impl_->LinksCreated(); }
std::map<std::string, int> BotApiDouble::LinksByName() const { return impl_->LinksByName(); }
int64_t BotApiDouble::Connections() const { return impl_->Connections(); }
int64_t BotApiDouble::Approvals() const { return impl_->Approvals(); }
int64_t BotApiDouble::Conflicts() const { return impl_->Conflicts(); }
int64_t BotApiDouble::Hanging() const { return impl_->Hanging(); }
int64_t BotApiDouble::RequestCount(std::string_view method) const {
  return impl_->RequestCount(method);
}
std::vector<RecordedRequest> BotApiDouble::Requests() const { return impl_->Requests(); }

}  // namespace tginvite::testing
