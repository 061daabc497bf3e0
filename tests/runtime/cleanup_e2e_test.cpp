// Nothing left behind, against the in-process local API server: once requests are deleted,
// or the ProviderConfig is, no AccessRequest or kubeconfig Secret spr asked for remains; a request whose MCP
// (ClusterRequest) was deleted first, or whose tenant namespace is deleted, still finishes
// its deletion, and the operator keeps running.
#include <gtest/gtest.h>

#include <set>

#include "tests/runtime/e2e_env.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;

const k8s::GroupVersionResource kAccessRequests{"clusters.openmcp.cloud", "v1alpha1", "accessrequests", true};
const k8s::GroupVersionResource kSecrets{"", "v1", "secrets", true};

// "ns/name" of every AccessRequest on the platform cluster, and of the Secrets they name.
struct Access {
  std::set<std::string> requests, secrets;
};

Access platformAccess(E2E& env) {
  Access out;
  auto list = env.platform->list(kAccessRequests, "");
  EXPECT_TRUE(list.isOk()) << list.status().toString();
  if (!list.isOk()) return out;
  for (const json& ar : (*list)["items"]) {
    const std::string ns = ar["metadata"].value("namespace", "");
    out.requests.insert(ns + "/" + ar["metadata"].value("name", ""));
    const json status = ar.value("status", json::object());
    if (status.is_object() && status.contains("secretRef"))
      out.secrets.insert(ns + "/" + status["secretRef"].value("name", ""));
  }
  return out;
}

bool secretExists(E2E& env, const std::string& key) {
  auto slash = key.find('/');
  return env.platform->get(kSecrets, key.substr(0, slash), key.substr(slash + 1)).isOk();
}

bool gone(E2E& env, const std::string& ns, const std::string& name) { return env.get(ns, name).is_null(); }

TEST(CleanupE2E, DeletedRequestsLeaveNoAccessRequestOrKubeconfigSecret) {
  E2E env("cleanup");
  env.createConfig();
  auto op = testing::startOperator(env);
  ASSERT_TRUE(op);
  const std::vector<std::string> tenants = {"project-a--ws-1", "project-b--ws-1", "project-c--ws-1"};
  for (const auto& t : tenants) env.createRequest(t, "mcp");
  for (const auto& t : tenants) ASSERT_TRUE(eventually([&] { return env.isReady(t, "mcp"); })) << t;
  Access before = platformAccess(env);
  EXPECT_EQ(before.requests.size(), 3u);
  EXPECT_EQ(before.secrets.size(), 3u);
  for (const auto& s : before.secrets) EXPECT_TRUE(secretExists(env, s)) << s;
  // Each asks for what the crossplane provider declares, no wildcard.
  auto ars = env.platform->list(kAccessRequests, "");
  ASSERT_TRUE(ars.isOk());
  for (const json& ar : (*ars)["items"]) {
    EXPECT_EQ(ar["spec"]["permissions"][0]["rules"], env.provider->mcpAccessRules()) << ar.dump();
    EXPECT_EQ(ar["spec"].dump().find('*'), std::string::npos) << ar["spec"].dump();
  }

  for (const auto& t : tenants) ASSERT_TRUE(env.onboarding->remove(env.api, t, "mcp").isOk());
  for (const auto& t : tenants) ASSERT_TRUE(eventually([&] { return gone(env, t, "mcp"); })) << t;
  Access after = platformAccess(env);
  EXPECT_TRUE(after.requests.empty()) << *after.requests.begin();
  for (const auto& s : before.secrets) EXPECT_FALSE(secretExists(env, s)) << s;
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(CleanupE2E, RequestWhoseMcpWasDeletedFirstFinishesDeletion) {
  E2E env("mcpgone");
  env.createConfig();
  auto op = testing::startOperator(env);
  ASSERT_TRUE(op);
  env.createRequest("project-m--ws-1", "mcp");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-m--ws-1", "mcp"); }));
  const std::string mcpNs = k8s::mcpNamespace("project-m--ws-1", "mcp");
  ASSERT_TRUE(env.platform->remove(testing::kClusterRequests, mcpNs, "mcp").isOk());
  ASSERT_TRUE(env.onboarding->remove(env.api, "project-m--ws-1", "mcp").isOk());
  EXPECT_TRUE(eventually([&] { return gone(env, "project-m--ws-1", "mcp"); }, 60))
      << env.get("project-m--ws-1", "mcp").dump();
  EXPECT_TRUE(platformAccess(env).requests.empty());
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(CleanupE2E, DeletingATenantNamespaceFinishesItsRequestsAndTheOperatorKeepsRunning) {
  E2E env("nsgone");
  env.createConfig();
  auto op = testing::startOperator(env);
  ASSERT_TRUE(op);
  env.createRequest("project-n--ws-1", "ready");
  env.createRequest("project-n--ws-1", "refused", "9.9.9");  // not offered: never deploys anything
  ASSERT_TRUE(eventually([&] { return env.isReady("project-n--ws-1", "ready"); }));
  ASSERT_TRUE(env.onboarding->remove(testing::kNamespaces, "", "project-n--ws-1").isOk());
  EXPECT_TRUE(
      eventually([&] { return gone(env, "project-n--ws-1", "ready") && gone(env, "project-n--ws-1", "refused"); }, 60));
  env.createRequest("project-o--ws-1", "after");
  EXPECT_TRUE(eventually([&] { return env.isReady("project-o--ws-1", "after"); }));
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

// Removing the ProviderConfig withdraws the offering: the requests report it and spr
// keeps no AccessRequest (or Secret) to their MCPs; putting it back asks for access again.
TEST(CleanupE2E, ProviderConfigRemovalReleasesAccessAndItsReturnRestoresIt) {
  E2E env("configgone");
  env.createConfig();
  auto op = testing::startOperator(env);
  ASSERT_TRUE(op);
  env.createRequest("project-p--ws-1", "mcp");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-p--ws-1", "mcp"); }));
  Access before = platformAccess(env);
  ASSERT_EQ(before.requests.size(), 1u);
  ASSERT_TRUE(env.platform->remove(env.config, "", "crossplane").isOk());
  EXPECT_TRUE(eventually([&] {
    return E2E::readyCondition(env.get("project-p--ws-1", "mcp")).value("reason", "") == "ProviderConfigNotFound";
  })) << env.get("project-p--ws-1", "mcp").dump();
  EXPECT_TRUE(eventually([&] { return platformAccess(env).requests.empty(); }))
      << *platformAccess(env).requests.begin();
  for (const auto& s : before.secrets) EXPECT_FALSE(secretExists(env, s)) << s;
  env.createConfig();
  EXPECT_TRUE(eventually([&] { return env.isReady("project-p--ws-1", "mcp"); }));
  EXPECT_EQ(platformAccess(env).requests.size(), 1u);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

}  // namespace
}  // namespace spr::runtime
