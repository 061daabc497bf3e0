// The Watcher: every watch is a state machine (list pages -> watch stream -> backoff) driven
// by ONE thread over ONE curl multi handle. Write callbacks split the stream into lines and
// deliver events; completed transfers decide what comes next (next page, reconnect from the
// last resourceVersion, re-list on 410, stop on 401/403).
#include "adapters/k8s/watch.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "adapters/k8s/curl_common.h"
#include "adapters/k8s/encoding.h"
#include "adapters/k8s/status_error.h"
#include "adapters/k8s/watch_stream.h"
#include "common/log.h"

namespace spr::k8s {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

enum class Phase { kList, kWatch, kStopped };
// What a write callback decided about the transfer it is in (acted on when it ends).
enum class Verdict { kNone, kRelist, kStop, kReconnect };

struct Slot {
  void* owner = nullptr;  // the Watcher::Impl (a private type, so not named here)
  ClusterConfig config;
  GroupVersionResource gvr;
  std::string ns;
  WatchCallback callback;
  std::shared_ptr<CurlCluster> cluster;  // null until first use (make() may fail)

  Phase phase = Phase::kList;
  std::string lastRv;          // resume point: last event, bookmark or list resourceVersion
  KnownObjects known;          // what the consumer has been told exists
  std::string continueToken;   // of the list in progress
  json items = json::array();  // pages gathered so far
  std::string listApiVersion, listKind;
  bool unpaginated = false;  // a continue token expired: list in one go

  CURL* easy = nullptr;  // the transfer in flight, owned here
  CurlHeaders headers;
  std::string body;  // list body, or the error body of a failed watch
  LineSplitter lines;
  Verdict verdict = Verdict::kNone;
  bool streamed = false;  // the watch got a 200 and is streaming
  Clock::time_point connectedAt;

  char error[CURL_ERROR_SIZE] = {0};  // curl's detail of a failed transfer
  bool failing = false;               // the last request failed (reported through onHealth)
  std::string loggedReason;           // the last failure logged, and when
  Clock::time_point loggedAt;
  int unlogged = 0;  // failures since then not logged (rate limit)

  double backoffSec = 0;
  int relistStreak = 0;  // 410s without an event in between: back off instead of hot-looping
  Clock::time_point nextAttempt;
};

std::string kindOfList(const std::string& listKind) {
  const std::string suffix = "List";
  if (listKind.size() > suffix.size() && listKind.compare(listKind.size() - suffix.size(), suffix.size(), suffix) == 0)
    return listKind.substr(0, listKind.size() - suffix.size());
  return "";
}

json statusObject(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"code", code},     {"reason", reason},   {"message", message}};
}

}  // namespace

struct Watcher::Impl {
  explicit Impl(WatchOptions o) : options(std::move(o)), rng(std::random_device{}()) {
    ensureCurlGlobalInit();
    multi = curl_multi_init();
  }
  ~Impl() { curl_multi_cleanup(multi); }

  void run();
  void begin(Slot& slot);
  std::string query(const Slot& slot) const;
  void finish(Slot& slot, CURLcode result);
  void finishList(Slot& slot, long http);
  void finishWatch(Slot& slot, CURLcode result, long http);
  void onLine(Slot& slot, const std::string& line);
  void deliver(Slot& slot, const WatchEvent& event);
  void failHttp(Slot& slot, long http, const std::string& body);
  void scheduleBackoff(Slot& slot);
  void reportFailure(Slot& slot, const std::string& reason, long http);
  void reportHealthy(Slot& slot);
  void relist(Slot& slot);
  void release(Slot& slot);
  int pollTimeoutMs() const;
  static size_t onData(char* data, size_t size, size_t count, void* slotPtr);

  WatchOptions options;
  CURLM* multi = nullptr;
  std::mt19937 rng;  // jitter; used on the watcher thread only

  std::mutex mu;
  std::vector<std::unique_ptr<Slot>> added;  // guarded by mu: handed to the thread
  std::atomic<bool> stopping{false};
  std::thread thread;

  std::vector<std::unique_ptr<Slot>> slots;  // the watcher thread's own
};

