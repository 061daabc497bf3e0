// End-to-end lifecycle cases beyond the happy path, against the in-process local API
// server with the real crossplane provider: drift made by hand, a disallowed provider
// fixed by the user, deletion racing the finalizer and the Create, leader election.
#include <gtest/gtest.h>

#include "core/journal/journal.h"
#include "providers/crossplane/crossplane.h"
#include "runtime/operator.h"
#include "tests/runtime/e2e_env.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;
namespace lc = lifecycle;

const k8s::GroupVersionResource kDeployments{"apps", "v1", "deployments", true};
const k8s::GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases", true};

std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

using testing::startOperator;

// A client for the MCP cluster the sim's cluster provider made for ns/name.
struct Mcp {
  std::unique_ptr<k8s::Transport> transport;
  std::unique_ptr<k8s::Client> client;
};
Mcp mcpClient(E2E& env, const std::string& ns, const std::string& name) {
  Mcp m;
  std::string cluster;
  EXPECT_TRUE(eventually([&] {
    auto cr = env.platform->get(testing::kClusterRequests, k8s::mcpNamespace(ns, name), name);
    if (cr.isOk()) cluster = (*cr).value("status", json::object()).value("cluster", json::object()).value("name", "");
    return !cluster.empty();
  }));
  auto cfg = k8s::parseKubeconfig(env.simServer->kubeconfigYaml(), cluster, "test");
  EXPECT_TRUE(cfg.isOk()) << cfg.status().toString();
  if (cfg.isOk()) m.client = env.client(*cfg, &m.transport);
  return m;
}

bool notFound(const Result<json>& r) { return !r.isOk() && r.status().code() == Code::kNotFound; }

