// OpenAPI v3 documents in the shape kube-apiserver serves them (paths keyed by URL, one
// operation per verb, parameters inline instead of $ref'd to keep documents
// self-explanatory), built fresh from the cluster's kinds on every request.
#include "sim/openapi.h"

#include <openssl/evp.h>

#include <map>
#include <set>

namespace spr::sim {
namespace {

using nlohmann::json;

const char* kMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.";

json schemaRef(const std::string& id) { return json{{"$ref", "#/components/schemas/" + id}}; }
json metaRef(const std::string& type) { return schemaRef(std::string(kMeta) + type); }

json param(const std::string& name, const std::string& in, const std::string& type, const std::string& description) {
  json p = {
      {"name", name}, {"in", in}, {"description", description}, {"schema", {{"type", type}, {"uniqueItems", true}}}};
  if (in == "path") p["required"] = true;
  return p;
}

json writeParams(bool patch) {
  json ps = json::array({
      param("dryRun", "query", "string",
            "When present, indicates that modifications should not be persisted. Valid values: All"),
      param("fieldManager", "query", "string",
            "fieldManager is a name associated with the actor or entity that is making these changes."),
      param("fieldValidation", "query", "string",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or "
            "duplicate fields. Valid values are: Ignore, Warn (the default) and Strict."),
  });
  if (patch) ps.push_back(param("force", "query", "boolean", "Force is going to \"force\" Apply requests."));
  return ps;
}

json listParams() {
  json ps = json::array();
  for (const char* b : {"allowWatchBookmarks", "sendInitialEvents", "watch"})
    ps.push_back(param(b, "query", "boolean", b));
  for (const char* s : {"continue", "fieldSelector", "labelSelector", "resourceVersion", "resourceVersionMatch"})
    ps.push_back(param(s, "query", "string", s));
  for (const char* i : {"limit", "timeoutSeconds"}) ps.push_back(param(i, "query", "integer", i));
  return ps;
}

json deleteParams() {
  return json::array({
      param("dryRun", "query", "string", "When present, indicates that modifications should not be persisted."),
      param("gracePeriodSeconds", "query", "integer", "The duration in seconds before the object should be deleted."),
      param("orphanDependents", "query", "boolean", "Deprecated: please use the PropagationPolicy."),
      param("propagationPolicy", "query", "string", "Whether and how garbage collection will be performed."),
  });
}

json jsonContent(const json& schema) { return json{{"application/json", {{"schema", schema}}}}; }

std::string camel(const std::string& s) {
  std::string out;
  bool up = true;
  for (char c : s) {
    if (c == '.' || c == '-') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// The operationId stem kube uses: "CoreV1", "AppsV1", "ExampleComV1".
std::string gvStem(const std::string& group, const std::string& version) {
  std::string g = group.empty() ? "core" : group;
  const std::string k8s = ".k8s.io";
  if (g.size() > k8s.size() && g.compare(g.size() - k8s.size(), k8s.size(), k8s) == 0) g.resize(g.size() - k8s.size());
  return camel(g) + camel(version);
}

struct OpSpec {
  std::string verb, action, idSuffix, description;
  json body;        // requestBody or null
  json params;      // operation parameters
  json response;    // schema of the 200 answer
  int created = 0;  // 201/202 code as well, 0 = none
};

json operation(const OpenApiKind& k, const OpSpec& o) {
  json responses = {{"200", {{"description", "OK"}, {"content", jsonContent(o.response)}}},
                    {"401", {{"description", "Unauthorized"}}}};
  if (o.created)
    responses[std::to_string(o.created)] = {{"description", o.created == 201 ? "Created" : "Accepted"},
                                            {"content", jsonContent(o.response)}};
  json op = {{"tags", json::array({gvStem(k.group, k.version)})},
             {"description", o.description},
             {"operationId", o.verb + gvStem(k.group, k.version) + o.idSuffix},
             {"responses", responses},
             {"x-kubernetes-action", o.action},
             {"x-kubernetes-group-version-kind", {{"group", k.group}, {"version", k.version}, {"kind", k.kind}}}};
  if (!o.params.empty()) op["parameters"] = o.params;
  if (!o.body.is_null()) op["requestBody"] = o.body;
  return op;
}

json patchBody(const OpenApiKind& k) {
  json content;
  // No strategic-merge-patch+json: CRDs do not take it, and for built-in kinds (published
  // with a permissive schema) kubectl apply would otherwise compute its patch from that
  // empty schema and warn; without it kubectl falls back to its compiled-in types.
  (void)k;
  for (const char* t : {"application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"})
    content[t] = {{"schema", metaRef("Patch")}};
  return json{{"content", content}, {"required", true}};
}

// The item path's operations (get, put, patch, delete), or the /status ones when `status`.
json itemPath(const OpenApiKind& k, const std::string& scope, bool status) {
  std::string id = openapiSchemaId(k.group, k.version, k.kind);
  std::string suffix = scope + k.kind + (status ? "Status" : "");
  std::string what = status ? "status of the specified " + k.kind : "the specified " + k.kind;
  json body = {{"content", {{"*/*", {{"schema", schemaRef(id)}}}}}, {"required", true}};
  json path = {
      {"get", operation(k, {"read", "get", suffix, "read " + what, nullptr, json::array(), schemaRef(id)})},
      {"put",
       operation(k, {"replace", "put", suffix, "replace " + what, body, writeParams(false), schemaRef(id), 201})},
      {"patch", operation(k, {"patch", "patch", suffix, "partially update " + what, patchBody(k), writeParams(true),
                              schemaRef(id), 201})},
      {"parameters",
       json::array({param("name", "path", "string", "name of the " + k.kind),
                    param("pretty", "query", "string", "If 'true', then the output is pretty printed.")})},
  };
  if (!status) {
    json delBody = {{"content", {{"*/*", {{"schema", metaRef("DeleteOptions")}}}}}};
    path["delete"] =
        operation(k, {"delete", "delete", suffix, "delete " + what, delBody, deleteParams(), metaRef("Status"), 202});
  }
  if (k.namespaced) path["parameters"].push_back(param("namespace", "path", "string", "object name and auth scope"));
  return path;
}

json collectionPath(const OpenApiKind& k, const std::string& scope) {
  std::string id = openapiSchemaId(k.group, k.version, k.kind);
  json body = {{"content", {{"*/*", {{"schema", schemaRef(id)}}}}}, {"required", true}};
  json delBody = {{"content", {{"*/*", {{"schema", metaRef("DeleteOptions")}}}}}};
  json path = {
      {"get", operation(k, {"list", "list", scope + k.kind, "list or watch objects of kind " + k.kind, nullptr,
                            listParams(), schemaRef(id + "List")})},
      {"post", operation(k, {"create", "post", scope + k.kind, "create a " + k.kind, body, writeParams(false),
                             schemaRef(id), 201})},
      {"delete", operation(k, {"deleteCollection", "deletecollection", scope + k.kind, "delete collection of " + k.kind,
                               delBody, listParams(), metaRef("Status")})},
      {"parameters",
       json::array({param("pretty", "query", "string", "If 'true', then the output is pretty printed.")})},
  };
  if (k.namespaced) path["parameters"].push_back(param("namespace", "path", "string", "object name and auth scope"));
  return path;
}

void addPaths(json& paths, const OpenApiKind& k) {
  std::string base = (k.group.empty() ? "/api/" : "/apis/" + k.group + "/") + k.version;
  std::string scoped = k.namespaced ? base + "/namespaces/{namespace}/" + k.resource : base + "/" + k.resource;
  std::string scope = k.namespaced ? "Namespaced" : "";
  paths[scoped] = collectionPath(k, scope);
  paths[scoped + "/{name}"] = itemPath(k, scope, false);
  if (k.statusSubresource) paths[scoped + "/{name}/status"] = itemPath(k, scope, true);
  if (k.namespaced) {
    json all = {{"get", operation(k, {"list", "list", k.kind + "ForAllNamespaces",
                                      "list or watch objects of kind " + k.kind, nullptr, listParams(),
                                      schemaRef(openapiSchemaId(k.group, k.version, k.kind) + "List")})}};
    paths[base + "/" + k.resource] = all;
  }
}

json gvk(const OpenApiKind& k, const std::string& kind) {
  return json::array({{{"group", k.group}, {"kind", kind}, {"version", k.version}}});
}

json kindSchema(const OpenApiKind& k) {
  json s = k.schema.is_object() ? k.schema : json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  if (!s.contains("type")) s["type"] = "object";
  s["properties"]["apiVersion"] = {
      {"type", "string"},
      {"description", "APIVersion defines the versioned schema of this representation of an object."}};
  s["properties"]["kind"] = {
      {"type", "string"},
      {"description", "Kind is a string value representing the REST resource this object represents."}};
  s["properties"]["metadata"] = {{"allOf", json::array({metaRef("ObjectMeta")})},
                                 {"default", json::object()},
                                 {"description", "Standard object's metadata."}};
  s["x-kubernetes-group-version-kind"] = gvk(k, k.kind);
  return s;
}

json listSchema(const OpenApiKind& k) {
  return {{"type", "object"},
          {"description", k.kind + "List is a list of " + k.kind},
          {"required", json::array({"items"})},
          {"properties",
           {{"apiVersion", {{"type", "string"}}},
            {"kind", {{"type", "string"}}},
            {"items", {{"type", "array"}, {"items", schemaRef(openapiSchemaId(k.group, k.version, k.kind))}}},
            {"metadata", {{"allOf", json::array({metaRef("ListMeta")})}, {"default", json::object()}}}}},
          {"x-kubernetes-group-version-kind", gvk(k, k.kind + "List")}};
}

json objectOf(std::initializer_list<std::pair<const char*, json>> props) {
  json p = json::object();
  for (const auto& [name, schema] : props) p[name] = schema;
  return json{{"type", "object"}, {"properties", p}};
}

// The meta/v1 types the kinds refer to; loose where clients do not look closer.
void addMetaSchemas(json& schemas) {
  json str = {{"type", "string"}}, strMap = {{"type", "object"}, {"additionalProperties", str}};
  json loose = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  json time = {{"type", "string"}, {"format", "date-time"}};
  schemas[std::string(kMeta) + "ObjectMeta"] =
      objectOf({{"name", str},
                {"generateName", str},
                {"namespace", str},
                {"uid", str},
                {"resourceVersion", str},
                {"generation", {{"type", "integer"}, {"format", "int64"}}},
                {"creationTimestamp", time},
                {"deletionTimestamp", time},
                {"deletionGracePeriodSeconds", {{"type", "integer"}, {"format", "int64"}}},
                {"labels", strMap},
                {"annotations", strMap},
                {"finalizers", {{"type", "array"}, {"items", str}}},
                {"ownerReferences", {{"type", "array"}, {"items", loose}}},
                {"managedFields", {{"type", "array"}, {"items", loose}}}});
  schemas[std::string(kMeta) + "ListMeta"] = objectOf(
      {{"continue", str}, {"remainingItemCount", {{"type", "integer"}}}, {"resourceVersion", str}, {"selfLink", str}});
  schemas[std::string(kMeta) + "Status"] = objectOf({{"apiVersion", str},
                                                     {"kind", str},
                                                     {"status", str},
                                                     {"message", str},
                                                     {"reason", str},
                                                     {"code", {{"type", "integer"}}},
                                                     {"details", loose},
                                                     {"metadata", metaRef("ListMeta")}});
  schemas[std::string(kMeta) + "DeleteOptions"] = objectOf({{"apiVersion", str},
                                                            {"kind", str},
                                                            {"dryRun", {{"type", "array"}, {"items", str}}},
                                                            {"gracePeriodSeconds", {{"type", "integer"}}},
                                                            {"propagationPolicy", str},
                                                            {"preconditions", loose}});
  schemas[std::string(kMeta) + "Patch"] = {
      {"type", "object"},
      {"description", "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}};
}

std::string sha512Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha512(), nullptr);
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return out;
}

}  // namespace

std::string openapiSchemaId(const std::string& group, const std::string& version, const std::string& kind) {
  static const std::map<std::string, std::string> kBuiltin = {
      {"", "io.k8s.api.core"},
      {"apiextensions.k8s.io", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions"},
      {"rbac.authorization.k8s.io", "io.k8s.api.rbac"},
  };
  auto it = kBuiltin.find(group);
  std::string stem;
  if (it != kBuiltin.end()) {
    stem = it->second;
  } else if (group.find('.') == std::string::npos ||
             (group.size() > 7 && group.compare(group.size() - 7, 7, ".k8s.io") == 0)) {
    stem = "io.k8s.api." + group.substr(0, group.find('.'));  // apps, batch, coordination.k8s.io, ...
  } else {
    for (size_t end = group.size(); end != std::string::npos;) {  // reversed DNS: example.com -> com.example
      size_t dot = group.rfind('.', end - 1);
      size_t from = dot == std::string::npos ? 0 : dot + 1;
      stem += (stem.empty() ? "" : ".") + group.substr(from, end - from);
      end = (dot == std::string::npos || dot == 0) ? std::string::npos : dot;
    }
  }
  return stem + "." + version + "." + kind;
}

json openapiDocument(const std::string& group, const std::string& version, const std::vector<OpenApiKind>& kinds) {
  json paths = json::object(), schemas = json::object();
  for (const auto& k : kinds) {
    if (k.group != group || k.version != version) continue;
    addPaths(paths, k);
    std::string id = openapiSchemaId(k.group, k.version, k.kind);
    schemas[id] = kindSchema(k);
    schemas[id + "List"] = listSchema(k);
  }
  addMetaSchemas(schemas);
  json security = {{"BearerToken",
                    {{"type", "apiKey"},
                     {"description", "Bearer Token authentication"},
                     {"name", "authorization"},
                     {"in", "header"}}}};
  return json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}, {"securitySchemes", security}}},
              {"security", json::array({{{"BearerToken", json::array()}}})}};
}

