// SimServer: the local API server. One HTTPS listener serving several named clusters under
// /clusters/<name>, each with its own bearer token and object store, a CA generated at
// start, discovery + OpenAPI v3 so real kubectl works, CRDs with schema validation, watch
// with bookmarks and 410, finalizers, the status subresource, patches, label selectors, an
// openMCP cluster provider (ClusterRequest/AccessRequest on the platform cluster),
// TokenReview/SubjectAccessReview/TokenRequest (sim/cluster_review.cpp), a
// Deployment-availability controller and a fault injector. All methods are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace spr::sim {

struct FaultOptions {
  double errorRate = 0;                 // share of non-watch requests answered 500/503/429 (Retry-After: 1)
  long latencyMs = 0;                   // added to every request
  double watchDropRate = 0;             // chance per second that an open watch connection is closed
  bool expireResourceVersions = false;  // watches resuming from any rv older than the newest get 410
};

struct SimOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 = pick a free one
  std::vector<std::string> clusters = {"onboarding", "platform", "workload"};
  long deploymentReadyDelayMs = 1000;  // a Deployment becomes Available this long after create/update
  long bookmarkIntervalMs = 1000;      // watch bookmarks (when allowWatchBookmarks=true)
  size_t watchWindow = 10000;          // events kept per resource; older rvs get 410 Gone
  FaultOptions faults;
};

class SimServer {
 public:
  // Generates the CA and tokens, binds, and starts serving; returns once it accepts connections.
  [[nodiscard]] static Result<std::unique_ptr<SimServer>> start(const SimOptions& options);
  virtual ~SimServer() = default;  // stops

  virtual int port() const = 0;
  virtual std::string baseUrl() const = 0;  // "https://127.0.0.1:PORT"
  // A kubeconfig with one context (and cluster, user) per cluster, named after it; the
  // current-context is the first cluster. Includes clusters added later (MCPs).
  virtual std::string kubeconfigYaml() const = 0;
  virtual std::vector<std::string> clusterNames() const = 0;
  // Adds a cluster (as the cluster provider does for a ClusterRequest); returns its token.
  virtual std::string addCluster(const std::string& name) = 0;
  virtual void setFaults(const FaultOptions& faults) = 0;
  // Stops accepting, closes watches, joins threads. Idempotent.
  virtual void stop() = 0;
};

}  // namespace spr::sim
