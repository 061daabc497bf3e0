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
// match element by element; scalars must be equal. A Secret's data and stringData values
// compare by their redacted digests (k8s::redactedDigest), so a message never shows one and
// replay, whose tapes hold only digests, decides as the live run did.
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

// ---- Custom CA bundles (ProviderConfig spec.caBundleRef; openMCP's custom CA how-to).
// A provider resolves the bundle once per operation (resolveCaBundle), keeps a copy of it as
// a ConfigMap in each namespace it deploys workloads to (ensureCaBundleCopy; removed when
// the config no longer names one), mounts that copy into every pod template it deploys
// (mountCaBundle) and reports drift when either differs (caBundleCopyDrift, and driftOf of
// the mounted workload). The built-in providers make no outbound TLS calls of their own
// besides the clusters; a provider that does should trust CaBundle::pem in its client.

// The copy's name, the volume's name, and where it is mounted in every container.
inline constexpr const char* kCaBundleCopyName = "ca-bundle";
inline constexpr const char* kCaBundleVolume = "ca-bundle";
inline constexpr const char* kCaBundleMountPath = "/etc/open-control-plane/custom-ca";
// SSL_CERT_DIR of a container the bundle is mounted into: the usual system directories,
// then the mount. (Go reads every file there; OpenSSL wants hashed names, so a workload
// built on OpenSSL should point SSL_CERT_FILE at the mounted file instead.)
inline constexpr const char* kCaBundleCertDirs = "/etc/ssl/certs:/etc/pki/tls/certs:/etc/open-control-plane/custom-ca";
// On the copy: the bundle's SHA-256 (CaBundle::digest), so a changed bundle is drift.
inline constexpr const char* kCaBundleDigestAnnotation = "services.openmcp.cloud/ca-bundle-digest";

// The bundle the ProviderConfig names (scope.caBundle()), nullopt when it names none; a
// missing ConfigMap or key is a user error "CABundleNotFound" whose message names the
// ConfigMap, key and namespace and says how to fix it; other failures are transient.
OpResult resolveCaBundle(ReconcileScope& scope, std::optional<CaBundle>* bundle);

// The copy of `bundle` in namespace `ns`: ConfigMap ca-bundle, data {bundle.key: pem},
// stamped with the digest.
Desired caBundleCopy(const CaBundle& bundle, const std::string& ns);

// Mounts the copy into `podSpec` (a pod template's spec): volume ca-bundle, a read-only
// volumeMount at kCaBundleMountPath in every container and init container, and
// SSL_CERT_DIR (kCaBundleCertDirs, or the container's own SSL_CERT_DIR + the mount). Without
// a bundle it states that none of these may be there (the empty lists as null), so driftOf
// reports a leftover mount and ensure()'s merge patch removes it.
void mountCaBundle(json& podSpec, const std::optional<CaBundle>& bundle);

// Creates or updates the copy in `ns` (exactly the bundle's key, stamped with its digest);
// without a bundle, deletes a copy left from before. Call it before the workloads when
// there is a bundle, after them when there is none (a mounted copy is never missing).
OpResult ensureCaBundleCopy(k8s::Client& client, const std::string& ns, const std::optional<CaBundle>& bundle);

// "" when the copy in `ns` is what ensureCaBundleCopy makes (absent without a bundle);
// else what differs ("ConfigMap ns/ca-bundle is missing", "... holds another CA bundle",
// "... is left over: the ProviderConfig names no caBundleRef"); errors other than NotFound.
Result<std::string> caBundleCopyDrift(k8s::Client& client, const std::string& ns,
                                      const std::optional<CaBundle>& bundle);

// "a, b, c" — for messages that list what is allowed.
std::string joinList(const std::vector<std::string>& items);

// The integer at /spec/<field> (absent → fallback); nullopt when present but not an integer.
std::optional<long> intField(const json& spec, const char* field, long fallback);

}  // namespace spr::providers::kit