json openapiIndex(const std::string& prefix, const std::vector<OpenApiKind>& kinds) {
  std::set<std::pair<std::string, std::string>> gvs;
  for (const auto& k : kinds) gvs.insert({k.group, k.version});
  json paths = json::object();
  for (const auto& [g, v] : gvs) {
    std::string key = g.empty() ? "api/" + v : "apis/" + g + "/" + v;
    std::string hash = sha512Hex(openapiDocument(g, v, kinds).dump());
    paths[key] = {{"serverRelativeURL", prefix + "/openapi/v3/" + key + "?hash=" + hash}};
  }
  return json{{"paths", paths}};
}

namespace {

// One length-delimited protobuf field (wire type 2) with a short payload.
std::string protoBytes(int field, const std::string& payload) {
  std::string out(1, static_cast<char>((field << 3) | 2));
  size_t n = payload.size();
  do {
    unsigned char b = n & 0x7F;
    n >>= 7;
    out.push_back(static_cast<char>(n ? b | 0x80 : b));
  } while (n);
  return out + payload;
}

}  // namespace

OpenApiV2 openapiV2Document(const std::string& accept) {
  const std::string title = "Kubernetes", version = "v1.32.0";
  if (accept.find("protobuf") != std::string::npos) {
    // openapi_v2.Document: swagger = 1, info = 2 (Info: title = 1, version = 2).
    std::string info = protoBytes(1, title) + protoBytes(2, version);
    return {protoBytes(1, "2.0") + protoBytes(2, info), "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"};
  }
  nlohmann::json doc = {{"swagger", "2.0"},
                        {"info", {{"title", title}, {"version", version}}},
                        {"paths", nlohmann::json::object()},
                        {"definitions", nlohmann::json::object()}};
  return {doc.dump(), "application/json"};
}

}  // namespace spr::sim
