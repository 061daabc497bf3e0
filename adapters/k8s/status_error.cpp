#include "adapters/k8s/status_error.h"

#include <cstdlib>

namespace spr::k8s {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "FooBar \"fb3\" is invalid: spec.prop2: Required value; spec.x: ..." — every cause, field first.
std::string invalidMessage(const ApiStatus& s) {
  if (s.causes.empty()) return s.message.empty() ? "the object is invalid" : s.message;
  std::string out = (s.kind.empty() ? std::string("object") : s.kind) + " \"" + s.name + "\" is invalid: ";
  for (size_t i = 0; i < s.causes.size(); ++i) {
    const StatusCause& c = s.causes[i];
    if (i) out += "; ";
    out += c.field.empty() ? c.message : c.field + ": " + c.message;
  }
  return out;
}

std::string fixFor(Code code, int http) {
  switch (code) {
    case Code::kUnauthorized:
      return http == 401 ? " (401 Unauthorized: the cluster rejected the credentials; check the token, token file "
                           "or client certificate in the kubeconfig, and that it has not expired)"
                         : " (403 Forbidden: the credentials are valid but lack permission; check the RBAC "
                           "Role/ClusterRole bindings of this user or service account)";
    case Code::kGone: return " (resourceVersion too old: re-list)";
    case Code::kConflict: return " (re-read the object and retry)";
    case Code::kUnavailable: return " (transient: retry with backoff)";
    default: return "";
  }
}

}  // namespace

std::optional<ApiStatus> parseApiStatus(const json& j) {
  if (!j.is_object() || str(j, "kind") != "Status") return std::nullopt;
  ApiStatus s;
  if (j.contains("code") && j["code"].is_number_integer()) s.code = j["code"].get<int>();
  s.status = str(j, "status");
  s.reason = str(j, "reason");
  s.message = str(j, "message");
  const json details = j.value("details", json::object());
  if (details.is_object()) {
    s.name = str(details, "name");
    s.group = str(details, "group");
    s.kind = str(details, "kind");
    if (details.contains("retryAfterSeconds") && details["retryAfterSeconds"].is_number())
      s.retryAfterSeconds = details["retryAfterSeconds"].get<long>();
    for (const json& c : details.value("causes", json::array()))
      if (c.is_object()) s.causes.push_back({str(c, "reason"), str(c, "message"), str(c, "field")});
  }
  return s;
}

std::optional<ApiStatus> parseApiStatus(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return parseApiStatus(j);
}

Code codeForHttp(int http, const std::string& reason, const std::string& method) {
  if (http >= 200 && http < 300) return Code::kOk;
  switch (http) {
    case 401:
    case 403: return Code::kUnauthorized;
    case 404: return Code::kNotFound;
    case 409:
      if (reason == "AlreadyExists") return Code::kAlreadyExists;
      if (reason == "Conflict") return Code::kConflict;
      return method == "POST" ? Code::kAlreadyExists : Code::kConflict;
    case 410: return Code::kGone;
    case 408:
    case 429: return Code::kUnavailable;
    case 406:
    case 415: return Code::kInternal;  // spr sent a request the server cannot read: a bug here
    default: break;
  }
  if (http >= 500) return Code::kUnavailable;
  if (http >= 400) return Code::kInvalid;  // 400, 405, 413, 422: the API rejected the request
  return Code::kInternal;                  // 1xx/3xx: not expected from an API server
}

namespace {

// kube-apiserver refuses creates in a terminating namespace with 403 (cause reason
// NamespaceTerminating): not an RBAC problem, the namespace is going away.
bool namespaceTerminating(const ApiStatus& s) {
  if (s.code != 403) return false;
  for (const StatusCause& c : s.causes)
    if (c.reason == "NamespaceTerminating") return true;
  return s.message.find("because it is being terminated") != std::string::npos;
}

Status mapStatus(const ApiStatus& s, const std::string& method, const std::string& what, const std::string& cluster) {
  Code code = codeForHttp(s.code, s.reason, method);
  if (namespaceTerminating(s)) {
    std::string where = cluster.empty() ? what : "cluster " + cluster + ": " + what;
    return Status(Code::kUnavailable,
                  where + ": " + s.message + " (the namespace is being deleted; not an RBAC problem)");
  }
  if (code == Code::kOk) code = Code::kInternal;  // a "Failure" Status with a 2xx code
  std::string message = code == Code::kInvalid ? invalidMessage(s) : s.message;
  if (message.empty()) message = s.reason.empty() ? "HTTP " + std::to_string(s.code) : s.reason;
  std::string where = cluster.empty() ? what : "cluster " + cluster + ": " + what;
  return Status(code, where + ": " + message + fixFor(code, s.code));
}

}  // namespace

Status statusFromApiStatus(const ApiStatus& s, const std::string& what, const std::string& cluster) {
  return mapStatus(s, "", what, cluster);
}

Status statusFromResponse(const HttpResponse& response, const HttpRequest& request, const std::string& cluster) {
  if (response.status >= 200 && response.status < 300) return Status::ok();
  ApiStatus s;
  if (auto parsed = parseApiStatus(response.body)) s = *parsed;
  s.code = response.status;  // the HTTP code wins over a missing or stale body code
  if (s.message.empty() && s.causes.empty()) {
    std::string body = response.body.substr(0, 200);
    s.message = "HTTP " + std::to_string(response.status) + (body.empty() ? "" : ": " + body);
  }
  std::string path = request.path.substr(0, request.path.find('?'));
  return mapStatus(s, request.method, request.method + " " + path, cluster);
}

long retryAfterMs(const HttpResponse& response) {
  auto it = response.headers.find("retry-after");
  if (it != response.headers.end()) {
    char* end = nullptr;
    long seconds = std::strtol(it->second.c_str(), &end, 10);
    if (end != it->second.c_str() && seconds >= 0) return seconds * 1000;
  }
  if (auto s = parseApiStatus(response.body)) return s->retryAfterSeconds * 1000;
  return 0;
}

}  // namespace spr::k8s
