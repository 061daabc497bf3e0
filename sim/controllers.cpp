#include "sim/controllers.h"

#include "common/log.h"
#include "sim/tls.h"

namespace spr::sim {

using nlohmann::json;

namespace {

const char* kProviderGroup = "clusters.openmcp.cloud";

}  // namespace

ApiResponse callCluster(Cluster& c, const std::string& method, const std::string& path, const json& body) {
  ApiRequest r;
  r.method = method;
  r.path = path;
  if (!body.is_null()) {
    r.body = body.dump();
    r.contentType = "application/json";
  }
  return c.handle(r);
}

json permissiveCrd(const std::string& group, const std::string& version, const std::string& kind,
                   const std::string& plural, const std::vector<std::string>& shortNames) {
  json schema = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  json names = {{"kind", kind}, {"plural", plural}, {"singular", plural.substr(0, plural.size() - 1)}};
  if (!shortNames.empty()) names["shortNames"] = shortNames;
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}}},
          {"spec",
           {{"group", group},
            {"names", names},
            {"scope", "Namespaced"},
            {"versions", json::array({{{"name", version}, {"served", true}, {"storage", true},
                                       {"schema", {{"openAPIV3Schema", schema}}},
                                       {"subresources", {{"status", json::object()}}}}})}}}};
}

