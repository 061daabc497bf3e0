// The emulated openMCP MCP controller: a ManagedControlPlane on the onboarding cluster gets
// a namespace mcp--<uuid> and a ClusterRequest on the platform cluster, turns Ready with the
// cluster the provider made, and deleting it deletes the ClusterRequest.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "adapters/k8s/openmcp.h"
#include "tests/sim/core_test_support.h"

namespace spr::sim {
namespace {

using nlohmann::json;
using testing::Reply;
using testing::SimFixture;

constexpr const char* kMcpNs = "project-acme--ws-dev";
constexpr const char* kMcps = "/apis/core.openmcp.cloud/v2alpha1/namespaces/project-acme--ws-dev/managedcontrolplanes";

json mcp(const std::string& name) {
  return {{"apiVersion", "core.openmcp.cloud/v2alpha1"},
          {"kind", "ManagedControlPlane"},
          {"metadata", {{"name", name}, {"namespace", kMcpNs}}},
          {"spec", {{"iam", {{"oidc", {{"defaultProvider", {{"roleBindings", json::array()}}}}}}}}}};
}

std::string clusterRequestPath(const std::string& name) {
  return "/apis/clusters.openmcp.cloud/v1alpha1/namespaces/" + k8s::mcpNamespace(kMcpNs, name) + "/clusterrequests/" +
         name;
}

// Polls GET `path` on `cluster` until `done` holds (5 s at most); returns the last reply.
template <typename Pred>
Reply waitFor(const SimFixture& sim, const std::string& cluster, const std::string& path, Pred done) {
  Reply r;
  for (int i = 0; i < 100; ++i) {
    r = sim.get(cluster, path);
    if (done(r)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return r;
}

void createNamespace(const SimFixture& sim) {
  ASSERT_EQ(sim.post("onboarding", "/api/v1/namespaces",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kMcpNs}}}})
                .code,
            201);
}

TEST(SimMcp, ManagedControlPlaneGetsAClusterRequestAndTurnsReady) {
  SimFixture sim;
  createNamespace(sim);
  Reply created = sim.post("onboarding", kMcps, mcp("mcp-1"));
  ASSERT_EQ(created.code, 201) << created.body.dump();
  EXPECT_TRUE(created.body["spec"].contains("iam"));  // spec is free-form
  Reply ready = waitFor(sim, "onboarding", std::string(kMcps) + "/mcp-1",
                        [](const Reply& r) { return r.body["status"].value("phase", "") == "Ready"; });
  ASSERT_EQ(ready.body["status"].value("phase", ""), "Ready") << ready.body.dump();
  const json& cond = ready.body["status"]["conditions"][0];
  EXPECT_EQ(cond["type"], "Ready");
  EXPECT_EQ(cond["status"], "True");
  EXPECT_EQ(ready.body["status"]["observedGeneration"], ready.body["metadata"]["generation"]);

  std::string ns = k8s::mcpNamespace(kMcpNs, "mcp-1");
  EXPECT_EQ(ns, "mcp--d5327100-d228-8cd9-be48-61ec3c9314a7");
  EXPECT_EQ(sim.get("platform", "/api/v1/namespaces/" + ns).code, 200);
  Reply cr = sim.get("platform", clusterRequestPath("mcp-1"));
  ASSERT_EQ(cr.code, 200);
  EXPECT_EQ(cr.body["spec"]["purpose"], "mcp");
  EXPECT_EQ(cr.body["status"]["phase"], "Ready");
  std::string cluster = cr.body["status"]["cluster"].value("name", "");
  EXPECT_EQ(ready.body["status"]["cluster"], cluster);
  auto names = sim.server->clusterNames();
  EXPECT_NE(std::find(names.begin(), names.end(), cluster), names.end()) << cluster;
  EXPECT_EQ(sim.get(cluster, "/api/v1/namespaces/default").code, 200);  // the MCP cluster serves
}

TEST(SimMcp, DeletingTheManagedControlPlaneDeletesItsClusterRequest) {
  SimFixture sim;
  createNamespace(sim);
  ASSERT_EQ(sim.post("onboarding", kMcps, mcp("mcp-2")).code, 201);
  Reply cr = waitFor(sim, "platform", clusterRequestPath("mcp-2"), [](const Reply& r) { return r.code == 200; });
  ASSERT_EQ(cr.code, 200);
  ASSERT_EQ(sim.call("onboarding", "DELETE", std::string(kMcps) + "/mcp-2").code, 200);
  cr = waitFor(sim, "platform", clusterRequestPath("mcp-2"), [](const Reply& r) { return r.code == 404; });
  EXPECT_EQ(cr.code, 404) << cr.body.dump();
  // A ClusterRequest not made for an MCP is left alone.
  json other = {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
                {"kind", "ClusterRequest"},
                {"metadata", {{"name", "by-hand"}}},
                {"spec", {{"purpose", "mcp"}}}};
  ASSERT_EQ(
      sim.post("platform", "/apis/clusters.openmcp.cloud/v1alpha1/namespaces/default/clusterrequests", other).code,
      201);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(
      sim.get("platform", "/apis/clusters.openmcp.cloud/v1alpha1/namespaces/default/clusterrequests/by-hand").code,
      200);
}

TEST(SimMcp, ManagedControlPlaneIsServedOnOnboardingOnly) {
  SimFixture sim;
  Reply group = sim.get("onboarding", "/apis/core.openmcp.cloud/v2alpha1");
  ASSERT_EQ(group.code, 200);
  bool found = false;
  for (const auto& r : group.body["resources"]) found |= r["name"] == "managedcontrolplanes" && r["namespaced"] == true;
  EXPECT_TRUE(found) << group.body.dump();
  EXPECT_EQ(sim.get("platform", "/apis/core.openmcp.cloud/v2alpha1").code, 404);
  EXPECT_EQ(sim.post("onboarding", kMcps, mcp("no-namespace-yet")).code, 404);  // namespace must exist
}

}  // namespace
}  // namespace spr::sim
