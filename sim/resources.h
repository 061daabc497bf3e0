// The resource types a simulated cluster serves: the built-in ones spr and kubectl need
// (namespaces, configmaps, secrets, deployments, leases, RBAC, CRDs, ...) and those that
// CustomResourceDefinitions register. Plus the discovery documents built from them.
// ResourceType is a plain value; the functions are pure and thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spr::sim {

struct ResourceType {
  std::string group;  // "" = core
  std::string version;
  std::string resource;  // plural
  std::string kind;
  std::string singular;
  bool namespaced = true;
  bool statusSubresource = false;
  bool hasGeneration = true;  // metadata.generation kept (false for configmaps, secrets, ...)
  bool custom = false;        // registered by a CRD
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::vector<std::string> verbs;  // in discovery; empty = every verb of a stored resource
  nlohmann::json schema;           // openAPIV3Schema of a custom resource (null: none / permissive)
  std::string crdName;             // the CRD that registered it

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string groupVersion() const { return apiVersion(); }
  // Key of the store collection: "<group>/<resource>" (version-independent).
  std::string key() const { return group + "/" + resource; }
};

std::vector<ResourceType> builtinResources();
// The CRD object's resource types (one per served version). Empty when the spec is unusable.
std::vector<ResourceType> typesFromCrd(const nlohmann::json& crd);
// Checks what kube-apiserver checks before accepting a CRD: group, names.plural/kind,
// scope, at least one version with exactly one storage version, and name ==
// "<plural>.<group>". Returns the error messages (field: message), empty when valid.
std::vector<std::pair<std::string, std::string>> crdProblems(const nlohmann::json& crd);

nlohmann::json discoveryVersion();                                       // GET /version
nlohmann::json discoveryCoreVersions();                                  // GET /api
nlohmann::json discoveryGroups(const std::vector<ResourceType>& types);  // GET /apis
nlohmann::json discoveryResources(const std::string& groupVersion,       // GET /api/v1, /apis/g/v
                                  const std::vector<ResourceType>& types);

}  // namespace spr::sim
