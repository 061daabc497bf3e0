// RBAC for the credentials the sim's cluster provider grants for AccessRequests, as
// kube-apiserver's RBAC authorizer applies a Role/ClusterRole: the request's attributes
// (verb, API group, resource, subresource, namespace, name) from its method and path, as
// apiserver's RequestInfoFactory derives them, matched against the AccessRequest's
// spec.permissions. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/api_status.h"
#include "sim/cluster.h"
#include "sim/rbac.h"

namespace spr::sim {

// A request's attributes, as RBAC sees them (sim/rbac.h).
using RequestAttributes = RbacRequest;

RequestAttributes attributesOf(const ApiRequest& request);

// Whether `permissions` (an AccessRequest's spec.permissions: [{namespace?, rules: [PolicyRule]}];
// a permission with a namespace is a Role there, without one a ClusterRole) allow `a`. Reads
// of non-resource URLs are allowed to every authenticated user (system:discovery).
bool rbacAllows(const nlohmann::json& permissions, const RequestAttributes& a);

// kube-apiserver's 403: `<resource> "<name>" is forbidden: User "<user>" cannot <verb> resource ...`.
ApiResponse forbidden(const RequestAttributes& a, const std::string& user);

}  // namespace spr::sim
