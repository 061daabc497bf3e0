// openMCP's sample ProviderConfig (named `default`) with real kubectl against the local API
// server and a real `spr run --provider-config-name default`, and what deleting the request
// leaves behind (nothing spr wrote).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/sim/core_test_support.h"
#include "tests/support/eventually.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"
#include "tests/support/spawn.h"

namespace spr::sim::testing {
namespace {

using spr::testing::eventually;

// openMCP's config/samples ProviderConfig is named `default`: with --provider-config-name
// default it applies unchanged (with its discovery ConfigMaps) and a Crossplane request
// becomes Ready, its providers pulling with the sample's imagePullSecretRefs. Deleting the
// request then leaves nothing spr wrote, on either cluster: every object carrying spr's
// managed-by label (kubeconfig Secret, pull Secret copies in the tenant's namespace and on
// the MCP, Flux objects, the namespace, Providers), the AccessRequest and the CRDs; and
// the journal replays with tapes without divergence.
class SampleConfigKubectl : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("spr-flux-sample-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    kc = (dir / "kubeconfig").string();
    std::ofstream(kc) << sim.server->kubeconfigYaml();
  }
  void TearDown() override {
    if (pid > 0) ::kill(pid, SIGTERM), ::waitpid(pid, &status, 0);
    std::filesystem::remove_all(dir);
  }
  std::string run(const std::string& cmd) { return spr::testing::runCommand(cmd, &status); }
  std::string k(const std::string& ctx, const std::string& args) {
    return run("/usr/bin/kubectl --kubeconfig " + kc + " --context " + ctx + " " + args);
  }
  void startSpr(const std::vector<std::string>& extra) {
    const std::string spr = spr::testing::sprBinary();
    std::vector<std::string> args = {spr,
                                     "run",
                                     "--provider-name",
                                     "crossplane",
                                     "--journal",
                                     (dir / "journal").string(),
                                     "--onboarding-kubeconfig",
                                     kc + "#onboarding",
                                     "--platform-kubeconfig",
                                     kc + "#platform",
                                     "--metrics-bind-address",
                                     "0",
                                     "--health-probe-bind-address",
                                     "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    spr::testing::SpawnOptions spawn;
    spawn.unsetEnv = {"POD_NAMESPACE"};
    pid = spr::testing::spawnProcess(args, spawn);
  }
  // The MCP cluster's context, once the sim made it (the kubeconfig is rewritten to hold it).
  std::string mcpContext() {
    std::ofstream(kc) << sim.server->kubeconfigYaml();
    for (const auto& n : sim.server->clusterNames())
      if (n != "onboarding" && n != "platform" && n != "workload") return n;
    return "";
  }

  SimFixture sim;
  std::filesystem::path dir;
  std::string kc;
  int status = 0;
  pid_t pid = -1;
};

TEST_F(SampleConfigKubectl, DefaultNamedSampleWorksAndDeletionLeavesNothingSprWrote) {
  std::string out = run(spr::testing::sprBinary() + " init --provider-name crossplane --onboarding-kubeconfig " + kc +
                        "#onboarding --platform-kubeconfig " + kc + "#platform");
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  for (const char* secret : {"secretforprivateproviders", "xyz", "chart-pull"}) {
    out = k("platform", std::string("create secret docker-registry ") + secret +
                            " -n default --docker-server=ghcr.io --docker-username=u --docker-password=p");
    ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  }
  startSpr({"--provider-config-name", "default"});
  const std::string sample =
      spr::testing::sourceDir() + "/tests/fixtures/openmcp/crossplane/" + "config-samples-v1alpha1_providerconfig.yaml";
  out = k("platform", "apply -f " + sample);
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  std::ofstream(dir / "request.yaml")
      << "apiVersion: core.openmcp.cloud/v2alpha1\nkind: ManagedControlPlane\n"
         "metadata: {name: test-mcp, namespace: default}\nspec: {}\n---\n"
         "apiVersion: crossplane.services.open-control-plane.io/v1alpha1\nkind: Crossplane\n"
         "metadata: {name: test-mcp, namespace: default}\n"
         "spec: {version: v2.0.8, providers: [{name: provider-kubernetes, version: v1.2.1}]}\n";
  out = k("onboarding", "apply -f " + (dir / "request.yaml").string());
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  out = k("onboarding", "wait --for=condition=Ready crossplane/test-mcp -n default --timeout=60s");
  ASSERT_EQ(WEXITSTATUS(status), 0) << out << k("onboarding", "get crossplane test-mcp -n default -o yaml");
  const std::string mcp = mcpContext();
  ASSERT_FALSE(mcp.empty());
  out = k(mcp, "get providers.pkg.crossplane.io provider-kubernetes -o jsonpath='{.spec.packagePullSecrets[*].name}'");
  EXPECT_EQ(out, "secretforprivateproviders xyz");
  EXPECT_EQ(k(mcp, "get crd objects.kubernetes.crossplane.io -o name"),
            "customresourcedefinition.apiextensions.k8s.io/objects.kubernetes.crossplane.io\n");

  // The chart's discovery names a pull Secret: spr copies it beside the OCIRepository.
  std::ifstream in(sample);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string at = "      version: v2.0.8\n      resources:";
  ASSERT_NE(text.find(at), std::string::npos);
  text.replace(text.find(at), at.size(), "      version: v2.0.8\n      pullSecret: chart-pull\n      resources:");
  std::ofstream(dir / "with-chart-pull.yaml") << text;
  out = k("platform", "apply -f " + (dir / "with-chart-pull.yaml").string());
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  out =
      k("platform",  // the discovery is read at each poll; this asks for it now
        "annotate providerconfigs.crossplane.services.open-control-plane.io default openmcp.cloud/operation=reconcile");
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  const std::string platformKinds =
      "get secrets,ocirepositories,helmreleases -A -l app.kubernetes.io/managed-by=spr -o name";
  const std::string mcpKinds =
      "get namespaces,secrets,configmaps,providers.pkg.crossplane.io -A -l app.kubernetes.io/managed-by=spr -o name";
  ASSERT_TRUE(eventually([&] { return k("platform", platformKinds).find("secret/chart-pull") != std::string::npos; }))
      << k("platform", platformKinds);
  ASSERT_TRUE(eventually([&] { return k(mcp, mcpKinds).find("secret/chart-pull") != std::string::npos; }))
      << k(mcp, mcpKinds);
  EXPECT_EQ(k("platform", platformKinds),
            "secret/chart-pull\nsecret/crossplane-kubeconfig\n"
            "ocirepository.source.toolkit.fluxcd.io/crossplane\nhelmrelease.helm.toolkit.fluxcd.io/crossplane\n");
  EXPECT_EQ(k(mcp, mcpKinds),
            "namespace/crossplane-system\nsecret/chart-pull\nsecret/secretforprivateproviders\nsecret/xyz\n"
            "provider.pkg.crossplane.io/provider-kubernetes\n");
  EXPECT_NE(k("platform", "get accessrequests -A -o name"), "");

  out = k("onboarding", "delete crossplane test-mcp -n default --timeout=60s");
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(k("platform", platformKinds), "") << "left on the platform cluster";
  EXPECT_EQ(k(mcp, "get namespaces,secrets,configmaps -A -l app.kubernetes.io/managed-by=spr -o name"), "")
      << "left on the MCP";
  EXPECT_EQ(k("platform", "get accessrequests -A -o name"), "");
  EXPECT_EQ(k(mcp, "get crd -o name").find("crossplane.io"), std::string::npos) << k(mcp, "get crd -o name");
  EXPECT_EQ(k("platform", "get secrets -n default -o name"),
            "secret/chart-pull\nsecret/secretforprivateproviders\nsecret/xyz\n")
      << "the operator's own Secrets stay";

  // The journal replays with tapes under the renamed config: every recorded cluster request
  // (the AccessRequest named after the provider, not the config) is made again the same.
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  pid = -1;
  out = run(spr::testing::sprBinary() + " replay --journal " + (dir / "journal").string() + " 2>&1");
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("no divergence"), std::string::npos) << out;
}

}  // namespace
}  // namespace spr::sim::testing