void Watcher::Impl::run() {
  while (!stopping) {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& slot : added) slots.push_back(std::move(slot));
      added.clear();
    }
    Clock::time_point now = Clock::now();
    for (auto& slot : slots)
      if (!slot->easy && slot->phase != Phase::kStopped && now >= slot->nextAttempt) begin(*slot);
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Slot* slot = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &slot);
      CURLcode result = msg->data.result;
      if (slot) finish(*slot, result);  // invalidates msg
    }
    if (stopping) break;
    curl_multi_poll(multi, nullptr, 0, pollTimeoutMs(), nullptr);
  }
  for (auto& slot : slots) release(*slot);
}

int Watcher::Impl::pollTimeoutMs() const {
  Clock::time_point now = Clock::now();
  long timeout = 1000;
  for (const auto& slot : slots) {
    if (slot->easy || slot->phase == Phase::kStopped) continue;
    long wait = std::chrono::duration_cast<std::chrono::milliseconds>(slot->nextAttempt - now).count();
    timeout = std::min(timeout, std::max(0L, wait));
  }
  return static_cast<int>(timeout);
}

std::string Watcher::Impl::query(const Slot& slot) const {
  std::string q;
  auto param = [&q](const std::string& key, const std::string& value) {
    if (!value.empty()) q += (q.empty() ? "?" : "&") + key + "=" + urlEncode(value);
  };
  param("labelSelector", options.labelSelector);
  if (slot.phase == Phase::kList) {
    if (!slot.unpaginated && options.listPageSize > 0) param("limit", std::to_string(options.listPageSize));
    param("continue", slot.continueToken);
  } else {
    param("watch", "true");
    param("allowWatchBookmarks", "true");
    param("resourceVersion", slot.lastRv);
    if (options.timeoutSeconds > 0) param("timeoutSeconds", std::to_string(options.timeoutSeconds));
  }
  return q;
}

void Watcher::Impl::begin(Slot& slot) {
  if (!slot.cluster) {
    auto made = CurlCluster::make(slot.config);
    if (!made.isOk()) {
      deliver(slot, {"ERROR", statusObject(0, "InvalidConfig", made.status().message()), ""});
      slot.phase = Phase::kStopped;
      return;
    }
    slot.cluster = *made;
  }
  slot.easy = curl_easy_init();
  slot.headers.reset();
  slot.body.clear();
  slot.lines.clear();
  slot.verdict = Verdict::kNone;
  slot.streamed = false;
  Status applied = slot.cluster->apply(slot.easy, slot.headers);
  if (!applied.isOk()) {
    curl_easy_cleanup(slot.easy);
    slot.easy = nullptr;
    deliver(slot, {"ERROR", statusObject(401, "Unauthorized", applied.message()), ""});
    slot.phase = Phase::kStopped;
    return;
  }
  std::string url = slot.cluster->url(slot.gvr.collectionPath(slot.ns) + query(slot));
  curl_easy_setopt(slot.easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(slot.easy, CURLOPT_HTTPHEADER, slot.headers.list);
  curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, &slot);
  curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, &Impl::onData);
  curl_easy_setopt(slot.easy, CURLOPT_WRITEDATA, &slot);
  slot.error[0] = '\0';
  curl_easy_setopt(slot.easy, CURLOPT_ERRORBUFFER, slot.error);
  curl_easy_setopt(slot.easy, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMs);
  // A watch ends server-side after timeoutSeconds; the client limit only catches a dead peer.
  long limitSec = slot.phase == Phase::kList ? 120 : options.timeoutSeconds + 60;
  curl_easy_setopt(slot.easy, CURLOPT_TIMEOUT_MS, limitSec * 1000);
  curl_multi_add_handle(multi, slot.easy);
}

size_t Watcher::Impl::onData(char* data, size_t size, size_t count, void* slotPtr) {
  Slot& slot = *static_cast<Slot*>(slotPtr);
  size_t n = size * count;
  long http = 0;
  curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &http);
  if (slot.phase != Phase::kWatch || http != 200) {
    slot.body.append(data, n);
    return n;
  }
  auto* impl = static_cast<Impl*>(slot.owner);
  if (!slot.streamed) {
    slot.streamed = true;
    slot.connectedAt = Clock::now();
    impl->reportHealthy(slot);
  }
  slot.lines.feed(data, n, [&slot, impl](const std::string& line) {
    if (slot.verdict == Verdict::kNone) impl->onLine(slot, line);
  });
  return slot.verdict == Verdict::kNone ? n : 0;  // 0 aborts the transfer; finish() acts on the verdict
}

