// Test helpers for sim_core_test: a started SimServer plus an HTTPS client (cpp-httplib)
// that calls one cluster with its token, and a watch reader. Not thread-safe per client.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/server.h"

namespace spr::sim::testing {

using nlohmann::json;

struct Reply {
  int code = 0;
  json body;
  std::string retryAfter;
  std::string warning;  // the Warning header
};

// The token of `cluster` in a kubeconfig written by the sim ("- name: X\n  user:\n    token: T").
inline std::string tokenIn(const std::string& kubeconfig, const std::string& cluster) {
  std::string marker = "- name: " + cluster + "\n  user:\n    token: ";
  size_t pos = kubeconfig.find(marker);
  if (pos == std::string::npos) return "";
  pos += marker.size();
  return kubeconfig.substr(pos, kubeconfig.find('\n', pos) - pos);
}

class SimFixture {
 public:
  explicit SimFixture(SimOptions options = {}) {
    auto s = SimServer::start(options);
    if (!s) throw std::runtime_error(s.status().toString());
    server = std::move(*s);
  }

  std::string token(const std::string& cluster) const { return tokenIn(server->kubeconfigYaml(), cluster); }

  std::unique_ptr<httplib::SSLClient> client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", server->port());
    c->enable_server_certificate_verification(false);
    c->set_read_timeout(10, 0);
    c->set_url_encode(false);  // tests pass already-encoded queries
    return c;
  }

  // One request to `cluster` (path below /clusters/<cluster>). tokenOverride "-" = no token.
  Reply call(const std::string& cluster, const std::string& method, const std::string& path,
             const std::string& body = "", const std::string& contentType = "application/json",
             const std::string& tokenOverride = "") const {
    auto c = client();
    std::string tok = tokenOverride.empty() ? token(cluster) : tokenOverride;
    httplib::Headers headers;
    if (tok != "-") headers.emplace("Authorization", "Bearer " + tok);
    std::string url = "/clusters/" + cluster + path;
    httplib::Result r = method == "GET"     ? c->Get(url.c_str(), headers)
                        : method == "POST"  ? c->Post(url.c_str(), headers, body, contentType.c_str())
                        : method == "PUT"   ? c->Put(url.c_str(), headers, body, contentType.c_str())
                        : method == "PATCH" ? c->Patch(url.c_str(), headers, body, contentType.c_str())
                                            : c->Delete(url.c_str(), headers, body, contentType.c_str());
    Reply reply;
    if (!r) return reply;
    reply.code = r->status;
    reply.body = json::parse(r->body, nullptr, false);
    reply.retryAfter = r->get_header_value("Retry-After");
    reply.warning = r->get_header_value("Warning");
    return reply;
  }
  Reply post(const std::string& cluster, const std::string& path, const json& body) const {
    return call(cluster, "POST", path, body.dump());
  }
  Reply put(const std::string& cluster, const std::string& path, const json& body) const {
    return call(cluster, "PUT", path, body.dump());
  }
  Reply get(const std::string& cluster, const std::string& path) const { return call(cluster, "GET", path); }

  // Streams a watch; `onEvent` gets each event and returns false to stop. Returns the HTTP
  // status (0 if the connection failed before headers) and whether the server closed it.
  int watch(const std::string& cluster, const std::string& pathAndQuery,
            const std::function<bool(const json&)>& onEvent, bool* serverClosed = nullptr) const {
    auto c = client();
    httplib::Headers headers{{"Authorization", "Bearer " + token(cluster)}};
    std::string buffer;
    bool stoppedByUs = false;
    auto r = c->Get(("/clusters/" + cluster + pathAndQuery).c_str(), headers, [&](const char* data, size_t len) {
      buffer.append(data, len);
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        json e = json::parse(buffer.substr(0, nl), nullptr, false);
        buffer.erase(0, nl + 1);
        if (!onEvent(e)) {
          stoppedByUs = true;
          return false;
        }
      }
      return true;
    });
    if (serverClosed) *serverClosed = !stoppedByUs;
    if (r) return r->status;
    return stoppedByUs ? 200 : 0;
  }

  std::unique_ptr<SimServer> server;
};

inline json configMap(const std::string& name, const json& data = {{"k", "v"}}, const json& labels = nullptr) {
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
  if (!labels.is_null()) cm["metadata"]["labels"] = labels;
  return cm;
}

inline json widgetCrd(bool status = true) {
  json version = {{"name", "v1"},
                  {"served", true},
                  {"storage", true},
                  {"schema",
                   {{"openAPIV3Schema",
                     {{"type", "object"},
                      {"properties",
                       {{"spec",
                         {{"type", "object"},
                          {"required", {"size"}},
                          {"properties", {{"size", {{"type", "integer"}}}, {"color", {{"type", "string"}}}}}}},
                        {"status", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}}}};
  if (status) version["subresources"] = {{"status", json::object()}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "widgets.example.com"}}},
          {"spec",
           {{"group", "example.com"},
            {"names", {{"kind", "Widget"}, {"plural", "widgets"}, {"singular", "widget"}}},
            {"scope", "Namespaced"},
            {"versions", json::array({version})}}}};
}

inline json widget(const std::string& name, const json& spec) {
  return {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", name}}}, {"spec", spec}};
}

constexpr const char* kCrds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
constexpr const char* kWidgets = "/apis/example.com/v1/namespaces/default/widgets";
constexpr const char* kConfigMaps = "/api/v1/namespaces/default/configmaps";

}  // namespace spr::sim::testing
