#include "runtime/watch_loop.h"

#include <chrono>

#include "common/log.h"

namespace spr::runtime {

using nlohmann::json;

WatchLoop::WatchLoop(Target target, Callbacks callbacks)
    : target_(std::move(target)),
      callbacks_(std::move(callbacks)),
      key_([](const std::string& ns, const std::string& name) { return ns + "/" + name; }) {}

WatchLoop::~WatchLoop() { stop(); }

Status WatchLoop::start() {
  k8s::WatchOptions options;
  options.onHealth = [this](const k8s::WatchHealth& health) { onHealth(health); };
  watcher_ = std::make_unique<k8s::Watcher>(options);
  watcher_->add(target_.config, target_.gvr, target_.ns, target_.resumeRv,
                [this](const k8s::WatchEvent& event) { onEvent(event); });
  watcher_->start();
  // Resuming: there is no initial list (a 410 makes the Watcher re-list and send SYNCED).
  if (!target_.resumeRv.empty()) markSynced();
  log::info("watch started", {{"cluster", target_.cluster},
                              {"address", target_.config.server},
                              {"resource", target_.gvr.resource},
                              {"resumeResourceVersion", target_.resumeRv}});
  return Status();
}

void WatchLoop::onEvent(const k8s::WatchEvent& event) {
  if (failed_ || stop_) return;
  Status status;
  if (event.type == "SYNCED") {
    if (!listedOnce_) {
      listedOnce_ = true;
      status = callbacks_.listed(seen_);
    }
    if (callbacks_.resynced) callbacks_.resynced();
    markSynced();
  } else if (event.type == "BOOKMARK") {
    callbacks_.bookmark(event.resourceVersion);
  } else if (event.type == "ADDED" || event.type == "MODIFIED" || event.type == "DELETED") {
    const json meta = event.object.value("metadata", json::object());
    std::string key = key_(meta.value("namespace", ""), meta.value("name", ""));
    journal::WatchType type = journal::WatchType::kModified;
    if (event.type == "ADDED") type = journal::WatchType::kAdded;
    if (event.type == "DELETED") type = journal::WatchType::kDeleted;
    if (type == journal::WatchType::kDeleted)
      seen_.erase(key);
    else
      seen_.insert(key);
    std::string rv = event.resourceVersion.empty() ? meta.value("resourceVersion", "") : event.resourceVersion;
    status = callbacks_.event(type, event.object, rv);
  } else {
    int code = event.object.is_object() ? event.object.value("code", 0) : 0;
    std::string message = event.object.is_object() ? event.object.value("message", "") : "";
    log::warn("watch error event", {{"cluster", target_.cluster},
                                    {"address", target_.config.server},
                                    {"type", event.type},
                                    {"code", code},
                                    {"reason", message}});
    if (code == 401 || code == 403)
      status = Status(Code::kUnauthorized, "the " + target_.cluster + " cluster (" + target_.config.server +
                                               ") refused spr's credentials watching " + target_.gvr.resource +
                                               " (HTTP " + std::to_string(code) + "): " + message);
    else if (code == 0 && event.object.is_object() && event.object.value("reason", "") == "InvalidConfig")
      status = Status(Code::kInvalidArgument, "the " + target_.cluster + " cluster: " + message);
  }
  if (!status.isOk()) {
    failed_ = true;
    callbacks_.fatal(status);
  }
}

void WatchLoop::waitSynced(const std::function<bool()>& abort) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!synced_ && !stop_ && !abort()) cv_.wait_for(lock, std::chrono::milliseconds(100));
}

void WatchLoop::onHealth(const k8s::WatchHealth& health) {
  std::lock_guard<std::mutex> lock(mu_);
  if (health.ok) {
    failing_ = false;
    return;
  }
  if (!failing_) failingSince_ = std::chrono::steady_clock::now();
  failing_ = true;
  failingWhy_ = target_.cluster + " cluster (" + health.address + ") " + target_.gvr.resource + ": " + health.reason;
}

std::string WatchLoop::problem(double graceSec) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (failing_) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - failingSince_);
    if (seconds.count() >= graceSec || !synced_)
      return "cannot watch the " + failingWhy_ + " (failing for " + std::to_string(seconds.count()) + "s)";
  }
  if (!synced_)
    return "waiting for the first list of " + target_.gvr.resource + " on the " + target_.cluster + " cluster";
  return "";
}

void WatchLoop::markSynced() {
  std::lock_guard<std::mutex> lock(mu_);
  synced_ = true;
  cv_.notify_all();
}

void WatchLoop::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_.exchange(true)) return;
    cv_.notify_all();
  }
  if (watcher_) watcher_->stop();
}

}  // namespace spr::runtime
