#include "sim/rbac.h"

#include <algorithm>
#include <optional>

namespace spr::sim {

using nlohmann::json;

namespace {

constexpr const char* kServiceAccountPrefix = "system:serviceaccount:";

// obj[key] when obj is an object and that is a string, else "" (stored objects are user input).
std::string text(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& field(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

bool listed(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  for (const auto& v : list)
    if (v.is_string() && (v == "*" || v == value)) return true;
  return false;
}

// "/metrics" matches "/metrics", "*" and "/met*" (kube-apiserver's NonResourceURLMatches).
bool urlMatches(const json& urls, const std::string& path) {
  if (!urls.is_array()) return false;
  for (const auto& u : urls) {
    if (!u.is_string()) continue;
    std::string rule = u.get<std::string>();
    if (rule == "*" || rule == path) return true;
    if (!rule.empty() && rule.back() == '*' && path.rfind(rule.substr(0, rule.size() - 1), 0) == 0) return true;
  }
  return false;
}

bool resourceMatches(const json& resources, const RbacRequest& r) {
  if (!resources.is_array()) return false;
  const std::string combined = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  for (const auto& v : resources) {
    if (!v.is_string()) continue;
    if (v == "*" || v == combined) return true;
    if (!r.subresource.empty() && v == "*/" + r.subresource) return true;
  }
  return false;
}

// The subject of `binding` that names `who`, as kube-apiserver describes it (`User "u"`,
// `Group "g"`, `ServiceAccount "ns/name"`); "" when none does.
std::string matchingSubject(const json& binding, const RbacSubject& who) {
  const std::string bindingNs = text(field(binding, "metadata"), "namespace");
  const json& subjects = field(binding, "subjects");
  if (!subjects.is_array()) return "";
  for (const auto& s : subjects) {
    const std::string kind = text(s, "kind"), name = text(s, "name");
    if (kind == "User" && name == who.user) return "User \"" + name + "\"";
    if (kind == "Group" && std::find(who.groups.begin(), who.groups.end(), name) != who.groups.end())
      return "Group \"" + name + "\"";
    if (kind == "ServiceAccount") {
      std::string ns = text(s, "namespace").empty() ? bindingNs : text(s, "namespace");
      if (who.user == kServiceAccountPrefix + ns + ":" + name) return "ServiceAccount \"" + ns + "/" + name + "\"";
    }
  }
  return "";
}

std::string bindingName(const json& binding) {
  const json& meta = field(binding, "metadata");
  std::string ns = text(meta, "namespace");
  return ns.empty() ? text(meta, "name") : text(meta, "name") + "/" + ns;
}

}  // namespace

bool ruleAllows(const json& rule, const RbacRequest& r) {
  if (!rule.is_object() || !listed(field(rule, "verbs"), r.verb)) return false;
  if (!r.resourceRequest) return urlMatches(field(rule, "nonResourceURLs"), r.path);
  if (!listed(field(rule, "apiGroups"), r.group) || !resourceMatches(field(rule, "resources"), r)) return false;
  const json& names = field(rule, "resourceNames");
  if (!names.is_array() || names.empty()) return true;
  return std::find(names.begin(), names.end(), json(r.name)) != names.end();
}

RbacDecision authorizeRbac(const RbacSubject& subject, const RbacRequest& request, const RbacObjects& objects) {
  if (std::find(subject.groups.begin(), subject.groups.end(), "system:masters") != subject.groups.end())
    return {true, ""};  // kube-apiserver's privileged group: allowed before RBAC, with no reason
  std::vector<std::string> errors;
  auto visit = [&](const json* binding, bool clusterBinding) -> std::optional<RbacDecision> {
    if (!binding || !binding->is_object()) return std::nullopt;
    std::string who = matchingSubject(*binding, subject);
    if (who.empty()) return std::nullopt;
    const json& ref = field(*binding, "roleRef");
    const std::string kind = text(ref, "kind"), name = text(ref, "name");
    const std::string roleNs = kind == "Role" ? text(field(*binding, "metadata"), "namespace") : "";
    const json* role = objects.role ? objects.role(kind, roleNs, name) : nullptr;
    if (!role) {
      errors.push_back(kind == "Role" ? "role.rbac.authorization.k8s.io \"" + name + "\" not found"
                                      : "clusterrole.rbac.authorization.k8s.io \"" + name + "\" not found");
      return std::nullopt;
    }
    const json& rules = field(*role, "rules");
    for (const auto& rule : rules.is_array() ? rules : json::array())
      if (ruleAllows(rule, request))
        return RbacDecision{true, "RBAC: allowed by " +
                                      std::string(clusterBinding ? "ClusterRoleBinding" : "RoleBinding") + " \"" +
                                      bindingName(*binding) + "\" of " + kind + " \"" + name + "\" to " + who};
    return std::nullopt;
  };
  for (const json* b : objects.clusterRoleBindings)
    if (auto d = visit(b, true)) return *d;
  // Namespaced bindings only grant resource requests in their namespace.
  if (request.resourceRequest && !request.ns.empty())
    for (const json* b : objects.roleBindings)
      if (auto d = visit(b, false)) return *d;
  RbacDecision denied;
  if (!errors.empty()) {
    denied.reason = "RBAC: ";
    if (errors.size() > 1) denied.reason += "[";
    for (size_t i = 0; i < errors.size(); ++i) denied.reason += (i ? ", " : "") + errors[i];
    if (errors.size() > 1) denied.reason += "]";
  }
  return denied;
}

}  // namespace spr::sim
