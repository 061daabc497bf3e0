#include "sim/cluster.h"

#include <ctime>

#include "sim/access_rbac.h"
#include "sim/patch.h"
#include "sim/protobuf.h"

namespace spr::sim {

using nlohmann::json;

namespace {

constexpr size_t kMaxBody = 3 * 1024 * 1024;

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

json namespaceObject(const std::string& name, const std::string& uid) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata",
           {{"name", name},
            {"uid", uid},
            {"creationTimestamp", nowTimestamp()},
            {"labels", {{"kubernetes.io/metadata.name", name}}}}},
          {"spec", {{"finalizers", json::array({"kubernetes"})}}},
          {"status", {{"phase", "Active"}}}};
}

}  // namespace

std::string nowTimestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string randomSuffix(std::mt19937_64& rng, size_t n) {
  static const char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(kChars[rng() % (sizeof kChars - 1)]);
  return s;
}

Cluster::Cluster(std::string name, std::string token, size_t watchWindow, std::function<void(const Change&)> onChange)
    : name_(std::move(name)),
      token_(std::move(token)),
      onChange_(std::move(onChange)),
      store_(watchWindow),
      types_(),
      rng_(std::random_device{}()) {
  for (auto& t : builtinResources()) types_.push_back(std::move(t));
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"})
    store_.put("/namespaces", namespaceObject(ns, newUid()));
}

std::string Cluster::newUid() {
  static const char kHex[] = "0123456789abcdef";
  std::string u;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) u.push_back('-');
    int v = static_cast<int>(rng_() % 16);
    if (i == 12) v = 4;
    if (i == 16) v = 8 | (v & 3);
    u.push_back(kHex[v]);
  }
  return u;
}

void Cluster::addToken(const std::string& token, json permissions, std::string user) {
  std::lock_guard<std::mutex> lock(mu_);
  grants_[token] = Grant{std::move(permissions), std::move(user)};
}

void Cluster::removeToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  grants_.erase(token);
}

bool Cluster::authorized(const std::string& token) const {
  if (token.empty()) return false;
  if (token == token_) return true;
  std::lock_guard<std::mutex> lock(mu_);
  return grants_.count(token) > 0;
}

std::optional<ApiResponse> Cluster::checkAccess(const std::string& token, const ApiRequest& request) const {
  Grant grant;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = grants_.find(token);
    if (it == grants_.end() || it->second.permissions.is_null()) return std::nullopt;  // the admin token
    grant = it->second;
  }
  RequestAttributes a = attributesOf(request);
  if (rbacAllows(grant.permissions, a)) return std::nullopt;
  return forbidden(a, grant.user);
}

bool Cluster::isWatch(const ApiRequest& r) {
  if (r.method != "GET") return false;
  return r.flag("watch");
}

namespace {

// dryRun=All in the query, or (DELETE) "dryRun": ["All"] in the DeleteOptions body.
bool isDryRun(const ApiRequest& r) {
  if (r.method == "GET") return false;
  if (r.param("dryRun") == "All") return true;
  if (r.method != "DELETE" || r.body.empty()) return false;
  json options = json::parse(r.body, nullptr, false);
  if (!options.is_object() || !options.contains("dryRun") || !options["dryRun"].is_array()) return false;
  for (const auto& v : options["dryRun"])
    if (v == "All") return true;
  return false;
}

}  // namespace

ApiResponse Cluster::handle(const ApiRequest& request) {
  if (request.body.size() > kMaxBody) return tooLarge();
  // Typed clients (kubectl create namespace/configmap/secret/serviceaccount) send protobuf:
  // decode it once here, so everything below sees JSON.
  ApiRequest decoded;
  bool protobuf = request.contentType == kProtobufMediaType && !request.body.empty() && request.method != "PATCH";
  if (protobuf) {
    json obj;
    if (auto err = decodeProtobufBody(request.body, obj)) return *err;
    decoded = request;
    decoded.body = wireJson(obj);
    decoded.contentType = "application/json";
  }
  const ApiRequest& r = protobuf ? decoded : request;
  ApiResponse response;
  bool wrote = false;
  Target t;
  // dryRun=All (kubectl --dry-run=server): run the write, answer, then put everything back.
  bool dryRun = isDryRun(r);
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t before = store_.currentRv();
    std::optional<ObjectStore> savedStore;
    std::list<ResourceType> savedTypes;
    std::set<std::string> savedTerminating;
    if (dryRun) savedStore = store_, savedTypes = types_, savedTerminating = terminating_;
    response = [&]() -> ApiResponse {
      if (auto d = discovery(r)) return *d;
      if (auto o = openapi(r)) return *o;
      if (auto v = review(r)) return *v;
      if (auto err = parseTarget(r.path, t)) return *err;
      if (r.method == "GET") {
        ApiResponse read = t.name.empty() ? list(t, r) : get(t);
        asTable(t, r, read);
        return read;
      }
      if (r.method == "POST") {
        if (!t.name.empty()) return methodNotAllowed("the server does not allow this method on the requested resource");
        return create(t, r);
      }
      if (r.method == "DELETE") return t.name.empty() ? removeCollection(t, r) : remove(t, r);
      if (t.name.empty()) return methodNotAllowed("the server does not allow this method on the requested resource");
      if (r.method == "PUT") return update(t, r);
      if (r.method == "PATCH") return patch(t, r);
      return methodNotAllowed("the server does not allow this method on the requested resource");
    }();
    if (dryRun)
      store_ = std::move(*savedStore), types_ = std::move(savedTypes), terminating_ = std::move(savedTerminating);
    wrote = store_.currentRv() != before;
  }
  if (wrote) {
    changed_.notify_all();
    if (onChange_) onChange_(changeOf(t, r.method, response));
  }
  return response;
}

