// FakeCluster: a small in-memory Kubernetes API server behind the k8s::Transport interface,
// for provider tests. Answers GET (object, list with labelSelector), POST, PUT, PATCH
// (merge), DELETE on built-in resources and on those registered by Established CRDs, with
// real status codes and Status bodies. Records every request. Knobs: CRDs Established or
// not, Deployments Available or not, injected failures. Thread-safe (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/k8s/transport.h"

namespace spr::testing {

using nlohmann::json;

class FakeCluster : public k8s::Transport {
 public:
  struct Failure {
    std::string method, pathContains;
    int status = 500;
    std::string reason = "InternalError";
    int times = 1;  // how many matching requests fail
  };

  bool establishCrds = true;         // new CRDs get Established=True
  bool deploymentsAvailable = true;  // Deployments get Available=True on every write

  std::string clusterName() const override { return "fake-mcp"; }

  Result<k8s::HttpResponse> roundTrip(const k8s::HttpRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(r.method + " " + r.path + (r.body.empty() ? "" : " " + r.body));
    for (auto& f : failures_) {
      if (f.times > 0 && f.method == r.method && r.path.find(f.pathContains) != std::string::npos) {
        --f.times;
        return status(f.status, f.reason, "injected failure", "", "");
      }
    }
    return handle(r);
  }

