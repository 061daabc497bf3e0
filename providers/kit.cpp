#include "providers/kit.h"

#include "adapters/k8s/redact.h"

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
  if (desired.is_object() && desired.value("kind", "") == "Secret")
    return differenceAt("", k8s::redactSecretValues(desired), k8s::redactSecretValues(live));
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

namespace spr::providers::kit {

OpResult resolveCaBundle(ReconcileScope& scope, std::optional<CaBundle>* bundle) {
  auto resolved = scope.caBundle();
  if (!resolved) {
    const Status& s = resolved.status();
    if (s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound)
      return OpResult::user("CABundleNotFound", s.message());
    return OpResult::transient("CABundleUnavailable", "reading the CA bundle: " + s.message());
  }
  *bundle = std::move(*resolved);
  return OpResult::success();
}

Desired caBundleCopy(const CaBundle& bundle, const std::string& ns) {
  json meta = {{"name", kCaBundleCopyName},
               {"namespace", ns},
               {"labels", {{"app.kubernetes.io/managed-by", "spr"}}},
               {"annotations", {{kCaBundleDigestAnnotation, bundle.digest}}}};
  return {kConfigMaps,
          {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", meta}, {"data", {{bundle.key, bundle.pem}}}}};
}

namespace {

// An array field of `object`, appended to (null / absent -> a new array).
json& arrayAt(json& object, const char* key) {
  if (!object.contains(key) || !object[key].is_array()) object[key] = json::array();
  return object[key];
}

void mountInto(json& container) {
  arrayAt(container, "volumeMounts")
      .push_back({{"name", kCaBundleVolume}, {"mountPath", kCaBundleMountPath}, {"readOnly", true}});
  json& env = arrayAt(container, "env");
  for (auto& var : env)
    if (var.is_object() && var.value("name", "") == "SSL_CERT_DIR") {
      var["value"] = var.value("value", std::string()) + ":" + kCaBundleMountPath;
      return;
    }
  env.push_back({{"name", "SSL_CERT_DIR"}, {"value", kCaBundleCertDirs}});
}

void nullIfEmpty(json& object, const char* key) {
  if (!object.contains(key) || (object[key].is_array() && object[key].empty())) object[key] = nullptr;
}

}  // namespace

void mountCaBundle(json& podSpec, const std::optional<CaBundle>& bundle) {
  for (const char* list : {"containers", "initContainers"}) {
    if (!podSpec.contains(list) || !podSpec[list].is_array()) continue;
    for (auto& container : podSpec[list]) {
      if (bundle) {
        mountInto(container);
      } else {
        nullIfEmpty(container, "volumeMounts");
        nullIfEmpty(container, "env");
      }
    }
  }
  if (bundle) {
    arrayAt(podSpec, "volumes").push_back({{"name", kCaBundleVolume}, {"configMap", {{"name", kCaBundleCopyName}}}});
  } else {
    nullIfEmpty(podSpec, "volumes");
  }
}

namespace {

Desired copyAt(const std::string& ns) {
  return {kConfigMaps, {{"kind", "ConfigMap"}, {"metadata", {{"name", kCaBundleCopyName}, {"namespace", ns}}}}};
}

// What differs between the live copy and `want`: the digest, or the data's keys or values.
std::optional<std::string> copyDifference(const json& live, const Desired& want) {
  if (auto d = firstDifference(want.object["metadata"]["annotations"],
                               live.value("metadata", json::object()).value("annotations", json())))
    return want.describe() + " holds another CA bundle (" + *d + ")";
  if (live.value("data", json::object()) != want.object["data"])
    return want.describe() + " holds other data than the CA bundle";
  return std::nullopt;
}

}  // namespace

Result<std::string> caBundleCopyDrift(k8s::Client& client, const std::string& ns,
                                      const std::optional<CaBundle>& bundle) {
  const Desired target = bundle ? caBundleCopy(*bundle, ns) : copyAt(ns);
  auto live = client.get(target.gvr, ns, kCaBundleCopyName);
  if (!live && live.status().code() == Code::kNotFound)
    return bundle ? target.describe() + " is missing" : std::string();
  if (!live) return live.status();
  if (!bundle) return target.describe() + " is left over: the ProviderConfig names no caBundleRef";
  return copyDifference(*live, target).value_or("");
}

OpResult ensureCaBundleCopy(k8s::Client& client, const std::string& ns, const std::optional<CaBundle>& bundle) {
  if (!bundle) return removeIfPresent(client, copyAt(ns));
  const Desired want = caBundleCopy(*bundle, ns);
  auto live = client.get(want.gvr, ns, kCaBundleCopyName);
  if (!live && live.status().code() == Code::kNotFound) {
    auto created = client.create(want.gvr, ns, want.object);
    return created ? OpResult::success() : OpResult::fromStatus(created.status(), "creating " + want.describe());
  }
  if (!live) return OpResult::fromStatus(live.status(), "reading " + want.describe());
  if (!copyDifference(*live, want)) return OpResult::success();
  json patch = want.object;
  const json liveData = live->value("data", json::object());
  for (auto it = liveData.begin(); liveData.is_object() && it != liveData.end(); ++it)
    if (!patch["data"].contains(it.key())) patch["data"][it.key()] = nullptr;  // a merge patch drops null keys
  auto patched = client.mergePatch(want.gvr, ns, kCaBundleCopyName, patch);
  return patched ? OpResult::success() : OpResult::fromStatus(patched.status(), "updating " + want.describe());
}

}  // namespace spr::providers::kit
