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
            "description": "Crossplane version; one of the ProviderConfig's spec.versions[].version."},
          "providers": {
            "type": "array",
            "description": "Crossplane providers to install; each must be offered by the ProviderConfig.",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
              "type": "object",
              "required": ["name", "version"],
              "properties": {
                "name": {"type": "string", "minLength": 1, "description": "e.g. provider-kubernetes"},
                "version": {"type": "string", "minLength": 1, "description": "e.g. v0.15.0"}
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
  return schemaJson(R"({
    "type": "object",
    "description": "The offer: Crossplane versions and providers end users may install. Named crossplane.",
    "required": ["spec"],
    "properties": {
      "spec": {
        "type": "object",
        "required": ["versions"],
        "properties": {
          "pollInterval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$",
            "description": "How often a Ready request is observed for drift, e.g. 10s, 1m30s. Default 1m."},
          "versions": {
            "type": "array",
            "minItems": 1,
            "description": "The Crossplane versions offered, each with its image.",
            "items": {
              "type": "object",
              "required": ["version", "image"],
              "properties": {
                "version": {"type": "string", "minLength": 1, "description": "e.g. 1.20.0"},
                "image": {"type": "string", "minLength": 1,
                  "description": "e.g. xpkg.upbound.io/crossplane/crossplane:v1.20.0"}
              }
            }
          },
          "providers": {
            "type": "object",
            "properties": {
              "availableProviders": {
                "type": "array",
                "description": "Crossplane providers end users may install, with their versions.",
                "items": {
                  "type": "object",
                  "required": ["name", "package", "versions"],
                  "properties": {
                    "name": {"type": "string", "minLength": 1, "description": "e.g. provider-kubernetes"},
                    "package": {"type": "string", "minLength": 1,
                      "description": "OCI package without tag"},
                    "versions": {"type": "array", "items": {"type": "string"}, "description": "e.g. [v0.15.0]"}
                  }
                }
              }
            }
          }
        }
      },
      "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    }
  })");
}

// Crossplane's package CRDs carry far larger schemas upstream; these keep the fields spr
// sets and let the rest through, which is what a cluster without Crossplane's own
// CRD installer needs for the objects to be stored.
json packageSchema(const char* what) {
  json schema = schemaJson(R"({
    "type": "object",
    "properties": {
      "spec": {
        "type": "object",
        "required": ["package"],
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
          "package": {"type": "string", "minLength": 1},
          "packagePullPolicy": {"type": "string", "enum": ["Always", "Never", "IfNotPresent"]},
          "revisionActivationPolicy": {"type": "string", "enum": ["Automatic", "Manual"]}
        }
      },
      "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    }
  })");
  schema["description"] = what;
  return schema;
}

json objectSchema() {
  return schemaJson(R"({
    "type": "object",
    "description": "A Kubernetes object managed by provider-kubernetes (the seed's DomainServiceAPI).",
    "properties": {
      "spec": {
        "type": "object",
        "required": ["forProvider"],
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
          "forProvider": {
            "type": "object",
            "required": ["manifest"],
            "properties": {
              "manifest": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
          },
          "providerConfigRef": {"type": "object", "properties": {"name": {"type": "string"}}}
        }
      },
      "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    }
  })");
}

json packageColumns() {
  return schemaJson(R"([
    {"name": "Installed", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Installed')].status"},
    {"name": "Healthy", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Healthy')].status"},
    {"name": "Package", "type": "string", "jsonPath": ".spec.package"}
  ])");
}

json managedLabels() { return {{kManagedByLabel, kManagedBy}}; }

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

std::vector<json> mcpCrds() {
  CrdSpec provider{"pkg.crossplane.io",
                   "v1",
                   "Provider",
                   "providers",
                   "provider",
                   false,
                   packageSchema("A Crossplane provider package installed on this cluster.")};
  CrdSpec configuration{"pkg.crossplane.io",
                        "v1",
                        "Configuration",
                        "configurations",
                        "configuration",
                        false,
                        packageSchema("A Crossplane configuration package installed on this cluster.")};
  CrdSpec object{"kubernetes.crossplane.io", "v1alpha2", "Object", "objects", "object", false, objectSchema()};
  for (CrdSpec* s : {&provider, &configuration, &object}) s->labels = managedLabels();
  provider.printerColumns = configuration.printerColumns = packageColumns();
  provider.categories = configuration.categories = json::array({"crossplane", "pkg"});
  object.categories = json::array({"crossplane", "managed", "kubernetes"});
  return {buildCrd(provider), buildCrd(configuration), buildCrd(object)};
}

std::vector<std::string> mcpCrdNames() {
  return {"providers.pkg.crossplane.io", "configurations.pkg.crossplane.io", "objects.kubernetes.crossplane.io"};
}

}  // namespace spr::providers::crossplane
