// Flux in the local API server, just enough to test what spr writes: the platform cluster
// serves Flux's real CRDs (vendored, sim/crds/flux/), an OCIRepository becomes Ready with an
// artifact for its tag, and a HelmRelease whose OCIRepository exists and whose
// spec.kubeConfig.secretRef holds a kubeconfig the sim accepts is "installed": the objects of
// the chart that matter to spr appear on the target cluster (see sim/flux_chart.cpp), then
// the release is Ready with a history entry for the chart version. Deleting a HelmRelease
// uninstalls (unless suspended) before its finalizer goes. Lenient: no chart is pulled or
// rendered, no CEL rule is evaluated. Also Crossplane's package manager, as lenient: a
// pkg.crossplane.io Provider on a cluster where the chart was installed becomes Installed
// and Healthy, and provider-kubernetes brings its CRDs. Crossplane's CRDs are its real ones
// (vendored, sim/crds/crossplane/), parsed on first use. Free functions called by the
// Controllers thread only.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/controllers.h"

namespace spr::sim {

// Flux's CRDs as YAML (generated from sim/crds/flux/ by CMake).
extern const char* const kFluxHelmReleasesCrdYaml;
extern const char* const kFluxOciRepositoriesCrdYaml;

// Crossplane's and provider-kubernetes' CRDs as YAML (generated from sim/crds/crossplane/ by
// CMake): `set` is the directory, e.g. "v2.0.8", "v1.20.5", "provider-kubernetes-v1.2.1".
struct EmbeddedCrd {
  const char* set;
  const char* yaml;
};
extern const EmbeddedCrd kCrossplaneCrds[];
extern const std::size_t kCrossplaneCrdCount;

namespace flux {

// The CRDs parsed to JSON (OCIRepository, HelmRelease), as served.
std::vector<nlohmann::json> crds();
// Installs them on `platform`.
void installCrds(Cluster& platform);

// Controllers' part: the HelmReleases of `ns` ("" = all) on the platform cluster, one of them
// when `name` is set. False = retry soon.
bool reconcileHelmReleases(ClusterHost& host, Cluster& platform, const std::string& ns, const std::string& name);
bool reconcileOciRepositories(Cluster& platform, const std::string& ns, const std::string& name);
// pkg.crossplane.io Providers on `cluster` ("" = all).
bool reconcileCrossplaneProviders(Cluster& cluster, const std::string& name);

// sim/flux_chart.cpp: what installing / uninstalling the crossplane chart leaves on `target`.
// `values` are the HelmRelease's spec.values. False when a write failed (retry).
bool installChart(Cluster& target, const std::string& ns, const std::string& chartVersion, const nlohmann::json& values,
                  long revision);
bool uninstallChart(Cluster& target, const std::string& ns);
// The vendored CRDs of one set (see EmbeddedCrd), parsed on first use and kept (thread-safe).
const std::vector<nlohmann::json>& vendoredCrds(const std::string& set);
// The set of Crossplane CRDs a chart version brings: "v1.20.5" for 1.x, else "v2.0.8".
std::string crossplaneCrdSet(const std::string& chartVersion);
// True when the chart is installed on `cluster` (its Deployment exists).
bool chartInstalled(Cluster& cluster);
// Marks one Provider Installed/Healthy and installs its CRDs; false = retry.
bool reconcileCrossplaneProvider(Cluster& cluster, const nlohmann::json& provider);

}  // namespace flux
}  // namespace spr::sim
