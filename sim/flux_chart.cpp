// What installing the crossplane chart leaves on the target cluster, as far as spr looks:
// Crossplane's real CRDs of the chart's release (vendored, sim/crds/crossplane/; `core init`
// installs them), the crossplane and rbac-manager Deployments (image, pull secrets and the
// registry CA bundle from the values), their ServiceAccounts, the webhook Service, the TLS
// Secrets and Helm's release Secret. And Crossplane's package manager for Provider objects,
// which brings provider-kubernetes' real CRDs. Lenient: no template is rendered.
#include <yaml-cpp/yaml.h>

#include <map>
#include <mutex>

#include "common/log.h"
#include "common/yaml_json.h"
#include "sim/flux.h"

namespace spr::sim::flux {

using nlohmann::json;

namespace {

const char* kCrdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

json conditionJson(const char* type, const char* reason) {
  return {{"type", type}, {"status", "True"}, {"reason", reason}, {"lastTransitionTime", nowTimestamp()}};
}

// POST, or PUT over what is there (an upgrade); false on any other failure.
bool upsert(Cluster& c, const std::string& collectionPath, json obj) {
  ApiResponse r = callCluster(c, "POST", collectionPath, obj);
  if (r.code == 201) return true;
  if (r.code != 409) return false;
  std::string item = collectionPath + "/" + obj["metadata"].value("name", "");
  ApiResponse live = callCluster(c, "GET", item);
  if (live.code != 200) return false;
  obj["metadata"]["resourceVersion"] = live.body["metadata"]["resourceVersion"];
  return callCluster(c, "PUT", item, obj).code == 200;
}

json labels(const std::string& component) {
  return {{"app", component},
          {"app.kubernetes.io/managed-by", "Helm"},
          {"app.kubernetes.io/part-of", "crossplane"},
          {"release", "crossplane"}};
}

json meta(const std::string& name, const std::string& ns, const std::string& component) {
  return {{"name", name}, {"namespace", ns}, {"labels", labels(component)}};
}

json deployment(const std::string& name, const std::string& ns, const std::string& image, const json& values,
                const json& args) {
  json container = {{"name", name == "crossplane" ? "crossplane" : "crossplane"}, {"image", image}, {"args", args}};
  json podSpec = {{"serviceAccountName", name}, {"containers", json::array({container})}};
  json pullSecrets = json::array();
  for (const auto& s : values.value("imagePullSecrets", json::array()))
    if (s.is_string()) pullSecrets.push_back({{"name", s}});
  if (!pullSecrets.empty()) podSpec["imagePullSecrets"] = pullSecrets;
  json ca = values.value("registryCaBundleConfig", json::object());
  if (name == "crossplane" && ca.is_object() && !ca.value("name", "").empty()) {
    std::string key = ca.value("key", "");
    podSpec["volumes"] = json::array(
        {{{"name", "ca-certs"},
          {"configMap", {{"name", ca.value("name", "")}, {"items", json::array({{{"key", key}, {"path", key}}})}}}}});
    podSpec["containers"][0]["volumeMounts"] = json::array({{{"name", "ca-certs"}, {"mountPath", "/certs"}}});
    podSpec["containers"][0]["env"] = json::array({{{"name", "CA_BUNDLE_PATH"}, {"value", "/certs/" + key}}});
  }
  if (name == "crossplane")
    podSpec["initContainers"] =
        json::array({{{"name", "crossplane-init"}, {"image", image}, {"args", {"core", "init"}}}});
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", meta(name, ns, name)},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template", {{"metadata", {{"labels", labels(name)}}}, {"spec", podSpec}}}}}};
}

std::string secretsPath(const std::string& ns) { return "/api/v1/namespaces/" + ns + "/secrets"; }

}  // namespace

const std::vector<json>& vendoredCrds(const std::string& set) {
  static std::mutex mu;
  static std::map<std::string, std::vector<json>> parsed;  // guarded by mu; entries never change once made
  std::lock_guard<std::mutex> lock(mu);
  auto it = parsed.find(set);
  if (it != parsed.end()) return it->second;
  std::vector<json>& out = parsed[set];
  for (std::size_t i = 0; i < kCrossplaneCrdCount; ++i)
    if (set == kCrossplaneCrds[i].set) out.push_back(yamlToJson(YAML::Load(kCrossplaneCrds[i].yaml)));
  if (out.empty()) log::warn("sim: no vendored CRDs of this set", {{"set", set}});
  return out;
}

std::string crossplaneCrdSet(const std::string& chartVersion) {
  std::string v = !chartVersion.empty() && chartVersion[0] == 'v' ? chartVersion.substr(1) : chartVersion;
  return v.rfind("1.", 0) == 0 ? "v1.20.5" : "v2.0.8";
}

