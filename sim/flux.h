// Flux in the local API server, just enough to test what spr writes: the platform cluster
// serves Flux's real CRDs (vendored, sim/crds/flux/), an OCIRepository becomes Ready with an
// artifact for its tag, and a HelmRelease whose OCIRepository exists and whose
// spec.kubeConfig.secretRef holds a kubeconfig the sim accepts is "installed": the objects of
// the chart that matter to spr appear on the target cluster (see sim/flux_chart.cpp), then
// the release is Ready with a history entry for the chart version. Deleting a HelmRelease
// uninstalls (unless suspended) before its finalizer goes. Lenient: no chart is pulled or
// rendered, no CEL rule is evaluated. Also Crossplane's package manager, as lenient: a
// pkg.crossplane.io Provider on a cluster where the chart was installed becomes Installed
// and Healthy, and provider-kubernetes brings its CRDs. Free functions called by the
// Controllers thread only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/controllers.h"

namespace spr::sim {

// Flux's CRDs as YAML (generated from sim/crds/flux/ by CMake).
extern const char* const kFluxHelmReleasesCrdYaml;
extern const char* const kFluxOciRepositoriesCrdYaml;

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
// True when the chart is installed on `cluster` (its Deployment exists).
bool chartInstalled(Cluster& cluster);
// Marks one Provider Installed/Healthy and installs its CRDs; false = retry.
bool reconcileCrossplaneProvider(Cluster& cluster, const nlohmann::json& provider);

}  // namespace flux
}  // namespace spr::sim