// One object when the write named one (or created one); else "anything": a collection
// delete, a namespace delete (its contents go too), a CRD change (its objects may go).
Change Cluster::changeOf(const Target& t, const std::string& method, const ApiResponse& response) const {
  Change change{name_, "", "", ""};
  if (!t.type || t.type->resource == "customresourcedefinitions") return change;
  if (t.type->group.empty() && t.type->resource == "namespaces" && method == "DELETE") return change;
  change.resource = t.type->resource;
  change.ns = t.ns;
  change.name = t.name;
  if (change.name.empty() && method == "POST" && response.body.is_object() && response.body.contains("metadata")) {
    const nlohmann::json& meta = response.body["metadata"];
    change.name = meta.value("name", "");
    change.ns = meta.value("namespace", t.ns);
  }
  return change;
}

std::optional<ApiResponse> Cluster::discovery(const ApiRequest& r) {
  if (r.method != "GET") return std::nullopt;
  const std::string& p = r.path;
  if (p == "/version" || p == "/version/") return ApiResponse{200, discoveryVersion(), {}};
  if (p == "/api" || p == "/api/") return ApiResponse{200, discoveryCoreVersions(), {}};
  if (p == "/apis" || p == "/apis/") return ApiResponse{200, discoveryGroups(typesSnapshot()), {}};
  if (p == "/api/v1" || p == "/api/v1/") return ApiResponse{200, discoveryResources("v1", typesSnapshot()), {}};
  auto segs = splitPath(p);
  if (segs.size() == 3 && segs[0] == "apis") {
    std::string gv = segs[1] + "/" + segs[2];
    for (const auto& t : types_)
      if (t.groupVersion() == gv) return ApiResponse{200, discoveryResources(gv, typesSnapshot()), {}};
    return noSuchPath();
  }
  if (segs.size() == 2 && segs[0] == "apis") {
    json groups = discoveryGroups(typesSnapshot())["groups"];
    for (auto& g : groups)
      if (g["name"] == segs[1]) {
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return ApiResponse{200, g, {}};
      }
    return noSuchPath();
  }
  return std::nullopt;
}

std::optional<ApiResponse> Cluster::openapi(const ApiRequest& r) {
  if (r.path.rfind("/openapi/", 0) != 0) return std::nullopt;
  std::vector<OpenApiKind> kinds;
  for (const auto& t : types_) {
    OpenApiKind k{t.group, t.version, t.kind, t.resource, t.namespaced, t.schema, t.statusSubresource};
    kinds.push_back(std::move(k));
  }
  if (r.path == "/openapi/v3" || r.path == "/openapi/v3/") return ApiResponse{200, openapiIndex(prefix(), kinds), {}};
  if (r.path == "/openapi/v2") {
    OpenApiV2 doc = openapiV2Document(r.accept);
    return ApiResponse{200, doc.body, {{"Content-Type", doc.contentType}}};
  }
  auto segs = splitPath(r.path);  // openapi v3 api v1 | openapi v3 apis g v
  std::string group, version;
  if (segs.size() == 4 && segs[1] == "v3" && segs[2] == "api")
    version = segs[3];
  else if (segs.size() == 5 && segs[1] == "v3" && segs[2] == "apis")
    group = segs[3], version = segs[4];
  else
    return noSuchPath();
  for (const auto& t : types_)
    if (t.group == group && t.version == version) return ApiResponse{200, openapiDocument(group, version, kinds), {}};
  return noSuchPath();
}

const ResourceType* Cluster::findType(const std::string& group, const std::string& version,
                                      const std::string& resource) const {
  for (const auto& t : types_)
    if (t.group == group && t.version == version && t.resource == resource) return &t;
  return nullptr;
}

