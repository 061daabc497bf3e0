// Provider: the interface a service provider implements (the seed's "Functionality"):
// Observe / Create / Update / Delete of one DomainService deployment, given the end
// user's API object and a ReconcileScope. Providers reach clusters only through the
// scope's clients, which the runtime records (replay answers them from the tape).
// A Provider must be stateless between calls: all it knows comes from its arguments.
// Calls for different objects may run concurrently on different threads.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapters/k8s/client.h"
#include "common/status.h"

namespace spr::providers {

using nlohmann::json;

// How an operation failed, which decides what the runtime does next.
enum class ErrorKind {
  kNone,
  kTransient,  // retry with backoff (cluster unreachable, 5xx, not ready yet)
  kUser,       // the end user must change the spec or the operator the config; no retry loop
};

// The outcome of a provider operation. `reason` is a CamelCase condition reason
// (e.g. "VersionNotAllowed"); `message` says what is wrong and how to fix it.
struct OpResult {
  ErrorKind kind = ErrorKind::kNone;
  std::string reason;
  std::string message;

  bool ok() const { return kind == ErrorKind::kNone; }
  static OpResult success() { return {}; }
  static OpResult transient(std::string reason, std::string message) {
    return {ErrorKind::kTransient, std::move(reason), std::move(message)};
  }
  static OpResult user(std::string reason, std::string message) {
    return {ErrorKind::kUser, std::move(reason), std::move(message)};
  }
  // Maps a cluster-call Status to an OpResult: 422 Invalid → user error, the rest → transient.
  static OpResult fromStatus(const Status& status, const std::string& what);
};

// Observe's answer: does the DomainService exist, does it differ from what the spec
// asks (drift), and is it ready for use (e.g. its Deployment is Available).
struct Observation {
  bool exists = false;
  bool drift = false;
  bool ready = true;
  std::string message;  // what differs, or what is not ready yet
};

struct ObserveResult {
  OpResult result;
  Observation observation;
};

// The kinds a provider serves: its ServiceProviderAPI (namespaced, onboarding cluster)
// and its ProviderConfig (cluster-scoped, platform cluster).
struct ProviderKinds {
  k8s::GroupVersionResource api;     // e.g. crossplane.services.open-control-plane.io/v1alpha1 crossplanes
  std::string apiKind;               // "Crossplane"
  k8s::GroupVersionResource config;  // e.g. .../v1alpha1 providerconfigs (namespaced = false)
  std::string configKind;            // "ProviderConfig"
};

// A PEM CA bundle from a ConfigMap, as ReconcileScope::caBundle() resolves it.
struct CaBundle {
  std::string configMapName;  // the ConfigMap in spr's namespace on the platform cluster
  std::string key;            // the data key holding the PEM
  std::string pem;            // the bundle itself (public certificates; not secret)
  std::string digest;         // hex SHA-256 of pem: stamp copies with it to notice changes
};

// One kind of users' resources that blocks a service's deletion: e.g. 2 Object
// (objects.kubernetes.crossplane.io), named "team-a/db", "cfg".
struct DeletionBlocker {
  std::string kind;                // "Object"
  std::string resource;            // "objects.kubernetes.crossplane.io" (what `kubectl delete` takes)
  int64_t count = 0;               // how many exist
  std::vector<std::string> names;  // up to kMaxBlockerNames, "namespace/name" or "name"
};
inline constexpr size_t kMaxBlockerNames = 3;

// What blocks a service's deletion; empty = nothing, deletion proceeds.
struct DeletionBlockers {
  std::vector<DeletionBlocker> kinds;
  bool empty() const { return kinds.empty(); }
  // One line for the DeletionBlocked condition: kinds, counts, a few names, and what to delete.
  std::string message() const;
  json toJson() const;
};

// What a provider operation may use. Owned by the runtime for the duration of one call.
class ReconcileScope {
 public:
  virtual ~ReconcileScope() = default;
  // The resolved ProviderConfig object (cluster-scoped, named after the provider).
  virtual const json& providerConfig() const = 0;
  virtual k8s::Client& onboarding() = 0;
  virtual k8s::Client& platform() = 0;
  // The end user's MCP cluster, reached through a ClusterRequest/AccessRequest on the
  // platform cluster. Not yet granted → kUnavailable (the runtime backs off).
  virtual Result<k8s::Client*> mcp() = 0;
  // The shared workload cluster, reached the same way (ClusterRequest purpose "workload").
  virtual Result<k8s::Client*> workload() = 0;
  // The custom CA bundle the ProviderConfig's `spec.caBundleRef {name, key}` names: a
  // ConfigMap in spr's own namespace (POD_NAMESPACE) on the platform cluster, read through
  // the recorded platform client (so replay answers it from the tape). nullopt when the
  // config sets no caBundleRef; a missing ConfigMap or key is a kUser-class Status
  // (kInvalidArgument) naming both. Providers copy it into the service's namespace and
  // mount it into every workload they deploy (see kit.h).
  virtual Result<std::optional<CaBundle>> caBundle() { return std::optional<CaBundle>{}; }
  // spr's own namespace on the platform cluster (POD_NAMESPACE, `--pod-namespace`), where the
  // operator keeps what a ProviderConfig refers to (CA bundles, discovery ConfigMaps, pull
  // Secrets). The runtime stamps it into the journaled config, so replay reads the same paths.
  virtual std::string ownNamespace() const { return "default"; }
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Short name, as `--provider-name` passes it (e.g. "crossplane").
  virtual std::string name() const = 0;
  virtual ProviderKinds kinds() const = 0;
  // CustomResourceDefinitions of the API (onboarding cluster) and of the ProviderConfig
  // (platform cluster), installed by `spr init`.
  virtual std::vector<json> apiCrds() const = 0;
  virtual std::vector<json> configCrds() const = 0;

