// The local API server's authorizer, used to answer SubjectAccessReviews: kube-apiserver's
// RBAC rules (ClusterRoles and Roles bound by ClusterRoleBindings and RoleBindings, with
// verbs, apiGroups, resources[/subresource], resourceNames and nonResourceURLs, "*" and
// trailing-"*" URL prefixes) plus the system:masters superuser group. ClusterRole
// aggregation is not followed. Pure functions over the stored RBAC objects; thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spr::sim {

// Who asks (a SubjectAccessReview's spec.user and spec.groups, as given: kube-apiserver
// adds no group of its own).
struct RbacSubject {
  std::string user;
  std::vector<std::string> groups;
};

// What is asked: a resource request (namespace "" = cluster-wide) or a non-resource path.
struct RbacRequest {
  bool resourceRequest = true;
  std::string verb;
  std::string ns, group, resource, subresource, name;  // resource requests
  std::string path;                                    // non-resource requests, e.g. "/metrics"
};

struct RbacDecision {
  bool allowed = false;
  // kube-apiserver's words: `RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to
  // User "u"` when allowed; "" when no rule matched, or `RBAC: clusterrole... "x" not found`
  // when a binding names a missing role.
  std::string reason;
};

// The RBAC objects of one cluster. `role(kind, ns, name)` finds a ClusterRole (ns "") or
// Role; nullptr when there is none.
struct RbacObjects {
  std::vector<const nlohmann::json*> clusterRoleBindings;
  std::vector<const nlohmann::json*> roleBindings;  // of the request's namespace only
  std::function<const nlohmann::json*(const std::string& kind, const std::string& ns, const std::string& name)> role;
};

// Whether one PolicyRule allows `request` (kube's RuleAllows: verbs, apiGroups,
// resources[/subresource] or nonResourceURLs, resourceNames).
bool ruleAllows(const nlohmann::json& rule, const RbacRequest& request);

RbacDecision authorizeRbac(const RbacSubject& subject, const RbacRequest& request, const RbacObjects& objects);

}  // namespace spr::sim