bool installChart(Cluster& target, const std::string& ns, const std::string& chartVersion, const json& values,
                  long revision) {
  bool ok = true;
  json nsObj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
  ApiResponse n = callCluster(target, "POST", "/api/v1/namespaces", nsObj);
  if (n.code != 201 && n.code != 409) return false;
  for (const auto& crd : vendoredCrds(crossplaneCrdSet(chartVersion))) ok = upsert(target, kCrdPath, crd) && ok;
  json image = values.value("image", json::object());
  std::string ref = image.is_object() && !image.value("repository", "").empty()
                        ? image.value("repository", "") + ":" + image.value("tag", "v" + chartVersion)
                        : "xpkg.crossplane.io/crossplane/crossplane:v" + chartVersion;
  for (const char* sa : {"crossplane", "rbac-manager"})
    ok = upsert(target, "/api/v1/namespaces/" + ns + "/serviceaccounts",
                {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", meta(sa, ns, sa)}}) &&
         ok;
  for (const char* s : {"crossplane-root-ca", "crossplane-tls-server", "crossplane-tls-client"})
    ok = upsert(
             target, secretsPath(ns),
             {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", meta(s, ns, "crossplane")}, {"type", "Opaque"}}) &&
         ok;
  ok = upsert(target, "/api/v1/namespaces/" + ns + "/services",
              {{"apiVersion", "v1"},
               {"kind", "Service"},
               {"metadata", meta("crossplane-webhooks", ns, "crossplane")},
               {"spec",
                {{"selector", {{"app", "crossplane"}}},
                 {"ports", json::array({{{"port", 9443}, {"protocol", "TCP"}}})}}}}) &&
       ok;
  ok = upsert(target, "/apis/apps/v1/namespaces/" + ns + "/deployments",
              deployment("crossplane", ns, ref, values, json::array({"core", "start"}))) &&
       ok;
  ok = upsert(target, "/apis/apps/v1/namespaces/" + ns + "/deployments",
              deployment("crossplane-rbac-manager", ns, ref, values, json::array({"rbac", "start"}))) &&
       ok;
  json release = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", "sh.helm.release.v1.crossplane.v" + std::to_string(revision)},
        {"namespace", ns},
        {"labels",
         {{"owner", "helm"}, {"name", "crossplane"}, {"status", "deployed"}, {"version", std::to_string(revision)}}}}},
      {"type", "helm.sh/release.v1"}};
  return upsert(target, secretsPath(ns), release) && ok;
}

bool uninstallChart(Cluster& target, const std::string& ns) {
  std::vector<std::string> paths = {"/apis/apps/v1/namespaces/" + ns + "/deployments/crossplane",
                                    "/apis/apps/v1/namespaces/" + ns + "/deployments/crossplane-rbac-manager",
                                    "/api/v1/namespaces/" + ns + "/services/crossplane-webhooks",
                                    "/api/v1/namespaces/" + ns + "/serviceaccounts/crossplane",
                                    "/api/v1/namespaces/" + ns + "/serviceaccounts/rbac-manager"};
  for (const char* s : {"crossplane-root-ca", "crossplane-tls-server", "crossplane-tls-client"})
    paths.push_back(secretsPath(ns) + "/" + s);
  ApiRequest list;
  list.method = "GET";
  list.path = secretsPath(ns);
  list.query["labelSelector"] = "owner=helm,name=crossplane";
  ApiResponse releases = target.handle(list);
  if (releases.code == 200)
    for (const auto& s : releases.body["items"])
      paths.push_back(secretsPath(ns) + "/" + s["metadata"].value("name", ""));
  for (const auto& p : paths) {
    ApiResponse r = callCluster(target, "DELETE", p);
    if (r.code != 200 && r.code != 202 && r.code != 404) return false;
  }
  return true;  // Helm keeps CRDs and the namespace
}

bool chartInstalled(Cluster& cluster) {
  // The chart's Deployment in any namespace (the release's target namespace).
  ApiRequest r;
  r.method = "GET";
  r.path = "/apis/apps/v1/deployments";
  r.query["labelSelector"] = "release=crossplane,app=crossplane";
  ApiResponse list = cluster.handle(r);
  return list.code == 200 && !list.body["items"].empty();
}

bool reconcileCrossplaneProvider(Cluster& cluster, const json& provider) {
  if (provider["metadata"].contains("deletionTimestamp")) return true;
  std::string name = provider["metadata"].value("name", "");
  std::string package = provider.value("spec", json::object()).value("package", "");
  json status = provider.value("status", json::object());
  if (!chartInstalled(cluster)) return true;  // nobody runs the package manager
  if (status.value("currentIdentifier", "") == package) return true;
  if (package.find("provider-kubernetes") != std::string::npos)
    for (const auto& crd : vendoredCrds("provider-kubernetes-v1.2.1"))
      if (!upsert(cluster, kCrdPath, crd)) return false;
  status = {{"currentIdentifier", package},
            {"currentRevision", name + "-sim"},
            {"conditions", json::array({conditionJson("Installed", "ActivePackageRevision"),
                                        conditionJson("Healthy", "HealthyPackageRevision")})}};
  json body = {{"metadata", {{"name", name}, {"resourceVersion", provider["metadata"]["resourceVersion"]}}},
               {"status", status}};
  ApiResponse r = callCluster(cluster, "PUT", "/apis/pkg.crossplane.io/v1/providers/" + name + "/status", body);
  if (r.code == 200) log::info("sim: Crossplane Provider healthy", {{"cluster", cluster.name()}, {"provider", name}});
  return r.code == 200;
}

}  // namespace spr::sim::flux
