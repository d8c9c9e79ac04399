#include "web/metrics.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/instruments.h"
#include "core/model.h"
#include "storage/store.h"

namespace tginvite::web {
namespace {

// One metric family: its HELP and TYPE lines, then its samples.
class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
      : out_(out), name_(fmt::format("tginvite_{}", name)) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help, name_, type);
  }

  // `labels` are name/value pairs; values are escaped here.
  void Sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              int64_t value) {
    out_ += name_;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, label_value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += fmt::format("{}=\"{}\"", label, EscapeLabelValue(label_value));
      }
      out_ += '}';
    }
    out_ += fmt::format(" {}\n", value);
  }

  // A histogram's _bucket, _sum and _count lines.
  void Histogram(const core::Histogram::Snapshot& h) {
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      out_ += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name_, h.bounds[i], h.cumulative[i]);
    }
    out_ += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name_, h.count);
    out_ += fmt::format("{}_sum {}\n{}_count {}\n", name_, h.sum_seconds, name_, h.count);
  }

 private:
  std::string& out_;
  std::string name_;
};

}  // namespace

void RequestCounter::Count(int status) {
  std::lock_guard lock(mu_);
  ++counts_[status];
}

std::map<int, int64_t> RequestCounter::Snapshot() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<std::string> RenderMetrics(storage::Store& store, int64_t now,
                                  const std::map<int, int64_t>& http_requests) {
  ASSIGN_OR_RETURN(std::vector<storage::CampaignSummary> campaigns, store.ListCampaigns());
  ASSIGN_OR_RETURN(std::vector<storage::AttemptTally> tallies, store.TallyAttempts());
  ASSIGN_OR_RETURN(std::vector<storage::Account> accounts, store.ListAccounts());
  ASSIGN_OR_RETURN(std::vector<storage::WorkerInfo> workers, store.ListWorkers());

  std::string out;
  {
    Family f(out, "invitations", "gauge", "Invitations by campaign and state.");
    for (const storage::CampaignSummary& s : campaigns) {
      for (core::InvitationState state : core::kAllInvitationStates) {
        f.Sample({{"campaign", s.campaign.name}, {"state", core::ToString(state)}},
                 s.counts[state]);
      }
    }
  }
  {
    Family f(out, "sends_total", "counter",
             "Messages sent to contacts (requests of kind send) by account and outcome.");
    for (const storage::AttemptTally& t : tallies) {
      if (t.request == core::ToString(core::RequestKind::kSend))
        f.Sample({{"account", t.account}, {"outcome", t.outcome}}, t.count);
    }
  }
  {
    Family f(out, "flood_waits_total", "counter",
             "Requests answered 429 (flood wait) by account, any request.");
    std::map<std::string, int64_t> floods;
    for (const storage::Account& a : accounts) floods[a.name] = 0;
    for (const storage::AttemptTally& t : tallies) {
      if (t.outcome == "flood") floods[t.account] += t.count;
    }
    for (const auto& [account, count] : floods) f.Sample({{"account", account}}, count);
  }
  {
    Family f(out, "account_flood_pause_seconds", "gauge",
             "Seconds until the account may send again after a 429 (0: not paused).");
    for (const storage::Account& a : accounts) {
      f.Sample({{"account", a.name}}, std::max<int64_t>(0, (a.flood_until - now + 999) / 1000));
    }
  }
  {
    Family f(out, "account_healthy", "gauge", "1 when the account can send, else 0.");
    for (const storage::Account& a : accounts)
      f.Sample({{"account", a.name}}, a.health == core::AccountHealth::kOk);
  }
  {
    Family f(out, "workers_live", "gauge", "Workers whose last heartbeat is under 60 s old.");
    f.Sample({}, std::count_if(workers.begin(), workers.end(), [now](const storage::WorkerInfo& w) {
               return w.stopped_at == 0 && now - w.heartbeat_at < kWorkerLiveMs;
             }));
  }
  {
    Family f(out, "http_requests_total", "counter",
             "HTTP responses served by this process, by status code.");
    for (const auto& [code, count] : http_requests)
      f.Sample({{"code", std::to_string(code)}}, count);
  }
  // This process's own measurements (see core/instruments.h).
  core::ProcessInstruments& instruments = core::Instruments();
  Family(out, "claim_duration_seconds", "histogram",
         "Time to claim a batch of invitations (one database transaction), this process.")
      .Histogram(instruments.claim_seconds.Take());
  Family(out, "send_duration_seconds", "histogram",
         "Time of one request that sends a message to Telegram, this process.")
      .Histogram(instruments.send_seconds.Take());
  Family(out, "http_request_duration_seconds", "histogram",
         "Time to serve one HTTP request, this process.")
      .Histogram(instruments.http_seconds.Take());
  Family(out, "database_errors_total", "counter",
         "Database calls that failed (busy, locked, unreachable), this process.")
      .Sample({}, instruments.database_errors.load());
  Family given_back(out, "requests_given_back_total", "counter",
                    "Claimed requests given back unsent, by why: their slot had passed (late) or "
                    "a flood pause began after the claim (paused), this process.");
  given_back.Sample({{"reason", "late"}}, instruments.given_back_late.load());
  given_back.Sample({{"reason", "paused"}}, instruments.given_back_paused.load());
  Family(out, "requests_reslotted_total", "counter",
         "Claimed requests whose slot passed while they were prepared and that took a new one "
         "instead of being given back, this process.")
      .Sample({}, instruments.reslotted.load());
  Family starts(out, "starts_total", "counter",
                "/start messages applied by this process's worker, by what they matched: linked "
                "(a contact's invitations went out), and those left alone (unknown_payload, "
                "already_handled, other_user, suppressed, same_person, waiting).");
  for (size_t i = 0; i < instruments.starts.size(); ++i) {
    starts.Sample({{"match", std::string(storage::ToString(static_cast<storage::StartMatch>(i)))}},
                  instruments.starts[i].load());
  }
  return out;
}

}  // namespace tginvite::web
