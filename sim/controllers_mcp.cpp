// openMCP's MCP controller, as the sim emulates it: for each ManagedControlPlane
// <ns>/<name> on the onboarding cluster it keeps, on the platform cluster, the namespace
// mcp--<uuid> (k8s::mcpNamespace) and a ClusterRequest <name> there (spec.purpose "mcp",
// labelled with the MCP it serves), which the cluster provider fulfils. The MCP's status
// follows the ClusterRequest: phase Pending/Ready and a Ready condition. A labelled
// ClusterRequest whose MCP is gone is deleted (on the MCP's delete event, and by the full
// pass at start, so no finalizer is needed).
#include "adapters/k8s/openmcp.h"
#include "common/log.h"
#include "sim/controllers.h"

namespace spr::sim {

using nlohmann::json;

namespace {

const char* kMcpGroup = "core.openmcp.cloud";
const char* kMcpVersion = "v2alpha1";
const char* kMcpPath = "/apis/core.openmcp.cloud/v2alpha1";
const char* kClusterRequestsPath = "/apis/clusters.openmcp.cloud/v1alpha1";
const char* kLabelMcpName = "core.openmcp.cloud/mcp-name";
const char* kLabelMcpNamespace = "core.openmcp.cloud/mcp-namespace";

std::string mcpKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::string mcpPath(const std::string& ns, const std::string& name) {
  return std::string(kMcpPath) + "/namespaces/" + ns + "/managedcontrolplanes/" + name;
}

std::string clusterRequestPath(const std::string& ns, const std::string& name = "") {
  return std::string(kClusterRequestsPath) + "/namespaces/" + ns + "/clusterrequests" +
         (name.empty() ? "" : "/" + name);
}

// The MCP status the ClusterRequest `cr` (null: not created yet) calls for.
json desiredStatus(const json& mcp, const json& cr, const json& previous) {
  const json crStatus = cr.is_object() ? cr.value("status", json::object()) : json::object();
  bool ready = crStatus.is_object() && crStatus.value("phase", "") == "Ready";
  std::string cluster = ready && crStatus.contains("cluster") ? crStatus["cluster"].value("name", "") : "";
  std::string phase = ready ? "Ready" : "Pending";
  std::string crNs = k8s::mcpNamespace(mcp["metadata"].value("namespace", ""), mcp["metadata"].value("name", ""));
  std::string message = ready ? "the MCP cluster " + cluster + " is ready"
                              : "waiting for ClusterRequest " + crNs + "/" + mcp["metadata"].value("name", "") +
                                    " on the platform cluster";
  std::string since = nowTimestamp();
  if (previous.is_object() && previous.value("phase", "") == phase && previous.contains("conditions") &&
      previous["conditions"].is_array() && !previous["conditions"].empty())
    since = previous["conditions"][0].value("lastTransitionTime", since);
  long generation = mcp["metadata"].value("generation", 1L);
  json status = {{"phase", phase},
                 {"observedGeneration", generation},
                 {"clusterRequest", {{"namespace", crNs}, {"name", mcp["metadata"].value("name", "")}}},
                 {"conditions", json::array({{{"type", "Ready"},
                                              {"status", ready ? "True" : "False"},
                                              {"observedGeneration", generation},
                                              {"reason", ready ? "ClusterReady" : "WaitingForCluster"},
                                              {"message", message},
                                              {"lastTransitionTime", since}}})}};
  if (!cluster.empty()) status["cluster"] = cluster;
  return status;
}

// Creates `body` at `collection` unless it exists; false on any other failure.
bool ensureExists(Cluster& c, const std::string& collection, const json& body) {
  ApiResponse r = callCluster(c, "POST", collection, body);
  return r.code == 201 || r.code == 409;
}

// The MCP a labelled ClusterRequest serves ("<ns>/<name>"), or "" when it is not labelled
// or already being deleted.
std::string ownerOf(const json& clusterRequest) {
  const json labels = clusterRequest["metadata"].value("labels", json::object());
  if (!labels.is_object() || !labels.contains(kLabelMcpName) ||
      clusterRequest["metadata"].contains("deletionTimestamp"))
    return "";
  return mcpKey(labels.value(kLabelMcpNamespace, ""), labels.value(kLabelMcpName, ""));
}

// Deletes the ClusterRequest of an MCP that is gone.
bool deleteOrphan(Cluster& platform, const json& clusterRequest) {
  const json& meta = clusterRequest["metadata"];
  ApiResponse r =
      callCluster(platform, "DELETE", clusterRequestPath(meta.value("namespace", ""), meta.value("name", "")));
  log::info("sim: ManagedControlPlane gone, ClusterRequest deleted",
            {{"mcp", ownerOf(clusterRequest)}, {"code", r.code}});
  return r.code == 200 || r.code == 202 || r.code == 404;
}

}  // namespace

void Controllers::installMcpCrd(const std::string& onboarding) {
  onboarding_ = onboarding;
  Cluster* c = host_.findCluster(onboarding);
  if (!c) return;
  json crd = permissiveCrd(kMcpGroup, kMcpVersion, "ManagedControlPlane", "managedcontrolplanes", {"mcp"});
  crd["spec"]["versions"][0]["additionalPrinterColumns"] =
      json::array({{{"name", "Phase"}, {"type", "string"}, {"jsonPath", ".status.phase"}},
                   {{"name", "Cluster"}, {"type", "string"}, {"jsonPath", ".status.cluster"}},
                   {{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}}});
  ApiResponse r = callCluster(*c, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  if (r.code != 201) log::warn("sim: could not install the ManagedControlPlane CRD", {{"code", r.code}});
}

// A change to MCP <ns>/<name>: reconcile it, or, when it is gone, delete its ClusterRequest.
bool Controllers::mcpChanged(Cluster& onboarding, Cluster& platform, const std::string& ns, const std::string& name) {
  ApiResponse mcp = callCluster(onboarding, "GET", mcpPath(ns, name));
  if (mcp.code == 200) return reconcileMcp(onboarding, platform, mcp.body);
  if (mcp.code != 404) return false;
  ApiResponse cr = callCluster(platform, "GET", clusterRequestPath(k8s::mcpNamespace(ns, name), name));
  if (cr.code == 404) return true;
  if (cr.code != 200) return false;
  return ownerOf(cr.body) != mcpKey(ns, name) || deleteOrphan(platform, cr.body);
}

// A ClusterRequest changed: the MCP it serves (by its labels) follows its phase.
bool Controllers::reconcileMcpOf(Cluster& onboarding, Cluster& platform, const json& clusterRequest) {
  const json labels = clusterRequest["metadata"].value("labels", json::object());
  if (!labels.is_object() || !labels.contains(kLabelMcpName)) return true;
  return mcpChanged(onboarding, platform, labels.value(kLabelMcpNamespace, ""), labels.value(kLabelMcpName, ""));
}

bool Controllers::reconcileMcp(Cluster& onboarding, Cluster& platform, const json& mcp) {
  const json& meta = mcp["metadata"];
  if (meta.contains("deletionTimestamp")) return true;
  std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  std::string crNs = k8s::mcpNamespace(ns, name);
  ApiResponse cr = callCluster(platform, "GET", clusterRequestPath(crNs, name));
  if (cr.code == 404) {
    json namespaceObj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", crNs}}}};
    json request = {
        {"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
        {"kind", "ClusterRequest"},
        {"metadata",
         {{"name", name}, {"namespace", crNs}, {"labels", {{kLabelMcpName, name}, {kLabelMcpNamespace, ns}}}}},
        {"spec", {{"purpose", "mcp"}}}};
    if (!ensureExists(platform, "/api/v1/namespaces", namespaceObj) ||
        !ensureExists(platform, clusterRequestPath(crNs), request))
      return false;  // e.g. the namespace is still terminating: retry soon
    log::info("sim: ManagedControlPlane -> ClusterRequest",
              {{"mcp", mcpKey(ns, name)}, {"clusterRequest", mcpKey(crNs, name)}});
    cr = ApiResponse{404, nullptr, {}};  // just created: the cluster provider has not seen it yet
  }
  const json previous = mcp.value("status", json());
  json status = desiredStatus(mcp, cr.code == 200 ? cr.body : json(), previous);
  if (previous == status) return true;
  json body = {{"metadata", {{"name", name}, {"resourceVersion", meta["resourceVersion"]}}}, {"status", status}};
  ApiResponse w = callCluster(onboarding, "PUT", mcpPath(ns, name) + "/status", body);
  return w.code == 200;  // a conflict with a user's write: retry soon
}

// Full pass: a labelled ClusterRequest whose MCP is not in `liveMcps` is deleted.
bool Controllers::sweepOrphanClusterRequests(Cluster& platform, const std::set<std::string>& liveMcps) {
  ApiResponse list = callCluster(platform, "GET", std::string(kClusterRequestsPath) + "/clusterrequests");
  if (list.code != 200) return false;
  bool settled = true;
  for (const auto& cr : list.body["items"]) {
    std::string owner = ownerOf(cr);
    if (!owner.empty() && !liveMcps.count(owner)) settled = deleteOrphan(platform, cr) && settled;
  }
  return settled;
}

// Full pass over the MCPs: each one reconciled, then the ClusterRequests of those gone.
bool Controllers::reconcileMcps(Cluster& onboarding, Cluster& platform) {
  ApiResponse list = callCluster(onboarding, "GET", std::string(kMcpPath) + "/managedcontrolplanes");
  if (list.code != 200) return false;
  bool settled = true;
  std::set<std::string> live;
  for (const auto& mcp : list.body["items"]) {
    live.insert(mcpKey(mcp["metadata"].value("namespace", ""), mcp["metadata"].value("name", "")));
    settled = reconcileMcp(onboarding, platform, mcp) && settled;
  }
  return sweepOrphanClusterRequests(platform, live) && settled;
}

}  // namespace spr::sim
