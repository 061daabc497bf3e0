// The crossplane Provider's operations. Every operation makes its requests in a fixed
// order (the plan's order, then the server's list order), so replay sees the same calls.
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "adapters/k8s/openmcp.h"
#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

namespace {

bool isNotFound(const Status& s) { return s.code() == Code::kNotFound; }

std::string appendMessage(const std::string& all, const std::string& one) {
  if (one.empty()) return all;
  return all.empty() ? one : all + "; " + one;
}

std::string str(const json& object, const char* name) {
  return object.is_object() && object.contains(name) && object[name].is_string() ? object[name].get<std::string>() : "";
}

// Provider objects on the MCP cluster that `plan`'s owner created; none when the providers
// CRD is not there (yet).
Result<json> listOwnedProviders(k8s::Client& mcp, const Plan& plan) {
  auto list = mcp.list(kProviders, "", {ownerSelector(plan.ownerNamespace, plan.ownerName), "", 500});
  if (!list && isNotFound(list.status())) return json::array();
  if (!list) return list.status();
  return (*list)["items"];
}

// What differs between the live Provider objects and the plan, and which are not Healthy.
void compareProviders(const Plan& plan, const json& live, std::string& drift, std::string& notReady) {
  for (const auto& d : providerObjects(plan)) {
    const json* found = nullptr;
    for (const auto& item : live)
      if (item["metadata"].value("name", "") == d.name()) found = &item;
    if (!found)
      drift = appendMessage(drift, d.describe() + " is missing");
    else if (auto diff = kit::firstDifference(d.object, *found))
      drift = appendMessage(drift, d.describe() + ": " + *diff);
    else
      notReady = appendMessage(notReady, providerNotHealthy(*found));
  }
  for (const auto& item : live) {
    std::string name = item["metadata"].value("name", "");
    bool wanted = false;
    for (const auto& p : plan.providers) wanted = wanted || p.name == name;
    if (!wanted) drift = appendMessage(drift, "Provider " + name + " is no longer requested");
  }
}

// Deletes the Provider objects this request created that `plan` does not list; true in
// `remaining` when some are still there (being deleted).
OpResult removeUnwanted(k8s::Client& mcp, const Plan& plan, bool& remaining) {
  remaining = false;
  auto live = listOwnedProviders(mcp, plan);
  if (!live) return OpResult::fromStatus(live.status(), "listing Provider objects");
  for (const auto& item : *live) {
    std::string name = item["metadata"].value("name", "");
    bool wanted = false;
    for (const auto& p : plan.providers) wanted = wanted || p.name == name;
    if (wanted) continue;
    remaining = true;
    OpResult r = kit::removeIfPresent(mcp, {kProviders, {{"kind", "Provider"}, {"metadata", {{"name", name}}}}});
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

Plan ownerOnly(const json& apiObject) {
  Plan plan;
  json m = apiObject.is_object() ? apiObject.value("metadata", json::object()) : json::object();
  plan.ownerNamespace = m.value("namespace", "");
  plan.ownerName = m.value("name", "");
  plan.tenantNamespace = k8s::mcpNamespace(plan.ownerNamespace, plan.ownerName);
  return plan;
}

// The operator's pull Secrets the plan names (ProviderConfig imagePullSecretRefs, the
// discovery's pullSecret), read from spr's namespace to be copied where they are used.
OpResult readPullSecrets(k8s::Client& platform, const std::string& ns, Plan& plan) {
  std::vector<std::string> names = plan.chartPullSecrets;
  names.insert(names.end(), plan.providerPullSecrets.begin(), plan.providerPullSecrets.end());
  for (const auto& name : names) {
    if (plan.pullSecretData.contains(name)) continue;
    auto s = platform.get(kSecrets, ns, name);
    // Retried with backoff (at most every 5 minutes), not a user error that waits for a
    // spec change: the operator creating the Secret changes nothing spr watches.
    if (!s && isNotFound(s.status()))
      return OpResult::transient("PullSecretNotFound",
                                 "the pull Secret " + ns + "/" + name +
                                     " that the ProviderConfig or the discovery names does not exist on the platform "
                                     "cluster; the operator must create it (checked again with backoff)");
    if (!s) return OpResult::fromStatus(s.status(), "reading pull Secret " + ns + "/" + name);
    plan.pullSecretData[name] = {{"type", s->value("type", "Opaque")}, {"data", s->value("data", json::object())}};
  }
  return OpResult::success();
}

// The offer, the plan and the CA bundle: everything a request resolves to.
OpResult prepare(const json& apiObject, ReconcileScope& scope, Plan& plan) {
  Offer offer;
  OpResult r = readOffer(scope.platform(), scope.providerConfig(), scope.ownNamespace(), offer);
  if (!r.ok()) return r;
  r = makePlan(apiObject, offer, plan);
  if (!r.ok()) return r;
  auto ca = scope.caBundle();
  if (!ca) {
    if (ca.status().code() == Code::kInvalidArgument) return OpResult::user("CABundleNotFound", ca.status().message());
    return OpResult::fromStatus(ca.status(), "reading the CA bundle");
  }
  plan.caBundle = *ca;
  return readPullSecrets(scope.platform(), scope.ownNamespace(), plan);
}

// data.kubeconfig of the Secret the MCP's AccessRequest (crossplane-<name>) was granted.
Result<std::string> grantedKubeconfig(k8s::Client& platform, const Plan& plan) {
  const std::string arName = std::string(kName) + "-" + plan.ownerName;
  auto ar = platform.get(kAccessRequests, plan.tenantNamespace, arName);
  if (!ar) return Status(ar.status().code(), "reading AccessRequest " + plan.tenantNamespace + "/" + arName);
  std::string secret = str(ar->value("status", json::object()).value("secretRef", json::object()), "name");
  if (secret.empty())
    return Status(Code::kUnavailable, "AccessRequest " + plan.tenantNamespace + "/" + arName + " has no Secret yet");
  auto s = platform.get(kSecrets, plan.tenantNamespace, secret);
  if (!s) return Status(s.status().code(), "reading Secret " + plan.tenantNamespace + "/" + secret);
  std::string data = str(s->value("data", json::object()), kKubeconfigKey);
  if (data.empty())
    return Status(Code::kUnavailable, "Secret " + plan.tenantNamespace + "/" + secret + " has no data.kubeconfig");
  return data;
}

// The desired platform objects, kubeconfig Secret first.
Result<std::vector<kit::Desired>> platformObjects(k8s::Client& platform, const Plan& plan) {
  auto kubeconfig = grantedKubeconfig(platform, plan);
  if (!kubeconfig) return kubeconfig.status();
  std::vector<kit::Desired> out{kubeconfigSecret(plan, *kubeconfig)};
  if (!plan.chartPullSecrets.empty())  // the OCIRepository's secretRef, beside it
    out.push_back(pullSecretCopy(plan, plan.chartPullSecrets.front(), plan.tenantNamespace));
  if (plan.caBundle) out.push_back(caCertSecret(plan));  // its certSecretRef
  out.push_back(ociRepository(plan));
  out.push_back(helmRelease(plan));
  return out;
}

// What differs between the desired Flux object and the live one: the fields spr sets, and
// what spr may stop setting: a HelmRelease's spec.values exactly (e.g. an image after a
// version change), an OCIRepository's certSecretRef (the CA bundle removed), which a subset
// comparison would not see.
std::optional<std::string> releaseDifference(const kit::Desired& desired, const json& live) {
  if (auto diff = kit::firstDifference(desired.object, live)) return diff;
  const json& spec = field(live, "spec");
  if (desired.gvr.resource == "ocirepositories") {
    if (!field(spec, "certSecretRef").is_null() && !desired.object["spec"].contains("certSecretRef"))
      return std::string("spec.certSecretRef is set, want none");
    return std::nullopt;
  }
  const json liveValues = spec.is_object() ? spec.value("values", json::object()) : json::object();
  if (liveValues != desired.object["spec"]["values"])
    return "spec.values is " + liveValues.dump() + ", want " + desired.object["spec"]["values"].dump();
  return std::nullopt;
}

// Drift of an OCIRepository: as driftOf, plus a certSecretRef spr no longer sets.
Result<std::string> fluxDrift(k8s::Client& platform, const kit::Desired& desired) {
  auto live = platform.get(desired.gvr, desired.ns(), desired.name());
  if (!live) return live.status();
  auto diff = releaseDifference(desired, *live);
  return diff ? desired.describe() + ": " + *diff : std::string();
}

// A HelmRelease or OCIRepository: created, or its spec replaced (PUT) when it differs, so
// fields spr no longer sets are dropped.
OpResult ensureRelease(k8s::Client& platform, const Plan& plan, const kit::Desired& desired) {
  auto live = platform.get(desired.gvr, desired.ns(), desired.name());
  if (!live && isNotFound(live.status())) {
    auto created = platform.create(desired.gvr, desired.ns(), desired.object);
    return created ? OpResult::success() : OpResult::fromStatus(created.status(), "creating " + desired.describe());
  }
  if (!live) return OpResult::fromStatus(live.status(), "reading " + desired.describe());
  if (!releaseDifference(desired, *live)) return OpResult::success();
  // A copy the OCIRepository stops naming (another pull Secret, the CA removed) goes first:
  // the live object is the only place its name is kept.
  if (desired.gvr.resource == "ocirepositories") {
    const std::vector<std::string> kept = secretsNamedBy(desired.object);
    for (const auto& name : secretsNamedBy(*live)) {
      if (std::find(kept.begin(), kept.end(), name) != kept.end()) continue;  // still named
      OpResult r = removeOwnedSecret(platform, plan, desired.ns(), name);
      if (!r.ok()) return r;
    }
  }
  json replaced = *live;
  replaced["spec"] = desired.object["spec"];
  replaced["metadata"]["labels"] = desired.object["metadata"]["labels"];
  auto updated = platform.update(desired.gvr, desired.ns(), replaced);
  return updated ? OpResult::success() : OpResult::fromStatus(updated.status(), "updating " + desired.describe());
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
  ObserveResult observeDeleting(const json& apiObject, ReconcileScope& scope);
  Observation compare(k8s::Client& platform, k8s::Client& mcp, const Plan& plan, const json& release, Status& error);
  OpResult removeAfterMcpGone(k8s::Client& platform, const Plan& plan);
};

ObserveResult CrossplaneProvider::observe(const json& apiObject, ReconcileScope& scope) {
  // A request being deleted is only asked "is it gone?": its spec may be one the config
  // no longer allows, which must not block deletion.
  if (apiObject.contains("metadata") && apiObject["metadata"].contains("deletionTimestamp"))
    return observeDeleting(apiObject, scope);
  ObserveResult out;
  Plan plan;
  out.result = prepare(apiObject, scope, plan);
  if (!out.result.ok()) return out;
  auto mcp = scope.mcp();
  if (!mcp) return {OpResult::fromStatus(mcp.status(), "reaching the MCP cluster"), {}};
  auto release = scope.platform().get(kHelmReleases, plan.tenantNamespace, kName);
  if (!release && isNotFound(release.status())) {
    out.observation = {false, false, false,
                       "HelmRelease " + plan.tenantNamespace + "/" + kName + " does not exist on the platform cluster"};
    return out;
  }
  if (!release) return {OpResult::fromStatus(release.status(), "observing the HelmRelease"), {}};
  Status error;
  out.observation = compare(scope.platform(), **mcp, plan, *release, error);
  if (!error.isOk()) out.result = OpResult::fromStatus(error, "observing Crossplane");
  return out;
}

Observation CrossplaneProvider::compare(k8s::Client& platform, k8s::Client& mcp, const Plan& plan, const json& release,
                                        Status& error) {
  Observation o{true, false, false, ""};
  std::string drift, notReady;
  auto wanted = platformObjects(platform, plan);
  if (!wanted) {
    error = wanted.status();
    return o;
  }
  std::vector<kit::Desired> checks = *wanted;
  for (auto& d : mcpBaseObjects(plan)) checks.push_back(d);
  for (const auto& d : checks) {
    if (d.gvr.resource == "helmreleases") {
      if (auto diff = releaseDifference(d, release)) drift = appendMessage(drift, d.describe() + ": " + *diff);
      continue;
    }
    auto r = d.gvr.resource == "ocirepositories" ? fluxDrift(platform, d)
                                                 : kit::driftOf(d.ns() == plan.tenantNamespace ? platform : mcp, d);
    if (!r && isNotFound(r.status())) {
      drift = appendMessage(drift, d.describe() + " is missing");
    } else if (!r) {
      error = r.status();
      return o;
    } else {
      drift = appendMessage(drift, *r);
    }
  }
  notReady = releaseNotReady(release, plan.chartVersion);
  if (notReady.empty()) {  // Providers are judged once Crossplane runs
    auto live = listOwnedProviders(mcp, plan);
    if (!live) {
      error = live.status();
      return o;
    }
    compareProviders(plan, *live, drift, notReady);
  }
  o.drift = !drift.empty();
  o.ready = notReady.empty();
  o.message = o.drift ? drift : notReady;
  return o;
}

OpResult CrossplaneProvider::apply(const json& apiObject, ReconcileScope& scope) {
  Plan plan;
  OpResult r = prepare(apiObject, scope, plan);
  if (!r.ok()) return r;
  auto mcp = scope.mcp();
  if (!mcp) return OpResult::fromStatus(mcp.status(), "reaching the MCP cluster");
  for (const auto& d : mcpBaseObjects(plan)) {
    r = kit::ensure(**mcp, d);
    if (!r.ok()) return r;
  }
  r = removeDroppedMcpCopies(**mcp, plan);
  if (!r.ok()) return r;
  auto wanted = platformObjects(scope.platform(), plan);
  if (!wanted) return OpResult::fromStatus(wanted.status(), "copying the MCP kubeconfig for Flux");
  for (const auto& d : *wanted) {
    const bool replaced = d.gvr.resource == "helmreleases" || d.gvr.resource == "ocirepositories";
    r = replaced ? ensureRelease(scope.platform(), plan, d) : kit::ensure(scope.platform(), d);
    if (!r.ok()) return r;
  }
  // Provider objects need Crossplane (its CRDs, its package manager): until Flux has the
  // release Ready, Observe reports not ready and comes back; then the Providers are drift.
  auto release = scope.platform().get(kHelmReleases, plan.tenantNamespace, kName);
  if (!release) return OpResult::fromStatus(release.status(), "reading the HelmRelease");
  if (!releaseNotReady(*release, plan.chartVersion).empty()) return OpResult::success();
  for (const auto& d : providerObjects(plan)) {
    r = kit::ensure(**mcp, d);
    if (!r.ok()) return r;
  }
  bool remaining = false;
  return removeUnwanted(**mcp, plan, remaining);
}

ObserveResult CrossplaneProvider::observeDeleting(const json& apiObject, ReconcileScope& scope) {
  Plan plan = ownerOnly(apiObject);
  for (const auto& [gvr, name] :
       {std::pair{kHelmReleases, std::string(kName)}, std::pair{kOciRepositories, std::string(kName)},
        std::pair{kSecrets, std::string(kKubeconfigSecret)}}) {
    auto live = scope.platform().get(gvr, plan.tenantNamespace, name);
    if (live)
      return {{}, {true, false, false, gvr.resource + " " + plan.tenantNamespace + "/" + name + " is still there"}};
    if (!isNotFound(live.status())) return {OpResult::fromStatus(live.status(), "observing the Flux objects"), {}};
  }
  auto mcp = scope.mcp();
  if (!mcp) return {OpResult::fromStatus(mcp.status(), "reaching the MCP cluster"), {}};
  auto ns = (*mcp)->get(kit::kNamespaces, "", kNamespace);
  if (ns) return {{}, {true, false, false, std::string("namespace ") + kNamespace + " is still being deleted"}};
  if (!isNotFound(ns.status())) return {OpResult::fromStatus(ns.status(), "observing the MCP cluster"), {}};
  return {{}, {false, false, false, ""}};
}

// The MCP went first: Flux cannot uninstall from a cluster that is gone, so the release is
// suspended (helm-controller then drops it without uninstalling) and everything removed.
OpResult CrossplaneProvider::removeAfterMcpGone(k8s::Client& platform, const Plan& plan) {
  auto suspended = platform.mergePatch(kHelmReleases, plan.tenantNamespace, kName, {{"spec", {{"suspend", true}}}});
  if (!suspended && !isNotFound(suspended.status()))
    return OpResult::fromStatus(suspended.status(), "suspending the HelmRelease");
  OpResult copy = removeRepositorySecrets(platform, plan);
  if (!copy.ok()) return copy;
  for (const auto& d : {helmRelease(plan), ociRepository(plan), kubeconfigSecret(plan, ""), caCertSecret(plan)}) {
    OpResult r = kit::removeIfPresent(platform, d);
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

OpResult CrossplaneProvider::remove(const json& apiObject, ReconcileScope& scope) {
  Plan plan = ownerOnly(apiObject);
  auto mcp = scope.mcp();
  if (!mcp && isNotFound(mcp.status())) return removeAfterMcpGone(scope.platform(), plan);
  if (!mcp) return OpResult::fromStatus(mcp.status(), "reaching the MCP cluster");
  bool remaining = false;
  OpResult r = removeUnwanted(**mcp, plan, remaining);  // the plan lists none: all of ours go
  if (!r.ok()) return r;
  if (remaining) {  // Crossplane cleans up a Provider before it goes: uninstall only after
    auto left = listOwnedProviders(**mcp, plan);
    if (!left) return OpResult::fromStatus(left.status(), "listing Provider objects");
    if (!left->empty())
      return OpResult::transient("ProvidersDeleting", "waiting for " + std::to_string(left->size()) +
                                                          " Provider object(s) on the MCP cluster to be deleted");
  }
  auto release = scope.platform().get(kHelmReleases, plan.tenantNamespace, kName);
  if (release) {
    r = kit::removeIfPresent(scope.platform(), helmRelease(plan));
    if (!r.ok()) return r;
    return OpResult::transient("UninstallInProgress", "waiting for Flux to uninstall HelmRelease " +
                                                          plan.tenantNamespace + "/" + kName + " from the MCP cluster");
  }
  if (!isNotFound(release.status())) return OpResult::fromStatus(release.status(), "reading the HelmRelease");
  r = removeRepositorySecrets(scope.platform(), plan);
  if (!r.ok()) return r;
  std::vector<kit::Desired> rest = {ociRepository(plan), kubeconfigSecret(plan, ""), caCertSecret(plan)};
  for (const auto& d : rest) {
    r = kit::removeIfPresent(scope.platform(), d);
    if (!r.ok()) return r;
  }
  r = removeCrossplaneCrds(**mcp);
  if (!r.ok()) return r;
  plan.caBundle = CaBundle{};
  auto base = mcpBaseObjects(plan);
  for (auto it = base.rbegin(); it != base.rend(); ++it) {
    r = kit::removeIfPresent(**mcp, *it);
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

// openMCP's service-provider-crossplane asks the MCP for exactly the first eight rules
// (getMCPPermissions, commit in docs/API.md). spr adds what its own calls and the chart's
// install through the copied kubeconfig need: Provider objects; the chart's Deployments
// and webhook Service; and `escalate`/`bind` on the chart's own ClusterRoles (they grant
// more than spr holds); then `list` on the kinds the deletion check counts. No wildcard.
json CrossplaneProvider::mcpAccessRules() const {
  const json all = {"get", "list", "watch", "create", "update", "patch", "delete"};
  const json chartRoles = {"crossplane",
                           "crossplane:system:aggregate-to-crossplane",
                           "crossplane-rbac-manager",
                           "crossplane:allowed-provider-permissions",
                           "crossplane-admin",
                           "crossplane-edit",
                           "crossplane-view",
                           "crossplane-browse",
                           "crossplane:aggregate-to-admin",
                           "crossplane:aggregate-to-edit",
                           "crossplane:aggregate-to-view",
                           "crossplane:aggregate-to-browse"};
  json rules = json::array({
      {{"apiGroups", {"apiextensions.k8s.io"}}, {"resources", {"customresourcedefinitions"}}, {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"secrets", "configmaps"}}, {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"serviceaccounts"}}, {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"serviceaccounts/token"}}, {"verbs", {"create"}}},
      {{"apiGroups", {""}}, {"resources", {"namespaces"}}, {"verbs", all}},
      {{"apiGroups", {"rbac.authorization.k8s.io"}},
       {"resources", {"clusterroles", "clusterrolebindings"}},
       {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"events"}}, {"verbs", all}},
      {{"apiGroups", {"admissionregistration.k8s.io"}},
       {"resources", {"validatingwebhookconfigurations"}},
       {"verbs", all}},
      // spr's additions:
      {{"apiGroups", {"pkg.crossplane.io"}}, {"resources", {"providers"}}, {"verbs", all}},
      {{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"services"}}, {"verbs", all}},
      {{"apiGroups", {"rbac.authorization.k8s.io"}},
       {"resources", {"clusterroles"}},
       {"resourceNames", chartRoles},
       {"verbs", {"escalate", "bind"}}},
  });
  for (const auto& rule : deletionCheckRules()) rules.push_back(rule);  // deletion blocking (blockers.cpp)
  return rules;
}

}  // namespace

std::unique_ptr<Provider> makeCrossplaneProvider() { return std::make_unique<CrossplaneProvider>(); }

}  // namespace spr::providers::crossplane
