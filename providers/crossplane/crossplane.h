// The crossplane provider: deploys Crossplane onto an end user's MCP cluster from a
// `Crossplane` request (crossplane.services.open-control-plane.io/v1alpha1), within what the
// operator's ProviderConfig offers (versions, Crossplane providers). Internal pieces:
// the request → Plan validation, the desired objects, the CRDs. All pure and thread-safe;
// the Provider itself keeps no state between calls.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "providers/kit.h"
#include "providers/provider.h"

namespace spr::providers::crossplane {

using nlohmann::json;

inline constexpr const char* kGroup = "crossplane.services.open-control-plane.io";
inline constexpr const char* kNamespace = "crossplane-system";
inline constexpr const char* kName = "crossplane";
// Labels on what we deploy; the owner labels tell our Provider objects from others.
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedBy = "spr";
inline constexpr const char* kOwnerNameLabel = "crossplane.services.open-control-plane.io/owner-name";
inline constexpr const char* kOwnerNamespaceLabel = "crossplane.services.open-control-plane.io/owner-namespace";

// pkg.crossplane.io/v1 providers, cluster-scoped, on the MCP cluster.
extern const k8s::GroupVersionResource kProviders;

struct RequestedProvider {
  std::string name;
  std::string version;
  std::string package;  // "<package>:<version>"
};

// A validated request: what to deploy.
struct Plan {
  std::string ownerNamespace, ownerName;  // the Crossplane object
  std::string version, image;
  std::vector<RequestedProvider> providers;  // in spec order
};

// Checks the request's spec against the ProviderConfig. User errors: InvalidSpec,
// VersionNotAllowed, ProviderNotAllowed (each listing what is allowed), InvalidProviderConfig.
OpResult makePlan(const json& apiObject, const json& providerConfig, Plan& plan);

// The objects Crossplane needs before Provider objects can exist, in apply order:
// namespace, CRDs, ServiceAccount, ClusterRole, ClusterRoleBinding, Deployment.
std::vector<kit::Desired> baseObjects(const Plan& plan);
// One pkg.crossplane.io Provider per requested provider, labeled with the owner.
std::vector<kit::Desired> providerObjects(const Plan& plan);
// The label selector matching Provider objects that `plan`'s owner created.
std::string ownerSelector(const std::string& ownerNamespace, const std::string& ownerName);
bool ownedBy(const json& object, const std::string& ownerNamespace, const std::string& ownerName);

// CRDs installed on the MCP cluster (Crossplane's own and the DomainServiceAPI's).
std::vector<json> mcpCrds();
std::vector<std::string> mcpCrdNames();
// The CRDs of the Crossplane API (onboarding) and of its ProviderConfig (platform).
std::vector<json> apiCrds();
std::vector<json> configCrds();

// What blocks deleting Crossplane from `mcp`: users' resources of the kinds Crossplane and
// its packages brought (blockers.cpp).
Result<DeletionBlockers> deletionBlockersOn(k8s::Client& mcp);
// The same on the scope's MCP cluster (the Provider's deletionBlockers()).
Result<DeletionBlockers> deletionBlockersOf(ReconcileScope& scope);
// The MCP access rules that check needs (`list` on CRDs and Crossplane's kinds; no wildcard).
json deletionCheckRules();

std::unique_ptr<Provider> makeCrossplaneProvider();

}  // namespace spr::providers::crossplane
