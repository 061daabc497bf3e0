// Flux's source-controller and helm-controller, as lenient as sim/flux.h says.
#include "sim/flux.h"

#include <yaml-cpp/yaml.h>

#include "adapters/k8s/config.h"
#include "adapters/k8s/encoding.h"
#include "adapters/k8s/kubeconfig.h"
#include "common/log.h"
#include "common/yaml_json.h"

namespace spr::sim::flux {

using nlohmann::json;

namespace {

const char* kFinalizer = "finalizers.fluxcd.io";
const std::string kSourceApi = "/apis/source.toolkit.fluxcd.io/v1";
const std::string kHelmApi = "/apis/helm.toolkit.fluxcd.io/v2";

std::string collection(const std::string& api, const std::string& plural, const std::string& ns,
                       const std::string& name) {
  return api + (ns.empty() ? "" : "/namespaces/" + ns) + "/" + plural + (name.empty() ? "" : "/" + name);
}

std::string path(const std::string& api, const std::string& plural, const json& obj) {
  return collection(api, plural, obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
}

ApiResponse mergePatch(Cluster& c, const std::string& target, const json& patch) {
  ApiRequest r;
  r.method = "PATCH";
  r.path = target;
  r.body = patch.dump();
  r.contentType = "application/merge-patch+json";
  return c.handle(r);
}

json readyCondition(bool ok, const std::string& reason, const std::string& message, long generation) {
  return {{"type", "Ready"},    {"status", ok ? "True" : "False"},  {"reason", reason},
          {"message", message}, {"observedGeneration", generation}, {"lastTransitionTime", nowTimestamp()}};
}

// PUTs `status` unless the object already carries it; false on a conflict (retry).
bool writeStatus(Cluster& c, const std::string& target, const json& obj, const json& status) {
  json current = obj.value("status", json::object());
  json a = current, b = status;
  for (json* s : {&a, &b})
    if (s->contains("conditions"))
      for (auto& cond : (*s)["conditions"]) cond.erase("lastTransitionTime");
  if (a == b) return true;
  json body = {
      {"metadata", {{"name", obj["metadata"]["name"]}, {"resourceVersion", obj["metadata"]["resourceVersion"]}}},
      {"status", status}};
  return callCluster(c, "PUT", target + "/status", body).code == 200;
}

bool hasFinalizer(const json& obj) {
  for (const auto& f : obj["metadata"].value("finalizers", json::array()))
    if (f == kFinalizer) return true;
  return false;
}

bool setFinalizer(Cluster& c, const std::string& target, const json& obj, bool on) {
  json list = json::array();
  for (const auto& f : obj["metadata"].value("finalizers", json::array()))
    if (f != kFinalizer) list.push_back(f);
  if (on) list.push_back(kFinalizer);
  json patch = {{"metadata", {{"finalizers", list}, {"resourceVersion", obj["metadata"]["resourceVersion"]}}}};
  ApiResponse r = mergePatch(c, target, patch);
  return r.code == 200 || r.code == 404;
}

// The target cluster a HelmRelease's kubeconfig Secret reaches, or why not.
Cluster* targetOf(ClusterHost& host, Cluster& platform, const json& hr, std::string& why) {
  const json ref = hr["spec"].value("kubeConfig", json::object()).value("secretRef", json::object());
  std::string ns = hr["metadata"].value("namespace", ""), name = ref.value("name", ""), key = ref.value("key", "value");
  ApiResponse s = callCluster(platform, "GET", "/api/v1/namespaces/" + ns + "/secrets/" + name);
  if (s.code != 200) {
    why = "could not get Secret '" + ns + "/" + name + "': not found";
    return nullptr;
  }
  const json data = s.body.value("data", json::object());
  auto yaml =
      data.contains(key) && data[key].is_string() ? k8s::base64Decode(data[key].get<std::string>()) : std::nullopt;
  if (!yaml) {
    why = "secret '" + ns + "/" + name + "' does not contain a '" + key + "' key with a kubeconfig";
    return nullptr;
  }
  auto cfg = k8s::parseKubeconfig(*yaml, "", "Secret " + ns + "/" + name);
  if (!cfg) {
    why = "kubeconfig in Secret " + ns + "/" + name + " is not usable: " + cfg.status().message();
    return nullptr;
  }
  auto slash = cfg->server.rfind("/clusters/");
  Cluster* target = slash == std::string::npos ? nullptr : host.findCluster(cfg->server.substr(slash + 10));
  if (!target || !target->authorized(cfg->bearerToken)) {
    why = "the kubeconfig in Secret " + ns + "/" + name + " is not accepted by " + cfg->server + " (Unauthorized)";
    return nullptr;
  }
  return target;
}

// The chart version an OCIRepository's artifact carries: its tag ("_" is "+" in OCI tags).
std::string chartVersionOf(const json& repo) {
  std::string tag = repo["spec"].value("ref", json::object()).value("tag", "");
  for (auto& ch : tag)
    if (ch == '_') ch = '+';
  return tag;
}

json historyEntry(const json& hr, const std::string& chartVersion, long revision, const json& previous) {
  std::string now = nowTimestamp();
  std::string first = previous.is_object() ? previous.value("firstDeployed", now) : now;
  return {{"chartName", "crossplane"},
          {"chartVersion", chartVersion},
          {"appVersion", chartVersion},
          {"configDigest",
           "sha256:" + std::to_string(std::hash<std::string>()(hr["spec"].value("values", json::object()).dump()))},
          {"digest", "sha256:" + std::to_string(std::hash<std::string>()(chartVersion + std::to_string(revision)))},
          {"firstDeployed", first},
          {"lastDeployed", now},
          {"name", hr["spec"].value("releaseName", hr["metadata"].value("name", ""))},
          {"namespace", hr["spec"].value("targetNamespace", hr["metadata"].value("namespace", ""))},
          {"status", "deployed"},
          {"version", revision}};
}

bool notReady(Cluster& platform, const json& hr, const std::string& reason, const std::string& message) {
  long generation = hr["metadata"].value("generation", 1L);
  json status = hr.value("status", json::object());
  status["observedGeneration"] = generation;
  status["conditions"] = json::array({readyCondition(false, reason, message, generation)});
  return writeStatus(platform, path(kHelmApi, "helmreleases", hr), hr, status);
}

bool uninstall(ClusterHost& host, Cluster& platform, const json& hr) {
  std::string target = path(kHelmApi, "helmreleases", hr);
  if (!hr["spec"].value("suspend", false)) {
    std::string why;
    Cluster* cluster = targetOf(host, platform, hr, why);
    if (!cluster) return notReady(platform, hr, "UninstallFailed", why);  // as Flux: stays until it can
    if (!uninstallChart(*cluster, hr["spec"].value("targetNamespace", hr["metadata"].value("namespace", ""))))
      return false;
    log::info("sim: Flux uninstalled a HelmRelease",
              {{"helmRelease", hr["metadata"].value("namespace", "") + "/" + hr["metadata"].value("name", "")},
               {"cluster", cluster->name()}});
  }
  return setFinalizer(platform, target, hr, false);
}

// helm-controller's status after a successful install or upgrade to `revision`.
json releasedStatus(const json& hr, const json& history, const std::string& version, long revision) {
  const std::string ns = hr["metadata"].value("namespace", "");
  const std::string targetNs = hr["spec"].value("targetNamespace", ns);
  long generation = hr["metadata"].value("generation", 1L);
  std::string action = revision == 1 ? "install" : "upgrade";
  return {{"observedGeneration", generation},
          {"lastAttemptedGeneration", generation},
          {"lastAttemptedRevision", version},
          {"lastAttemptedReleaseAction", action},
          {"storageNamespace", hr["spec"].value("storageNamespace", targetNs)},
          {"helmChart", ns + "/" + ns + "-" + hr["metadata"].value("name", "")},
          {"history", history},
          {"conditions",
           json::array({readyCondition(true, action == "install" ? "InstallSucceeded" : "UpgradeSucceeded",
                                       "Helm " + action + " succeeded for release " + targetNs + "/crossplane.v" +
                                           std::to_string(revision) + " with chart crossplane@" + version,
                                       generation)})}};
}

bool wasReady(const json& status) {
  for (const auto& c : status.value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

bool install(ClusterHost& host, Cluster& platform, const json& hr) {
  const std::string ns = hr["metadata"].value("namespace", "");
  long generation = hr["metadata"].value("generation", 1L);
  const json chartRef = hr["spec"].value("chartRef", json::object());
  ApiResponse repo = callCluster(
      platform, "GET",
      collection(kSourceApi, "ocirepositories", chartRef.value("namespace", ns), chartRef.value("name", "")));
  if (repo.code != 200)
    return notReady(platform, hr, "ArtifactFailed",
                    "HelmChart '" + ns + "/" + chartRef.value("name", "") + "' is not ready: OCIRepository not found");
  std::string why;
  Cluster* cluster = targetOf(host, platform, hr, why);
  if (!cluster) return notReady(platform, hr, "InstallFailed", why);
  std::string version = chartVersionOf(repo.body);
  json status = hr.value("status", json::object());
  json history = status.value("history", json::array());
  json previous = history.empty() ? json() : history[0];
  // Installed already, unless a failed attempt since (e.g. a kubeconfig the target refused)
  // left Ready=False: helm-controller then retries, and a success sets Ready again.
  bool same = previous.is_object() && previous.value("chartVersion", "") == version &&
              status.value("observedGeneration", 0L) == generation && chartInstalled(*cluster) && wasReady(status);
  if (same) return true;
  long revision = previous.is_object() ? previous.value("version", 0L) + 1 : 1;
  std::string targetNs = hr["spec"].value("targetNamespace", ns);
  if (!installChart(*cluster, targetNs, version, hr["spec"].value("values", json::object()), revision)) return false;
  history.insert(history.begin(), historyEntry(hr, version, revision, previous));
  if (history.size() > 5) history.erase(history.begin() + 5, history.end());
  status = releasedStatus(hr, history, version, revision);
  log::info("sim: Flux installed a HelmRelease", {{"helmRelease", ns + "/" + hr["metadata"].value("name", "")},
                                                  {"cluster", cluster->name()},
                                                  {"chartVersion", version}});
  return writeStatus(platform, path(kHelmApi, "helmreleases", hr), hr, status);
}

bool reconcileHelmRelease(ClusterHost& host, Cluster& platform, const json& hr) {
  if (hr["metadata"].contains("deletionTimestamp")) return !hasFinalizer(hr) || uninstall(host, platform, hr);
  if (!hasFinalizer(hr)) return setFinalizer(platform, path(kHelmApi, "helmreleases", hr), hr, true) && false;
  if (hr["spec"].value("suspend", false)) return true;
  return install(host, platform, hr);
}

bool forEach(Cluster& c, const std::string& target, const std::function<bool(const json&)>& fn) {
  ApiResponse r = callCluster(c, "GET", target);
  if (r.code == 404) return true;
  if (r.code != 200) return false;
  if (!r.body.contains("items")) return fn(r.body);
  bool settled = true;
  for (const auto& item : r.body["items"]) settled = fn(item) && settled;
  return settled;
}

}  // namespace

std::vector<json> crds() {
  std::vector<json> out;
  for (const char* yaml : {kFluxOciRepositoriesCrdYaml, kFluxHelmReleasesCrdYaml})
    out.push_back(yamlToJson(YAML::Load(yaml)));
  return out;
}

void installCrds(Cluster& platform) {
  for (const auto& crd : crds()) {
    ApiResponse r = callCluster(platform, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
    if (r.code != 201)
      log::warn("sim: could not install a Flux CRD", {{"crd", crd["metadata"].value("name", "")}, {"code", r.code}});
  }
}

bool reconcileHelmReleases(ClusterHost& host, Cluster& platform, const std::string& ns, const std::string& name) {
  return forEach(platform, collection(kHelmApi, "helmreleases", ns, name),
                 [&](const json& hr) { return reconcileHelmRelease(host, platform, hr); });
}

bool reconcileOciRepositories(Cluster& platform, const std::string& ns, const std::string& name) {
  return forEach(platform, collection(kSourceApi, "ocirepositories", ns, name), [&](const json& repo) {
    if (repo["metadata"].contains("deletionTimestamp")) return true;
    long generation = repo["metadata"].value("generation", 1L);
    std::string tag = repo["spec"].value("ref", json::object()).value("tag", "latest");
    std::string digest = repo["spec"].value("ref", json::object()).value("digest", "");
    if (digest.empty()) digest = "sha256:" + std::to_string(std::hash<std::string>()(repo["spec"].dump()));
    std::string revision = tag + "@" + digest;
    const std::string ns = repo["metadata"].value("namespace", ""), nm = repo["metadata"].value("name", "");
    json status = {
        {"observedGeneration", generation},
        {"url",
         "http://source-controller.flux-system.svc.cluster.local./ocirepository/" + ns + "/" + nm + "/latest.tar.gz"},
        {"artifact",
         {{"digest", digest},
          {"lastUpdateTime", nowTimestamp()},
          {"path", "ocirepository/" + ns + "/" + nm + "/" + digest + ".tar.gz"},
          {"revision", revision},
          {"url", "http://source-controller.flux-system.svc.cluster.local./ocirepository/" + ns + "/" + nm + "/" +
                      digest + ".tar.gz"}}},
        {"conditions", json::array({readyCondition(true, "Succeeded", "stored artifact for digest '" + revision + "'",
                                                   generation)})}};
    json current = repo.value("status", json::object());
    if (current.value("observedGeneration", 0L) == generation && current.contains("artifact") &&
        current["artifact"].value("revision", "") == revision)
      return true;
    return writeStatus(platform, path(kSourceApi, "ocirepositories", repo), repo, status);
  });
}

bool reconcileCrossplaneProviders(Cluster& cluster, const std::string& name) {
  return forEach(cluster, collection("/apis/pkg.crossplane.io/v1", "providers", "", name),
                 [&](const json& p) { return reconcileCrossplaneProvider(cluster, p); });
}

}  // namespace spr::sim::flux
