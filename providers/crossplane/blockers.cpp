// The crossplane provider's deletion blockers: instances, in any namespace, of every CRD on
// the MCP cluster that Crossplane or its packages brought (groups *.crossplane.io, CRDs owned
// by a ProviderRevision or a CompositeResourceDefinition, or labelled by Crossplane's package
// manager), except the package machinery spr itself manages or Crossplane derives. Requests
// go in the server's list order, so replay answers them from the tape.
#include <set>

#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

namespace {

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Crossplane's package machinery: spr's own Provider objects and what Crossplane derives
// from packages or keeps for itself; none of it is a user's resource.
bool packageMachinery(const std::string& group, const std::string& plural) {
  static const std::set<std::string> kPkg = {"providers",
                                             "providerrevisions",
                                             "locks",
                                             "deploymentruntimeconfigs",
                                             "controllerconfigs",
                                             "imageconfigs",
                                             "functionrevisions",
                                             "configurationrevisions"};
  if (group == "pkg.crossplane.io") return kPkg.count(plural) > 0;
  // Derived bookkeeping: revisions follow their Composition, usages follow managed resources;
  // Crossplane v2 derives ManagedResourceDefinitions from provider packages and keeps its own
  // activation policy (the chart's `default`).
  static const std::set<std::string> kDerived = {"compositionrevisions", "managedresourcedefinitions",
                                                 "managedresourceactivationpolicies"};
  return (group == "apiextensions.crossplane.io" && kDerived.count(plural) > 0) || plural == "providerconfigusages";
}

bool broughtByCrossplane(const json& crd) {
  const json meta = crd.value("metadata", json::object());
  const std::string group = crd.value("spec", json::object()).value("group", "");
  if (endsWith(group, ".crossplane.io")) return true;
  for (const auto& owner : meta.value("ownerReferences", json::array())) {
    const std::string kind = owner.value("kind", "");
    if (endsWith(owner.value("apiVersion", ""), ".crossplane.io/v1") &&
        (kind == "ProviderRevision" || kind == "CompositeResourceDefinition"))
      return true;
  }
  const json labels = meta.value("labels", json::object());
  for (auto it = labels.begin(); it != labels.end(); ++it)
    if (it.key().rfind("pkg.crossplane.io/", 0) == 0) return true;
  return false;
}

// The version to list: the storage version, else the first served one.
std::string listVersion(const json& spec) {
  std::string served;
  for (const auto& v : spec.value("versions", json::array())) {
    if (v.value("storage", false)) return v.value("name", "");
    if (served.empty() && v.value("served", false)) served = v.value("name", "");
  }
  return served;
}

std::string nameOf(const json& item) {
  const json meta = item.value("metadata", json::object());
  const std::string ns = meta.value("namespace", "");
  return ns.empty() ? meta.value("name", "") : ns + "/" + meta.value("name", "");
}

// The instances of one CRD; a refusal names the kind and the grant spr lacks (never
// kUnauthorized: that would stop the operator, and the check is only one kind short).
Result<DeletionBlocker> instancesOf(k8s::Client& mcp, const json& crd) {
  const json spec = crd.value("spec", json::object());
  const json names = spec.value("names", json::object());
  DeletionBlocker b;
  b.kind = names.value("kind", "");
  b.resource = names.value("plural", "") + "." + spec.value("group", "");
  k8s::GroupVersionResource gvr{spec.value("group", ""), listVersion(spec), names.value("plural", ""),
                                spec.value("scope", "") == "Namespaced"};
  auto list = mcp.list(gvr, "");
  if (!list && list.status().code() == Code::kNotFound) return b;  // CRD going away: no instances
  if (!list && list.status().code() == Code::kUnauthorized)
    return Status(Code::kUnavailable, "cannot list " + b.resource +
                                          " on the MCP cluster to check what blocks deletion (" +
                                          list.status().message() + "); grant spr's MCP access `list` on it");
  if (!list) return Status(list.status().code(), "listing " + b.resource + ": " + list.status().message());
  for (const auto& item : list->value("items", json::array())) {
    if (b.names.size() < kMaxBlockerNames) b.names.push_back(nameOf(item));
    ++b.count;
  }
  return b;
}

}  // namespace

Result<DeletionBlockers> deletionBlockersOn(k8s::Client& mcp) {
  auto crds = mcp.list(kit::kCrds, "");
  if (!crds && crds.status().code() == Code::kUnauthorized)
    return Status(Code::kUnavailable, "cannot list CustomResourceDefinitions on the MCP cluster (" +
                                          crds.status().message() + "); grant spr's MCP access `list` on them");
  if (!crds) return crds.status();
  DeletionBlockers out;
  for (const auto& crd : crds->value("items", json::array())) {
    const json spec = crd.value("spec", json::object());
    if (!broughtByCrossplane(crd) ||
        packageMachinery(spec.value("group", ""), spec.value("names", json::object()).value("plural", "")))
      continue;
    auto b = instancesOf(mcp, crd);
    if (!b) return b.status();
    if (b->count > 0) out.kinds.push_back(std::move(*b));
  }
  return out;
}

}  // namespace spr::providers::crossplane

namespace spr::providers::crossplane {

Result<DeletionBlockers> deletionBlockersOf(ReconcileScope& scope) {
  auto mcp = scope.mcp();
  if (!mcp) return mcp.status();
  return deletionBlockersOn(**mcp);
}

}  // namespace spr::providers::crossplane

namespace spr::providers::crossplane {

// RBAC apiGroups are exact names, never patterns, and spr asks for no wildcard: this grants
// `list` on CRDs and on the kinds of Crossplane's own groups (and provider-kubernetes', which
// the ProviderConfig offers). Kinds of other groups (another provider's, or claims an XRD
// defines) need a grant the operator adds; without it the check fails, naming the kind and
// the grant, and deletion waits: a check that cannot see is never taken as "clear".
json deletionCheckRules() {
  const json list = {"list"};
  return json::array({
      {{"apiGroups", {"apiextensions.k8s.io"}}, {"resources", {"customresourcedefinitions"}}, {"verbs", list}},
      {{"apiGroups", {"apiextensions.crossplane.io"}},
       {"resources", {"compositeresourcedefinitions", "compositions", "environmentconfigs", "usages"}},
       {"verbs", list}},
      {{"apiGroups", {"pkg.crossplane.io"}}, {"resources", {"configurations", "functions"}}, {"verbs", list}},
      {{"apiGroups", {"protection.crossplane.io"}}, {"resources", {"usages", "clusterusages"}}, {"verbs", list}},
      {{"apiGroups", {"ops.crossplane.io"}},
       {"resources", {"operations", "cronoperations", "watchoperations"}},
       {"verbs", list}},
      {{"apiGroups", {"secrets.crossplane.io"}}, {"resources", {"storeconfigs"}}, {"verbs", list}},
      {{"apiGroups", {"kubernetes.crossplane.io"}},
       {"resources", {"objects", "observedobjectcollections", "providerconfigs"}},
       {"verbs", list}},
  });
}

}  // namespace spr::providers::crossplane
