// The review APIs of a simulated cluster, answered as kube-apiserver answers them:
// TokenReview (authentication.k8s.io/v1), SubjectAccessReview (authorization.k8s.io/v1,
// decided by the cluster's RBAC objects, sim/rbac.h) and TokenRequest
// (POST /api/v1/namespaces/NS/serviceaccounts/NAME/token, `kubectl create token`), and the
// caller's own SelfSubjectReview and SelfSubjectAccessReview (`kubectl auth whoami`,
// `kubectl auth can-i`, with --as/--as-group impersonation).
//
// Who a token is: the cluster's kubeconfig token is "kubernetes-admin" in system:masters
// (kubeadm's admin); a token granted for an AccessRequest is "openmcp:accessrequest" in
// system:masters too (the sim serves those tokens everything); a ServiceAccount token is
// system:serviceaccount:NS:NAME in system:serviceaccounts and system:serviceaccounts:NS,
// while it is unexpired and its ServiceAccount (same uid) exists. Every identity is also in
// system:authenticated.
#include <algorithm>
#include <chrono>
#include <ctime>

#include "sim/cluster.h"
#include "sim/rbac.h"
#include "sim/review.h"
#include "sim/schema.h"
#include "sim/tls.h"

namespace spr::sim {

using nlohmann::json;

namespace {

constexpr const char* kTokenReviews = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr const char* kAccessReviews = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
constexpr int64_t kDefaultExpirationSeconds = 3600;
constexpr int64_t kMinExpirationSeconds = 600;
constexpr int64_t kMaxExpirationSeconds = int64_t{1} << 32;

std::string base64Url(const std::string& in) {
  std::string out = base64Encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string timestamp(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// metadata.uid of a stored object ("" when it has none).
std::string uidOf(const json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto uid = meta->find("uid");
  return uid != meta->end() && uid->is_string() ? uid->get<std::string>() : "";
}

// kube-apiserver's bounds on TokenRequest spec.expirationSeconds.
std::optional<ApiResponse> checkExpiration(const std::string& name, int64_t seconds) {
  if (seconds >= kMinExpirationSeconds && seconds <= kMaxExpirationSeconds) return std::nullopt;
  std::string why = seconds < kMinExpirationSeconds ? ": may not specify a duration less than 10 minutes"
                                                    : ": may not specify a duration larger than 2^32 seconds";
  return ApiResponse{422,
                     invalidStatus("authentication.k8s.io", "TokenRequest", name,
                                   {{"FieldValueInvalid", "Invalid value: " + std::to_string(seconds) + why,
                                     "spec.expirationSeconds"}}),
                     {}};
}

// A token shaped like kube-apiserver's JWTs, with their claims; the "signature" is random:
// the token is valid because the cluster remembers it, not because of what it says.
std::string jwtShaped(const IssuedToken& t, int64_t issuedAt, int64_t expires) {
  json claims = {
      {"aud", t.audiences},
      {"exp", expires},
      {"iat", issuedAt},
      {"iss", kDefaultTokenAudience},
      {"jti", t.credentialId},
      {"kubernetes.io",
       {{"namespace", t.ns}, {"serviceaccount", {{"name", t.serviceAccount}, {"uid", t.serviceAccountUid}}}}},
      {"nbf", issuedAt},
      {"sub", "system:serviceaccount:" + t.ns + ":" + t.serviceAccount}};
  return base64Url(R"({"alg":"RS256","kid":"spr-sim"})") + "." + base64Url(claims.dump()) + "." +
         base64Url(randomToken());
}

// The JSON object of a review request, or the 4xx to answer instead.
std::optional<ApiResponse> reviewBody(const ApiRequest& r, const char* kind, json& out) {
  if (r.method != "POST") return methodNotAllowed("the server does not allow this method on the requested resource");
  out = json::parse(r.body, nullptr, false);
  if (out.is_discarded() || !out.is_object())
    return badRequest(std::string("the body of the request could not be decoded: expected a JSON ") + kind + " object");
  if (!out.contains("spec") || !out["spec"].is_object()) out["spec"] = json::object();
  return std::nullopt;
}

json stringList(const json& v) {
  json out = json::array();
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s);
  return out;
}

std::vector<std::string> strings(const json& v) {
  std::vector<std::string> out;
  for (const auto& s : stringList(v)) out.push_back(s.get<std::string>());
  return out;
}

// The audiences both the token and the review accept: the token's own when the review names
// none (kube-apiserver's API audiences); a token without audiences accepts any.
json commonAudiences(const std::vector<std::string>& token, const json& wanted) {
  std::vector<std::string> asked = strings(wanted);
  if (asked.empty()) asked = token.empty() ? std::vector<std::string>{kDefaultTokenAudience} : token;
  json out = json::array();
  for (const auto& a : asked)
    if (token.empty() || std::find(token.begin(), token.end(), a) != token.end()) out.push_back(a);
  return out;
}

// The RBAC decision on `res` (resourceAttributes) or else `nonRes` for `subject`.
RbacDecision decide(const ObjectStore& store, const RbacSubject& subject, const json& res, const json& nonRes) {
  RbacRequest request;
  request.resourceRequest = res.is_object();
  const json& attrs = request.resourceRequest ? res : nonRes;
  auto field = [&](const char* key) {
    return attrs.value(key, json()).is_string() ? attrs[key].get<std::string>() : "";
  };
  request.verb = field("verb");
  request.path = field("path");
  request.ns = field("namespace"), request.group = field("group"), request.resource = field("resource");
  request.subresource = field("subresource"), request.name = field("name");
  RbacObjects objects;
  objects.clusterRoleBindings = store.list("rbac.authorization.k8s.io/clusterrolebindings", "");
  if (!request.ns.empty()) objects.roleBindings = store.list("rbac.authorization.k8s.io/rolebindings", request.ns);
  objects.role = [&store](const std::string& kind, const std::string& ns, const std::string& name) -> const json* {
    if (kind == "ClusterRole") return store.get("rbac.authorization.k8s.io/clusterroles", "", name);
    if (kind == "Role") return store.get("rbac.authorization.k8s.io/roles", ns, name);
    return nullptr;
  };
  return authorizeRbac(subject, request, objects);
}

// The exactly-one-of check of both access reviews (kube-apiserver's validation words).
void checkAttributes(const json& res, const json& nonRes, std::vector<FieldCause>& causes) {
  if (res.is_object() && nonRes.is_object())
    causes.push_back(
        {"FieldValueInvalid",
         "Invalid value: " + nonRes.dump() + ": cannot be specified in combination with resourceAttributes",
         "spec.nonResourceAttributes"});
  if (!res.is_object() && !nonRes.is_object())
    causes.push_back(
        {"FieldValueInvalid",
         "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
         "spec.resourceAttributes"});
}

// Who `user` is when impersonated (kubectl --as/--as-group), as kube-apiserver's
// impersonation filter makes it: the given groups, a ServiceAccount's groups, and
// system:authenticated.
json impersonated(const std::string& user, const std::vector<std::string>& groups) {
  json g = json::array();
  for (const auto& x : groups) g.push_back(x);
  const std::string kSa = "system:serviceaccount:";
  if (user.rfind(kSa, 0) == 0 && user.find(':', kSa.size()) != std::string::npos) {
    std::string ns = user.substr(kSa.size(), user.find(':', kSa.size()) - kSa.size());
    g.push_back("system:serviceaccounts");
    g.push_back("system:serviceaccounts:" + ns);
  }
  if (std::find(g.begin(), g.end(), "system:authenticated") == g.end()) g.push_back("system:authenticated");
  return {{"username", user}, {"groups", g}};
}

}  // namespace

std::optional<ApiResponse> Cluster::review(const ApiRequest& r) {
  std::string path = r.path;
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == kTokenReviews) return tokenReview(r);
  if (path == kAccessReviews) return subjectAccessReview(r);
  if (path == "/apis/authentication.k8s.io/v1/selfsubjectreviews") return selfReview(r, false);
  if (path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") return selfReview(r, true);
  // /api/v1/namespaces/<ns>/serviceaccounts/<name>/token
  const std::string kNs = "/api/v1/namespaces/", kSa = "/serviceaccounts/", kToken = "/token";
  if (path.rfind(kNs, 0) != 0 || path.size() < kToken.size() ||
      path.compare(path.size() - kToken.size(), kToken.size(), kToken) != 0)
    return std::nullopt;
  size_t sa = path.find(kSa, kNs.size());
  if (sa == std::string::npos) return std::nullopt;
  std::string ns = path.substr(kNs.size(), sa - kNs.size());
  std::string name = path.substr(sa + kSa.size(), path.size() - kToken.size() - sa - kSa.size());
  if (ns.empty() || name.empty() || ns.find('/') != std::string::npos || name.find('/') != std::string::npos)
    return std::nullopt;
  return tokenRequest(ns, name, r);
}

std::optional<json> Cluster::tokenUser(const std::string& token, const json& wantedAudiences, json* audiences) {
  auto user = [](const std::string& name, const std::string& uid, json groups, json extra) {
    groups.push_back("system:authenticated");
    json u = {{"username", name}, {"groups", groups}};
    if (!uid.empty()) u["uid"] = uid;
    if (!extra.empty()) u["extra"] = extra;
    return u;
  };
  if (!token.empty() && token == token_) {
    *audiences = commonAudiences({}, wantedAudiences);
    return user("kubernetes-admin", "", json::array({"system:masters"}), json::object());
  }
  if (auto g = grants_.find(token); !token.empty() && g != grants_.end()) {  // an AccessRequest's grant
    *audiences = commonAudiences({}, wantedAudiences);
    json groups = g->second.permissions.is_null() ? json::array({"system:masters"}) : json::array();
    return user(g->second.user.empty() ? "openmcp:accessrequest" : g->second.user, "", groups, json::object());
  }
  auto it = issuedTokens_.find(token);
  if (it == issuedTokens_.end()) return std::nullopt;
  const IssuedToken& t = it->second;
  const json* sa = store_.get("/serviceaccounts", t.ns, t.serviceAccount);
  if (std::chrono::system_clock::now() >= t.expires || !sa || uidOf(*sa) != t.serviceAccountUid) return std::nullopt;
  *audiences = commonAudiences(t.audiences, wantedAudiences);
  if (audiences->empty()) return std::nullopt;
  return user("system:serviceaccount:" + t.ns + ":" + t.serviceAccount, t.serviceAccountUid,
              json::array({"system:serviceaccounts", "system:serviceaccounts:" + t.ns}),
              {{"authentication.kubernetes.io/credential-id", json::array({"JTI=" + t.credentialId})}});
}

ApiResponse Cluster::tokenReview(const ApiRequest& r) {
  json review;
  if (auto err = reviewBody(r, "TokenReview", review)) return *err;
  const json& spec = review["spec"];
  const std::string token = spec.value("token", json()).is_string() ? spec["token"].get<std::string>() : "";
  if (token.empty()) return badRequest("token is required for TokenReview in authentication");
  json audiences = json::array();
  std::optional<json> user = tokenUser(token, spec.value("audiences", json()), &audiences);
  json out = {{"kind", "TokenReview"},
              {"apiVersion", "authentication.k8s.io/v1"},
              {"metadata", {{"creationTimestamp", nullptr}}},
              {"spec", spec}};
  if (user)
    out["status"] = {{"authenticated", true}, {"user", *user}, {"audiences", audiences}};
  else
    out["status"] = {{"user", json::object()}, {"error", "[invalid bearer token, token lookup failed]"}};
  return {201, out, {}};
}

ApiResponse Cluster::subjectAccessReview(const ApiRequest& r) {
  json review;
  if (auto err = reviewBody(r, "SubjectAccessReview", review)) return *err;
  const json spec = review["spec"];
  std::vector<FieldCause> causes;
  json meta = review.value("metadata", json::object());
  if (meta.is_object()) meta.erase("managedFields");
  if (!meta.is_null() && meta != json::object())
    causes.push_back({"FieldValueInvalid", "Invalid value: " + meta.dump() + ": must be empty", "metadata"});
  const json res = spec.value("resourceAttributes", json()), nonRes = spec.value("nonResourceAttributes", json());
  checkAttributes(res, nonRes, causes);
  RbacSubject subject{spec.value("user", json()).is_string() ? spec["user"].get<std::string>() : "",
                      strings(spec.value("groups", json()))};
  if (subject.user.empty() && subject.groups.empty())
    causes.push_back(
        {"FieldValueInvalid", "Invalid value: \"\": at least one of user or group must be specified", "spec.user"});
  if (!causes.empty()) return {422, invalidStatus("authorization.k8s.io", "SubjectAccessReview", "", causes), {}};
  RbacDecision d = decide(store_, subject, res, nonRes);
  json status = {{"allowed", d.allowed}};
  if (!d.reason.empty()) status["reason"] = d.reason;
  json out = {{"kind", "SubjectAccessReview"},
              {"apiVersion", "authorization.k8s.io/v1"},
              {"metadata", {{"creationTimestamp", nullptr}}},
              {"spec", spec},
              {"status", status}};
  return {201, out, {}};
}

ApiResponse Cluster::tokenRequest(const std::string& ns, const std::string& name, const ApiRequest& r) {
  json request;
  if (auto err = reviewBody(r, "TokenRequest", request)) return *err;
  const json* sa = store_.get("/serviceaccounts", ns, name);
  if (!sa) return notFound({"", "serviceaccounts", name});
  const json& spec = request["spec"];
  int64_t seconds = spec.value("expirationSeconds", json()).is_number_integer()
                        ? spec["expirationSeconds"].get<int64_t>()
                        : kDefaultExpirationSeconds;
  if (auto err = checkExpiration(name, seconds)) return *err;
  IssuedToken t;
  t.ns = ns;
  t.serviceAccount = name;
  t.serviceAccountUid = uidOf(*sa);
  t.credentialId = newUid();
  t.audiences = strings(spec.value("audiences", json()));
  if (t.audiences.empty()) t.audiences = {kDefaultTokenAudience};
  auto now = std::chrono::system_clock::now();
  for (auto it = issuedTokens_.begin(); it != issuedTokens_.end();)  // forget expired ones
    it = it->second.expires <= now ? issuedTokens_.erase(it) : std::next(it);
  t.expires = now + std::chrono::seconds(seconds);
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string token = jwtShaped(t, iat, iat + seconds);
  json out = {{"kind", "TokenRequest"},
              {"apiVersion", "authentication.k8s.io/v1"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"creationTimestamp", timestamp(now)}}},
              {"spec", {{"audiences", t.audiences}, {"expirationSeconds", seconds}, {"boundObjectRef", nullptr}}},
              {"status", {{"token", token}, {"expirationTimestamp", timestamp(t.expires)}}}};
  issuedTokens_.emplace(token, std::move(t));
  return {201, out, {}};
}

