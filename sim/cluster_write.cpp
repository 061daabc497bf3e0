// Cluster's writes: create, update (main and status), patch, delete, deletecollection.
#include <regex>

#include "sim/cluster.h"
#include "sim/patch.h"
#include "sim/schema.h"
#include "sim/tls.h"

namespace spr::sim {

using nlohmann::json;

namespace {

bool isJsonType(const std::string& ct) { return ct.empty() || ct == "application/json"; }

std::string metaString(const json& obj, const char* field) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  const json& m = obj["metadata"];
  return m.contains(field) && m[field].is_string() ? m[field].get<std::string>() : "";
}

// The object without metadata and status: what decides whether generation moves.
json specPart(const json& obj) {
  json out = obj;
  out.erase("metadata");
  out.erase("status");
  return out;
}

bool hasFinalizers(const json& obj) {
  const json& m = obj["metadata"];
  return m.contains("finalizers") && m["finalizers"].is_array() && !m["finalizers"].empty();
}

std::optional<ApiResponse> parseBody(const ApiRequest& r, json& out) {
  if (!isJsonType(r.contentType)) return unsupportedMediaType(r.contentType);
  out = json::parse(r.body, nullptr, false);
  if (out.is_discarded())
    return badRequest(
        "the body of the request could not be decoded: invalid JSON (couldn't get version/kind; json parse error)");
  if (!out.is_object()) return badRequest("the body of the request could not be decoded: expected a JSON object");
  if (!out.contains("metadata") || out["metadata"].is_null()) out["metadata"] = json::object();
  if (!out["metadata"].is_object()) return badRequest("metadata: expected an object");
  return std::nullopt;
}

// Secret stringData is write-only: kube-apiserver merges it into data (base64) and drops it.
void mergeStringData(const ResourceType& type, json& obj) {
  if (type.custom || type.resource != "secrets" || !obj.contains("stringData")) return;
  if (obj["stringData"].is_object())
    for (const auto& [k, v] : obj["stringData"].items())
      if (v.is_string()) obj["data"][k] = base64Encode(v.get<std::string>());
  obj.erase("stringData");
}

bool validName(const std::string& n) {
  static const std::regex kDns("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return n.size() <= 253 && std::regex_match(n, kDns);
}

ApiResponse invalidBuiltin(const ResourceType& type, const std::string& name, const std::string& field,
                           const std::string& reason, const std::string& message) {
  return ApiResponse{422, invalidStatus(type.group, type.kind, name, {FieldCause{reason, message, field}}), {}};
}

// kube-apiserver's ValidateAnnotationsSize: keys and values together at most 256 KiB, on
// every kind (a CRD's schema cannot lift it).
constexpr size_t kMaxAnnotationBytes = 256 * 1024;

std::optional<ApiResponse> checkAnnotationsSize(const ResourceType& type, const json& obj) {
  const json* meta = obj.contains("metadata") ? &obj["metadata"] : nullptr;
  if (!meta || !meta->is_object() || !meta->contains("annotations") || !(*meta)["annotations"].is_object())
    return std::nullopt;
  size_t total = 0;
  for (const auto& [key, value] : (*meta)["annotations"].items())
    total += key.size() + (value.is_string() ? value.get_ref<const std::string&>().size() : value.dump().size());
  if (total <= kMaxAnnotationBytes) return std::nullopt;
  return invalidBuiltin(type, metaString(obj, "name"), "metadata.annotations", "FieldValueTooLong",
                        "Too long: may not be more than " + std::to_string(kMaxAnnotationBytes) + " bytes");
}

}  // namespace

std::optional<ApiResponse> Cluster::checkNamespace(const Target& t) const {
  if (!t.type->namespaced) return std::nullopt;
  const json* ns = store_.get("/namespaces", "", t.ns);
  if (!ns) return notFound({"", "namespaces", t.ns});
  return std::nullopt;
}

std::optional<ApiResponse> Cluster::validateCustom(const ResourceType& type, json& object, const ApiRequest& r,
                                                   std::map<std::string, std::string>& headers) {
  if (!type.custom || type.schema.is_null()) return std::nullopt;
  ValidationResult v = validateCustomObject(object, type.schema);
  std::string name = metaString(object, "name");
  if (!v.causes.empty()) return ApiResponse{422, invalidStatus(type.group, type.kind, name, v.causes), {}};
  if (v.unknownFields.empty()) return std::nullopt;
  std::string mode = r.param("fieldValidation");
  if (mode == "Strict")
    return badRequest(type.kind + " in version \"" + type.version + "\" cannot be handled as a " + type.kind + ": " +
                      strictDecodingMessage(v.unknownFields));
  if (mode != "Ignore") headers["Warning"] = unknownFieldWarnings(v.unknownFields);
  return std::nullopt;
}

// Checks apiVersion/kind/namespace/name of a new object and fills them in.
std::optional<ApiResponse> Cluster::identifyNew(const Target& t, json& obj) {
  const ResourceType& type = *t.type;
  if (obj.contains("apiVersion") && obj["apiVersion"] != type.apiVersion())
    return badRequest("the API version in the data (" + obj["apiVersion"].dump() +
                      ") does not match the expected API version (" + type.apiVersion() + ")");
  if (obj.contains("kind") && obj["kind"] != type.kind)
    return badRequest("the kind in the data (" + obj["kind"].dump() + ") does not match the expected kind (" +
                      type.kind + ")");
  obj["apiVersion"] = type.apiVersion();
  obj["kind"] = type.kind;
  json& meta = obj["metadata"];
  if (type.namespaced) {
    std::string bodyNs = metaString(obj, "namespace");
    if (!bodyNs.empty() && bodyNs != t.ns)
      return badRequest("the namespace of the provided object does not match the namespace sent on the request");
    meta["namespace"] = t.ns;
  } else {
    meta.erase("namespace");
  }
  std::string name = metaString(obj, "name");
  if (name.empty() && !metaString(obj, "generateName").empty())
    name = metaString(obj, "generateName") + randomSuffix(rng_, 5);
  if (name.empty())
    return invalidBuiltin(type, "", "metadata.name", "FieldValueRequired",
                          "Required value: name or generateName is required");
  if (!validName(name))
    return invalidBuiltin(type, name, "metadata.name", "FieldValueInvalid",
                          "Invalid value: \"" + name +
                              "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                              "'-' or '.', and must start and end with an alphanumeric character");
  meta["name"] = name;
  return std::nullopt;
}

// The namespace must exist and not be terminating; the name must be free.
std::optional<ApiResponse> Cluster::checkCreateTarget(const Target& t, const std::string& name) const {
  const ResourceType& type = *t.type;
  if (auto e = checkNamespace(t)) return e;
  if (type.namespaced) {
    const json* ns = store_.get("/namespaces", "", t.ns);
    if (ns && (*ns)["metadata"].contains("deletionTimestamp"))
      return failure(403, "Forbidden",
                     qualifiedResource(type.group, type.resource) + " \"" + name +
                         "\" is forbidden: unable to create new content in namespace " + t.ns +
                         " because it is being terminated",
                     json{{"name", name}, {"group", type.group}, {"kind", type.resource}});
  }
  if (store_.get(type.key(), t.ns, name)) return alreadyExists({type.group, type.resource, name});
  return std::nullopt;
}

// Kind-specific create defaults: CRD validation/status, namespace finalizer and phase.
std::optional<ApiResponse> Cluster::prepareKindOnCreate(const ResourceType& type, json& obj) {
  std::string name = obj["metadata"]["name"];
  if (type.resource == "customresourcedefinitions") {
    auto problems = crdProblems(obj);
    if (!problems.empty()) {
      std::vector<FieldCause> causes;
      for (auto& [f, m] : problems) causes.push_back({"FieldValueInvalid", m, f});
      return ApiResponse{422, invalidStatus(type.group, type.kind, name, causes), {}};
    }
    prepareCrd(obj);
  }
  if (type.resource == "namespaces") {
    obj["spec"] = {{"finalizers", json::array({"kubernetes"})}};
    obj["status"] = {{"phase", "Active"}};
    obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
  }
  return std::nullopt;
}

ApiResponse Cluster::create(const Target& t, const ApiRequest& r) {
  if (t.status) return methodNotAllowed("the server does not allow this method on the requested resource");
  json obj;
  if (auto e = parseBody(r, obj)) return *e;
  const ResourceType& type = *t.type;
  if (auto e = identifyNew(t, obj)) return *e;
  if (auto e = checkAnnotationsSize(type, obj)) return *e;
  if (auto e = checkCreateTarget(t, obj["metadata"]["name"])) return *e;
  json& meta = obj["metadata"];
  for (const char* f :
       {"resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"})
    meta.erase(f);
  if (type.statusSubresource && type.custom)
    obj.erase("status");
  else if (type.statusSubresource && type.resource != "namespaces")
    obj["status"] = json::object();
  std::map<std::string, std::string> headers;
  if (auto e = validateCustom(type, obj, r, headers)) return *e;
  if (auto e = prepareKindOnCreate(type, obj)) return *e;
  mergeStringData(type, obj);
  meta["uid"] = newUid();
  meta["creationTimestamp"] = nowTimestamp();
  if (type.hasGeneration) meta["generation"] = 1;
  const json& stored = store_.put(type.key(), std::move(obj));
  json out = outputObject(type, stored);
  if (type.resource == "customresourcedefinitions") onCrdWritten(stored);
  return {201, out, headers};
}

ApiResponse Cluster::update(const Target& t, const ApiRequest& r) {
  json body;
  if (auto e = parseBody(r, body)) return *e;
  const ResourceType& type = *t.type;
  const json* found = store_.get(type.key(), t.ns, t.name);
  if (!found) return notFound({type.group, type.resource, t.name});
  json existing = *found;
  std::string bodyName = metaString(body, "name");
  if (!bodyName.empty() && bodyName != t.name)
    return badRequest("the name of the object (" + bodyName + ") does not match the name on the URL (" + t.name + ")");
  std::string rv = metaString(body, "resourceVersion");
  if (!rv.empty() && rv != metaString(existing, "resourceVersion"))
    return conflictModified({type.group, type.resource, t.name});
  json updated;
  if (t.status) {
    updated = existing;
    if (body.contains("status"))
      updated["status"] = body["status"];
    else
      updated.erase("status");
  } else {
    updated = body;
    if (type.statusSubresource) {
      if (existing.contains("status"))
        updated["status"] = existing["status"];
      else
        updated.erase("status");
    }
    if (type.resource == "customresourcedefinitions" && !crdProblems(updated).empty())
      return badRequest("CustomResourceDefinition \"" + t.name + "\" is invalid: spec is not valid");
  }
  return writeUpdate(t, std::move(updated), existing, r);
}

ApiResponse Cluster::writeUpdate(const Target& t, json updated, const json& existing, const ApiRequest& r) {
  const ResourceType& type = *t.type;
  updated["apiVersion"] = type.apiVersion();
  updated["kind"] = type.kind;
  json& meta = updated["metadata"];
  const json& old = existing["metadata"];
  meta["name"] = t.name;
  if (type.namespaced) meta["namespace"] = t.ns;
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                        "resourceVersion"}) {
    if (old.contains(f))
      meta[f] = old[f];
    else
      meta.erase(f);
  }
  if (type.resource == "customresourcedefinitions") prepareCrd(updated);
  mergeStringData(type, updated);
  if (auto e = checkAnnotationsSize(type, updated)) return *e;
  std::map<std::string, std::string> headers;
  if (auto e = validateCustom(type, updated, r, headers)) return *e;
  if (type.hasGeneration && specPart(updated) != specPart(existing))
    meta["generation"] = old.value("generation", 0) + 1;
  if (updated == existing) return {200, outputObject(type, existing), headers};
  bool finishDelete = old.contains("deletionTimestamp") && !hasFinalizers(updated);
  const json& stored = store_.put(type.key(), std::move(updated));
  json out = outputObject(type, stored);
  if (type.resource == "customresourcedefinitions") onCrdWritten(stored);
  if (finishDelete) {
    if (type.resource == "customresourcedefinitions") onCrdDeleted(stored);
    out = outputObject(type, store_.remove(type.key(), t.ns, t.name));
  }
  return {200, out, headers};
}