void Watcher::Impl::onLine(Slot& slot, const std::string& line) {
  auto event = decodeWatchEvent(line);
  if (!event.isOk()) {
    log::warn("watch: skipping a line that is not a watch event",
              {{"cluster", slot.config.name}, {"resource", slot.gvr.resource}, {"bytes", line.size()}});
    return;
  }
  if (event->type == "ERROR") {
    auto status = parseApiStatus(event->object);
    int code = status ? status->code : 0;
    if (code == 410 || (status && (status->reason == "Expired" || status->reason == "Gone"))) {
      slot.verdict = Verdict::kRelist;
      return;
    }
    deliver(slot, *event);
    slot.verdict = code == 401 || code == 403 ? Verdict::kStop : Verdict::kReconnect;
    return;
  }
  slot.relistStreak = 0;
  if (!event->resourceVersion.empty()) slot.lastRv = event->resourceVersion;
  slot.known.apply(*event);
  deliver(slot, *event);
}

void Watcher::Impl::deliver(Slot& slot, const WatchEvent& event) {
  if (stopping || !slot.callback) return;
  slot.callback(event);
}

void Watcher::Impl::release(Slot& slot) {
  if (!slot.easy) return;
  curl_multi_remove_handle(multi, slot.easy);
  curl_easy_cleanup(slot.easy);
  slot.easy = nullptr;
  slot.headers.reset();
}

void Watcher::Impl::finish(Slot& slot, CURLcode result) {
  long http = 0;
  curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &http);
  release(slot);
  if (stopping) return;
  if (slot.verdict == Verdict::kStop) {
    slot.phase = Phase::kStopped;
  } else if (slot.verdict == Verdict::kRelist) {
    relist(slot);
  } else if (slot.verdict == Verdict::kReconnect) {
    scheduleBackoff(slot);
  } else if (result != CURLE_OK && !(slot.phase == Phase::kWatch && slot.streamed)) {
    reportFailure(slot, describeCurlError(result, slot.error), 0);
    scheduleBackoff(slot);  // could not connect, or a list broke off: try again later
  } else if (slot.phase == Phase::kList) {
    finishList(slot, http);
  } else {
    finishWatch(slot, result, http);
  }
}

void Watcher::Impl::relist(Slot& slot) {
  slot.phase = Phase::kList;
  slot.continueToken.clear();
  slot.items = json::array();
  if (++slot.relistStreak > 1)
    scheduleBackoff(slot);
  else
    slot.nextAttempt = Clock::now();
}

// A 4xx/5xx answer to a list or watch request.
void Watcher::Impl::failHttp(Slot& slot, long http, const std::string& body) {
  if (http == 410) {
    if (slot.phase == Phase::kList) {  // the continue token expired: list again in one go
      slot.unpaginated = true;
      slot.continueToken.clear();
      slot.items = json::array();
      slot.nextAttempt = Clock::now();
      return;
    }
    relist(slot);
    return;
  }
  HttpRequest request{"GET", slot.gvr.collectionPath(slot.ns), "", ""};
  Status status = statusFromResponse({static_cast<int>(http), body, {}}, request, slot.config.name);
  auto api = parseApiStatus(body);
  json object = api ? json::parse(body) : statusObject(static_cast<int>(http), "", status.message());
  object["code"] = http;
  reportFailure(slot, "HTTP " + std::to_string(http) + ": " + status.message(), http);
  if (!(http == 429 || http >= 500)) deliver(slot, {"ERROR", object, ""});
  if (http == 401 || http == 403)
    slot.phase = Phase::kStopped;
  else
    scheduleBackoff(slot);
}

void Watcher::Impl::finishList(Slot& slot, long http) {
  if (http != 200) return failHttp(slot, http, slot.body);
  json page = json::parse(slot.body, nullptr, /*allow_exceptions=*/false);
  if (page.is_discarded() || !page.is_object()) {
    reportFailure(slot, "the list response is not JSON", 200);
    scheduleBackoff(slot);
    return;
  }
  reportHealthy(slot);
  for (json& item : page.value("items", json::array())) slot.items.push_back(std::move(item));
  slot.listApiVersion = page.value("apiVersion", slot.gvr.apiVersion());
  slot.listKind = page.value("kind", std::string());
  json meta = page.value("metadata", json::object());
  slot.continueToken = meta.value("continue", std::string());
  slot.nextAttempt = Clock::now();
  if (!slot.continueToken.empty()) return;  // next page right away
  for (const WatchEvent& event : slot.known.relist(slot.items, slot.listApiVersion, kindOfList(slot.listKind)))
    deliver(slot, event);
  deliver(slot, {"SYNCED", json(), ""});
  slot.items = json::array();
  slot.unpaginated = false;
  slot.lastRv = meta.value("resourceVersion", std::string());
  slot.phase = Phase::kWatch;
}