// kubectl auth whoami / kubectl auth can-i: the caller's own identity (or the one it
// impersonates) and what RBAC allows it.
ApiResponse Cluster::selfReview(const ApiRequest& r, bool access) {
  const char* kind = access ? "SelfSubjectAccessReview" : "SelfSubjectReview";
  json review;
  if (auto err = reviewBody(r, kind, review)) return *err;
  json audiences;
  std::optional<json> user = tokenUser(r.bearerToken, json(), &audiences);
  if (!user) return unauthorized();
  if (!r.impersonateUser.empty()) user = impersonated(r.impersonateUser, r.impersonateGroups);
  json out = {{"kind", kind}, {"metadata", {{"creationTimestamp", nullptr}}}};
  if (!access) {
    out["apiVersion"] = "authentication.k8s.io/v1";
    out["status"] = {{"userInfo", *user}};
    return {201, out, {}};
  }
  const json spec = review["spec"];
  const json res = spec.value("resourceAttributes", json()), nonRes = spec.value("nonResourceAttributes", json());
  std::vector<FieldCause> causes;
  checkAttributes(res, nonRes, causes);
  if (!causes.empty()) return {422, invalidStatus("authorization.k8s.io", kind, "", causes), {}};
  RbacDecision d = decide(store_, {(*user)["username"].get<std::string>(), strings((*user)["groups"])}, res, nonRes);
  out["apiVersion"] = "authorization.k8s.io/v1";
  out["spec"] = spec;
  out["status"] = {{"allowed", d.allowed}};
  if (!d.reason.empty()) out["status"]["reason"] = d.reason;
  return {201, out, {}};
}

}  // namespace spr::sim
