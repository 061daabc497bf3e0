// Least privilege for the AccessRequests spr makes (onboarding, MCP, workload): none asks
// for a wildcard, a target without declared rules is refused rather than widened, and,
// against the local API server, which enforces each AccessRequest's rules on the kubeconfig
// it grants (as a real cluster's RBAC would), everything spr does through those
// credentials is allowed by what it asked for, and nothing else is.
#include <gtest/gtest.h>

#include "runtime/access.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;

const k8s::GroupVersionResource kAccessRequests{"clusters.openmcp.cloud", "v1alpha1", "accessrequests", true};
const k8s::GroupVersionResource kSecrets{"", "v1", "secrets", true};
const k8s::GroupVersionResource kConfigMaps{"", "v1", "configmaps", true};

// Every string in `rules` (apiGroups, resources, verbs, resourceNames) without a '*'.
void expectNoWildcard(const json& rules, const std::string& what) {
  ASSERT_TRUE(rules.is_array()) << what;
  for (const auto& r : rules)
    for (const char* field : {"apiGroups", "resources", "verbs", "resourceNames"})
      for (const auto& v : r.value(field, json::array()))
        EXPECT_EQ(v.get<std::string>().find('*'), std::string::npos) << what << ": " << r.dump();
}

TEST(AccessRules, NoAccessRequestSprMakesAsksForAWildcard) {
  for (const auto& name : providers::providerNames()) {
    auto p = providers::makeProvider(name);
    expectNoWildcard(onboardingAccessRules(*p), name + " onboarding");
    expectNoWildcard(p->mcpAccessRules(), name + " mcp");
    expectNoWildcard(p->workloadAccessRules(), name + " workload");
    EXPECT_TRUE(p->workloadAccessRules().empty()) << name << ": built-in providers use no workload cluster";
  }
}

// A caller that declares nothing gets an error, not the old `*/*/*` default.
TEST(AccessRules, ATargetWithoutRulesIsRefusedNotWidened) {
  E2E env("norules");
  env.createRequest("project-r--ws-1", "mcp");
  const std::string mcpNs = k8s::mcpNamespace("project-r--ws-1", "mcp");
  for (const json& rules : {json(), json::array()}) {
    auto access = requestAccess(*env.platform, AccessTarget{mcpNs, "mcp", "no-rules", "mcp", rules});
    ASSERT_FALSE(access.isOk());
    EXPECT_EQ(access.status().code(), Code::kInternal) << access.status().toString();
    EXPECT_NE(access.status().message().find("no rules"), std::string::npos) << access.status().toString();
  }
  EXPECT_EQ(env.platform->get(kAccessRequests, mcpNs, "no-rules").status().code(), Code::kNotFound);
}

// The local API server grants what an AccessRequest asks for and nothing more; the token
// stops working once the AccessRequest is deleted.
TEST(SimRbac, AGrantedKubeconfigMayDoWhatItsAccessRequestAsksAndNothingElse) {
  E2E env("simrbac");
  json rules = json::array({{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get", "create"}}}});
  AccessTarget target{"default", "rbac-probe", "rbac-probe", "workload", rules};
  Result<k8s::ClusterConfig> cfg = Status(Code::kUnavailable, "not asked yet");
  ASSERT_TRUE(eventually([&] {
    cfg = ensureClusterAccess(*env.platform, target, "workload");
    return cfg.isOk();
  })) << cfg.status().toString();
  std::unique_ptr<k8s::Transport> transport;
  auto granted = env.client(*cfg, &transport);
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "probe"}, {"namespace", "default"}}}};
  EXPECT_TRUE(granted->create(kConfigMaps, "default", cm).isOk());
  EXPECT_TRUE(granted->get(kConfigMaps, "default", "probe").isOk());
  auto list = granted->list(kConfigMaps, "default");
  ASSERT_FALSE(list.isOk());
  EXPECT_EQ(list.status().code(), Code::kUnauthorized);
  EXPECT_NE(list.status().message().find("cannot list resource \"configmaps\""), std::string::npos)
      << list.status().toString();
  Status removed = granted->remove(kConfigMaps, "default", "probe");
  EXPECT_EQ(removed.code(), Code::kUnauthorized) << removed.toString();
  EXPECT_EQ(granted->get(kSecrets, "default", "anything").status().code(), Code::kUnauthorized);

  ASSERT_TRUE(env.platform->remove(kAccessRequests, "default", "rbac-probe").isOk());
  EXPECT_TRUE(eventually([&] {
    auto r = granted->get(kConfigMaps, "default", "probe");
    return !r.isOk() && r.status().message().find("Unauthorized") != std::string::npos;
  })) << "the kubeconfig of a deleted AccessRequest still works";
}

// spr's onboarding access, as in openMCP (no --onboarding-kubeconfig): `spr init` installs
// the CRDs through it, and the operator watches, adds and removes its finalizer, writes
// status and records Events through it. The local API server enforces the rules, so a
// missing one fails here as it would on a real cluster.
TEST(AccessE2E, EverythingSprDoesOnTheOnboardingClusterIsAllowedByWhatItAskedFor) {
  E2E env("onboardingrbac");
  env.createConfig();
  int status = 0;
  std::string out =
      spr::testing::runCommand(spr::testing::sprBinary() + " init --provider-name crossplane --platform-kubeconfig " +
                                   env.kubeconfig + "#platform --access-namespace default",
                               &status);
  ASSERT_EQ(status, 0) << out;
  auto cfg = onboardingAccess(env.platformConfig, "default", "crossplane", onboardingAccessRules(*env.provider));
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  auto ar = env.platform->get(kAccessRequests, "default", "spr-onboarding-crossplane");
  ASSERT_TRUE(ar.isOk()) << ar.status().toString();
  EXPECT_EQ((*ar)["spec"]["permissions"][0]["rules"], onboardingAccessRules(*env.provider));
  std::unique_ptr<k8s::Transport> transport;
  auto spr = env.client(*cfg, &transport);
  EXPECT_EQ(spr->list(kSecrets, "").status().code(), Code::kUnauthorized) << "the grant is enforced";

  auto op = testing::startOperator(env, [&](OperatorOptions& o) { o.onboarding = *cfg; });
  ASSERT_TRUE(op);
  const std::string ns = "project-q--ws-1";
  env.createRequest(ns, "mcp");
  EXPECT_TRUE(eventually([&] { return env.isReady(ns, "mcp"); })) << env.get(ns, "mcp").dump();
  auto events = env.onboarding->list(testing::kEvents, ns);
  ASSERT_TRUE(events.isOk());
  EXPECT_FALSE((*events)["items"].empty()) << "spr recorded no Event";
  ASSERT_TRUE(env.onboarding->remove(env.api, ns, "mcp").isOk());
  EXPECT_TRUE(eventually([&] { return env.get(ns, "mcp").is_null(); })) << env.get(ns, "mcp").dump();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

}  // namespace
}  // namespace spr::runtime
