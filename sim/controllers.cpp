#include "sim/controllers.h"

#include "common/log.h"
#include "sim/flux.h"
#include "sim/tls.h"

namespace spr::sim {

using nlohmann::json;

namespace {

const char* kProviderGroup = "clusters.openmcp.cloud";
const std::string kProviderApi = std::string("/apis/") + kProviderGroup + "/v1alpha1";

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
            {"versions", json::array({{{"name", version},
                                       {"served", true},
                                       {"storage", true},
                                       {"schema", {{"openAPIV3Schema", schema}}},
                                       {"subresources", {{"status", json::object()}}}}})}}}};
}

namespace {

std::string objectPath(const std::string& plural, const json& obj) {
  return kProviderApi + "/namespaces/" + obj["metadata"].value("namespace", "") + "/" + plural + "/" +
         obj["metadata"].value("name", "");
}

bool deleting(const json& obj) { return obj["metadata"].contains("deletionTimestamp"); }

std::string statusString(const json& obj, const char* field) {
  const json s = obj.value("status", json::object());
  return s.is_object() && s.contains(field) && s[field].is_string() ? s[field].get<std::string>() : "";
}

json deploymentStatus(const json& d) {
  const json spec = d.value("spec", json::object());
  long replicas =
      spec.is_object() && spec.contains("replicas") && spec["replicas"].is_number() ? spec["replicas"].get<long>() : 1;
  std::string now = nowTimestamp();
  auto cond = [&](const char* type, const char* reason, const char* message) {
    return json{{"type", type},     {"status", "True"},  {"lastUpdateTime", now}, {"lastTransitionTime", now},
                {"reason", reason}, {"message", message}};
  };
  return {{"observedGeneration", d["metadata"].value("generation", 1)},
          {"replicas", replicas},
          {"updatedReplicas", replicas},
          {"readyReplicas", replicas},
          {"availableReplicas", replicas},
          {"conditions",
           json::array({cond("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                        cond("Progressing", "NewReplicaSetAvailable", "ReplicaSet has successfully progressed.")})}};
}

}  // namespace

void Controllers::installProviderCrds(const std::string& platform) {
  platform_ = platform;
  Cluster* c = host_.findCluster(platform);
  if (!c) return;
  for (auto [kind, plural] :
       {std::pair{"ClusterRequest", "clusterrequests"}, std::pair{"AccessRequest", "accessrequests"}}) {
    ApiResponse r = callCluster(*c, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                permissiveCrd(kProviderGroup, "v1alpha1", kind, plural));
    if (r.code != 201) log::warn("sim: could not install the cluster provider CRD", {{"kind", kind}, {"code", r.code}});
  }
  flux::installCrds(*c);
}

void Controllers::start() {
  for (const auto& name : host_.clusterNames()) notify(Change{name, "", "", ""});
  thread_ = std::thread([this] { run(); });
}

void Controllers::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Controllers::notify(const Change& change) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_.insert(change);
  }
  cv_.notify_all();
}

void Controllers::run() {
  Changes retry;
  for (;;) {
    Changes changes;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto wait = retry.empty() ? std::chrono::milliseconds(500) : std::chrono::milliseconds(20);
      cv_.wait_for(lock, wait, [this] { return !dirty_.empty() || stopping_; });
      if (stopping_) return;
      changes.swap(dirty_);
    }
    changes.insert(retry.begin(), retry.end());
    retry = reconcile(changes);
  }
}

Controllers::Changes Controllers::reconcile(const Changes& changes) {
  Changes retry;
  std::set<std::string> wholeClusters, touched;
  for (const auto& c : changes) {
    touched.insert(c.cluster);
    if (c.resource.empty()) wholeClusters.insert(c.cluster);
  }
  for (const auto& name : touched)
    if (Cluster* c = host_.findCluster(name)) c->finalizeNamespaces();
  for (const auto& c : changes) {
    if (wholeClusters.count(c.cluster) && !c.resource.empty()) continue;  // covered below
    bool settled = true;
    if (c.resource.empty()) {
      if (Cluster* cluster = host_.findCluster(c.cluster)) settled = reconcileWholeCluster(*cluster);
    } else {
      settled = reconcileOne(c);
    }
    if (!settled) retry.insert(c);
  }
  return retry;
}

namespace {

std::string collectionPath(const std::string& prefix, const std::string& plural, const std::string& ns) {
  return prefix + (ns.empty() ? "" : "/namespaces/" + ns) + "/" + plural;
}

}  // namespace

bool Controllers::forEach(Cluster& cluster, const std::string& path,
                          const std::function<bool(const json&)>& reconcile) {
  ApiResponse r = callCluster(cluster, "GET", path);
  if (r.code == 404) return true;  // gone: nothing to do
  if (r.code != 200) return false;
  if (!r.body.contains("items")) return reconcile(r.body);
  bool settled = true;
  for (const auto& item : r.body["items"]) settled = reconcile(item) && settled;
  return settled;
}

bool Controllers::reconcileWholeCluster(Cluster& cluster) {
  bool settled =
      forEach(cluster, "/apis/apps/v1/deployments", [&](const json& d) { return reconcileDeployment(cluster, d); });
  settled = flux::reconcileCrossplaneProviders(cluster, "") && settled;
  Cluster* onboarding = host_.findCluster(onboarding_);
  Cluster* platform = host_.findCluster(platform_);
  if (!platform || (cluster.name() != platform_ && cluster.name() != onboarding_)) return settled;
  if (cluster.name() == platform_)
    settled = flux::reconcileOciRepositories(*platform, "", "") &&
              flux::reconcileHelmReleases(host_, *platform, "", "") && settled;
  if (onboarding) settled = reconcileMcps(*onboarding, *platform) && settled;
  settled = forEach(*platform, kProviderApi + "/clusterrequests",
                    [&](const json& cr) { return reconcileClusterRequest(*platform, cr); }) &&
            settled;
  settled = forEach(*platform, kProviderApi + "/accessrequests",
                    [&](const json& ar) { return reconcileAccessRequest(*platform, ar); }) &&
            settled;
  revokeGone(*platform);
  return settled;
}

bool Controllers::reconcileOne(const Change& c) {
  Cluster* cluster = host_.findCluster(c.cluster);
  if (!cluster) return true;
  auto path = [&](const std::string& prefix) {
    return collectionPath(prefix, c.resource, c.ns) + (c.name.empty() ? "" : "/" + c.name);
  };
  if (c.resource == "deployments")
    return forEach(*cluster, path("/apis/apps/v1"), [&](const json& d) { return reconcileDeployment(*cluster, d); }) &&
           flux::reconcileCrossplaneProviders(*cluster, "");
  if (c.resource == "providers") return flux::reconcileCrossplaneProviders(*cluster, c.name);
  Cluster* onboarding = host_.findCluster(onboarding_);
  Cluster* platform = host_.findCluster(platform_);
  if (!platform) return true;
  if (c.cluster == platform_ && c.resource == "helmreleases")
    return flux::reconcileHelmReleases(host_, *platform, c.ns, c.name);
  if (c.cluster == platform_ && (c.resource == "ocirepositories" || c.resource == "secrets") && !c.ns.empty())
    return (c.resource == "secrets" || flux::reconcileOciRepositories(*platform, c.ns, c.name)) &&
           flux::reconcileHelmReleases(host_, *platform, c.ns, "");
  if (c.cluster == onboarding_ && onboarding && c.resource == "managedcontrolplanes") {
    if (c.name.empty()) return reconcileMcps(*onboarding, *platform);
    return mcpChanged(*onboarding, *platform, c.ns, c.name);
  }
  if (c.cluster != platform_) return true;
  if (c.resource == "clusterrequests") {
    // The cluster provider's part, then what follows from the request's phase: its MCP's
    // status and the AccessRequests waiting for it (in the same namespace).
    return forEach(*platform, path(kProviderApi), [&](const json& cr) {
      bool settled = reconcileClusterRequest(*platform, cr);
      if (onboarding) settled = reconcileMcpOf(*onboarding, *platform, cr) && settled;
      return forEach(*platform, collectionPath(kProviderApi, "accessrequests", cr["metadata"].value("namespace", "")),
                     [&](const json& ar) { return reconcileAccessRequest(*platform, ar); }) &&
             settled;
    });
  }
  if (c.resource == "accessrequests") {
    if (!c.name.empty() && callCluster(*platform, "GET", path(kProviderApi)).code == 404)
      revokeGrant(c.ns + "/" + c.name);
    return forEach(*platform, path(kProviderApi),
                   [&](const json& ar) { return reconcileAccessRequest(*platform, ar); });
  }
  return true;
}

void Controllers::revokeGrant(const std::string& key) {
  auto it = granted_.find(key);
  if (it == granted_.end()) return;
  host_.revokeAccess(it->second.first, it->second.second);
  granted_.erase(it);
}

void Controllers::revokeGone(Cluster& platform) {
  ApiResponse list = callCluster(platform, "GET", kProviderApi + "/accessrequests");
  if (list.code != 200) return;
  std::set<std::string> live;
  for (const auto& ar : list.body["items"])
    live.insert(ar["metadata"].value("namespace", "") + "/" + ar["metadata"].value("name", ""));
  std::vector<std::string> gone;
  for (const auto& [key, grant] : granted_)
    if (!live.count(key)) gone.push_back(key);
  for (const auto& key : gone) revokeGrant(key);
}

bool Controllers::reconcileDeployment(Cluster& cluster, const json& d) {
  const json& meta = d["metadata"];
  long generation = meta.value("generation", 1L);
  const json status = d.value("status", json::object());
  if (deleting(d) || (status.is_object() && status.value("observedGeneration", 0L) == generation)) return true;
  std::string key = cluster.name() + "/" + meta.value("namespace", "") + "/" + meta.value("name", "") + "/" +
                    std::to_string(generation) + "/" + meta.value("uid", "");
  auto now = std::chrono::steady_clock::now();
  auto it = seen_.emplace(key, now).first;
  if (now - it->second < std::chrono::milliseconds(readyDelayMs_)) return false;
  std::string path =
      "/apis/apps/v1/namespaces/" + meta.value("namespace", "") + "/deployments/" + meta.value("name", "") + "/status";
  json body = {{"metadata", {{"name", meta["name"]}, {"resourceVersion", meta["resourceVersion"]}}},
               {"status", deploymentStatus(d)}};
  ApiResponse r = callCluster(cluster, "PUT", path, body);
  if (r.code != 200) return false;  // conflict: retry on the next pass
  seen_.erase(it);
  return true;
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

bool Controllers::reconcileClusterRequest(Cluster& platform, const json& cr) {
  if (deleting(cr) || statusString(cr, "phase") == "Ready") return true;
  std::string name = clusterFor(cr);
  host_.addCluster(name);
  json status = {{"phase", "Ready"},
                 {"cluster", {{"name", name}, {"namespace", cr["metadata"].value("namespace", "")}}},
                 {"observedGeneration", cr["metadata"].value("generation", 1)}};
  json body = {{"metadata", {{"name", cr["metadata"]["name"]}, {"resourceVersion", cr["metadata"]["resourceVersion"]}}},
               {"status", status}};
  ApiResponse r = callCluster(platform, "PUT", objectPath("clusterrequests", cr) + "/status", body);
  if (r.code != 200) return false;
  log::info("sim: ClusterRequest ready", {{"namespace", cr["metadata"].value("namespace", "")},
                                          {"name", cr["metadata"].value("name", "")},
                                          {"cluster", name}});
  return true;
}

// An AccessRequest waiting for its ClusterRequest is looked at again when that request
// changes; the sim expects both in one namespace, as openMCP's cluster provider keeps them.
bool Controllers::reconcileAccessRequest(Cluster& platform, const json& ar) {
  if (deleting(ar) || statusString(ar, "phase") == "Granted") return true;
  const json& meta = ar["metadata"];
  std::string ns = meta.value("namespace", "");
  const json spec = ar.value("spec", json::object());
  std::string cluster;
  if (spec.contains("requestRef") && spec["requestRef"].is_object()) {
    const json& ref = spec["requestRef"];
    ApiResponse cr = callCluster(
        platform, "GET",
        kProviderApi + "/namespaces/" + ref.value("namespace", ns) + "/clusterrequests/" + ref.value("name", ""));
    if (cr.code != 200 || statusString(cr.body, "phase") != "Ready") return true;
    cluster = cr.body["status"]["cluster"].value("name", "");
  } else if (spec.contains("clusterRef") && spec["clusterRef"].is_object()) {
    cluster = spec["clusterRef"].value("name", "");
  }
  if (cluster.empty() || !host_.findCluster(cluster)) return true;
  std::string secretName = meta.value("name", "") + "-kubeconfig";
  // The token may do what the AccessRequest asks for, nothing more (no permissions: nothing
  // but discovery), as the Role/ClusterRole openMCP's cluster provider binds to it.
  const std::string key = ns + "/" + meta.value("name", "");
  const json permissions =
      spec.contains("permissions") && spec["permissions"].is_array() ? spec["permissions"] : json::array();
  revokeGrant(key);
  std::string token;
  std::string kubeconfig =
      host_.grantAccess(cluster, permissions, "system:serviceaccount:" + ns + ":" + meta.value("name", ""), &token);
  granted_[key] = {cluster, token};
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", secretName},
                   {"namespace", ns},
                   {"labels", {{"clusters.openmcp.cloud/accessrequest", meta.value("name", "")}}}}},
                 {"type", "Opaque"},
                 {"data", {{"kubeconfig", base64Encode(kubeconfig)}}}};
  std::string secretsPath = "/api/v1/namespaces/" + ns + "/secrets";
  ApiResponse created = callCluster(platform, "POST", secretsPath, secret);
  if (created.code == 409) created = callCluster(platform, "PUT", secretsPath + "/" + secretName, secret);
  if (created.code != 200 && created.code != 201) return false;
  json body = {{"metadata", {{"name", meta["name"]}, {"resourceVersion", meta["resourceVersion"]}}},
               {"status",
                {{"phase", "Granted"},
                 {"secretRef", {{"name", secretName}, {"namespace", ns}}},
                 {"observedGeneration", meta.value("generation", 1)}}}};
  return callCluster(platform, "PUT", objectPath("accessrequests", ar) + "/status", body).code == 200;
}

}  // namespace spr::sim