void Watcher::Impl::finishWatch(Slot& slot, CURLcode /*result*/, long http) {
  if (http != 200 && http != 0) return failHttp(slot, http, slot.body);
  // The server ended the watch (timeoutSeconds) or the connection dropped: resume from lastRv.
  scheduleBackoff(slot);
}

void Watcher::Impl::scheduleBackoff(Slot& slot) {
  Clock::time_point now = Clock::now();
  double healthy = slot.streamed ? std::chrono::duration<double>(now - slot.connectedAt).count() : 0;
  if (slot.backoffSec <= 0 || healthy >= options.resetAfterHealthySec) slot.backoffSec = options.initialBackoffSec;
  std::uniform_real_distribution<double> spread(0.0, options.jitter);
  double delay = std::min(slot.backoffSec * (1.0 + spread(rng)), options.maxBackoffSec);
  slot.backoffSec = std::min(slot.backoffSec * options.backoffFactor, options.maxBackoffSec);
  slot.nextAttempt = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
  slot.streamed = false;
}

// Logs each failure of a watch, except the same reason again within logEverySec (counted,
// and the count logged with the next line), so an unreachable cluster is visible at once
// without flooding the log.
void Watcher::Impl::reportFailure(Slot& slot, const std::string& reason, long http) {
  Clock::time_point now = Clock::now();
  double since = std::chrono::duration<double>(now - slot.loggedAt).count();
  if (reason != slot.loggedReason || since >= options.logEverySec) {
    log::warn("cannot watch cluster", {{"cluster", slot.config.name},
                                       {"address", slot.config.server},
                                       {"resource", slot.gvr.resource},
                                       {"reason", reason},
                                       {"failuresNotLogged", slot.unlogged}});
    slot.loggedReason = reason;
    slot.loggedAt = now;
    slot.unlogged = 0;
  } else {
    ++slot.unlogged;
  }
  slot.failing = true;
  if (options.onHealth) options.onHealth({false, slot.config.name, slot.config.server, reason, http});
}

void Watcher::Impl::reportHealthy(Slot& slot) {
  if (!slot.failing) return;
  slot.failing = false;
  slot.loggedReason.clear();
  slot.unlogged = 0;
  log::info("watching cluster again",
            {{"cluster", slot.config.name}, {"address", slot.config.server}, {"resource", slot.gvr.resource}});
  if (options.onHealth) options.onHealth({true, slot.config.name, slot.config.server, "", 200});
}

Watcher::Watcher(WatchOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Watcher::~Watcher() { stop(); }

void Watcher::add(const ClusterConfig& cluster, const GroupVersionResource& gvr, const std::string& ns,
                  const std::string& resumeResourceVersion, WatchCallback callback) {
  add(cluster, gvr, ns, resumeResourceVersion, {}, std::move(callback));
}

void Watcher::add(const ClusterConfig& cluster, const GroupVersionResource& gvr, const std::string& ns,
                  const std::string& resumeResourceVersion, std::map<std::string, std::string> knownObjects,
                  WatchCallback callback) {
  auto slot = std::make_unique<Slot>();
  slot->owner = impl_.get();
  slot->config = cluster;
  slot->gvr = gvr;
  slot->ns = ns;
  slot->callback = std::move(callback);
  slot->lastRv = resumeResourceVersion;
  slot->phase = resumeResourceVersion.empty() ? Phase::kList : Phase::kWatch;
  slot->known.seed(std::move(knownObjects));
  slot->nextAttempt = Clock::now();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->added.push_back(std::move(slot));
  }
  curl_multi_wakeup(impl_->multi);
}

void Watcher::start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->thread.joinable()) return;
  impl_->stopping = false;
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void Watcher::stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    if (!impl_->thread.joinable()) return;
    if (impl_->thread.get_id() == std::this_thread::get_id()) return;  // from a callback: the loop ends itself
    thread = std::move(impl_->thread);
  }
  curl_multi_wakeup(impl_->multi);
  thread.join();
}

}  // namespace spr::k8s
