// In-process controllers of the sim, reacting to store changes: the openMCP cluster
// provider on the platform cluster (ClusterRequest -> a new virtual cluster, Ready;
// AccessRequest -> a kubeconfig Secret with a fresh token, Granted), Deployment
// availability after a delay, and namespace finalization. One background thread;
// notify() is thread-safe; start()/stop() are called by the owning server only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/cluster.h"

namespace spr::sim {

// What the controllers need from the server that owns the clusters.
class ClusterHost {
 public:
  virtual ~ClusterHost() = default;
  // nullptr if there is no such cluster. Clusters live as long as the host.
  virtual Cluster* findCluster(const std::string& name) = 0;
  virtual std::vector<std::string> clusterNames() const = 0;
  virtual std::string addCluster(const std::string& name) = 0;
  // A kubeconfig (one context, named after the cluster) with a fresh token for `cluster`.
  virtual std::string grantAccess(const std::string& cluster) = 0;
};

class Controllers {
 public:
  Controllers(ClusterHost& host, long deploymentReadyDelayMs) : host_(host), readyDelayMs_(deploymentReadyDelayMs) {}
  ~Controllers() { stop(); }
  Controllers(const Controllers&) = delete;
  Controllers& operator=(const Controllers&) = delete;

  // Installs the ClusterRequest/AccessRequest CRDs on `platform` (if that cluster exists).
  void installProviderCrds(const std::string& platform);
  void start();
  void stop();
  void notify();

 private:
  void run();
  void reconcileAll();
  void reconcileDeployments(Cluster& cluster);
  void reconcileClusterRequests(Cluster& platform);
  void reconcileAccessRequests(Cluster& platform);
  std::string clusterFor(const nlohmann::json& clusterRequest);

  ClusterHost& host_;
  const long readyDelayMs_;
  std::string platform_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = false;    // guarded by mu_
  bool stopping_ = false; // guarded by mu_
  // Deployment "<cluster>/<ns>/<name>/<generation>" -> when that generation was first seen.
  // Touched by the controller thread only.
  std::map<std::string, std::chrono::steady_clock::time_point> seen_;
  bool pending_ = false;  // a deployment waits for its delay (controller thread only)
};

}  // namespace spr::sim
