// The crossplane provider: installs Crossplane onto an end user's MCP cluster from a
// `Crossplane` request (crossplane.services.open-control-plane.io/v1alpha1) as openMCP's
// service-provider-crossplane does: the official chart through Flux (an OCIRepository and a
// HelmRelease on the platform cluster, in the tenant's namespace, targeting the MCP through
// a kubeconfig Secret), then pkg.crossplane.io Provider objects on the MCP. What is offered
// comes from openMCP's ProviderConfig and its release-channel discovery ConfigMaps.
// Internal pieces: discovery → Offer, request → Plan, Plan → desired objects, the CRDs.
// All pure and thread-safe; the Provider itself keeps no state between calls.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "providers/kit.h"
#include "providers/provider.h"

namespace spr::providers::crossplane {

using nlohmann::json;

inline constexpr const char* kGroup = "crossplane.services.open-control-plane.io";
inline constexpr const char* kNamespace = "crossplane-system";  // on the MCP (the chart's target namespace)
inline constexpr const char* kName = "crossplane";              // release, OCIRepository and HelmRelease name
inline constexpr const char* kKubeconfigSecret = "crossplane-kubeconfig";  // platform, tenant namespace
inline constexpr const char* kKubeconfigKey = "kubeconfig";
inline constexpr const char* kCaBundleConfigMap = "crossplane-ca-bundle";  // MCP, crossplane-system
// Labels on what we deploy; the owner labels tell our Provider objects from others.
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedBy = "spr";
inline constexpr const char* kOwnerNameLabel = "crossplane.services.open-control-plane.io/owner-name";
inline constexpr const char* kOwnerNamespaceLabel = "crossplane.services.open-control-plane.io/owner-namespace";
// Annotation on copies (kubeconfig, pull secrets, CA bundle): the digest of the source.
inline constexpr const char* kSourceDigestAnnotation = "crossplane.services.open-control-plane.io/source-digest";

// pkg.crossplane.io/v1 providers, cluster-scoped, on the MCP cluster.
extern const k8s::GroupVersionResource kProviders;
// Flux: source.toolkit.fluxcd.io/v1 ocirepositories, helm.toolkit.fluxcd.io/v2 helmreleases.
extern const k8s::GroupVersionResource kOciRepositories;
extern const k8s::GroupVersionResource kHelmReleases;
extern const k8s::GroupVersionResource kSecrets;
extern const k8s::GroupVersionResource kAccessRequests;

// One discovered Crossplane release: the chart (an OCI artifact) and the image to run.
struct ChartOffer {
  std::string version;     // the component version a request names, e.g. "v2.0.8" or "1.20.5"
  std::string chartRef;    // "ghcr.io/.../charts/crossplane:2.0.8@sha256:..." (helmChart resource)
  std::string imageRef;    // "ghcr.io/.../images/crossplane:v2.0.8@sha256:..." ("" = the chart's default)
  std::string pullSecret;  // component pullSecret ("" = none)
};

// One discovered Crossplane provider package version.
struct ProviderOffer {
  std::string name;     // short component name, e.g. "provider-kubernetes"
  std::string version;  // e.g. "v1.2.1"
  std::string package;  // the ociImage reference, verbatim (tag and digest included)
  std::string pullSecret;
};

// What the operator offers: openMCP's ProviderConfig resolved against its discovery ConfigMaps.
struct Offer {
  std::string discoveryNamespace;  // where the ConfigMaps were read (spr's own namespace)
  std::vector<ChartOffer> crossplane;
  std::vector<ProviderOffer> providers;
  std::vector<std::string> pullSecrets;  // spec.providers.imagePullSecretRefs[].name
};

// Checks the ProviderConfig's shape. A config in spr's earlier shape (spec.versions,
// spec.providers.availableProviders) is refused naming the new fields.
OpResult checkConfig(const json& providerConfig);
// Parses one discovery ConfigMap's data.components (YAML) into `out`; a user error naming
// the ConfigMap when it does not parse.
OpResult parseDiscovery(const json& configMap, std::vector<json>& out);
// The label selector string (as a list's ?labelSelector=) of a metav1.LabelSelector;
// "" for an empty selector (which, as in openMCP, selects no provider sources).
std::string selectorString(const json& labelSelector);
// Reads the discovery ConfigMaps on the platform cluster (named crossplaneDiscoveryName, and
// those providerDiscoverySelector matches) in `ns`, and builds the Offer.
OpResult readOffer(k8s::Client& platform, const json& providerConfig, const std::string& ns, Offer& offer);
// Builds the Offer from already-read components (tests, and readOffer itself).
void addComponents(const std::vector<json>& components, bool crossplane, Offer& offer);

struct RequestedProvider {
  std::string name;
  std::string version;
  std::string package;  // the discovered reference
  std::string packagePullPolicy;
  std::vector<std::string> pullSecrets;
  json runtimeConfigRef;  // null or {apiVersion?, kind?, name}
};

// A validated request: what to deploy.
struct Plan {
  std::string ownerNamespace, ownerName;                      // the Crossplane object
  std::string tenantNamespace;                                // mcp--<uuid> on the platform cluster
  std::string version;                                        // as requested
  std::string chartUrl, chartTag, chartDigest, chartVersion;  // oci://..., tag, sha256:..., Helm version
  std::string imageRepository, imageTag;                      // "" = chart default
  std::vector<std::string> chartPullSecrets;                  // OCIRepository secretRef / values.imagePullSecrets
  std::vector<std::string> providerPullSecrets;
  std::optional<CaBundle> caBundle;
  // Copies of the operator's pull Secrets (chart and provider images), by name:
  // {"type": ..., "data": {...}}, read from spr's namespace on the platform cluster.
  json pullSecretData = json::object();
  std::vector<RequestedProvider> providers;  // in spec order
};

// Checks the request's spec against the Offer. User errors: InvalidSpec, VersionNotAllowed,
// ProviderNotAllowed (each listing what is allowed).
OpResult makePlan(const json& apiObject, const Offer& offer, Plan& plan);
// Splits "host/repo:tag@sha256:..." into repository, tag and digest.
void splitReference(const std::string& ref, std::string& repository, std::string& tag, std::string& digest);

// Platform cluster, tenant namespace, in apply order: kubeconfig Secret (given its data),
// OCIRepository (certSecretRef when a CA bundle is configured), HelmRelease.
kit::Desired kubeconfigSecret(const Plan& plan, const std::string& kubeconfigBase64);
kit::Desired ociRepository(const Plan& plan);
kit::Desired helmRelease(const Plan& plan);
// The CA bundle as the Secret (`ca.crt`) the OCIRepository's certSecretRef names, so Flux's
// source-controller trusts the registry: crossplane-ca-bundle in the tenant namespace.
kit::Desired caCertSecret(const Plan& plan);
// A copy of the operator's pull Secret `name` (from plan.pullSecretData) into `ns`.
kit::Desired pullSecretCopy(const Plan& plan, const std::string& name, const std::string& ns);
// MCP cluster before the release: the namespace, the pull Secret copies and the CA bundle
// copy (when configured).
std::vector<kit::Desired> mcpBaseObjects(const Plan& plan);
// One pkg.crossplane.io Provider per requested provider, labeled with the owner.
std::vector<kit::Desired> providerObjects(const Plan& plan);
// The label selector matching objects that `plan`'s owner created.
std::string ownerSelector(const std::string& ownerNamespace, const std::string& ownerName);
bool ownedBy(const json& object, const std::string& ownerNamespace, const std::string& ownerName);

// Flux's verdict on a HelmRelease: Ready=True for the current generation, and the last
// release (status.history[0]) deployed with `chartVersion`. "" = ready, else why not.
std::string releaseNotReady(const json& helmRelease, const std::string& chartVersion);
// A Provider is Healthy (and Installed). "" = healthy, else why not.
std::string providerNotHealthy(const json& provider);

// The CRDs of the Crossplane API (onboarding) and of its ProviderConfig (platform).
// `object[name]` when `object` is an object holding it, else null; the same as a string
// ("" when absent or not a string). Defined in plan.cpp.
const json& field(const json& object, const char* name);
std::string str(const json& object, const char* name);

std::vector<json> apiCrds();
std::vector<json> configCrds();

// What blocks deleting Crossplane from `mcp`: users' resources of the kinds Crossplane and
// its packages brought (blockers.cpp).
Result<DeletionBlockers> deletionBlockersOn(k8s::Client& mcp);
// The same on the scope's MCP cluster (the Provider's deletionBlockers()).
Result<DeletionBlockers> deletionBlockersOf(ReconcileScope& scope);
// The MCP access rules that check needs (`list` on CRDs and Crossplane's kinds; no wildcard).
json deletionCheckRules();
// The example offer (demo, validate, tests): a ProviderConfig named "crossplane" and its
// discovery ConfigMaps (namespace "default"): Crossplane v2.0.8 and 1.20.5,
// provider-kubernetes v1.2.1, as openMCP's own sample and e2e fixtures publish them.
json exampleProviderConfig(const std::string& pollInterval);
std::vector<json> exampleDiscovery();

// ---- Cleanup (cleanup.cpp).
// Deletes every CRD of a *.crossplane.io group on the MCP (Helm keeps CRDs).
OpResult removeCrossplaneCrds(k8s::Client& mcp);
// Deletes Secret ns/name when this request made it (its owner labels); gone counts as done.
OpResult removeOwnedSecret(k8s::Client& client, const Plan& plan, const std::string& ns, const std::string& name);
// The Secrets an OCIRepository's spec names (secretRef, certSecretRef), in that order.
std::vector<std::string> secretsNamedBy(const json& repository);
// Deletes the copies the live OCIRepository names that this request made.
OpResult removeRepositorySecrets(k8s::Client& platform, const Plan& plan);
// Deletes this request's copies in crossplane-system on the MCP that `plan` no longer has.
OpResult removeDroppedMcpCopies(k8s::Client& mcp, const Plan& plan);

std::unique_ptr<Provider> makeCrossplaneProvider();

}  // namespace spr::providers::crossplane
