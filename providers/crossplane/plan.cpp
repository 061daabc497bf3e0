// From a Crossplane request and the ProviderConfig to a Plan, and from a Plan to the
// objects on the MCP cluster.
#include <set>

#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

const k8s::GroupVersionResource kProviders{"pkg.crossplane.io", "v1", "providers", false};

namespace {

const json& field(const json& object, const char* name) {
  static const json kNull;  // immutable; shared by every caller
  return object.is_object() && object.contains(name) ? object[name] : kNull;
}

std::string str(const json& object, const char* name) {
  const json& v = field(object, name);
  return v.is_string() ? v.get<std::string>() : std::string();
}

OpResult badConfig(const std::string& what) {
  return OpResult::user("InvalidProviderConfig",
                        "ProviderConfig \"crossplane\": " + what + "; the operator must fix the ProviderConfig");
}

OpResult resolveVersion(const json& spec, const json& config, Plan& plan) {
  const json& versions = field(field(config, "spec"), "versions");
  if (!versions.is_array() || versions.empty()) return badConfig("spec.versions is empty");
  std::vector<std::string> allowed;
  for (const auto& v : versions) {
    if (str(v, "version").empty() || str(v, "image").empty())
      return badConfig("every spec.versions entry needs version and image");
    allowed.push_back(str(v, "version"));
    if (str(v, "version") == str(spec, "version")) plan.image = str(v, "image");
  }
  plan.version = str(spec, "version");
  if (plan.version.empty())
    return OpResult::user("InvalidSpec", "spec.version is required; allowed: " + kit::joinList(allowed));
  if (plan.image.empty())
    return OpResult::user("VersionNotAllowed",
                          "spec.version \"" + plan.version + "\" is not offered; allowed: " + kit::joinList(allowed));
  return OpResult::success();
}

// "provider-kubernetes (v0.15.0)" entries for ProviderNotAllowed messages.
std::vector<std::string> offered(const json& available) {
  std::vector<std::string> out;
  for (const auto& p : available) {
    std::vector<std::string> versions;
    for (const auto& v : field(p, "versions"))
      if (v.is_string()) versions.push_back(v.get<std::string>());
    out.push_back(str(p, "name") + " (" + kit::joinList(versions) + ")");
  }
  return out;
}

OpResult resolveProvider(const json& wanted, const json& available, Plan& plan) {
  std::string name = str(wanted, "name"), version = str(wanted, "version");
  if (name.empty() || version.empty())
    return OpResult::user("InvalidSpec", "every spec.providers entry needs name and version; allowed: " +
                                             kit::joinList(offered(available)));
  for (const auto& p : available) {
    if (str(p, "name") != name) continue;
    if (str(p, "package").empty()) return badConfig("availableProviders entry \"" + name + "\" has no package");
    for (const auto& v : field(p, "versions")) {
      if (v.is_string() && v.get<std::string>() == version) {
        plan.providers.push_back({name, version, str(p, "package") + ":" + version});
        return OpResult::success();
      }
    }
  }
  return OpResult::user("ProviderNotAllowed", "spec.providers: \"" + name + "\" version \"" + version +
                                                  "\" is not offered; allowed: " + kit::joinList(offered(available)));
}

}  // namespace

