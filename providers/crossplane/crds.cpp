// The CRDs of the crossplane provider: its API and ProviderConfig (installed by `spr init`,
// mirrored in deploy/crds/) and those it installs on each MCP cluster.
#include "providers/crd_builder.h"
#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

namespace {

json apiSchema() {
  json schema = schemaJson(R"({
    "type": "object",
    "description": "A Crossplane installation on the MCP cluster of the same name and namespace.",
    "required": ["spec"],
    "properties": {
      "spec": {
        "type": "object",
        "required": ["version"],
        "properties": {
          "version": {"type": "string", "minLength": 1,
            "description": "The Crossplane version to install; one the ProviderConfig's crossplaneDiscoveryName ConfigMap publishes."},
          "providers": {
            "type": "array",
            "description": "Crossplane providers to install; each must be published by a discovery ConfigMap the ProviderConfig selects.",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
              "type": "object",
              "required": ["name", "version"],
              "properties": {
                "name": {"type": "string", "minLength": 1,
                  "description": "A provider the discovery publishes, e.g. provider-kubernetes."},
                "version": {"type": "string", "minLength": 1, "description": "e.g. v1.2.1"},
                "packagePullPolicy": {"type": "string", "enum": ["Always", "Never", "IfNotPresent"],
                  "description": "Pull policy for the provider package."},
                "packagePullSecrets": {"type": "array", "description": "Secrets on the MCP for private registries.",
                  "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "runtimeConfigRef": {"type": "object", "description": "A DeploymentRuntimeConfig on the MCP.",
                  "required": ["name"],
                  "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                 "name": {"type": "string"}}}
              }
            }
          }
        }
      }
    }
  })");
  schema["properties"]["status"] = apiStatusSchema();
  return schema;
}

json configSchema() {
  // openMCP's service-provider-crossplane ProviderConfig (commit in docs/API.md), plus spr's
  // pollInterval. caBundleRef is openMCP's own (a ConfigMapKeySelector).
  return schemaJson(R"({
    "type": "object",
    "description": "ProviderConfig is the Schema for the providerconfigs API",
    "required": ["spec"],
    "properties": {
      "spec": {
        "type": "object",
        "description": "spec defines the desired state of ProviderConfig",
        "required": ["crossplaneDiscoveryName", "providerDiscoverySelector"],
        "properties": {
          "crossplaneDiscoveryName": {"type": "string",
            "description": "The name of the discovery resource (currently a ConfigMap) on the platform cluster that publishes the available Crossplane versions."},
          "providerDiscoverySelector": {
            "type": "object",
            "x-kubernetes-map-type": "atomic",
            "description": "Selects the discovery resources (currently ConfigMaps) on the platform cluster that publish the available Crossplane provider versions.",
            "properties": {
              "matchExpressions": {
                "type": "array",
                "x-kubernetes-list-type": "atomic",
                "items": {
                  "type": "object",
                  "required": ["key", "operator"],
                  "properties": {
                    "key": {"type": "string"},
                    "operator": {"type": "string"},
                    "values": {"type": "array", "x-kubernetes-list-type": "atomic", "items": {"type": "string"}}
                  }
                }
              },
              "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}
            }
          },
          "providers": {
            "type": "object",
            "description": "Configuration shared by all Crossplane providers installed via the service provider.",
            "properties": {
              "imagePullSecretRefs": {
                "type": "array",
                "description": "Image pull secrets for pulling Crossplane provider images from private OCI registries.",
                "items": {
                  "type": "object",
                  "x-kubernetes-map-type": "atomic",
                  "properties": {"name": {"type": "string", "default": ""}}
                }
              }
            }
          },
          "caBundleRef": {
            "type": "object",
            "x-kubernetes-map-type": "atomic",
            "required": ["key"],
            "description": "A ConfigMap (in the service provider's namespace) holding a CA bundle; installed on the MCP and configured for Crossplane (registryCaBundleConfig).",
            "properties": {
              "key": {"type": "string", "description": "The key to select."},
              "name": {"type": "string", "default": ""},
              "optional": {"type": "boolean"}
            }
          },
          "pollInterval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$",
            "description": "spr extension: how often a Ready request is observed for drift, e.g. 10s, 1m30s. Default 1m."}
        }
      },
      "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    }
  })");
}

}  // namespace

std::vector<json> apiCrds() {
  CrdSpec s{kGroup, "v1alpha1", "Crossplane", "crossplanes", "crossplane", true, apiSchema()};
  s.printerColumns = schemaJson(R"([
    {"name": "Version", "type": "string", "jsonPath": ".spec.version"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"}
  ])");
  s.categories = json::array({"openmcp", "serviceprovider"});
  return {buildCrd(s)};
}

std::vector<json> configCrds() {
  CrdSpec s{kGroup, "v1alpha1", "ProviderConfig", "providerconfigs", "providerconfig", false, configSchema()};
  s.printerColumns = schemaJson(R"([{"name": "Poll", "type": "string", "jsonPath": ".spec.pollInterval"}])");
  return {buildCrd(s)};
}

}  // namespace spr::providers::crossplane
