// End to end against the in-process local API server: the ProviderConfig's custom CA bundle
// (caBundleRef) with the template provider — copied and mounted on each MCP, a changed
// ConfigMap re-reconciles every request, a missing one is a user error re-checked when it
// appears, a removed caBundleRef removes the copies, and the journal replays with its tapes —
// and the ProviderConfig's operation annotations (ignore, reconcile) with the crossplane one.
#include <gtest/gtest.h>

#include "core/journal/journal.h"
#include "runtime/operator.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;
namespace lc = lifecycle;

const k8s::GroupVersionResource kConfigMaps{"", "v1", "configmaps", true};
const k8s::GroupVersionResource kDeployments{"apps", "v1", "deployments", true};
const char* kPem1 = "-----BEGIN CERTIFICATE-----\nMIIBfirst\n-----END CERTIFICATE-----\n";
const char* kPem2 = "-----BEGIN CERTIFICATE-----\nMIIBsecond\n-----END CERTIFICATE-----\n";

std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

// The template provider's CRDs, ProviderConfig and requests on env's clusters.
struct TemplateEnv {
  explicit TemplateEnv(E2E& e) : env(e), provider(providers::makeProvider("template")) {
    for (const auto& crd : provider->apiCrds()) EXPECT_TRUE(E2E::createOk(*env.onboarding, testing::kCrds, "", crd));
    for (const auto& crd : provider->configCrds()) EXPECT_TRUE(E2E::createOk(*env.platform, testing::kCrds, "", crd));
    EXPECT_TRUE(
        E2E::createOk(*env.platform, testing::kNamespaces, "",
                      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "openmcp-system"}}}}));
  }
  json config(bool withRef) const {
    json spec = {{"pollInterval", "1h"}, {"image", "registry.example/hello:1.0"}};
    if (withRef) spec["caBundleRef"] = {{"name", "corp-ca"}, {"key", "ca.crt"}};
    return {{"apiVersion", "template.services.open-control-plane.io/v1alpha1"},
            {"kind", "ProviderConfig"},
            {"metadata", {{"name", "template"}}},
            {"spec", spec}};
  }
  void putBundle(const char* pem) {
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "corp-ca"}, {"namespace", "openmcp-system"}}},
               {"data", {{"ca.crt", pem}}}};
    auto live = env.platform->get(kConfigMaps, "openmcp-system", "corp-ca");
    if (live.isOk()) {
      cm["metadata"]["resourceVersion"] = (*live)["metadata"]["resourceVersion"];
      ASSERT_TRUE(env.platform->update(kConfigMaps, "openmcp-system", cm).isOk());
    } else {
      ASSERT_TRUE(env.platform->create(kConfigMaps, "openmcp-system", cm).isOk());
    }
  }
  void request(const std::string& ns, const std::string& name) {
    env.createRequest(ns, name);  // the namespaces and the MCP's ClusterRequest (and a Crossplane request, unused)
    json t = {{"apiVersion", "template.services.open-control-plane.io/v1alpha1"},
              {"kind", "Template"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", {{"message", "hello"}}}};
    ASSERT_TRUE(env.onboarding->create(provider->kinds().api, ns, t).isOk());
  }
  json get(const std::string& ns, const std::string& name) {
    auto r = env.onboarding->get(provider->kinds().api, ns, name);
    return r.isOk() ? *r : json();
  }
  std::string reason(const std::string& ns, const std::string& name) {
    return E2E::readyCondition(get(ns, name)).value("reason", "");
  }
  // What the MCP of ns/name holds in template-system/ca-bundle ("" = nothing).
  std::string copyOn(const std::string& ns, const std::string& name) {
    auto cr = env.platform->get(testing::kClusterRequests, k8s::mcpNamespace(ns, name), name);
    if (!cr.isOk()) return "";
    std::string cluster = cr->value("status", json::object()).value("cluster", json::object()).value("name", "");
    auto cfg = k8s::parseKubeconfig(env.simServer->kubeconfigYaml(), cluster, "test");
    if (!cfg.isOk()) return "";
    std::unique_ptr<k8s::Transport> t;
    auto mcp = env.client(*cfg, &t);
    auto copy = mcp->get(kConfigMaps, "template-system", "ca-bundle");
    if (!copy.isOk()) return "";
    auto d = mcp->get(kDeployments, "template-system", "template");
    std::string mounted = d.isOk() ? (*d)["spec"]["template"]["spec"].value("volumes", json()).dump() : "";
    return mounted.find("ca-bundle") == std::string::npos ? "unmounted" : (*copy)["data"].value("ca.crt", "");
  }

  E2E& env;
  std::unique_ptr<providers::Provider> provider;
};

std::unique_ptr<Operator> startTemplate(E2E& env) {
  OperatorOptions o;
  o.providerName = "template";
  o.journalDir = env.dir + "/journal";
  o.onboarding = env.onboardingConfig;
  o.platform = env.platformConfig;
  o.workers = 4;
  o.delayScale = 0.05;
  o.podNamespace = "openmcp-system";
  auto op = Operator::create(std::move(o), providers::makeProvider("template"));
  EXPECT_TRUE(op.isOk()) << op.status().toString();
  if (!op.isOk()) return nullptr;
  EXPECT_TRUE((*op)->start().isOk());
  return std::move(*op);
}

TEST(ConfigE2E, CaBundleIsCopiedFollowedReportedWhenMissingAndRemovedWithItsRef) {
  E2E env(testName());
  TemplateEnv t(env);
  t.putBundle(kPem1);
  ASSERT_TRUE(E2E::createOk(*env.platform, t.provider->kinds().config, "", t.config(true)));
  auto op = startTemplate(env);
  ASSERT_TRUE(op);
  const std::vector<std::pair<std::string, std::string>> reqs = {{"project-ca--ws-1", "mcp-1"},
                                                                 {"project-ca--ws-2", "mcp-2"}};
  for (const auto& [ns, name] : reqs) t.request(ns, name);
  for (const auto& [ns, name] : reqs) {
    ASSERT_TRUE(eventually([&] { return t.reason(ns, name) == "Ready"; })) << t.get(ns, name).dump();
    EXPECT_EQ(t.copyOn(ns, name), kPem1);
  }
  // A changed bundle reaches every MCP without any change to the requests or the config.
  t.putBundle(kPem2);
  for (const auto& [ns, name] : reqs)
    ASSERT_TRUE(eventually([&] { return t.copyOn(ns, name) == kPem2; })) << t.copyOn(ns, name);

  // The ConfigMap deleted: a user error naming it, its key, its namespace and the fix.
  ASSERT_TRUE(env.platform->remove(kConfigMaps, "openmcp-system", "corp-ca").isOk());
  for (const auto& [ns, name] : reqs)
    ASSERT_TRUE(eventually([&] { return t.reason(ns, name) == "CABundleNotFound"; })) << t.get(ns, name).dump();
  std::string message = E2E::readyCondition(t.get("project-ca--ws-1", "mcp-1")).value("message", "");
  EXPECT_NE(message.find("ConfigMap openmcp-system/corp-ca"), std::string::npos) << message;
  EXPECT_NE(message.find("ca.crt"), std::string::npos) << message;
  EXPECT_NE(message.find("create it"), std::string::npos) << message;
  // ... re-checked when it is back.
  t.putBundle(kPem1);
  for (const auto& [ns, name] : reqs) {
    ASSERT_TRUE(eventually([&] { return t.reason(ns, name) == "Ready" && t.copyOn(ns, name) == kPem1; }))
        << t.get(ns, name).dump();
  }
  // caBundleRef removed: the copies and the mounts go.
  auto live = env.platform->get(t.provider->kinds().config, "", "template");
  ASSERT_TRUE(live.isOk());
  json config = *live;
  config["spec"].erase("caBundleRef");
  ASSERT_TRUE(env.platform->update(t.provider->kinds().config, "", config).isOk());
  for (const auto& [ns, name] : reqs) ASSERT_TRUE(eventually([&] { return t.copyOn(ns, name).empty(); }));
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());

  // Every effect, bundle reads included, replays against its tape.
  int status = 0;
  std::string out = spr::testing::runCommand(
      spr::testing::sprBinary() + " replay --provider-name template --journal " + env.dir + "/journal 2>&1", &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
}

// ProviderConfig records in the journal (each one re-reconciles every request).
int configRecords(const std::string& journalDir) {
  auto j = journal::Journal::openForReading(journalDir);
  EXPECT_TRUE(j.isOk()) << j.status().toString();
  int n = 0;
  if (j.isOk())
    EXPECT_TRUE((*j)->scan(1,
                           [&](const journal::Record& r) {
                             n +=
                                 std::holds_alternative<journal::Observed>(r.payload) && r.object.cluster == "platform";
                             return true;
                           })
                    .isOk());
  return n;
}

TEST(ConfigE2E, RestartWithAnUnchangedBundleJournalsTheConfigNoMoreTimes) {
  E2E env(testName());
  TemplateEnv t(env);
  t.putBundle(kPem1);
  ASSERT_TRUE(E2E::createOk(*env.platform, t.provider->kinds().config, "", t.config(true)));
  auto op = startTemplate(env);
  ASSERT_TRUE(op);
  t.request("project-rs--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return t.reason("project-rs--ws-1", "mcp-1") == "Ready"; }));
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
  op.reset();
  const int before = configRecords(env.dir + "/journal");
  EXPECT_EQ(before, 1) << "the config, journaled once with its bundle already resolved";
  op = startTemplate(env);  // the ConfigMaps are listed again: same bundle, same stamp
  ASSERT_TRUE(op);
  t.request("project-rs--ws-2", "mcp-2");
  ASSERT_TRUE(eventually([&] { return t.reason("project-rs--ws-2", "mcp-2") == "Ready"; }));
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
  op.reset();
  EXPECT_EQ(configRecords(env.dir + "/journal"), before);
}

json patchAnnotation(E2E& env, const json& value) {
  auto live = env.platform->get(env.config, "", "crossplane");
  EXPECT_TRUE(live.isOk());
  json config = *live;
  config["metadata"]["annotations"]["openmcp.cloud/operation"] = value;
  if (value.is_null()) config["metadata"]["annotations"].erase("openmcp.cloud/operation");
  return config;
}

TEST(ConfigE2E, ReconcileAnnotationReconcilesEveryRequestOnceAndIsRemoved) {
  E2E env(testName());
  ASSERT_TRUE(E2E::createOk(*env.platform, env.config, "", env.providerConfig("1h")));
  auto op = testing::startOperator(env);
  env.createRequest("project-rc--ws-1", "mcp-1");
  env.createRequest("project-rc--ws-2", "mcp-2");
  ASSERT_TRUE(
      eventually([&] { return env.isReady("project-rc--ws-1", "mcp-1") && env.isReady("project-rc--ws-2", "mcp-2"); }));
  const uint64_t observes = op->effectsRun(lc::Op::kObserve);
  ASSERT_TRUE(env.platform->update(env.config, "", patchAnnotation(env, "reconcile")).isOk());
  ASSERT_TRUE(eventually([&] {
    auto c = env.platform->get(env.config, "", "crossplane");
    return c.isOk() && !(*c)["metadata"].value("annotations", json::object()).contains("openmcp.cloud/operation");
  }));
  ASSERT_TRUE(eventually([&] { return op->effectsRun(lc::Op::kObserve) >= observes + 2; }));
  ASSERT_TRUE(
      eventually([&] { return env.isReady("project-rc--ws-1", "mcp-1") && env.isReady("project-rc--ws-2", "mcp-2"); }));
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
  // Once: the annotation's removal (same spec, same reconcile count) reconciled nothing more.
  EXPECT_EQ(op->effectsRun(lc::Op::kObserve), observes + 2);
  // The removal is journaled as an effect on the ProviderConfig, and the journal replays.
  int status = 0;
  std::string out = spr::testing::runCommand(
      spr::testing::sprBinary() + " journal stats --effects --journal " + env.dir + "/journal 2>&1", &status);
  const size_t at = out.find("ClearOperationAnnotation");
  const std::string line = at == std::string::npos ? "" : out.substr(at, out.find('\n', at) - at);
  EXPECT_NE(line.find(" 1 on 1 object"), std::string::npos) << out;
  EXPECT_NE(line.find("completed: Succeeded 1"), std::string::npos) << out;
  out = spr::testing::runCommand(spr::testing::sprBinary() + " replay --journal " + env.dir + "/journal 2>&1", &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
}

TEST(ConfigE2E, IgnoreAnnotationHoldsConfigChangesUntilRemoved) {
  E2E env(testName());
  ASSERT_TRUE(E2E::createOk(*env.platform, env.config, "", env.providerConfig("1h")));
  auto op = testing::startOperator(env);
  env.createRequest("project-ig--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-ig--ws-1", "mcp-1"); }));
  // Ignored: the operator points the config at a discovery that does not exist, and spr
  // keeps acting on the config it had.
  json config = patchAnnotation(env, "ignore");
  config["spec"]["crossplaneDiscoveryName"] = "withdrawn";
  ASSERT_TRUE(env.platform->update(env.config, "", config).isOk());
  env.createRequest("project-ig--ws-2", "mcp-2");  // 1.20.0
  ASSERT_TRUE(eventually([&] { return env.isReady("project-ig--ws-2", "mcp-2"); }))
      << env.get("project-ig--ws-2", "mcp-2").dump();
  EXPECT_TRUE(env.isReady("project-ig--ws-1", "mcp-1"));
  // The annotation removed: the changed config now applies to both requests.
  ASSERT_TRUE(env.platform->update(env.config, "", patchAnnotation(env, json())).isOk());
  for (const char* ws : {"project-ig--ws-1", "project-ig--ws-2"}) {
    std::string name = std::string(ws) == "project-ig--ws-1" ? "mcp-1" : "mcp-2";
    ASSERT_TRUE(eventually([&] { return E2E::readyCondition(env.get(ws, name)).value("status", "") == "False"; }))
        << env.get(ws, name).dump();
    EXPECT_EQ(E2E::readyCondition(env.get(ws, name)).value("reason", ""), "DiscoveryNotFound");
    EXPECT_NE(E2E::readyCondition(env.get(ws, name)).value("message", "").find("withdrawn"), std::string::npos);
  }
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
}

}  // namespace
}  // namespace spr::runtime
