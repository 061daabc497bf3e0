// Leader election with a coordination.k8s.io/v1 Lease on the platform cluster
// (lease 15 s / renew deadline 10 s / retry 2 s by default), holderIdentity
// "<hostname>_<random>". Losing the lease calls onLost at once. Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"
#include "common/status.h"
#include "runtime/operator.h"

namespace spr::runtime {

class LeaderElector {
 public:
  struct Config {
    k8s::ClusterConfig platform;
    std::string ns, name;
    double leaseDurationSec = 15, renewDeadlineSec = 10, retryPeriodSec = 2;
    Clock* clock = nullptr;  // must outlive the elector
  };
  explicit LeaderElector(Config config);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Blocks until this instance holds the Lease (ok) or stop() (kUnavailable).
  [[nodiscard]] Status acquire();
  // Starts renewing; `lost` runs (on the renew thread) when renewal fails past the deadline.
  void onLost(std::function<void()> lost);
  bool leading() const { return leading_; }
  void stop();
  // Gives the Lease up (clears holderIdentity) if held.
  void release();
  const std::string& identity() const { return identity_; }

 private:
  [[nodiscard]] Status tryAcquireOrRenew();
  [[nodiscard]] Status createLease();
  [[nodiscard]] Status takeOrRenew(nlohmann::json lease);
  int durationSeconds() const { return std::max(1, static_cast<int>(config_.leaseDurationSec)); }
  void renewLoop();

  Config config_;
  std::string identity_;
  std::unique_ptr<k8s::Transport> transport_;  // outlives client_; used by the elector's threads only
  std::unique_ptr<k8s::Client> client_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stop_{false};
  // Set by stop(): client_'s calls in flight end at once (k8s::CurlOptions::abort).
  const std::shared_ptr<std::atomic<bool>> abort_ = std::make_shared<std::atomic<bool>>(false);
  std::function<void()> lost_;
  std::string observedRecord_;                          // guarded by mu_
  std::chrono::steady_clock::time_point observedAt_{};  // guarded by mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread renewer_;
};

}  // namespace spr::runtime
