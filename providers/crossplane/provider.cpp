// The crossplane Provider's operations. Every operation makes its requests in a fixed
// order (the plan's order, then the server's list order), so replay sees the same calls.
#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

namespace {

bool isNotFound(const Status& s) { return s.code() == Code::kNotFound; }

std::string appendMessage(const std::string& all, const std::string& one) {
  return all.empty() ? one : all + "; " + one;
}

// Provider objects on the MCP cluster; none when the providers CRD is not there (yet).
Result<json> listProviders(k8s::Client& mcp) {
  auto list = mcp.list(kProviders, "");
  if (!list && isNotFound(list.status())) return json::array();
  if (!list) return list.status();
  return (*list)["items"];
}

// What differs between the live Provider objects and the plan ("" = nothing).
std::string providerDrift(const Plan& plan, const json& live) {
  std::string drift;
  for (const auto& d : providerObjects(plan)) {
    const json* found = nullptr;
    for (const auto& item : live)
      if (item["metadata"].value("name", "") == d.name()) found = &item;
    if (!found) {
      drift = appendMessage(drift, d.describe() + " is missing");
    } else if (auto diff = kit::firstDifference(d.object, *found)) {
      drift = appendMessage(drift, d.describe() + ": " + *diff);
    }
  }
  for (const auto& item : live) {
    std::string name = item["metadata"].value("name", "");
    bool wanted = false;
    for (const auto& p : plan.providers) wanted = wanted || p.name == name;
    if (!wanted && ownedBy(item, plan.ownerNamespace, plan.ownerName))
      drift = appendMessage(drift, "Provider " + name + " is no longer requested");
  }
  return drift;
}

// Deletes the Provider objects this request created that `keep` does not list.
OpResult removeUnwanted(k8s::Client& mcp, const Plan& plan, const std::vector<RequestedProvider>& keep) {
  auto live = listProviders(mcp);
  if (!live) return OpResult::fromStatus(live.status(), "listing Provider objects");
  for (const auto& item : *live) {
    std::string name = item["metadata"].value("name", "");
    bool wanted = false;
    for (const auto& p : keep) wanted = wanted || p.name == name;
    if (wanted || !ownedBy(item, plan.ownerNamespace, plan.ownerName)) continue;
    OpResult r = kit::removeIfPresent(mcp, {kProviders, {{"kind", "Provider"}, {"metadata", {{"name", name}}}}});
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

Result<k8s::Client*> mcpClient(ReconcileScope& scope) { return scope.mcp(); }

Plan ownerOnly(const json& apiObject) {
  Plan plan;
  json m = apiObject.is_object() ? apiObject.value("metadata", json::object()) : json::object();
  plan.ownerNamespace = m.value("namespace", "");
  plan.ownerName = m.value("name", "");
  return plan;
}

class CrossplaneProvider : public Provider {
 public:
  std::string name() const override { return "crossplane"; }
  ProviderKinds kinds() const override {
    return {{kGroup, "v1alpha1", "crossplanes", true},
            "Crossplane",
            {kGroup, "v1alpha1", "providerconfigs", false},
            "ProviderConfig"};
  }
  std::vector<json> apiCrds() const override { return crossplane::apiCrds(); }
  std::vector<json> configCrds() const override { return crossplane::configCrds(); }

  ObserveResult observe(const json& apiObject, ReconcileScope& scope) override;
  OpResult create(const json& apiObject, ReconcileScope& scope) override { return apply(apiObject, scope); }
  OpResult update(const json& apiObject, ReconcileScope& scope) override { return apply(apiObject, scope); }
  OpResult remove(const json& apiObject, ReconcileScope& scope) override;
  Result<DeletionBlockers> deletionBlockers(const json&, ReconcileScope& s) override { return deletionBlockersOf(s); }
  json mcpAccessRules() const override;

 private:
  // Create and Update are one idempotent operation: bring every piece to the plan.
  OpResult apply(const json& apiObject, ReconcileScope& scope);
  Observation compare(k8s::Client& mcp, const Plan& plan, const json& deployment, Status& error);
};

ObserveResult CrossplaneProvider::observe(const json& apiObject, ReconcileScope& scope) {
  ObserveResult out;
  // A request being deleted is only asked "is it gone?": its spec may be one the config
  // no longer allows, which must not block deletion.
  bool deleting = apiObject.contains("metadata") && apiObject["metadata"].contains("deletionTimestamp");
  Plan plan = ownerOnly(apiObject);
  if (!deleting) {
    out.result = makePlan(apiObject, scope.providerConfig(), plan);
    if (!out.result.ok()) return out;
  }
  auto mcp = mcpClient(scope);
  if (!mcp) return {OpResult::fromStatus(mcp.status(), "reaching the MCP cluster"), {}};
  auto ns = (*mcp)->get(kit::kNamespaces, "", kNamespace);
  if (!ns && isNotFound(ns.status())) {
    out.observation = {false, false, false, std::string("namespace ") + kNamespace + " does not exist"};
    return out;
  }
  if (!ns) return {OpResult::fromStatus(ns.status(), "observing Crossplane on the MCP cluster"), {}};
  if (deleting) {  // gone only once the namespace (and all in it) is gone
    out.observation = {true, false, false, std::string("namespace ") + kNamespace + " is still being deleted"};
    return out;
  }
  auto deployment = (*mcp)->get(kit::kDeployments, kNamespace, kName);
  if (!deployment && isNotFound(deployment.status())) {
    out.observation = {false, false, false, std::string("Deployment ") + kNamespace + "/" + kName + " does not exist"};
    return out;
  }
  if (!deployment) return {OpResult::fromStatus(deployment.status(), "observing Crossplane on the MCP cluster"), {}};
  Status error;
  out.observation = compare(**mcp, plan, *deployment, error);
  if (!error.isOk()) out.result = OpResult::fromStatus(error, "observing Crossplane on the MCP cluster");
  return out;
}

Observation CrossplaneProvider::compare(k8s::Client& mcp, const Plan& plan, const json& deployment, Status& error) {
  Observation o{true, false, kit::deploymentAvailable(deployment), ""};
  std::string drift;
  for (const auto& d : baseObjects(plan)) {
    if (d.gvr.resource == "deployments") {
      if (auto diff = kit::firstDifference(d.object, deployment))
        drift = appendMessage(drift, d.describe() + ": " + *diff);
      continue;
    }
    auto r = kit::driftOf(mcp, d);
    if (!r && isNotFound(r.status())) {
      drift = appendMessage(drift, d.describe() + " is missing");
    } else if (!r) {
      error = r.status();
      return o;
    } else if (!r->empty()) {
      drift = appendMessage(drift, *r);
    }
  }
  auto live = listProviders(mcp);
  if (!live) {
    error = live.status();
    return o;
  }
  drift = appendMessage(drift, providerDrift(plan, *live));
  o.drift = !drift.empty();
  o.message = o.drift ? drift : (o.ready ? "" : "Deployment crossplane-system/crossplane is not Available yet");
  return o;
}

OpResult CrossplaneProvider::apply(const json& apiObject, ReconcileScope& scope) {
  Plan plan;
  OpResult r = makePlan(apiObject, scope.providerConfig(), plan);
  if (!r.ok()) return r;
  auto mcp = mcpClient(scope);
  if (!mcp) return OpResult::fromStatus(mcp.status(), "reaching the MCP cluster");
  for (const auto& d : baseObjects(plan)) {
    r = kit::ensure(**mcp, d);
    if (!r.ok()) return r;
  }
  // Provider objects need their CRD served; until then this is a transient error and the
  // runtime comes back (Observe will report the missing Providers as drift).
  r = kit::waitEstablished(**mcp, mcpCrdNames());
  if (!r.ok()) return r;
  for (const auto& d : providerObjects(plan)) {
    r = kit::ensure(**mcp, d);
    if (!r.ok()) return r;
  }
  return removeUnwanted(**mcp, plan, plan.providers);
}

// What Observe/Create/Update/Delete do on the MCP: get, create, merge-patch and delete the
// objects of plan.cpp's baseObjects() and providerObjects() (Provider objects also listed,
// to remove unwanted ones). Crossplane's own ClusterRole grants more than spr holds, so
// creating it needs `escalate` and binding it `bind`, both only on that ClusterRole.
json CrossplaneProvider::mcpAccessRules() const {
  const json verbs = {"get", "create", "patch", "delete"};
  json rules = json::array({
      {{"apiGroups", {""}}, {"resources", {"namespaces", "serviceaccounts"}}, {"verbs", verbs}},
      {{"apiGroups", {"apiextensions.k8s.io"}}, {"resources", {"customresourcedefinitions"}}, {"verbs", verbs}},
      {{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", verbs}},
      {{"apiGroups", {"rbac.authorization.k8s.io"}},
       {"resources", {"clusterroles", "clusterrolebindings"}},
       {"verbs", verbs}},
      {{"apiGroups", {"rbac.authorization.k8s.io"}},
       {"resources", {"clusterroles"}},
       {"resourceNames", {crossplane::kName}},
       {"verbs", {"escalate", "bind"}}},
      {{"apiGroups", {"pkg.crossplane.io"}},
       {"resources", {"providers"}},
       {"verbs", {"get", "list", "create", "patch", "delete"}}},
  });
  for (const auto& rule : deletionCheckRules()) rules.push_back(rule);  // deletion blocking (blockers.cpp)
  return rules;
}

OpResult CrossplaneProvider::remove(const json& apiObject, ReconcileScope& scope) {
  Plan plan = ownerOnly(apiObject);
  auto mcp = mcpClient(scope);
  if (!mcp) return OpResult::fromStatus(mcp.status(), "reaching the MCP cluster");
  OpResult r = removeUnwanted(**mcp, plan, {});
  if (!r.ok()) return r;
  auto objects = baseObjects(plan);
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    r = kit::removeIfPresent(**mcp, *it);
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

}  // namespace

std::unique_ptr<Provider> makeCrossplaneProvider() { return std::make_unique<CrossplaneProvider>(); }

}  // namespace spr::providers::crossplane
