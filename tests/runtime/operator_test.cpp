// End-to-end: the Operator against the in-process local API server, with the real
// crossplane provider. What a user would see: Ready conditions, messages, finalizers,
// services on the MCP, effects in the journal.
#include "runtime/operator.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "core/journal/journal.h"
#include "tests/runtime/e2e_env.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;
namespace lc = lifecycle;

std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

using testing::startOperator;

TEST(OperatorE2E, RequestsBecomeReadyWithFinalizerStatusAndOneCreateEach) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  for (int i = 0; i < 3; ++i) env.createRequest("project-a--ws-" + std::to_string(i), "mcp-" + std::to_string(i));
  for (int i = 0; i < 3; ++i) {
    std::string ns = "project-a--ws-" + std::to_string(i), name = "mcp-" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return env.isReady(ns, name); })) << env.get(ns, name).dump();
    json obj = env.get(ns, name);
    EXPECT_NE(obj["metadata"]["finalizers"].dump().find("services.openmcp.cloud/spr"), std::string::npos);
    EXPECT_FALSE(E2E::readyCondition(obj).value("lastTransitionTime", "").empty());
  }
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 3u);
  int ready = 0;
  for (const auto& v : op->objects()) ready += v.ready;
  EXPECT_EQ(ready, 3);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, MissingConfigIsReportedAndAddingItResumes) {
  E2E env(testName());
  auto op = startOperator(env);
  env.createRequest("project-b--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] {
    return E2E::readyCondition(env.get("project-b--ws-1", "mcp-1")).value("reason", "") == "ProviderConfigNotFound";
  })) << env.get("project-b--ws-1", "mcp-1").dump();
  json c = E2E::readyCondition(env.get("project-b--ws-1", "mcp-1"));
  EXPECT_EQ(c.value("status", ""), "False");
  EXPECT_NE(c.value("message", "").find("ProviderConfig \"crossplane\""), std::string::npos) << c.dump();
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 0u);
  env.createConfig();
  ASSERT_TRUE(eventually([&] { return env.isReady("project-b--ws-1", "mcp-1"); }))
      << env.get("project-b--ws-1", "mcp-1").dump();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, DisallowedVersionGetsReadyFalseWithMessageAndNothingDeployed) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-c--ws-1", "mcp-1", "9.9.9");
  ASSERT_TRUE(eventually([&] {
    json c = E2E::readyCondition(env.get("project-c--ws-1", "mcp-1"));
    return c.value("status", "") == "False" && c.value("message", "").find("1.20.0") != std::string::npos;
  })) << env.get("project-c--ws-1", "mcp-1").dump();
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 0u);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, SpecChangeRunsUpdateAndDeleteRemovesFinalizerAndObject) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-d--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-d--ws-1", "mcp-1"); }));
  json obj = env.get("project-d--ws-1", "mcp-1");
  obj["spec"]["version"] = "1.19.1";
  ASSERT_TRUE(env.onboarding->update(env.api, "project-d--ws-1", obj).isOk());
  ASSERT_TRUE(eventually([&] {
    json o = env.get("project-d--ws-1", "mcp-1");
    return o["metadata"].value("generation", 0) == 2 && env.isReady("project-d--ws-1", "mcp-1");
  })) << env.get("project-d--ws-1", "mcp-1").dump();
  EXPECT_GE(op->effectsRun(lc::Op::kUpdate), 1u);
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 1u);
  ASSERT_TRUE(env.onboarding->remove(env.api, "project-d--ws-1", "mcp-1").isOk());
  ASSERT_TRUE(eventually([&] { return env.get("project-d--ws-1", "mcp-1").is_null(); }))
      << env.get("project-d--ws-1", "mcp-1").dump();
  EXPECT_GE(op->effectsRun(lc::Op::kDelete), 1u);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, ConvergesWithTenPercentApiFaultsAndConcurrentWriters) {
  E2E env(testName());
  env.createConfig();
  sim::FaultOptions faults;
  faults.errorRate = 0.1;
  faults.watchDropRate = 0.1;
  faults.expireResourceVersions = true;
  env.simServer->setFaults(faults);
  auto op = startOperator(env);
  const int n = 8;
  for (int i = 0; i < n; ++i) env.createRequest("project-f--ws-" + std::to_string(i), "mcp-" + std::to_string(i));
  // A second writer labels the objects while spr writes status: 409s on the status write.
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < n; ++i) {
      json o = env.get("project-f--ws-" + std::to_string(i), "mcp-" + std::to_string(i));
      if (!o.is_object()) continue;
      o["metadata"]["labels"]["touched"] = std::to_string(round);
      (void)env.onboarding->update(env.api, o["metadata"].value("namespace", ""), o);
    }
  for (int i = 0; i < n; ++i) {
    std::string ns = "project-f--ws-" + std::to_string(i), name = "mcp-" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return env.isReady(ns, name); }, 120)) << env.get(ns, name).dump();
  }
  env.simServer->setFaults(sim::FaultOptions{});
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), static_cast<uint64_t>(n));
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, IgnoreAnnotationSkipsAndReconcileAnnotationIsCleared) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-g--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-g--ws-1", "mcp-1"); }));
  json obj = env.get("project-g--ws-1", "mcp-1");
  obj["metadata"]["annotations"]["openmcp.cloud/operation"] = "reconcile";
  ASSERT_TRUE(env.onboarding->update(env.api, "project-g--ws-1", obj).isOk());
  ASSERT_TRUE(eventually([&] {
    json o = env.get("project-g--ws-1", "mcp-1");
    return !o["metadata"].value("annotations", json::object()).contains("openmcp.cloud/operation");
  })) << env.get("project-g--ws-1", "mcp-1").dump();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, MetricsAndHealthEndpoints) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env, [](OperatorOptions& o) {
    o.metricsBindAddress = "127.0.0.1:0";
    o.healthProbeBindAddress = "127.0.0.1:0";
  });
  env.createRequest("project-h--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-h--ws-1", "mcp-1"); }));
  httplib::Client health("127.0.0.1", op->healthPort());
  auto healthz = health.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  ASSERT_TRUE(eventually([&] {
    auto r = health.Get("/readyz");
    return r && r->status == 200;
  }));
  httplib::Client metrics("127.0.0.1", op->metricsPort());
  auto m = metrics.Get("/metrics");
  ASSERT_TRUE(m);
  for (const char* name :
       {"controller_runtime_reconcile_total", "controller_runtime_reconcile_time_seconds_bucket", "workqueue_depth",
        "workqueue_adds_total", "spr_journal_records_total", "spr_journal_fsync_seconds_bucket",
        "spr_effects_total{op=\"Create\",outcome=\"Succeeded\"} 1"})
    EXPECT_NE(m->body.find(name), std::string::npos) << name;
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, JournalHoldsNoTokensFromAccessSecrets) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-i--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-i--ws-1", "mcp-1"); }));
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
  op.reset();
  // The kubeconfig Secrets the sim's cluster provider wrote for spr's AccessRequests.
  std::vector<std::string> secrets;
  auto list = env.platform->list({"", "v1", "secrets", true}, k8s::mcpNamespace("project-i--ws-1", "mcp-1"));
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  for (const auto& s : (*list)["items"]) {
    const json data = s.value("data", json::object());  // items() must not outlive it
    for (const auto& [k, v] : data.items())
      if (v.is_string() && v.get<std::string>().size() > 16) secrets.push_back(v.get<std::string>());
  }
  ASSERT_FALSE(secrets.empty());
  journal::Options ro;
  ro.readOnly = true;
  auto j = journal::Journal::open(env.dir + "/journal", ro);
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  bool sawSecretRead = false, leaked = false;
  ASSERT_TRUE((*j)->scan(1,
                         [&](const journal::Record& r) {
                           std::string text;
                           if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload))
                             for (const auto& t : c->tape) {
                               sawSecretRead |= t.path.find("/secrets/") != std::string::npos;
                               text += t.requestBody + t.responseBody;
                             }
                           if (auto* o = std::get_if<journal::Observed>(&r.payload)) text += o->objectJson;
                           for (const auto& secret : secrets) leaked |= text.find(secret) != std::string::npos;
                           return true;
                         })
                  .isOk());
  EXPECT_TRUE(sawSecretRead) << "the MCP access Secret read should be on the tape (redacted)";
  EXPECT_FALSE(leaked);
}

}  // namespace
}  // namespace spr::runtime