std::optional<ApiResponse> Cluster::parseTarget(const std::string& path, Target& t) const {
  auto segs = splitPath(path);
  std::string group, version;
  size_t i;
  if (segs.size() >= 3 && segs[0] == "api")
    version = segs[1], i = 2;
  else if (segs.size() >= 4 && segs[0] == "apis")
    group = segs[1], version = segs[2], i = 3;
  else
    return noSuchPath();
  // .../namespaces/<ns>/<resource>... unless this is the namespaces resource itself.
  if (group.empty() && segs[i] == "namespaces" && segs.size() - i >= 3 && segs[i + 2] != "status" &&
      segs[i + 2] != "finalize") {
    t.ns = segs[i + 1];
    i += 2;
  } else if (!group.empty() && segs[i] == "namespaces" && segs.size() - i >= 3) {
    t.ns = segs[i + 1];
    i += 2;
  }
  t.type = findType(group, version, segs[i]);
  if (!t.type) return noSuchPath();
  if (!t.ns.empty() && !t.type->namespaced) return noSuchPath();
  if (segs.size() > i + 1) t.name = segs[i + 1];
  if (segs.size() > i + 2) {
    if (segs[i + 2] != "status" || !t.type->statusSubresource || segs.size() > i + 3) return noSuchPath();
    t.status = true;
  }
  if (t.type->namespaced && t.ns.empty() && !t.name.empty()) return noSuchPath();
  return std::nullopt;
}

json Cluster::outputObject(const ResourceType& type, const json& stored) const {
  if (!type.custom || stored.value("apiVersion", "") == type.apiVersion()) return stored;
  json out = stored;
  out["apiVersion"] = type.apiVersion();
  return out;
}

ApiResponse Cluster::get(const Target& t) {
  const json* obj = store_.get(t.type->key(), t.ns, t.name);
  if (!obj) return notFound({t.type->group, t.type->resource, t.name});
  return {200, outputObject(*t.type, *obj), {}};
}

ApiResponse Cluster::list(const Target& t, const ApiRequest& r) {
  auto labels = LabelSelector::parse(r.param("labelSelector"));
  if (!labels) return badRequest(labels.status().message());
  auto fields = FieldSelector::parse(r.param("fieldSelector"));
  if (!fields) return badRequest(fields.status().message());
  long limit = 0;
  try {
    if (!r.param("limit").empty()) limit = std::stol(r.param("limit"));
  } catch (...) {
    return badRequest("limit: invalid value \"" + r.param("limit") + "\": must be an integer");
  }
  std::string after;
  const std::string cont = r.param("continue");
  if (!cont.empty()) {
    size_t colon = cont.find(':');
    if (colon == std::string::npos) return badRequest("continue key is not valid: \"" + cont + "\"");
    uint64_t tokenRv = std::strtoull(cont.substr(0, colon).c_str(), nullptr, 10);
    if (expireRvs_ && tokenRv < store_.currentRv())
      return gone(
          "The provided continue parameter is too old to display a consistent list result. You can start a new list "
          "without the continue parameter.");
    after = cont.substr(colon + 1);
  }
  json items = json::array();
  std::string lastId;
  long remaining = 0;
  for (const json* obj : store_.list(t.type->key(), t.ns)) {
    const json& meta = (*obj)["metadata"];
    std::string id = meta.value("namespace", "") + "/" + meta.value("name", "");
    if (!after.empty() && id <= after) continue;
    if (!labels->matches(meta.value("labels", json())) || !fields->matches(*obj)) continue;
    if (limit > 0 && static_cast<long>(items.size()) >= limit) {
      ++remaining;
      continue;
    }
    json item = outputObject(*t.type, *obj);
    if (!t.type->custom) item.erase("kind"), item.erase("apiVersion");
    items.push_back(std::move(item));
    lastId = id;
  }
  json meta = {{"resourceVersion", std::to_string(store_.currentRv())}};
  if (remaining > 0) {
    meta["continue"] = std::to_string(store_.currentRv()) + ":" + lastId;
    meta["remainingItemCount"] = remaining;
  } else if (t.type->custom) {
    meta["continue"] = "";
  }
  return {200,
          {{"kind", t.type->kind + "List"}, {"apiVersion", t.type->apiVersion()}, {"metadata", meta}, {"items", items}},
          {}};
}

std::optional<TableOptions> Cluster::tableOptions(const Target& t, const ApiRequest& r) const {
  if (!t.type || !t.type->custom || t.status || !wantsTable(r.accept)) return std::nullopt;
  TableOptions options;
  options.includeObject = r.param("includeObject");
  const json* crd = store_.get("apiextensions.k8s.io/customresourcedefinitions", "", t.type->crdName);
  if (crd && (*crd)["spec"].contains("versions"))
    for (const auto& v : (*crd)["spec"]["versions"])
      if (v.value("name", "") == t.type->version && v.contains("additionalPrinterColumns"))
        options.printerColumns = v["additionalPrinterColumns"];
  return options;
}

void Cluster::asTable(const Target& t, const ApiRequest& r, ApiResponse& response) const {
  if (response.code != 200) return;
  auto options = tableOptions(t, r);
  if (!options) return;
  if (!t.name.empty()) {
    response.body = toTable({&response.body},
                            {{"resourceVersion", response.body["metadata"].value("resourceVersion", "")}}, *options);
    return;
  }
  std::vector<const json*> items;
  for (const auto& item : response.body["items"]) items.push_back(&item);
  response.body = toTable(items, response.body["metadata"], *options);
}

}  // namespace spr::sim
