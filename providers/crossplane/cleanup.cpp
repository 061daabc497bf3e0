// What the crossplane provider removes besides its Flux objects and Providers: Crossplane's
// CRDs at deletion, and the copies (pull Secrets, the CA bundle) a request no longer needs.
// Each function makes its requests in a fixed order (the server's list order), for replay.
#include "adapters/k8s/openmcp.h"
#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

namespace {

bool isNotFound(const Status& s) { return s.code() == Code::kNotFound; }

}  // namespace

// Helm keeps CRDs, and Crossplane's own (`core init`) and its providers' are not the
// chart's: once the release is uninstalled and the Providers gone, the CRDs of the
// *.crossplane.io groups go too, so nothing of the service is left on the MCP (deletion
// blocking has made sure no user object of them is left).
OpResult removeCrossplaneCrds(k8s::Client& mcp) {
  auto crds = mcp.list(kit::kCrds, "");
  if (!crds) return OpResult::fromStatus(crds.status(), "listing CRDs on the MCP cluster");
  for (const auto& crd : (*crds)["items"]) {
    std::string group = crd.value("spec", json::object()).value("group", "");
    const std::string suffix = "crossplane.io";
    if (group.size() < suffix.size() || group.compare(group.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    OpResult r = kit::removeIfPresent(mcp, {kit::kCrds, {{"metadata", {{"name", crd["metadata"].value("name", "")}}}}});
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

// Deletes Secret ns/name when this request made it (its owner labels); gone counts as done.
OpResult removeOwnedSecret(k8s::Client& client, const Plan& plan, const std::string& ns, const std::string& name) {
  auto secret = client.get(kSecrets, ns, name);
  if (!secret && isNotFound(secret.status())) return OpResult::success();
  if (!secret) return OpResult::fromStatus(secret.status(), "reading Secret " + ns + "/" + name);
  if (!ownedBy(*secret, plan.ownerNamespace, plan.ownerName)) return OpResult::success();  // not spr's copy
  return kit::removeIfPresent(client,
                              {kSecrets, {{"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", ns}}}}});
}

// The Secrets an OCIRepository's spec names: the chart's pull Secret, the CA bundle's.
std::vector<std::string> secretsNamedBy(const json& repository) {
  std::vector<std::string> out;
  for (const char* ref : {"secretRef", "certSecretRef"}) {
    std::string name = str(field(field(repository, "spec"), ref), "name");
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

// The copies beside the OCIRepository that this request made (the chart's pull Secret, the
// CA bundle's ca.crt), removed before the OCIRepository, which names them, so a restart in
// between still finds them. Named by the live object, not the plan: the offer may have
// changed or be gone by the time the request is deleted.
OpResult removeRepositorySecrets(k8s::Client& platform, const Plan& plan) {
  auto repo = platform.get(kOciRepositories, plan.tenantNamespace, kName);
  if (!repo && isNotFound(repo.status())) return OpResult::success();
  if (!repo) return OpResult::fromStatus(repo.status(), "reading the OCIRepository");
  for (const auto& name : secretsNamedBy(*repo)) {
    OpResult r = removeOwnedSecret(platform, plan, plan.tenantNamespace, name);
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

// The copies on the MCP (crossplane-system) this request made that the plan no longer has:
// a pull Secret the offer stopped naming, the CA bundle after caBundleRef was removed.
// Listed by owner labels, so a copy left by an earlier run is found too. Runs before the
// Providers and the HelmRelease stop naming them: a Provider pulling in between fails
// once and is retried, and a copy is never stranded by a restart.
OpResult removeDroppedMcpCopies(k8s::Client& mcp, const Plan& plan) {
  const std::vector<kit::Desired> wanted = mcpBaseObjects(plan);
  for (const auto& gvr : {kSecrets, kit::kConfigMaps}) {
    auto live = mcp.list(gvr, kNamespace, {ownerSelector(plan.ownerNamespace, plan.ownerName), "", 500});
    if (!live) return OpResult::fromStatus(live.status(), "listing " + gvr.resource + " in " + kNamespace);
    for (const auto& item : (*live)["items"]) {
      const std::string name = str(field(item, "metadata"), "name");
      bool keep = false;
      for (const auto& d : wanted) keep = keep || (d.gvr.resource == gvr.resource && d.name() == name);
      if (keep) continue;
      OpResult r = kit::removeIfPresent(mcp, {gvr, {{"metadata", {{"name", name}, {"namespace", kNamespace}}}}});
      if (!r.ok()) return r;
    }
  }
  return OpResult::success();
}

}  // namespace spr::providers::crossplane
