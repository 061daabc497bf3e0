// WatchLoop: one list+watch of a resource on one cluster (a k8s::Watcher, its own
// thread), resuming from a journaled resourceVersion (the Watcher re-lists on 410), and
// reporting each event, the first completed list and each bookmark through callbacks
// (which journal them). Thread-safe: start/stop/synced from any thread; callbacks run on
// the watcher's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"
#include "adapters/k8s/watch.h"
#include "common/status.h"
#include "core/journal/record.h"

namespace spr::runtime {

class WatchLoop {
 public:
  struct Target {
    std::string cluster;  // "onboarding" | "platform"
    k8s::ClusterConfig config;
    k8s::GroupVersionResource gvr;
    std::string ns;        // "" = all namespaces / cluster-scoped
    std::string resumeRv;  // "" = start with a list
  };
  struct Callbacks {
    // An ADDED/MODIFIED/DELETED event. A non-ok Status (journal failure) stops the loop.
    std::function<Status(journal::WatchType, const nlohmann::json&, const std::string&)> event;
    // After the first complete list of this process: the keys (keyFunction(ns, name)) of
    // every object it held, so objects deleted while spr was down can be found.
    std::function<Status(const std::set<std::string>&)> listed;
    std::function<void(const std::string&)> bookmark;
    std::function<void(const Status&)> fatal;  // journal failure, 401/403
    // After every complete (re-)list, e.g. after 410 Gone: a new watch begins. Optional.
    std::function<void()> resynced{};
  };
  WatchLoop(Target target, Callbacks callbacks);
  ~WatchLoop();
  WatchLoop(const WatchLoop&) = delete;
  WatchLoop& operator=(const WatchLoop&) = delete;

  void setKeyFunction(std::function<std::string(const std::string&, const std::string&)> key) { key_ = std::move(key); }
  [[nodiscard]] Status start();
  // Blocks until the first list (or resumed watch) is in place, stop(), or abort() is true
  // (polled every 100 ms).
  void waitSynced(const std::function<bool()>& abort);
  bool synced() const { return synced_; }
  // Why this watch is not serving, for /readyz: "" when it is; else it has not listed yet, or
  // its requests have been failing for longer than graceSec ("platform cluster
  // (https://...) unreachable for 7s: connection refused ..."). Recovers by itself.
  std::string problem(double graceSec) const;
  void stop();

 private:
  void onEvent(const k8s::WatchEvent& event);
  void markSynced();
  void onHealth(const k8s::WatchHealth& health);

  Target target_;
  Callbacks callbacks_;
  std::function<std::string(const std::string&, const std::string&)> key_;
  std::unique_ptr<k8s::Watcher> watcher_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> failed_{false};  // a callback failed: ignore further events
  bool listedOnce_ = false;          // watcher thread only
  std::set<std::string> seen_;       // watcher thread only: keys delivered since start
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool failing_ = false;                                // guarded by mu_: the last list/watch request failed ...
  std::chrono::steady_clock::time_point failingSince_;  // guarded by mu_: ... since then,
  std::string failingWhy_;                              // guarded by mu_: ... and why (address and reason)
};

}  // namespace spr::runtime