  virtual ObserveResult observe(const json& apiObject, ReconcileScope& scope) = 0;
  virtual OpResult create(const json& apiObject, ReconcileScope& scope) = 0;
  virtual OpResult update(const json& apiObject, ReconcileScope& scope) = 0;
  virtual OpResult remove(const json& apiObject, ReconcileScope& scope) = 0;

  // What blocks deleting this service: resources users created from the kinds the service
  // brought (on the MCP). The runtime asks before every Delete (a recorded CheckDeletion
  // effect) and deletes nothing while the answer is not empty. Read-only. An error Status
  // is a failed check (kInvalid/kInvalidArgument: user error; else transient), never "clear".
  // Default: nothing blocks (a provider whose service brings no kinds of its own).
  virtual Result<DeletionBlockers> deletionBlockers(const json& apiObject, ReconcileScope& scope) {
    (void)apiObject;
    (void)scope;
    return DeletionBlockers{};
  }

  // What spr's AccessRequest for an end user's MCP cluster asks for: RBAC PolicyRules
  // (apiGroups, resources, verbs, optional resourceNames), exactly what observe / create /
  // update / remove use there. The default asks for everything (`*`): a provider that
  // deploys onto the MCP should override it; the built-in ones do, with no wildcard.
  virtual json mcpAccessRules() const {
    return json::array({{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}}});
  }
  // What spr's AccessRequest for the shared workload cluster (ReconcileScope::workload())
  // asks for, as mcpAccessRules() for the MCP. The default is what the built-in providers
  // use there: nothing. A provider that calls workload() must override it; while the list is
  // empty, workload() fails (kInternal) instead of asking for more than was declared.
  virtual json workloadAccessRules() const { return json::array(); }
};

// The providers built into this binary, by name ("crossplane", "template").
// main() and tests create them; there is no global registry.
std::unique_ptr<Provider> makeProvider(const std::string& name);
std::vector<std::string> providerNames();

}  // namespace spr::providers
