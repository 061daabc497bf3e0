#include "sim/access_rbac.h"

#include <vector>

namespace spr::sim {

using nlohmann::json;

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at < path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return parts;
}

std::string verbOf(const ApiRequest& r, bool named) {
  if (r.method == "POST") return "create";
  if (r.method == "PUT") return "update";
  if (r.method == "PATCH") return "patch";
  if (r.method == "DELETE") return named ? "delete" : "deletecollection";
  if (!named && r.flag("watch")) return "watch";
  return named ? "get" : "list";
}

}  // namespace

RequestAttributes attributesOf(const ApiRequest& r) {
  RequestAttributes a;
  a.resourceRequest = false;  // until the path says otherwise: discovery, /openapi, /version
  a.path = r.path;
  std::vector<std::string> parts = split(r.path);
  size_t at;
  if (parts.size() >= 3 && parts[0] == "api") {
    at = 2;
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    a.group = parts[1];
    at = 3;
  } else {
    a.verb = r.method == "GET" ? "get" : r.method;
    for (char& c : a.verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return a;  // discovery, /openapi, /version: non-resource URLs
  }
  a.resourceRequest = true;
  std::vector<std::string> rest(parts.begin() + static_cast<long>(at), parts.end());
  bool legacyWatch = !rest.empty() && rest[0] == "watch";
  if (legacyWatch) rest.erase(rest.begin());
  // RequestInfoFactory: /namespaces/<ns>/<resource>... unless what follows the namespace
  // is one of the Namespace's own subresources.
  if (rest.size() > 1 && rest[0] == "namespaces") {
    a.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (!rest.empty()) a.resource = rest[0];
  if (rest.size() > 1) a.name = rest[1];
  if (rest.size() > 2) a.subresource = rest[2];
  a.verb = legacyWatch ? "watch" : verbOf(r, !a.name.empty());
  return a;
}

bool rbacAllows(const json& permissions, const RequestAttributes& a) {
  if (!a.resourceRequest) return a.verb == "get";
  if (!permissions.is_array()) return false;
  for (const auto& p : permissions) {
    if (!p.is_object()) continue;
    const std::string ns = p.value("namespace", "");
    if (!ns.empty() && ns != a.ns) continue;  // a Role grants in its namespace only
    for (const auto& rule : p.value("rules", json::array()))
      if (ruleAllows(rule, a)) return true;
  }
  return false;
}

ApiResponse forbidden(const RequestAttributes& a, const std::string& user) {
  if (!a.resourceRequest)
    return failure(403, "Forbidden", "forbidden: User \"" + user + "\" cannot " + a.verb + " path \"" + a.path + "\"",
                   json::object());
  const std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  std::string message = qualifiedResource(a.group, a.resource) + (a.name.empty() ? "" : " \"" + a.name + "\"") +
                        " is forbidden: User \"" + user + "\" cannot " + a.verb + " resource \"" + combined +
                        "\" in API group \"" + a.group + "\"" +
                        (a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"");
  json details = {{"group", a.group}, {"kind", a.resource}};
  if (!a.name.empty()) details["name"] = a.name;
  return failure(403, "Forbidden", message, details);
}

}  // namespace spr::sim
