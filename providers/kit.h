// Helpers every provider uses to reach a declared state on a cluster: well-known
// resources, "does the live object still carry what we set" (drift), idempotent
// ensure/remove, and readiness checks (CRD Established, Deployment Available).
// Pure functions over a k8s::Client; thread-safe when the Client is. Each function makes
// the same requests in the same order for the same answers (replay depends on it).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapters/k8s/client.h"
#include "providers/provider.h"

namespace spr::providers::kit {

using nlohmann::json;

// Built-in resources providers deploy.
extern const k8s::GroupVersionResource kNamespaces;
extern const k8s::GroupVersionResource kServiceAccounts;
extern const k8s::GroupVersionResource kConfigMaps;
extern const k8s::GroupVersionResource kDeployments;
extern const k8s::GroupVersionResource kClusterRoles;
extern const k8s::GroupVersionResource kClusterRoleBindings;
extern const k8s::GroupVersionResource kCrds;

// One object a provider wants on a cluster.
struct Desired {
  k8s::GroupVersionResource gvr;
  json object;  // full manifest; metadata.namespace set for namespaced resources

  std::string ns() const;
  std::string name() const;
  // "Deployment crossplane-system/crossplane", for messages.
  std::string describe() const;
};

// The first field where `live` does not carry what `desired` sets, as "spec.replicas is 3,
// want 1"; nullopt when every field of `desired` has its value in `live`. Objects compare
// as subsets (the server adds defaults and status); arrays must have the same length and
// match element by element; scalars must be equal.
std::optional<std::string> firstDifference(const json& desired, const json& live);

// Compares `desired` with the live object (GET). Returns the drift message, "" when the
// live object matches, or an error (NotFound included) for the caller to classify.
Result<std::string> driftOf(k8s::Client& client, const Desired& desired);

// Makes the live object match `desired`: GET, then POST when missing or merge-PATCH the
// fields we own when they differ. No request beyond the GET when nothing differs.
OpResult ensure(k8s::Client& client, const Desired& desired);

// DELETE, with NotFound counted as done.
OpResult removeIfPresent(k8s::Client& client, const Desired& desired);

// True when a CustomResourceDefinition object has condition Established=True.
bool crdEstablished(const json& crd);
// True when a Deployment object has condition Available=True.
bool deploymentAvailable(const json& deployment);

// GETs each named CRD; a missing or not yet Established one is a transient error
// ("CrdNotEstablished") naming it. Used before creating objects of those kinds.
OpResult waitEstablished(k8s::Client& client, const std::vector<std::string>& crdNames);

// "a, b, c" — for messages that list what is allowed.
std::string joinList(const std::vector<std::string>& items);

// The integer at /spec/<field> (absent → fallback); nullopt when present but not an integer.
std::optional<long> intField(const json& spec, const char* field, long fallback);

}  // namespace spr::providers::kit