ApiResponse Cluster::patch(const Target& t, const ApiRequest& r) {
  const ResourceType& type = *t.type;
  auto pt = patchTypeOf(r.contentType);
  if (!pt || (*pt == PatchType::kStrategic && type.custom) || *pt == PatchType::kApply)
    return failure(415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json" +
                       std::string(type.custom ? "" : ", application/strategic-merge-patch+json"));
  const json* found = store_.get(type.key(), t.ns, t.name);
  if (!found) return notFound({type.group, type.resource, t.name});
  json existing = *found;
  PatchResult res = applyPatch(existing, *pt, r.body);
  if (res.error) return *res.error;
  if (!res.object.is_object() || !res.object.contains("metadata") || !res.object["metadata"].is_object())
    return failure(422, "Invalid", "the patched object has no metadata");
  std::string rv = metaString(res.object, "resourceVersion");
  if (!rv.empty() && rv != metaString(existing, "resourceVersion"))
    return conflictModified({type.group, type.resource, t.name});
  json updated;
  if (t.status) {
    updated = existing;
    if (res.object.contains("status"))
      updated["status"] = res.object["status"];
    else
      updated.erase("status");
  } else {
    updated = std::move(res.object);
    if (type.statusSubresource) {
      if (existing.contains("status"))
        updated["status"] = existing["status"];
      else
        updated.erase("status");
    }
  }
  return writeUpdate(t, std::move(updated), existing, r);
}