namespace {

std::string objectPath(const std::string& plural, const json& obj) {
  return std::string("/apis/") + kProviderGroup + "/v1alpha1/namespaces/" + obj["metadata"].value("namespace", "") +
         "/" + plural + "/" + obj["metadata"].value("name", "");
}

bool deleting(const json& obj) { return obj["metadata"].contains("deletionTimestamp"); }

std::string statusString(const json& obj, const char* field) {
  const json s = obj.value("status", json::object());
  return s.is_object() && s.contains(field) && s[field].is_string() ? s[field].get<std::string>() : "";
}

json deploymentStatus(const json& d) {
  const json spec = d.value("spec", json::object());
  long replicas = spec.is_object() && spec.contains("replicas") && spec["replicas"].is_number() ? spec["replicas"].get<long>() : 1;
  std::string now = nowTimestamp();
  auto cond = [&](const char* type, const char* reason, const char* message) {
    return json{{"type", type}, {"status", "True"}, {"lastUpdateTime", now}, {"lastTransitionTime", now},
                {"reason", reason}, {"message", message}};
  };
  return {{"observedGeneration", d["metadata"].value("generation", 1)},
          {"replicas", replicas},
          {"updatedReplicas", replicas},
          {"readyReplicas", replicas},
          {"availableReplicas", replicas},
          {"conditions", json::array({cond("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                                      cond("Progressing", "NewReplicaSetAvailable", "ReplicaSet has successfully progressed.")})}};
}

}  // namespace

void Controllers::installProviderCrds(const std::string& platform) {
  platform_ = platform;
  Cluster* c = host_.findCluster(platform);
  if (!c) return;
  for (auto [kind, plural] : {std::pair{"ClusterRequest", "clusterrequests"}, std::pair{"AccessRequest", "accessrequests"}}) {
    ApiResponse r = callCluster(*c, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", permissiveCrd(kProviderGroup, "v1alpha1", kind, plural));
    if (r.code != 201) log::warn("sim: could not install the cluster provider CRD", {{"kind", kind}, {"code", r.code}});
  }
}

void Controllers::start() { thread_ = std::thread([this] { run(); }); }

void Controllers::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Controllers::notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void Controllers::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto wait = pending_ ? std::chrono::milliseconds(20) : std::chrono::milliseconds(500);
      cv_.wait_for(lock, wait, [this] { return dirty_ || stopping_; });
      if (stopping_) return;
      dirty_ = false;
    }
    reconcileAll();
  }
}

void Controllers::reconcileAll() {
  pending_ = false;
  for (const auto& name : host_.clusterNames()) {
    Cluster* c = host_.findCluster(name);
    if (!c) continue;
    c->finalizeNamespaces();
    reconcileDeployments(*c);
  }
  Cluster* onboarding = host_.findCluster(onboarding_);
  if (Cluster* p = host_.findCluster(platform_)) {
    if (onboarding) reconcileMcps(*onboarding, *p);
    reconcileClusterRequests(*p);
    reconcileAccessRequests(*p);
  }
}

void Controllers::reconcileDeployments(Cluster& cluster) {
  ApiResponse list = callCluster(cluster, "GET", "/apis/apps/v1/deployments");
  if (list.code != 200) return;
  auto now = std::chrono::steady_clock::now();
  for (const auto& d : list.body["items"]) {
    const json& meta = d["metadata"];
    long generation = meta.value("generation", 1L);
    const json status = d.value("status", json::object());
    if (deleting(d) || (status.is_object() && status.value("observedGeneration", 0L) == generation)) continue;
    std::string key = cluster.name() + "/" + meta.value("namespace", "") + "/" + meta.value("name", "") + "/" +
                      std::to_string(generation) + "/" + meta.value("uid", "");
    auto it = seen_.emplace(key, now).first;
    if (now - it->second < std::chrono::milliseconds(readyDelayMs_)) {
      pending_ = true;
      continue;
    }
    std::string path = "/apis/apps/v1/namespaces/" + meta.value("namespace", "") + "/deployments/" + meta.value("name", "") + "/status";
    json body = {{"metadata", {{"name", meta["name"]}, {"resourceVersion", meta["resourceVersion"]}}}, {"status", deploymentStatus(d)}};
    ApiResponse r = callCluster(cluster, "PUT", path, body);
    if (r.code == 200) seen_.erase(it);
    else pending_ = true;  // conflict: retry on the next pass
  }
}

std::string Controllers::clusterFor(const json& cr) {
  const json spec = cr.value("spec", json::object());
  std::string purpose = spec.is_object() ? spec.value("purpose", "") : "";
  for (const char* shared : {"workload", "onboarding", "platform"})
    if (purpose == shared && host_.findCluster(shared)) return shared;
  std::string uid = cr["metadata"].value("uid", "");
  std::string hex;
  for (char c : uid)
    if (c != '-' && hex.size() < 8) hex.push_back(c);
  return "mcp-" + hex;
}

void Controllers::reconcileClusterRequests(Cluster& platform) {
  ApiResponse list = callCluster(platform, "GET", std::string("/apis/") + kProviderGroup + "/v1alpha1/clusterrequests");
  if (list.code != 200) return;
  for (const auto& cr : list.body["items"]) {
    if (deleting(cr) || statusString(cr, "phase") == "Ready") continue;
    std::string name = clusterFor(cr);
    host_.addCluster(name);
    json status = {{"phase", "Ready"},
                   {"cluster", {{"name", name}, {"namespace", cr["metadata"].value("namespace", "")}}},
                   {"observedGeneration", cr["metadata"].value("generation", 1)}};
    json body = {{"metadata", {{"name", cr["metadata"]["name"]}, {"resourceVersion", cr["metadata"]["resourceVersion"]}}},
                 {"status", status}};
    ApiResponse r = callCluster(platform, "PUT", objectPath("clusterrequests", cr) + "/status", body);
    if (r.code == 200) log::info("sim: ClusterRequest ready", {{"namespace", cr["metadata"].value("namespace", "")}, {"name", cr["metadata"].value("name", "")}, {"cluster", name}});
  }
}

void Controllers::reconcileAccessRequests(Cluster& platform) {
  ApiResponse list = callCluster(platform, "GET", std::string("/apis/") + kProviderGroup + "/v1alpha1/accessrequests");
  if (list.code != 200) return;
  for (const auto& ar : list.body["items"]) {
    if (deleting(ar) || statusString(ar, "phase") == "Granted") continue;
    const json& meta = ar["metadata"];
    std::string ns = meta.value("namespace", "");
    const json spec = ar.value("spec", json::object());
    std::string cluster;
    if (spec.contains("requestRef") && spec["requestRef"].is_object()) {
      const json& ref = spec["requestRef"];
      ApiResponse cr = callCluster(platform, "GET", std::string("/apis/") + kProviderGroup + "/v1alpha1/namespaces/" +
                                                 ref.value("namespace", ns) + "/clusterrequests/" + ref.value("name", ""));
      if (cr.code != 200 || statusString(cr.body, "phase") != "Ready") continue;
      cluster = cr.body["status"]["cluster"].value("name", "");
    } else if (spec.contains("clusterRef") && spec["clusterRef"].is_object()) {
      cluster = spec["clusterRef"].value("name", "");
    }
    if (cluster.empty() || !host_.findCluster(cluster)) continue;
    std::string secretName = meta.value("name", "") + "-kubeconfig";
    json secret = {{"apiVersion", "v1"}, {"kind", "Secret"},
                   {"metadata", {{"name", secretName}, {"namespace", ns},
                                 {"labels", {{"clusters.openmcp.cloud/accessrequest", meta.value("name", "")}}}}},
                   {"type", "Opaque"},
                   {"data", {{"kubeconfig", base64Encode(host_.grantAccess(cluster))}}}};
    std::string secretsPath = "/api/v1/namespaces/" + ns + "/secrets";
    ApiResponse created = callCluster(platform, "POST", secretsPath, secret);
    if (created.code == 409) created = callCluster(platform, "PUT", secretsPath + "/" + secretName, secret);
    if (created.code != 200 && created.code != 201) continue;
    json body = {{"metadata", {{"name", meta["name"]}, {"resourceVersion", meta["resourceVersion"]}}},
                 {"status", {{"phase", "Granted"}, {"secretRef", {{"name", secretName}, {"namespace", ns}}},
                             {"observedGeneration", meta.value("generation", 1)}}}};
    callCluster(platform, "PUT", objectPath("accessrequests", ar) + "/status", body);
  }
}

}  // namespace spr::sim
