// Custom CA bundles (ProviderConfig `spec.caBundleRef {name, key}`, openMCP's custom CA
// how-to): reading the reference, resolving it against the platform cluster for an effect,
// and the stamps the reconciler puts on the journaled copy of the ProviderConfig so that a
// changed bundle (or a `reconcile` request) changes the config's hash the fold sees.
// Pure functions, thread-safe (fetchCaBundle, which reaches a cluster: ca_bundle_fetch.h).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace spr::runtime {

// Annotations spr sets on its journaled copy of the ProviderConfig, never on the cluster.
// The bundle's stamp: "" (no caBundleRef), "missing" (ConfigMap or key absent), or
// "sha256:<hex>"; spr's namespace (where the ConfigMap, and any discovery, is read from); the count of `reconcile`
// requests on the ProviderConfig. configSeenOf (core/fold) hashes them with the spec.
inline constexpr const char* kStampCaBundle = "spr.openmcp.cloud/ca-bundle";
inline constexpr const char* kStampCaNamespace = "spr.openmcp.cloud/ca-bundle-namespace";
inline constexpr const char* kStampReconcileEpoch = "spr.openmcp.cloud/reconcile-epoch";

struct CaBundleRef {
  std::string name, key;
};

// The config's spec.caBundleRef, when it names both a ConfigMap and a key; else nullopt.
std::optional<CaBundleRef> caBundleRefOf(const nlohmann::json& config);
// The openmcp.cloud/operation annotation of an object ("" when none).
std::string operationOf(const nlohmann::json& object);
// The stamp for `ref` given the ConfigMaps of spr's namespace (name -> data).
std::string caBundleStamp(const std::optional<CaBundleRef>& ref, const std::map<std::string, nlohmann::json>& data);
// `config` with the stamps set (an empty stamp or a zero epoch is left out, so a config
// with neither hashes as before stamps existed).
nlohmann::json stampConfig(nlohmann::json config, const std::string& caStamp, const std::string& ns, uint64_t epoch);
// spr's namespace as stamped into a journaled config (set whenever it is not "default",
// so replay reads ConfigMaps from the same paths as the run it replays), else `fallback`.
std::string namespaceOf(const nlohmann::json& config, const std::string& fallback);
// The stamps of a journaled config (restart reads them back).
std::string caStampOf(const nlohmann::json& config);
uint64_t reconcileEpochOf(const nlohmann::json& config);
std::string sha256Hex(const std::string& text);

}  // namespace spr::runtime