ApiResponse Cluster::deleteNow(const Target& t, const json& existing) {
  const ResourceType& type = *t.type;
  json last = store_.remove(type.key(), t.ns, t.name);
  return deleteSuccess({type.group, type.resource, t.name}, metaString(existing, "uid"));
}

ApiResponse Cluster::remove(const Target& t, const ApiRequest& r) {
  const ResourceType& type = *t.type;
  const json* found = store_.get(type.key(), t.ns, t.name);
  if (!found) return notFound({type.group, type.resource, t.name});
  json existing = *found;
  json options = r.body.empty() ? json::object() : json::parse(r.body, nullptr, false);
  if (options.is_discarded() || !options.is_object())
    return badRequest("the body of the request could not be decoded: expected DeleteOptions");
  if (options.contains("preconditions") && options["preconditions"].is_object()) {
    const json& pre = options["preconditions"];
    for (const char* f : {"uid", "resourceVersion"})
      if (pre.contains(f) && pre[f].is_string() && pre[f] != existing["metadata"].value(f, ""))
        return failure(409, "Conflict",
                       "Operation cannot be fulfilled on " + qualifiedResource(type.group, type.resource) + " \"" +
                           t.name + "\": Precondition failed: " + f + " in precondition: " + pre[f].get<std::string>() +
                           ", " + f + " in object meta: " + existing["metadata"].value(f, ""),
                       json{{"name", t.name}, {"group", type.group}, {"kind", type.resource}});
  }
  if (type.resource == "namespaces") {
    if (t.name == "default" || t.name == "kube-system" || t.name == "kube-public")
      return failure(403, "Forbidden", "namespaces \"" + t.name + "\" is forbidden: this namespace may not be deleted",
                     json{{"name", t.name}, {"kind", "namespaces"}});
    json marked = existing;
    if (!marked["metadata"].contains("deletionTimestamp")) {
      marked["metadata"]["deletionTimestamp"] = nowTimestamp();
      marked["status"]["phase"] = "Terminating";
      store_.put(type.key(), marked);
    }
    terminating_.insert(t.name);
    deleteNamespaceContents(t.name);
    if (store_.namespaceEmpty(t.name)) {
      terminating_.erase(t.name);
      return {200, store_.remove(type.key(), "", t.name), {}};
    }
    return {200, *store_.get(type.key(), "", t.name), {}};
  }
  if (type.resource == "customresourcedefinitions") {
    json marked = existing;
    marked["metadata"]["deletionTimestamp"] = nowTimestamp();
    marked["metadata"]["finalizers"] = json::array({"customresourcecleanup.apiextensions.k8s.io"});
    onCrdDeleted(existing);
    store_.remove(type.key(), "", t.name);
    return {200, marked, {}};
  }
  if (hasFinalizers(existing)) {
    if (existing["metadata"].contains("deletionTimestamp")) return {200, outputObject(type, existing), {}};
    existing["metadata"]["deletionTimestamp"] = nowTimestamp();
    existing["metadata"]["deletionGracePeriodSeconds"] = 0;
    return {200, outputObject(type, store_.put(type.key(), existing)), {}};
  }
  return deleteNow(t, existing);
}