OpResult makePlan(const json& apiObject, const json& providerConfig, Plan& plan) {
  plan = Plan{};
  plan.ownerNamespace = str(field(apiObject, "metadata"), "namespace");
  plan.ownerName = str(field(apiObject, "metadata"), "name");
  const json& spec = field(apiObject, "spec");
  OpResult r = resolveVersion(spec, providerConfig, plan);
  if (!r.ok()) return r;
  const json& wanted = field(spec, "providers");
  if (wanted.is_null()) return OpResult::success();
  if (!wanted.is_array()) return OpResult::user("InvalidSpec", "spec.providers must be a list of {name, version}");
  json available = field(field(field(providerConfig, "spec"), "providers"), "availableProviders");
  if (!available.is_array()) available = json::array();
  std::set<std::string> seen;
  for (const auto& w : wanted) {
    if (!seen.insert(str(w, "name")).second)
      return OpResult::user("InvalidSpec", "spec.providers names \"" + str(w, "name") + "\" twice; list it once");
    r = resolveProvider(w, available, plan);
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

std::string ownerSelector(const std::string& ownerNamespace, const std::string& ownerName) {
  return std::string(kOwnerNamespaceLabel) + "=" + ownerNamespace + "," + kOwnerNameLabel + "=" + ownerName;
}

bool ownedBy(const json& object, const std::string& ownerNamespace, const std::string& ownerName) {
  const json& labels = field(field(object, "metadata"), "labels");
  return str(labels, kOwnerNamespaceLabel) == ownerNamespace && str(labels, kOwnerNameLabel) == ownerName;
}

namespace {

json labels(const Plan& plan) {
  return {{"app.kubernetes.io/name", kName},
          {kManagedByLabel, kManagedBy},
          {kOwnerNamespaceLabel, plan.ownerNamespace},
          {kOwnerNameLabel, plan.ownerName}};
}

json meta(const Plan& plan, const std::string& name, bool namespaced) {
  json m = {{"name", name}, {"labels", labels(plan)}};
  if (namespaced) m["namespace"] = kNamespace;
  return m;
}

json clusterRoleRules() {
  return json::parse(R"([
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["*"]},
    {"apiGroups": ["pkg.crossplane.io", "apiextensions.crossplane.io", "kubernetes.crossplane.io"],
     "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["secrets", "configmaps", "serviceaccounts", "services", "events"],
     "verbs": ["*"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}
  ])");
}

json deployment(const Plan& plan) {
  json container = {{"name", kName},
                    {"image", plan.image},
                    {"args", json::array({"core", "start"})},
                    {"ports", json::array({{{"name", "metrics"}, {"containerPort", 8080}}})}};
  json metadata = meta(plan, kName, true);
  metadata["labels"]["app.kubernetes.io/version"] = plan.version;
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", metadata},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"app", kName}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", kName}, {"app.kubernetes.io/version", plan.version}}}}},
              {"spec", {{"serviceAccountName", kName}, {"containers", json::array({container})}}}}}}}};
}

}  // namespace

std::vector<kit::Desired> baseObjects(const Plan& plan) {
  std::vector<kit::Desired> out;
  out.push_back(
      {kit::kNamespaces, {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", meta(plan, kNamespace, false)}}});
  for (const auto& crd : mcpCrds()) out.push_back({kit::kCrds, crd});
  out.push_back({kit::kServiceAccounts,
                 {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", meta(plan, kName, true)}}});
  out.push_back({kit::kClusterRoles,
                 {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "ClusterRole"},
                  {"metadata", meta(plan, kName, false)},
                  {"rules", clusterRoleRules()}}});
  out.push_back(
      {kit::kClusterRoleBindings,
       {{"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "ClusterRoleBinding"},
        {"metadata", meta(plan, kName, false)},
        {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", kName}}},
        {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", kName}, {"namespace", kNamespace}}})}}});
  out.push_back({kit::kDeployments, deployment(plan)});
  return out;
}

std::vector<kit::Desired> providerObjects(const Plan& plan) {
  std::vector<kit::Desired> out;
  for (const auto& p : plan.providers) {
    json m = meta(plan, p.name, false);
    m["labels"]["app.kubernetes.io/name"] = p.name;
    m["labels"]["app.kubernetes.io/version"] = p.version;
    out.push_back({kProviders,
                   {{"apiVersion", "pkg.crossplane.io/v1"},
                    {"kind", "Provider"},
                    {"metadata", m},
                    {"spec", {{"package", p.package}}}}});
  }
  return out;
}

}  // namespace spr::providers::crossplane
