// The example offer `spr demo`, `spr validate` and the tests use: openMCP's ProviderConfig
// shape with its discovery ConfigMaps (deploy/providerconfig-crossplane.yaml holds the same).
// Versions and references are those of openMCP's own sample and e2e fixtures
// (tests/fixtures/openmcp/crossplane/).
#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

namespace {

json component(const std::string& name, const std::string& version, const json& resources) {
  return {
      {"name", "github.com/openmcp-project/releasechannel/" + name}, {"version", version}, {"resources", resources}};
}

json resource(const std::string& name, const std::string& type, const std::string& version, const std::string& ref) {
  return {{"name", name},
          {"type", type},
          {"version", version},
          {"access", {{"type", "ociArtifact"}, {"imageReference", ref}}}};
}

// data.components as the YAML text openMCP's ConfigMaps carry (JSON is YAML).
json discoveryConfigMap(const std::string& name, const json& components, bool provider) {
  json meta = {{"name", name}, {"namespace", "default"}};
  if (provider) meta["labels"] = {{"crossplane.services.open-control-plane.io/discovery", "provider"}};
  return {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", meta}, {"data", {{"components", components.dump(2)}}}};
}

}  // namespace

json exampleProviderConfig(const std::string& pollInterval) {
  return {{"apiVersion", std::string(kGroup) + "/v1alpha1"},
          {"kind", "ProviderConfig"},
          {"metadata", {{"name", "crossplane"}}},
          {"spec",
           {{"pollInterval", pollInterval},
            {"crossplaneDiscoveryName", "crossplane-discovery"},
            {"providerDiscoverySelector",
             {{"matchLabels", {{"crossplane.services.open-control-plane.io/discovery", "provider"}}}}}}}};
}

std::vector<json> exampleDiscovery() {
  json crossplane = json::array(
      {component("crossplane", "v2.0.8",
                 json::array({resource("crossplane", "helmChart", "v2.0.8",
                                       "ghcr.io/openmcp-project/openmcp/charts/crossplane:2.0.8@sha256:"
                                       "5fd4b4a82463c3433ccdd4d3e7ea54e1621f0cb7b928559ce62b52e2b4706b2b"),
                              resource("image-crossplane", "ociImage", "v2.0.8",
                                       "ghcr.io/openmcp-project/openmcp/images/crossplane:v2.0.8@sha256:"
                                       "9ada05a4a8a6e0886ca5c4aa758a972ff3bae55a07d3ec54ccbe79067f56c214")})),
       component(
           "crossplane", "1.20.5",
           json::array({resource("crossplane", "helmChart", "1.20.5",
                                 "ghcr.io/openmcp-project/service-provider-crossplane/e2e/crossplane:1.20.5")}))});
  json kubernetes =
      json::array({component("provider-kubernetes", "v1.2.1",
                             json::array({resource("provider-kubernetes", "ociImage", "v1.2.1",
                                                   "xpkg.upbound.io/upbound/provider-kubernetes:v1.2.1")}))});
  return {discoveryConfigMap("crossplane-discovery", crossplane, false),
          discoveryConfigMap("provider-kubernetes-discovery", kubernetes, true)};
}

}  // namespace spr::providers::crossplane
