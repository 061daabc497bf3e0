// In-process controllers of the sim, reacting to store changes: openMCP's MCP controller
// (ManagedControlPlane on onboarding -> namespace mcp--<uuid> and a ClusterRequest on
// platform; Ready once that is), the openMCP cluster provider on the platform cluster
// (ClusterRequest -> a new virtual cluster, Ready; AccessRequest -> a kubeconfig Secret with
// a fresh token, Granted), Deployment availability after a delay, namespace
// finalization, and Flux and Crossplane's package manager (leniently, see sim/flux.h).
// Edge-triggered: each write names what it touched and only that is looked at again (a
// full pass at start and for writes that touch "anything"). One background thread;
// notify() is thread-safe; start()/stop() are called by the owning server only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
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
  // A kubeconfig (one context, named after the cluster) with a fresh token for `cluster`,
  // allowed what `permissions` (an AccessRequest's spec.permissions) grant, as `user`; the
  // token also goes to *token (may be null), for revokeAccess.
  virtual std::string grantAccess(const std::string& cluster, const nlohmann::json& permissions,
                                  const std::string& user, std::string* token) = 0;
  // The token stops working (its AccessRequest is gone).
  virtual void revokeAccess(const std::string& cluster, const std::string& token) = 0;
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
  // A write happened. The controllers reconcile what it touched (one object when the
  // change names one), so their cost does not grow with the number of clusters/objects.
  void notify(const Change& change);

 private:
  using Changes = std::set<Change>;
  void run();
  // Reconciles `changes`; returns those to retry soon (waiting for a delay or a conflict).
  Changes reconcile(const Changes& changes);
  // One change; false = retry it soon.
  bool reconcileOne(const Change& change);
  bool reconcileWholeCluster(Cluster& cluster);
  bool reconcileDeployment(Cluster& cluster, const nlohmann::json& deployment);
  bool reconcileClusterRequest(Cluster& platform, const nlohmann::json& clusterRequest);
  bool reconcileAccessRequest(Cluster& platform, const nlohmann::json& accessRequest);
  // Revokes the token granted for AccessRequest "<ns>/<name>" (if any); revokeGone, those
  // of every AccessRequest no longer on `platform`.
  void revokeGrant(const std::string& key);
  void revokeGone(Cluster& platform);
  // A GET of `path` on `cluster`, then `reconcile` of the object or of each listed item.
  bool forEach(Cluster& cluster, const std::string& path, const std::function<bool(const nlohmann::json&)>& reconcile);
  // controllers_mcp.cpp
  bool reconcileMcp(Cluster& onboarding, Cluster& platform, const nlohmann::json& mcp);
  bool reconcileMcpOf(Cluster& onboarding, Cluster& platform, const nlohmann::json& clusterRequest);
  bool mcpChanged(Cluster& onboarding, Cluster& platform, const std::string& ns, const std::string& name);
  bool reconcileMcps(Cluster& onboarding, Cluster& platform);
  bool sweepOrphanClusterRequests(Cluster& platform, const std::set<std::string>& liveMcps);
  std::string clusterFor(const nlohmann::json& clusterRequest);

  ClusterHost& host_;
  const long readyDelayMs_;
  std::string platform_;    // set before start(); "" = no cluster provider
  std::string onboarding_;  // set before start(); "" = no MCP controller
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  Changes dirty_;          // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  // AccessRequest "<ns>/<name>" -> the cluster and token granted for it, revoked once the
  // AccessRequest is gone. Touched by the controller thread only.
  std::map<std::string, std::pair<std::string, std::string>> granted_;
  // Deployment "<cluster>/<ns>/<name>/<generation>" -> when that generation was first seen.
  // Touched by the controller thread only.
  std::map<std::string, std::chrono::steady_clock::time_point> seen_;
};

}  // namespace spr::sim
