// The in-process controllers: the openMCP cluster provider on the platform cluster and
// Deployment availability.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <thread>

#include "tests/sim/core_test_support.h"

namespace spr::sim::testing {
namespace {

constexpr const char* kRequests = "/apis/clusters.openmcp.cloud/v1alpha1/namespaces/mcp-ns/clusterrequests";
constexpr const char* kAccess = "/apis/clusters.openmcp.cloud/v1alpha1/namespaces/mcp-ns/accessrequests";

// Polls `path` on `cluster` until `ready` holds (up to 5 s); returns the last body.
json waitFor(const SimFixture& sim, const std::string& cluster, const std::string& path,
             const std::function<bool(const json&)>& ready) {
  json last;
  for (int i = 0; i < 100; ++i) {
    auto r = sim.get(cluster, path);
    last = r.body;
    if (r.code == 200 && ready(r.body)) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "timed out waiting on " << path << ": " << last.dump();
  return last;
}

std::string decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

json request(const std::string& kind, const std::string& name, const json& spec) {
  return {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
          {"kind", kind},
          {"metadata", {{"name", name}}},
          {"spec", spec}};
}

TEST(SimClusterProvider, GrantsAccessToANewClusterWithAWorkingKubeconfig) {
  SimFixture sim;
  ASSERT_EQ(sim.post("platform", "/api/v1/namespaces",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "mcp-ns"}}}})
                .code,
            201);
  ASSERT_EQ(sim.post("platform", kRequests, request("ClusterRequest", "mcp-1", {{"purpose", "mcp"}})).code, 201);
  ASSERT_EQ(
      sim.post(
             "platform", kAccess,
             request("AccessRequest", "ar-1",
                     {{"requestRef", {{"name", "mcp-1"}, {"namespace", "mcp-ns"}}},
                      {"permissions", json::array({{{"rules", json::array({{{"apiGroups", json::array({""})},
                                                                            {"resources", json::array({"namespaces"})},
                                                                            {"verbs", json::array({"list"})}}})}}})}}))
          .code,
      201);
  json cr = waitFor(sim, "platform", std::string(kRequests) + "/mcp-1",
                    [](const json& o) { return o.contains("status") && o["status"].value("phase", "") == "Ready"; });
  std::string clusterName = cr["status"]["cluster"]["name"];
  EXPECT_EQ(clusterName.rfind("mcp-", 0), 0u);
  auto names = sim.server->clusterNames();
  EXPECT_NE(std::find(names.begin(), names.end(), clusterName), names.end());
  json ar = waitFor(sim, "platform", std::string(kAccess) + "/ar-1",
                    [](const json& o) { return o.contains("status") && o["status"].value("phase", "") == "Granted"; });
  std::string secretName = ar["status"]["secretRef"]["name"];
  auto secret = sim.get("platform", "/api/v1/namespaces/mcp-ns/secrets/" + secretName);
  ASSERT_EQ(secret.code, 200);
  std::string kubeconfig = decode(secret.body["data"]["kubeconfig"]);
  EXPECT_NE(kubeconfig.find(sim.server->baseUrl() + "/clusters/" + clusterName), std::string::npos) << kubeconfig;
  std::string token = tokenIn(kubeconfig, clusterName);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(sim.call(clusterName, "GET", "/api/v1/namespaces", "", "", token).code, 200);
  EXPECT_EQ(sim.call("onboarding", "GET", "/api/v1/namespaces", "", "", token).code, 401);
  // Only what the AccessRequest asked for (RBAC, as the cluster provider's Role binds it).
  EXPECT_EQ(sim.call(clusterName, "GET", "/api/v1/namespaces/default/secrets", "", "", token).code, 403);
  EXPECT_EQ(sim.call(clusterName, "GET", "/apis", "", "", token).code, 200);  // discovery
}

TEST(SimClusterProvider, WorkloadPurposeMapsToTheSharedWorkloadCluster) {
  SimFixture sim;
  sim.post("platform", "/api/v1/namespaces",
           {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "mcp-ns"}}}});
  ASSERT_EQ(sim.post("platform", kRequests, request("ClusterRequest", "wl", {{"purpose", "workload"}})).code, 201);
  json cr = waitFor(sim, "platform", std::string(kRequests) + "/wl",
                    [](const json& o) { return o.contains("status") && o["status"].value("phase", "") == "Ready"; });
  EXPECT_EQ(cr["status"]["cluster"]["name"], "workload");
  EXPECT_EQ(sim.server->clusterNames().size(), 3u);
}

TEST(SimDeployments, BecomeAvailableAfterTheDelay) {
  SimOptions options;
  options.deploymentReadyDelayMs = 300;
  SimFixture sim(options);
  json dep = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"replicas", 2},
                {"selector", {{"matchLabels", {{"app", "web"}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", "web"}}}}},
                  {"spec", {{"containers", {{{"name", "c"}, {"image", "i:1"}}}}}}}}}}};
  std::string path = "/apis/apps/v1/namespaces/default/deployments";
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(sim.post("onboarding", path, dep).code, 201);
  auto fresh = sim.get("onboarding", path + "/web");
  EXPECT_FALSE(fresh.body["status"].contains("availableReplicas"));
  json ready = waitFor(sim, "onboarding", path + "/web",
                       [](const json& o) { return o["status"].value("observedGeneration", 0) == 1; });
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_EQ(ready["status"]["availableReplicas"], 2);
  EXPECT_EQ(ready["status"]["readyReplicas"], 2);
  EXPECT_EQ(ready["status"]["updatedReplicas"], 2);
  EXPECT_EQ(ready["status"]["conditions"][0]["type"], "Available");
  EXPECT_EQ(ready["status"]["conditions"][0]["status"], "True");
  json changed = ready;
  changed["spec"]["replicas"] = 3;
  ASSERT_EQ(sim.put("onboarding", path + "/web", changed).code, 200);
  json again = waitFor(sim, "onboarding", path + "/web",
                       [](const json& o) { return o["status"].value("observedGeneration", 0) == 2; });
  EXPECT_EQ(again["status"]["availableReplicas"], 3);
}

}  // namespace
}  // namespace spr::sim::testing
