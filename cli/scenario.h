// Scenario: sets up an openMCP-like world on real (or local) clusters for `spr demo`,
// `spr init` and `spr validate`: the provider's CRDs, a ProviderConfig, tenants with an
// MCP ClusterRequest each, end-user requests; and reads the result back. Talks to the
// clusters only through k8s::Client. Not thread-safe; one Scenario per command.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"
#include "common/status.h"
#include "providers/provider.h"

namespace spr::cli {

using nlohmann::json;

// A connected client and the transport it owns.
struct Connection {
  k8s::ClusterConfig config;
  std::unique_ptr<k8s::Transport> transport;
  std::unique_ptr<k8s::Client> client;
};
[[nodiscard]] Result<Connection> connect(const k8s::ClusterConfig& config);

// The onboarding and platform clusters from `--onboarding-kubeconfig` / `--platform-kubeconfig`
// (FILE or FILE#context). Without the platform flag: KUBECONFIG, in-cluster, ~/.kube/config.
// Without the onboarding flag: as openmcp-operator deploys a ServiceProvider, through a
// ClusterRequest (purpose onboarding) + AccessRequest in `accessNamespace` on the platform.
// Flag errors are kInvalidArgument naming the flag.
struct ClusterFlags {
  std::string onboardingKubeconfig, platformKubeconfig, accessNamespace, providerName;
  std::function<bool()> stopRequested;  // ends the wait for onboarding access early (SIGTERM)
};
[[nodiscard]] Status resolveClusters(const ClusterFlags& flags, k8s::ClusterConfig& onboarding,
                                     k8s::ClusterConfig& platform);

extern const k8s::GroupVersionResource kCrdResource;
extern const k8s::GroupVersionResource kNamespaceResource;
extern const k8s::GroupVersionResource kClusterRequestResource;
extern const k8s::GroupVersionResource kDeploymentResource;

// Creates each CRD (or replaces its spec when it exists) and waits until all are Established.
[[nodiscard]] Status installCrds(k8s::Client& client, const std::vector<json>& crds, std::chrono::seconds timeout);
// Creates the object; an existing one is left alone.
[[nodiscard]] Status createIfMissing(k8s::Client& client, const k8s::GroupVersionResource& gvr, const std::string& ns,
                                     const json& object);
[[nodiscard]] Status ensureNamespace(k8s::Client& client, const std::string& name);
// The MCP as openMCP sets it up: the onboarding namespace, platform namespace mcp--<uuid>,
// and the MCP's ClusterRequest (purpose "mcp") named after it.
[[nodiscard]] Status createMcp(k8s::Client& onboarding, k8s::Client& platform, const std::string& ns,
                               const std::string& name);
// The MCP cluster's context name in the local API server's kubeconfig, from the
// ClusterRequest's status.cluster.name (kUnavailable until the cluster provider set it).
[[nodiscard]] Result<std::string> mcpClusterName(k8s::Client& platform, const std::string& ns, const std::string& name);

// The `Ready` condition of an API object (null when absent).
json readyCondition(const json& object);
// Ready=True, phase Ready, for the object's current generation.
bool isReady(const json& object);

// Polls `check` every 100 ms until it returns true or the timeout passes.
bool waitFor(const std::function<bool()>& check, std::chrono::milliseconds timeout);

}  // namespace spr::cli
