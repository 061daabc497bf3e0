// Cluster access as openMCP does it: on the platform cluster, a ClusterRequest (the MCP's,
// or one spr creates for a purpose such as "onboarding" or "workload") and an
// AccessRequest referencing it; once the AccessRequest is Granted, its Secret holds a
// kubeconfig. Stateless functions; every call talks to the platform cluster afresh (no
// hidden cache, so replay sees the same requests). Tokens never reach logs or errors.
#pragma once

#include <functional>
#include <string>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"
#include "common/status.h"
#include "providers/provider.h"

namespace spr::runtime {

struct AccessTarget {
  std::string ns;              // platform namespace of both requests (e.g. mcp--<uuid>)
  std::string clusterRequest;  // ClusterRequest name
  std::string accessRequest;   // AccessRequest name
  std::string what;            // "mcp", "workload", "onboarding": for messages
  // The AccessRequest's spec.permissions[0].rules (RBAC PolicyRules). Required: there is
  // no default, so no AccessRequest asks for everything by accident.
  nlohmann::json rules;
};

// What spr itself does on the onboarding cluster, as RBAC PolicyRules for its AccessRequest
// there, the same as deploy/rbac.yaml grants for that cluster: get/list/watch/update/patch
// of the provider's API kind, get/update/patch of its status, update of its finalizers
// (where OwnerReferencesPermissionEnforcement is on), create/patch of core Events; and for
// `spr init`, create of CRDs (Kubernetes cannot limit create by name) and get/update of the
// provider's API CRDs by name. No wildcard, no other kind.
nlohmann::json onboardingAccessRules(const providers::Provider& provider);

// The ClusterRequest must exist already (the MCP's). Creates the AccessRequest if missing;
// target.rules must be a non-empty array (kInternal otherwise, naming the target).
// Not granted yet → kUnavailable naming the AccessRequest.
[[nodiscard]] Result<k8s::ClusterConfig> requestAccess(k8s::Client& platform, const AccessTarget& target);

// While deleting: true when the target's cluster is gone for good, i.e. its ClusterRequest
// does not exist or is being deleted (the MCP was deleted first, or its namespace): what
// was deployed there went with the cluster.
[[nodiscard]] Result<bool> clusterGone(k8s::Client& platform, const AccessTarget& target);

// Deletes the AccessRequest spr created for `target` and the kubeconfig Secret it was
// granted (NotFound counts as deleted; a Secret spr may not delete is left to the
// AccessRequest's owner). Run once a request is gone, so no credentials to a tenant's
// cluster outlive it. Requests go through `platform`, so they are recorded. Returns what
// it did, for the effect's result: {"accessRequest": "ns/name", "secret": "ns/name",
// "secretLeft": "why"} (fields present as they apply; {} when there was no AccessRequest).
// Logs nothing: replay runs it too.
[[nodiscard]] Result<nlohmann::json> releaseAccess(k8s::Client& platform, const AccessTarget& target);

// Like requestAccess, but first creates the ClusterRequest (spec.purpose = purpose) if missing.
[[nodiscard]] Result<k8s::ClusterConfig> ensureClusterAccess(k8s::Client& platform, const AccessTarget& target,
                                                             const std::string& purpose);

// For `spr run` without --onboarding-kubeconfig: ClusterRequest `spr-onboarding-<provider>`
// (purpose onboarding) in `ns` on the platform cluster and an AccessRequest asking for
// `rules` (onboardingAccessRules), waits (up to ~2 min) until granted, or until
// `stopRequested` returns true (kUnavailable, "stopped ...").
[[nodiscard]] Result<k8s::ClusterConfig> onboardingAccess(const k8s::ClusterConfig& platform, const std::string& ns,
                                                          const std::string& providerName, const nlohmann::json& rules,
                                                          const std::function<bool()>& stopRequested = {});

}  // namespace spr::runtime
