// What the two Bot API requests of one invitation cost by themselves on this machine: a
// getChatMember and a sendMessage per invitation, over libcurl's multi interface with kept-alive
// connections, IN_FLIGHT at once, the bodies handed over by a read callback as the engine does
// (so a request goes out in two writes, headers then body). No database, no JSON parsing, no
// threads: the floor under the engine's CPU per invitation (bench/dispatch_benchmark.sh prints
// both).
//
// usage: http_floor BASE_URL INVITATIONS [IN_FLIGHT]
//   BASE_URL: http://127.0.0.1:PORT/bot<token> of a running bench/fleet_double
// Prints: "floor: N invitations (2N requests), CPU X s (U user + S sys) = Y us an invitation".
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Transfer {
  std::string url;
  std::string body;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = std::min(size * count, transfer->body.size() - transfer->offset);
  std::memcpy(buffer, transfer->body.data() + transfer->offset, n);
  transfer->offset += n;
  return n;
}

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

double Seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

bool ParseCount(const char* text, int& out) {
  const std::string_view s(text);
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), out);
  return error == std::errc() && end == s.data() + s.size() && out > 0;
}

}  // namespace

int main(int argc, char** argv) {
  int invitations = 0;
  int in_flight = 16;
  if (argc < 3 || !ParseCount(argv[2], invitations) ||
      (argc > 3 && !ParseCount(argv[3], in_flight))) {
    std::fprintf(stderr, "usage: http_floor BASE_URL INVITATIONS [IN_FLIGHT]\n");
    return 2;
  }
  const std::string base = argv[1];
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 256L);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");

  const int requests = 2 * invitations;
  std::vector<Transfer> transfers(static_cast<size_t>(in_flight));
  std::vector<CURL*> idle;
  std::vector<size_t> free_slots;
  for (size_t i = 0; i < transfers.size(); ++i) free_slots.push_back(i);
  int started = 0;
  int ended = 0;
  int failed = 0;
  auto start = [&](int k) {
    const size_t slot = free_slots.back();
    free_slots.pop_back();
    Transfer& t = transfers[slot];
    const int64_t user = 500000 + k / 2;
    if (k % 2 == 0) {
      t.url = base + "/getChatMember";
      t.body = "{\"chat_id\":-1001234567890,\"user_id\":" + std::to_string(user) + "}";
    } else {
      t.url = base + "/sendMessage";
      t.body = "{\"chat_id\":" + std::to_string(user) +
               ",\"text\":\"Hello User: https://t.me/+AbCdEfGhIjKl\",\"parse_mode\":\"HTML\","
               "\"link_preview_options\":{\"is_disabled\":true}}";
    }
    t.offset = 0;
    CURL* curl = nullptr;
    if (idle.empty()) {
      curl = curl_easy_init();
    } else {
      curl = idle.back();
      idle.pop_back();
      curl_easy_reset(curl);
    }
    curl_easy_setopt(curl, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(curl, CURLOPT_PRIVATE, reinterpret_cast<char*>(slot + 1));
    curl_multi_add_handle(multi, curl);
  };

  while (ended < requests) {
    while (started < requests && started - ended < in_flight) start(started++);
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* curl = message->easy_handle;
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      if (message->data.result != CURLE_OK || status != 200) ++failed;
      char* slot = nullptr;
      curl_easy_getinfo(curl, CURLINFO_PRIVATE, &slot);
      free_slots.push_back(static_cast<size_t>(reinterpret_cast<uintptr_t>(slot)) - 1);
      curl_multi_remove_handle(multi, curl);
      idle.push_back(curl);
      ++ended;
    }
    if (started - ended >= in_flight || started == requests) {
      curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double user = Seconds(usage.ru_utime);
  const double sys = Seconds(usage.ru_stime);
  std::printf(
      "floor: %d invitations (%d requests, %d failed), CPU %.2f s (%.2f user + %.2f sys) = %.0f "
      "us an invitation\n",
      invitations, requests, failed, user + sys, user, sys, (user + sys) * 1e6 / invitations);
  for (CURL* curl : idle) curl_easy_cleanup(curl);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  return failed == 0 ? 0 : 1;
}
