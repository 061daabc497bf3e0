// In-process controllers of the sim, reacting to store changes: openMCP's MCP controller
// (ManagedControlPlane on onboarding -> namespace mcp--<uuid> and a ClusterRequest on
// platform; Ready once that is), the openMCP cluster provider on the platform cluster
// (ClusterRequest -> a new virtual cluster, Ready; AccessRequest -> a kubeconfig Secret with
// a fresh token, Granted), Deployment availability after a delay, and namespace
// finalization. One background thread; notify() is thread-safe; start()/stop() are called
// by the owning server only.
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

// One request to `c` as the controllers make them (JSON body unless null).
ApiResponse callCluster(Cluster& c, const std::string& method, const std::string& path,
                        const nlohmann::json& body = nullptr);
// A namespaced CRD with one served version, a schema that keeps any field, and /status.
nlohmann::json permissiveCrd(const std::string& group, const std::string& version, const std::string& kind,
                             const std::string& plural, const std::vector<std::string>& shortNames = {});

class Controllers {
 public:
  Controllers(ClusterHost& host, long deploymentReadyDelayMs) : host_(host), readyDelayMs_(deploymentReadyDelayMs) {}
  ~Controllers() { stop(); }
  Controllers(const Controllers&) = delete;
  Controllers& operator=(const Controllers&) = delete;

  // Installs the ClusterRequest/AccessRequest CRDs on `platform` (if that cluster exists).
  void installProviderCrds(const std::string& platform);
  // Installs the ManagedControlPlane CRD (core.openmcp.cloud/v2alpha1) on `onboarding`.
  void installMcpCrd(const std::string& onboarding);
  void start();
  void stop();
  void notify();

 private:
  void run();
  void reconcileAll();
  void reconcileDeployments(Cluster& cluster);
  void reconcileClusterRequests(Cluster& platform);
  void reconcileAccessRequests(Cluster& platform);
  // controllers_mcp.cpp
  void reconcileMcps(Cluster& onboarding, Cluster& platform);
  void reconcileMcp(Cluster& onboarding, Cluster& platform, const nlohmann::json& mcp);
  void sweepOrphanClusterRequests(Cluster& platform, const std::vector<std::string>& liveMcps);
  std::string clusterFor(const nlohmann::json& clusterRequest);

  ClusterHost& host_;
  const long readyDelayMs_;
  std::string platform_;    // set before start(); "" = no cluster provider
  std::string onboarding_;  // set before start(); "" = no MCP controller
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
