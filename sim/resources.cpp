#include "sim/resources.h"

#include <map>
#include <set>

namespace spr::sim {

using nlohmann::json;

namespace {

ResourceType builtin(std::string group, std::string resource, std::string kind, bool namespaced, bool status,
                     bool generation, std::vector<std::string> shortNames = {}) {
  ResourceType t;
  t.group = std::move(group);
  t.version = "v1";
  t.resource = std::move(resource);
  t.kind = std::move(kind);
  t.singular = t.kind;
  for (auto& c : t.singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  t.namespaced = namespaced;
  t.statusSubresource = status;
  t.hasGeneration = generation;
  t.shortNames = std::move(shortNames);
  return t;
}

ResourceType createOnly(ResourceType t) {
  t.verbs = {"create"};
  return t;
}

json verbs() {
  return json::array({"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"});
}

}  // namespace

std::vector<ResourceType> builtinResources() {
  return {
      builtin("", "namespaces", "Namespace", false, true, false, {"ns"}),
      builtin("", "configmaps", "ConfigMap", true, false, false, {"cm"}),
      builtin("", "secrets", "Secret", true, false, false),
      builtin("", "serviceaccounts", "ServiceAccount", true, false, false, {"sa"}),
      builtin("", "services", "Service", true, true, false, {"svc"}),
      builtin("", "events", "Event", true, false, false, {"ev"}),
      builtin("", "pods", "Pod", true, true, true, {"po"}),
      builtin("", "endpoints", "Endpoints", true, false, false, {"ep"}),
      builtin("", "persistentvolumeclaims", "PersistentVolumeClaim", true, true, false, {"pvc"}),
      builtin("", "nodes", "Node", false, true, false, {"no"}),
      builtin("apps", "deployments", "Deployment", true, true, true, {"deploy"}),
      builtin("apps", "statefulsets", "StatefulSet", true, true, true, {"sts"}),
      builtin("apps", "daemonsets", "DaemonSet", true, true, true, {"ds"}),
      builtin("apps", "replicasets", "ReplicaSet", true, true, true, {"rs"}),
      builtin("batch", "jobs", "Job", true, true, true),
      builtin("coordination.k8s.io", "leases", "Lease", true, false, false),
      builtin("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", false, false, false),
      builtin("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", false, false, false),
      builtin("rbac.authorization.k8s.io", "roles", "Role", true, false, false),
      builtin("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", true, false, false),
      builtin("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", false, true, true,
              {"crd", "crds"}),
      // Create-only review APIs, answered by cluster_review.cpp (nothing is stored).
      createOnly(builtin("authentication.k8s.io", "tokenreviews", "TokenReview", false, false, false)),
      createOnly(builtin("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", false, false, false)),
      createOnly(builtin("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", false, false, false)),
      createOnly(
          builtin("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, false, false)),
  };
}

std::vector<std::pair<std::string, std::string>> crdProblems(const json& crd) {
  std::vector<std::pair<std::string, std::string>> p;
  const json spec = crd.value("spec", json::object());
  if (!spec.is_object()) return {{"spec", "Required value"}};
  const json names = spec.value("names", json::object());
  std::string group = spec.value("group", "");
  std::string plural = names.is_object() ? names.value("plural", "") : "";
  if (group.empty()) p.push_back({"spec.group", "Required value"});
  if (plural.empty()) p.push_back({"spec.names.plural", "Required value"});
  if (!names.is_object() || names.value("kind", "").empty()) p.push_back({"spec.names.kind", "Required value"});
  std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster")
    p.push_back({"spec.scope", "Unsupported value: \"" + scope + "\": supported values: \"Cluster\", \"Namespaced\""});
  const json versions = spec.value("versions", json::array());
  int storage = 0;
  if (!versions.is_array() || versions.empty())
    p.push_back({"spec.versions", "Invalid value: null: must have exactly one version marked as storage version"});
  else
    for (const auto& v : versions)
      if (v.is_object() && v.value("storage", false)) ++storage;
  if (versions.is_array() && !versions.empty() && storage != 1)
    p.push_back({"spec.versions", "Invalid value: must have exactly one version marked as storage version"});
  std::string name = crd.contains("metadata") ? crd["metadata"].value("name", "") : "";
  if (!plural.empty() && !group.empty() && name != plural + "." + group)
    p.push_back({"metadata.name", "Invalid value: \"" + name + "\": must be spec.names.plural+\".\"+spec.group"});
  return p;
}

std::vector<ResourceType> typesFromCrd(const json& crd) {
  std::vector<ResourceType> out;
  if (!crdProblems(crd).empty()) return out;
  const json& spec = crd["spec"];
  const json& names = spec["names"];
  for (const auto& v : spec["versions"]) {
    if (!v.is_object() || !v.value("served", true)) continue;
    ResourceType t;
    t.group = spec["group"];
    t.version = v.value("name", "");
    t.resource = names["plural"];
    t.kind = names["kind"];
    t.singular = names.value("singular", "");
    if (t.singular.empty())
      for (char c : t.kind) t.singular.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    t.namespaced = spec["scope"] == "Namespaced";
    t.custom = true;
    t.crdName = crd["metadata"]["name"];
    if (names.contains("shortNames") && names["shortNames"].is_array())
      t.shortNames = names["shortNames"].get<std::vector<std::string>>();
    if (names.contains("categories") && names["categories"].is_array())
      t.categories = names["categories"].get<std::vector<std::string>>();
    if (v.contains("schema") && v["schema"].is_object()) t.schema = v["schema"].value("openAPIV3Schema", json());
    t.statusSubresource =
        v.contains("subresources") && v["subresources"].is_object() && v["subresources"].contains("status");
    if (!t.version.empty()) out.push_back(std::move(t));
  }
  return out;
}

json discoveryVersion() {
  return {{"major", "1"},
          {"minor", "32"},
          {"emulationMajor", "1"},
          {"emulationMinor", "32"},
          {"gitVersion", "v1.32.0-spr-sim"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2025-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json discoveryCoreVersions() {
  return {{"kind", "APIVersions"},
          {"versions", json::array({"v1"})},
          {"serverAddressByClientCIDRs", json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1"}}})}};
}

json discoveryGroups(const std::vector<ResourceType>& types) {
  std::map<std::string, std::vector<std::string>> versions;  // group -> versions in order seen
  std::vector<std::string> order;
  for (const auto& t : types) {
    if (t.group.empty()) continue;
    auto& vs = versions[t.group];
    if (vs.empty()) order.push_back(t.group);
    bool seen = false;
    for (const auto& v : vs) seen = seen || v == t.version;
    if (!seen) vs.push_back(t.version);
  }
  json groups = json::array();
  for (const auto& g : order) {
    json vs = json::array();
    for (const auto& v : versions[g]) vs.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
    groups.push_back({{"name", g}, {"versions", vs}, {"preferredVersion", vs[0]}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json discoveryResources(const std::string& groupVersion, const std::vector<ResourceType>& types) {
  json resources = json::array();
  for (const auto& t : types) {
    if (t.groupVersion() != groupVersion) continue;
    json r = {{"name", t.resource},
              {"singularName", t.singular},
              {"namespaced", t.namespaced},
              {"kind", t.kind},
              {"verbs", t.verbs.empty() ? verbs() : json(t.verbs)}};
    if (!t.shortNames.empty()) r["shortNames"] = t.shortNames;
    if (!t.categories.empty()) r["categories"] = t.categories;
    resources.push_back(r);
    if (t.statusSubresource)
      resources.push_back({{"name", t.resource + "/status"},
                           {"singularName", ""},
                           {"namespaced", t.namespaced},
                           {"kind", t.kind},
                           {"verbs", json::array({"get", "patch", "update"})}});
  }
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", groupVersion}, {"resources", resources}};
}

}  // namespace spr::sim