ApiResponse Cluster::removeCollection(const Target& t, const ApiRequest& r) {
  // As kube-apiserver: a namespaced resource is deleted as a collection only per namespace
  // (found by tests/fuzz: the all-namespaces form read objects it could not find).
  if (t.type->namespaced && t.ns.empty()) {
    return methodNotAllowed("the server does not allow this method on the requested resource");
  }
  auto labels = LabelSelector::parse(r.param("labelSelector"));
  if (!labels) return badRequest(labels.status().message());
  json items = json::array();
  std::vector<std::string> names;
  for (const json* obj : store_.list(t.type->key(), t.ns))
    if (labels->matches((*obj)["metadata"].value("labels", json()))) names.push_back(metaString(*obj, "name"));
  for (const auto& n : names) {
    Target one = t;
    one.name = n;
    const json* found = store_.get(t.type->key(), t.ns, n);
    if (!found) continue;  // gone with an earlier one (a namespace's contents)
    json existing = *found;
    if (t.type->resource == "namespaces" || t.type->resource == "customresourcedefinitions") {
      ApiRequest sub = r;
      sub.body.clear();
      remove(one, sub);
    } else if (hasFinalizers(existing)) {
      if (!existing["metadata"].contains("deletionTimestamp")) {
        existing["metadata"]["deletionTimestamp"] = nowTimestamp();
        existing = store_.put(t.type->key(), existing);
      }
    } else {
      existing = store_.remove(t.type->key(), t.ns, n);
    }
    json item = outputObject(*t.type, existing);
    if (!t.type->custom) item.erase("kind"), item.erase("apiVersion");
    items.push_back(item);
  }
  return {200,
          {{"kind", t.type->kind + "List"},
           {"apiVersion", t.type->apiVersion()},
           {"metadata", {{"resourceVersion", std::to_string(store_.currentRv())}}},
           {"items", items}},
          {}};
}

}  // namespace spr::sim