  void fail(Failure f) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.push_back(std::move(f));
  }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  void clearRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }
  // Marks a stored CRD Established (what the API server does once it serves the kind).
  void establish(const std::string& crdName) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = store_.find(key("apiextensions.k8s.io", "customresourcedefinitions", "", crdName));
    if (it != store_.end()) it->second["status"] = crdStatus(true);
  }
  // The stored object, or null (direct access for assertions).
  json object(const std::string& group, const std::string& resource, const std::string& ns,
              const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = store_.find(key(group, resource, ns, name));
    return it == store_.end() ? json() : it->second;
  }
  size_t objectCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return store_.size();
  }

 private:
  struct Type {
    std::string kind;
    bool namespaced = true;
  };
  struct Target {
    std::string group, version, resource, ns, name;
    std::map<std::string, std::string> query;
  };

  static std::string key(const std::string& g, const std::string& res, const std::string& ns, const std::string& n) {
    return g + "/" + res + "/" + ns + "/" + n;
  }

  static k8s::HttpResponse respond(int code, const json& body) { return {code, body.dump(), {}}; }

  static k8s::HttpResponse status(int code, const std::string& reason, const std::string& message,
                                  const std::string& name, const std::string& kind) {
    json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
              {"status", "Failure"}, {"message", message}, {"reason", reason},
              {"code", code}};
    if (!name.empty()) s["details"] = {{"name", name}, {"kind", kind}};
    return respond(code, s);
  }

  static json crdStatus(bool established) {
    return {{"conditions", json::array({{{"type", "Established"},
                                         {"status", established ? "True" : "False"},
                                         {"reason", established ? "InitialNamesAccepted" : "Installing"}}})}};
  }

  static std::string decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  }

  static std::optional<Target> parse(const std::string& full) {
    Target t;
    std::string path = full.substr(0, full.find('?'));
    if (full.find('?') != std::string::npos) {
      std::stringstream q(full.substr(full.find('?') + 1));
      for (std::string kv; std::getline(q, kv, '&');)
        t.query[kv.substr(0, kv.find('='))] =
            kv.find('=') == std::string::npos ? "" : decode(kv.substr(kv.find('=') + 1));
    }
    std::vector<std::string> seg;
    std::stringstream ss(path);
    for (std::string s; std::getline(ss, s, '/');)
      if (!s.empty()) seg.push_back(s);
    size_t i = 0;
    if (seg.size() >= 2 && seg[0] == "api")
      t.version = seg[1], i = 2;
    else if (seg.size() >= 3 && seg[0] == "apis")
      t.group = seg[1], t.version = seg[2], i = 3;
    else
      return std::nullopt;
    std::vector<std::string> rest(seg.begin() + i, seg.end());
    if (rest.size() >= 3 && rest[0] == "namespaces") {
      t.ns = rest[1], t.resource = rest[2];
      if (rest.size() >= 4) t.name = rest[3];
    } else if (!rest.empty()) {
      t.resource = rest[0];
      if (rest.size() >= 2) t.name = rest[1];
    }
    if (t.resource.empty() || rest.size() > 4) return std::nullopt;
    return t;
  }

  std::optional<Type> typeOf(const Target& t) const {
    static const std::map<std::string, Type> kBuiltins = {
        {"/v1/namespaces", {"Namespace", false}},
        {"/v1/serviceaccounts", {"ServiceAccount", true}},
        {"/v1/configmaps", {"ConfigMap", true}},
        {"/v1/secrets", {"Secret", true}},
        {"apps/v1/deployments", {"Deployment", true}},
        {"rbac.authorization.k8s.io/v1/clusterroles", {"ClusterRole", false}},
        {"rbac.authorization.k8s.io/v1/clusterrolebindings", {"ClusterRoleBinding", false}},
        {"apiextensions.k8s.io/v1/customresourcedefinitions", {"CustomResourceDefinition", false}}};
    auto b = kBuiltins.find(t.group + "/" + t.version + "/" + t.resource);
    if (b != kBuiltins.end()) return b->second;
    auto crd = store_.find(key("apiextensions.k8s.io", "customresourcedefinitions", "", t.resource + "." + t.group));
    if (crd == store_.end()) return std::nullopt;
    const json& c = crd->second;
    bool established = false;
    for (const auto& cond : c["status"].value("conditions", json::array()))
      established = established || (cond["type"] == "Established" && cond["status"] == "True");
    bool served = false;
    for (const auto& v : c["spec"]["versions"]) served = served || v.value("name", "") == t.version;
    if (!established || !served) return std::nullopt;
    return Type{c["spec"]["names"].value("kind", ""), c["spec"].value("scope", "") == "Namespaced"};
  }

  static bool matches(const json& obj, const std::string& selector) {
    std::stringstream ss(selector);
    json labels = obj["metadata"].value("labels", json::object());
    for (std::string term; std::getline(ss, term, ',');) {
      auto ne = term.find("!="), eq = term.find('=');
      if (ne != std::string::npos) {
        if (labels.value(term.substr(0, ne), "") == term.substr(ne + 2)) return false;
      } else if (eq != std::string::npos) {
        if (labels.value(term.substr(0, eq), std::string("\x01")) != term.substr(eq + 1)) return false;
      } else if (!labels.contains(term)) {
        return false;
      }
    }
    return true;
  }

  void postWrite(const Target& t, json& obj) {
    if (t.resource == "customresourcedefinitions" && !obj.contains("status")) obj["status"] = crdStatus(establishCrds);
    if (t.resource == "deployments") {
      int64_t replicas = obj["spec"].value("replicas", int64_t{1});
      obj["status"] = {
          {"observedGeneration", obj["metadata"]["generation"]},
          {"replicas", replicas},
          {"readyReplicas", deploymentsAvailable ? replicas : 0},
          {"conditions", json::array({{{"type", "Available"}, {"status", deploymentsAvailable ? "True" : "False"}}})}};
    }
  }

  k8s::HttpResponse handle(const k8s::HttpRequest& r) {
    auto t = parse(r.path);
    if (!t) return status(404, "NotFound", "the server could not find the requested resource", "", "");
    auto type = typeOf(*t);
    if (!type) return status(404, "NotFound", "the server could not find the requested resource", "", "");
    std::string k = key(t->group, t->resource, type->namespaced ? t->ns : "", t->name);
    auto it = store_.find(k);
    std::string what = t->resource + (t->group.empty() ? "" : "." + t->group) + " \"" + t->name + "\"";
    if (r.method == "GET" && t->name.empty()) return list(*t, *type);
    if (r.method == "POST") return create(*t, *type, r.body);
    if (it == store_.end()) return status(404, "NotFound", what + " not found", t->name, t->resource);
    if (r.method == "GET") return respond(200, it->second);
    if (r.method == "DELETE") return remove(*t, it);
    json body = json::parse(r.body, nullptr, false);
    if (body.is_discarded()) return status(400, "BadRequest", "the body is not JSON", t->name, t->resource);
    json updated = it->second;
    if (r.method == "PATCH") {
      if (r.contentType != "application/merge-patch+json")
        return status(415, "UnsupportedMediaType", "only merge patch is served", t->name, t->resource);
      updated.merge_patch(body);
    } else if (r.method == "PUT") {
      std::string rv = body["metadata"].value("resourceVersion", "");
      if (!rv.empty() && rv != it->second["metadata"].value("resourceVersion", ""))
        return status(409, "Conflict",
                      "Operation cannot be fulfilled on " + what +
                          ": the object has been modified; please apply your changes to the latest "
                          "version and try again",
                      t->name, t->resource);
      body["metadata"]["uid"] = it->second["metadata"]["uid"];
      body["metadata"]["generation"] = it->second["metadata"]["generation"];
      updated = body;
    } else {
      return status(405, "MethodNotAllowed", r.method + " is not supported", t->name, t->resource);
    }
    if (updated.value("spec", json()) != it->second.value("spec", json()))
      updated["metadata"]["generation"] = updated["metadata"].value("generation", 1) + 1;
    updated["metadata"]["resourceVersion"] = std::to_string(++rv_);
    postWrite(*t, updated);
    it->second = updated;
    return respond(200, updated);
  }

  k8s::HttpResponse list(const Target& t, const Type& type) {
    json items = json::array();
    std::string prefix = key(t.group, t.resource, "", "");
    prefix.pop_back();
    for (const auto& [k, obj] : store_) {
      if (k.rfind(prefix, 0) != 0) continue;
      if (type.namespaced && !t.ns.empty() && obj["metadata"].value("namespace", "") != t.ns) continue;
      if (t.query.count("labelSelector") && !matches(obj, t.query.at("labelSelector"))) continue;
      items.push_back(obj);
    }
    return respond(200, {{"apiVersion", t.group.empty() ? t.version : t.group + "/" + t.version},
                         {"kind", type.kind + "List"},
                         {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                         {"items", items}});
  }

  k8s::HttpResponse create(const Target& t, const Type& type, const std::string& text) {
    json obj = json::parse(text, nullptr, false);
    std::string name = obj.is_object() && obj["metadata"].is_object() ? obj["metadata"].value("name", "") : "";
    if (name.empty())
      return status(422, "Invalid", type.kind + " is invalid: metadata.name: Required value", "", t.resource);
    std::string ns = type.namespaced ? t.ns : "";
    if (type.namespaced && !store_.count(key("", "namespaces", "", ns)))
      return status(404, "NotFound", "namespaces \"" + ns + "\" not found", ns, "namespaces");
    std::string k = key(t.group, t.resource, ns, name);
    if (store_.count(k))
      return status(409, "AlreadyExists", t.resource + " \"" + name + "\" already exists", name, t.resource);
    if (type.namespaced) obj["metadata"]["namespace"] = ns;
    obj["metadata"]["uid"] = "uid-" + std::to_string(++uid_);
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    obj["metadata"]["generation"] = 1;
    obj["metadata"]["creationTimestamp"] = "2025-01-01T00:00:00Z";
    postWrite(t, obj);
    store_[k] = obj;
    return respond(201, obj);
  }

  // Namespaces and CRDs take what they hold with them (at once; a real server takes a while).
  k8s::HttpResponse remove(const Target& t, std::map<std::string, json>::iterator it) {
    json gone = it->second;
    store_.erase(it);
    for (auto i = store_.begin(); i != store_.end();) {
      const json& m = i->second["metadata"];
      bool inNamespace = t.resource == "namespaces" && m.value("namespace", "") == t.name;
      bool ofCrd = t.resource == "customresourcedefinitions" &&
                   i->first.rfind(
                       gone["spec"].value("group", "") + "/" + gone["spec"]["names"].value("plural", "") + "/", 0) == 0;
      i = inNamespace || ofCrd ? store_.erase(i) : std::next(i);
    }
    return respond(200, gone);
  }

  mutable std::mutex mu_;
  std::map<std::string, json> store_;  // guarded by mu_
  std::vector<std::string> log_;       // guarded by mu_
  std::vector<Failure> failures_;      // guarded by mu_
  uint64_t rv_ = 0, uid_ = 0;          // guarded by mu_
};

}  // namespace spr::testing