TEST(LifecycleE2E, HelmReleaseChangedByHandIsRepairedByUpdateAtTheNextPoll) {
  namespace xp = providers::crossplane;
  E2E env(testName());
  ASSERT_TRUE(E2E::createOk(*env.platform, env.config, "", env.providerConfig("1s")));
  auto op = startOperator(env);
  env.createRequest("project-d--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-d--ws-1", "mcp-1"); }));
  const std::string tenant = k8s::mcpNamespace("project-d--ws-1", "mcp-1");
  uint64_t updates = op->effectsRun(lc::Op::kUpdate);
  ASSERT_TRUE(env.platform
                  ->mergePatch(xp::kHelmReleases, tenant, xp::kName,
                               {{"spec", {{"values", {{"image", {{"repository", "example.com/hand-made"}}}}}}}})
                  .isOk());
  Mcp mcp = mcpClient(env, "project-d--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] {
    auto hr = env.platform->get(xp::kHelmReleases, tenant, xp::kName);
    auto d = mcp.client->get(kDeployments, "crossplane-system", "crossplane");
    return hr.isOk() && (*hr)["spec"]["values"]["image"].value("repository", "") != "example.com/hand-made" &&
           d.isOk() &&
           d->dump().find("ghcr.io/openmcp-project/openmcp/images/crossplane:v2.0.8@sha256:") != std::string::npos &&
           op->effectsRun(lc::Op::kUpdate) > updates;
  })) << "the hand-made image repository was not repaired (or Flux did not upgrade the release)";
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 1u);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(LifecycleE2E, DisallowedProviderWaitsWithoutRetryingUntilTheUserFixesTheSpec) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-p--ws-1", "mcp-1");
  json obj = env.get("project-p--ws-1", "mcp-1");
  obj["spec"]["providers"] = json::array({{{"name", "provider-aws"}, {"version", "v1.0.0"}}});
  ASSERT_TRUE(env.onboarding->update(env.api, "project-p--ws-1", obj).isOk());
  ASSERT_TRUE(eventually([&] {
    json c = E2E::readyCondition(env.get("project-p--ws-1", "mcp-1"));
    return c.value("reason", "") == "ProviderNotAllowed";
  })) << env.get("project-p--ws-1", "mcp-1").dump();
  json c = E2E::readyCondition(env.get("project-p--ws-1", "mcp-1"));
  EXPECT_EQ(c.value("status", ""), "False");
  EXPECT_NE(c.value("message", "").find("provider-kubernetes"), std::string::npos) << "lists what is allowed: " << c;
  // A user error is not retried: no further Observe runs while nothing changes.
  uint64_t observes = op->effectsRun(lc::Op::kObserve);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(op->effectsRun(lc::Op::kObserve), observes);
  Mcp mcp = mcpClient(env, "project-p--ws-1", "mcp-1");
  EXPECT_TRUE(notFound(mcp.client->get(testing::kNamespaces, "", "crossplane-system"))) << "nothing is deployed";
  obj = env.get("project-p--ws-1", "mcp-1");
  obj["spec"]["providers"] = json::array({{{"name", "provider-kubernetes"}, {"version", "v1.2.1"}}});
  ASSERT_TRUE(env.onboarding->update(env.api, "project-p--ws-1", obj).isOk());
  ASSERT_TRUE(eventually([&] { return env.isReady("project-p--ws-1", "mcp-1"); }))
      << env.get("project-p--ws-1", "mcp-1").dump();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(LifecycleE2E, RequestDeletedBeforeOrDuringCreateLeavesNothingBehind) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  // One deleted at once (racing the finalizer), one deleted once its Create is under way.
  env.createRequest("project-r--ws-1", "early");
  ASSERT_TRUE(env.onboarding->remove(env.api, "project-r--ws-1", "early").isOk());
  env.createRequest("project-r--ws-1", "late");
  ASSERT_TRUE(eventually([&] { return op->effectsRun(lc::Op::kCreate) >= 1; }));
  ASSERT_TRUE(env.onboarding->remove(env.api, "project-r--ws-1", "late").isOk());
  for (const char* name : {"early", "late"}) {
    ASSERT_TRUE(eventually([&] { return env.get("project-r--ws-1", name).is_null(); }))
        << name << ": " << env.get("project-r--ws-1", name).dump();
  }
  Mcp mcp = mcpClient(env, "project-r--ws-1", "late");
  EXPECT_TRUE(eventually([&] { return notFound(mcp.client->get(testing::kNamespaces, "", "crossplane-system")); }))
      << "the service deployed for `late` was not removed";
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(LifecycleE2E, OnlyTheLeaseHolderActsAndTheStandbyTakesOver) {
  E2E env(testName());
  env.createConfig();
  auto leader = [](OperatorOptions& o) {
    o.leaderElect = true;
    o.leaseDurationSec = 2;
    o.renewDeadlineSec = 1.5;
    o.retryPeriodSec = 0.2;
  };
  auto first = startOperator(env, leader, "journal-1");
  ASSERT_TRUE(eventually([&] { return env.platform->get(kLeases, "default", "spr-crossplane").isOk(); }));
  auto second = startOperator(env, leader, "journal-2");
  env.createRequest("project-l--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-l--ws-1", "mcp-1"); }));
  EXPECT_GT(first->effectsRun(lc::Op::kCreate), 0u);
  EXPECT_EQ(second->effectsRun(lc::Op::kObserve) + second->effectsRun(lc::Op::kCreate), 0u)
      << "the standby must not act";
  first->requestStop();
  EXPECT_TRUE(first->wait().isOk());
  env.createRequest("project-l--ws-2", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-l--ws-2", "mcp-1"); }))
      << env.get("project-l--ws-2", "mcp-1").dump();
  EXPECT_GT(second->effectsRun(lc::Op::kCreate), 0u);
  // Someone else takes the Lease: the holder stops acting at once and says why.
  auto lease = env.platform->get(kLeases, "default", "spr-crossplane");
  ASSERT_TRUE(lease.isOk());
  json taken = *lease;
  taken["spec"]["holderIdentity"] = "someone-else";
  ASSERT_TRUE(env.platform->update(kLeases, "default", taken).isOk());
  Status stopped = second->wait();
  EXPECT_EQ(stopped.code(), Code::kUnavailable) << stopped.toString();
}

}  // namespace
}  // namespace spr::runtime
