#include "providers/kit.h"

namespace spr::providers::kit {

const k8s::GroupVersionResource kNamespaces{"", "v1", "namespaces", false};
const k8s::GroupVersionResource kServiceAccounts{"", "v1", "serviceaccounts", true};
const k8s::GroupVersionResource kConfigMaps{"", "v1", "configmaps", true};
const k8s::GroupVersionResource kDeployments{"apps", "v1", "deployments", true};
const k8s::GroupVersionResource kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", false};
const k8s::GroupVersionResource kClusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false};
const k8s::GroupVersionResource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};

std::string Desired::ns() const {
  return gvr.namespaced ? object["metadata"].value("namespace", std::string()) : std::string();
}

std::string Desired::name() const { return object["metadata"].value("name", std::string()); }

std::string Desired::describe() const {
  std::string kind = object.value("kind", gvr.resource);
  return kind + " " + (ns().empty() ? name() : ns() + "/" + name());
}

namespace {

std::string shortValue(const json& value) {
  if (value.is_null()) return "missing";
  std::string s = value.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

std::optional<std::string> differenceAt(const std::string& path, const json& desired, const json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) return path + " is " + shortValue(live) + ", want an object";
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      json liveValue = live.contains(it.key()) ? live[it.key()] : json();
      auto d = differenceAt(path.empty() ? it.key() : path + "." + it.key(), it.value(), liveValue);
      if (d) return d;
    }
    return std::nullopt;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size())
      return path + " has " + (live.is_array() ? std::to_string(live.size()) : std::string("no")) + " entries, want " +
             std::to_string(desired.size());
    for (size_t i = 0; i < desired.size(); ++i) {
      auto d = differenceAt(path + "[" + std::to_string(i) + "]", desired[i], live[i]);
      if (d) return d;
    }
    return std::nullopt;
  }
  if (desired != live) return path + " is " + shortValue(live) + ", want " + shortValue(desired);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> firstDifference(const json& desired, const json& live) {
  return differenceAt("", desired, live);
}

Result<std::string> driftOf(k8s::Client& client, const Desired& desired) {
  auto live = client.get(desired.gvr, desired.ns(), desired.name());
  if (!live) return live.status();
  auto d = firstDifference(desired.object, *live);
  return d ? desired.describe() + ": " + *d : std::string();
}

OpResult ensure(k8s::Client& client, const Desired& desired) {
  auto live = client.get(desired.gvr, desired.ns(), desired.name());
  if (!live && live.status().code() == Code::kNotFound) {
    auto created = client.create(desired.gvr, desired.ns(), desired.object);
    if (!created) return OpResult::fromStatus(created.status(), "creating " + desired.describe());
    return OpResult::success();
  }
  if (!live) return OpResult::fromStatus(live.status(), "reading " + desired.describe());
  if (!firstDifference(desired.object, *live)) return OpResult::success();
  auto patched = client.mergePatch(desired.gvr, desired.ns(), desired.name(), desired.object);
  if (!patched) return OpResult::fromStatus(patched.status(), "updating " + desired.describe());
  return OpResult::success();
}

OpResult removeIfPresent(k8s::Client& client, const Desired& desired) {
  Status s = client.remove(desired.gvr, desired.ns(), desired.name());
  if (s.isOk() || s.code() == Code::kNotFound) return OpResult::success();
  return OpResult::fromStatus(s, "deleting " + desired.describe());
}

namespace {

bool hasTrueCondition(const json& object, const char* type) {
  if (!object.is_object() || !object.contains("status") || !object["status"].is_object()) return false;
  const json& conditions = object["status"].value("conditions", json::array());
  if (!conditions.is_array()) return false;
  for (const auto& c : conditions)
    if (c.is_object() && c.value("type", "") == type && c.value("status", "") == "True") return true;
  return false;
}

}  // namespace

bool crdEstablished(const json& crd) { return hasTrueCondition(crd, "Established"); }

bool deploymentAvailable(const json& deployment) { return hasTrueCondition(deployment, "Available"); }

OpResult waitEstablished(k8s::Client& client, const std::vector<std::string>& crdNames) {
  for (const auto& name : crdNames) {
    auto crd = client.get(kCrds, "", name);
    if (!crd) return OpResult::fromStatus(crd.status(), "reading CustomResourceDefinition " + name);
    if (!crdEstablished(*crd))
      return OpResult::transient("CrdNotEstablished", "CustomResourceDefinition " + name +
                                                          " is not Established yet; objects of its kind are "
                                                          "created once the API server serves it");
  }
  return OpResult::success();
}

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "(none)" : out;
}

std::optional<long> intField(const json& spec, const char* field, long fallback) {
  if (!spec.is_object() || !spec.contains(field)) return fallback;
  const json& v = spec[field];
  if (!v.is_number_integer()) return std::nullopt;
  return v.get<long>();
}

}  // namespace spr::providers::kit
