// Flux in the local API server: the platform cluster serves Flux's vendored CRDs and
// validates what the crossplane provider renders against them (nothing pruned, bad objects
// refused); the lenient helm-controller installs the chart's objects on the cluster the
// kubeconfig Secret reaches, marks the release Ready, refuses a kubeconfig the target does
// not accept, and uninstalls on deletion; Crossplane Providers become Healthy.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "adapters/k8s/openmcp.h"
#include "providers/crossplane/crossplane.h"
#include "sim/flux.h"
#include "sim/kubeconfig.h"
#include "sim/tls.h"
#include "tests/providers/yaml_json.h"
#include "tests/sim/core_test_support.h"
#include "tests/support/eventually.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"
#include "tests/support/spawn.h"

namespace spr::sim::testing {
namespace {

namespace xp = providers::crossplane;

const std::string kTenant = "mcp--tenant";
const std::string kHelm = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/" + kTenant + "/helmreleases";
const std::string kRepos = "/apis/source.toolkit.fluxcd.io/v1/namespaces/" + kTenant + "/ocirepositories";

using spr::testing::eventually;

xp::Plan plan() {
  xp::Offer offer;
  std::vector<json> components;
  for (const auto& cm : xp::exampleDiscovery()) {
    components.clear();
    EXPECT_TRUE(xp::parseDiscovery(cm, components).ok());
    xp::addComponents(components, cm["metadata"]["name"] == "crossplane-discovery", offer);
  }
  json request = {
      {"metadata", {{"name", "mcp-1"}, {"namespace", "tenant"}}},
      {"spec", {{"version", "v2.0.8"}, {"providers", {{{"name", "provider-kubernetes"}, {"version", "v1.2.1"}}}}}}};
  xp::Plan p;
  EXPECT_TRUE(xp::makePlan(request, offer, p).ok());
  p.tenantNamespace = kTenant;
  p.caBundle = providers::CaBundle{"corp-ca", "ca.crt", "PEM", "d1"};
  return p;
}

class FluxSim : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sim.post("platform", "/api/v1/namespaces", {{"metadata", {{"name", kTenant}}}}).code, 201);
    mcpToken = sim.server->addCluster("mcp-x");
  }
  // A kubeconfig Secret for the MCP (`token` "" = the right one).
  void kubeconfigSecret(const std::string& token = "") {
    std::string yaml =
        kubeconfigYaml({{"mcp-x", sim.server->baseUrl() + "/clusters/mcp-x", token.empty() ? mcpToken : token}}, "");
    json secret = xp::kubeconfigSecret(plan(), base64Encode(yaml)).object;
    ASSERT_EQ(sim.post("platform", "/api/v1/namespaces/" + kTenant + "/secrets", secret).code, 201);
  }
  json release() { return sim.get("platform", kHelm + "/crossplane").body; }
  static std::string ready(const json& obj) {
    for (const auto& c : obj.value("status", json::object()).value("conditions", json::array()))
      if (c.value("type", "") == "Ready") return c.value("status", "") + " " + c.value("message", "");
    return "";
  }

  SimFixture sim;
  std::string mcpToken;
};

TEST_F(FluxSim, ServesFluxsVendoredCrds) {
  for (const auto& [file, name] :
       {std::pair{"helm.toolkit.fluxcd.io_helmreleases.yaml", "helmreleases.helm.toolkit.fluxcd.io"},
        std::pair{"source.toolkit.fluxcd.io_ocirepositories.yaml", "ocirepositories.source.toolkit.fluxcd.io"}}) {
    auto path = std::filesystem::path(spr::testing::sourceDir()) / "sim" / "crds" / "flux" / file;
    json vendored = spr::testing::yamlToJson(YAML::LoadFile(path.string()));
    Reply served = sim.get("platform", std::string("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/") + name);
    ASSERT_EQ(served.code, 200) << name;
    EXPECT_EQ(served.body["spec"]["versions"][0]["schema"], vendored["spec"]["versions"][0]["schema"]) << name;
  }
}

TEST_F(FluxSim, RenderedObjectsPassFluxsSchemasWithNothingPruned) {
  for (const auto& [collection, desired] :
       {std::pair{kRepos, xp::ociRepository(plan())}, std::pair{kHelm, xp::helmRelease(plan())}}) {
    Reply r = sim.post("platform", collection, desired.object);
    ASSERT_EQ(r.code, 201) << r.body.dump();
    // Flux's schema defaults fields spr leaves out (OCIRepository spec.provider: generic);
    // every field spr set must be stored as set.
    auto pruned = providers::kit::firstDifference(desired.object, r.body);
    EXPECT_FALSE(pruned) << "the server pruned or changed a field spr set: " << *pruned;
  }
}

// With a CA bundle configured, source-controller gets it as the Secret (ca.crt) that the
// OCIRepository's certSecretRef names, in the tenant namespace; Flux's schema accepts both.
TEST_F(FluxSim, CaBundleReachesTheOciRepositoryAsItsCertSecret) {
  json repo = xp::ociRepository(plan()).object;
  EXPECT_EQ(repo["spec"]["certSecretRef"], json({{"name", xp::kCaBundleConfigMap}}));
  json secret = xp::caCertSecret(plan()).object;
  EXPECT_EQ(secret["metadata"]["namespace"], kTenant);
  EXPECT_EQ(secret["data"]["ca.crt"], base64Encode("PEM"));
  ASSERT_EQ(sim.post("platform", "/api/v1/namespaces/" + kTenant + "/secrets", secret).code, 201);
  Reply r = sim.post("platform", kRepos, repo);
  ASSERT_EQ(r.code, 201) << r.body.dump();
  EXPECT_EQ(r.body["spec"]["certSecretRef"]["name"], xp::kCaBundleConfigMap);
  xp::Plan none = plan();
  none.caBundle.reset();
  EXPECT_FALSE(xp::ociRepository(none).object["spec"].contains("certSecretRef"));
}

TEST_F(FluxSim, ObjectsFluxsSchemaRefusesAreRefused) {
  json hr = xp::helmRelease(plan()).object;
  hr["spec"]["kubeConfig"]["secretRef"].erase("name");
  Reply r = sim.post("platform", kHelm, hr);
  EXPECT_EQ(r.code, 422) << r.body.dump();
  EXPECT_NE(r.body.dump().find("spec.kubeConfig.secretRef.name"), std::string::npos) << r.body.dump();
  json repo = xp::ociRepository(plan()).object;
  repo["spec"]["url"] = "https://not-oci.example.com/chart";
  EXPECT_EQ(sim.post("platform", kRepos, repo).code, 422);
}

TEST_F(FluxSim, ReleaseInstallsOnTheMcpBecomesReadyAndUninstallsOnDelete) {
  kubeconfigSecret();
  ASSERT_EQ(sim.post("platform", kRepos, xp::ociRepository(plan()).object).code, 201);
  ASSERT_EQ(sim.post("platform", kHelm, xp::helmRelease(plan()).object).code, 201);
  ASSERT_TRUE(eventually([&] { return ready(release()).rfind("True", 0) == 0; })) << release().dump();
  json hr = release();
  EXPECT_EQ(hr["status"]["history"][0]["chartVersion"], "2.0.8");
  EXPECT_EQ(xp::releaseNotReady(hr, "2.0.8"), "");
  EXPECT_EQ(hr["metadata"]["finalizers"], json::array({"finalizers.fluxcd.io"}));
  Reply d = sim.get("mcp-x", "/apis/apps/v1/namespaces/crossplane-system/deployments/crossplane");
  ASSERT_EQ(d.code, 200);
  json pod = d.body["spec"]["template"]["spec"];
  EXPECT_EQ(pod["containers"][0]["image"],
            "ghcr.io/openmcp-project/openmcp/images/crossplane:v2.0.8@sha256:"
            "9ada05a4a8a6e0886ca5c4aa758a972ff3bae55a07d3ec54ccbe79067f56c214");
  EXPECT_EQ(pod["volumes"][0]["configMap"]["name"], xp::kCaBundleConfigMap) << "registryCaBundleConfig mounted";
  ASSERT_EQ(
      sim.get("mcp-x", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/providers.pkg.crossplane.io").code,
      200);
  json provider = xp::providerObjects(plan())[0].object;
  ASSERT_EQ(sim.post("mcp-x", "/apis/pkg.crossplane.io/v1/providers", provider).code, 201);
  ASSERT_TRUE(eventually([&] {
    return xp::providerNotHealthy(sim.get("mcp-x", "/apis/pkg.crossplane.io/v1/providers/provider-kubernetes").body)
        .empty();
  }));
  EXPECT_EQ(
      sim.get("mcp-x", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/objects.kubernetes.crossplane.io").code,
      200);

  ASSERT_EQ(sim.call("platform", "DELETE", kHelm + "/crossplane").code, 200);
  ASSERT_TRUE(eventually([&] { return sim.get("platform", kHelm + "/crossplane").code == 404; }));
  EXPECT_EQ(sim.get("mcp-x", "/apis/apps/v1/namespaces/crossplane-system/deployments/crossplane").code, 404);
  EXPECT_EQ(
      sim.get("mcp-x", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/providers.pkg.crossplane.io").code, 200)
      << "Helm keeps CRDs";
}

TEST_F(FluxSim, KubeconfigTheMcpDoesNotAcceptLeavesTheReleaseNotReady) {
  kubeconfigSecret("not-a-token");
  ASSERT_EQ(sim.post("platform", kRepos, xp::ociRepository(plan()).object).code, 201);
  ASSERT_EQ(sim.post("platform", kHelm, xp::helmRelease(plan()).object).code, 201);
  ASSERT_TRUE(eventually([&] { return ready(release()).rfind("False", 0) == 0; })) << release().dump();
  EXPECT_NE(ready(release()).find("Unauthorized"), std::string::npos) << ready(release());
  EXPECT_EQ(sim.get("mcp-x", "/apis/apps/v1/namespaces/crossplane-system/deployments/crossplane").code, 404);
}

TEST_F(FluxSim, SuspendedReleaseIsDroppedWithoutUninstalling) {
  kubeconfigSecret();
  ASSERT_EQ(sim.post("platform", kRepos, xp::ociRepository(plan()).object).code, 201);
  ASSERT_EQ(sim.post("platform", kHelm, xp::helmRelease(plan()).object).code, 201);
  ASSERT_TRUE(eventually([&] { return ready(release()).rfind("True", 0) == 0; }));
  ASSERT_EQ(sim.call("platform", "PATCH", kHelm + "/crossplane", R"({"spec":{"suspend":true}})",
                     "application/merge-patch+json")
                .code,
            200);
  ASSERT_EQ(sim.call("platform", "DELETE", kHelm + "/crossplane").code, 200);
  ASSERT_TRUE(eventually([&] { return sim.get("platform", kHelm + "/crossplane").code == 404; }));
  EXPECT_EQ(sim.get("mcp-x", "/apis/apps/v1/namespaces/crossplane-system/deployments/crossplane").code, 200);
}

// The Crossplane CRDs embedded in the binary are the vendored files, byte for byte as parsed
// (CMake's embedding substitutes nothing), every file of each set.
TEST(CrossplaneCrds, EmbeddedSetsAreTheVendoredFilesUnchanged) {
  const auto root = std::filesystem::path(spr::testing::sourceDir()) / "sim" / "crds" / "crossplane";
  for (const auto& [set, count] :
       {std::pair{"v2.0.8", 21u}, std::pair{"v1.20.5", 16u}, std::pair{"provider-kubernetes-v1.2.1", 3u}}) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(root / set)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    const auto& served = flux::vendoredCrds(set);
    ASSERT_EQ(files.size(), count) << set;
    ASSERT_EQ(served.size(), count) << set;
    for (std::size_t i = 0; i < files.size(); ++i)
      EXPECT_EQ(served[i], spr::testing::yamlToJson(YAML::LoadFile(files[i].string()))) << files[i];
  }
  EXPECT_EQ(flux::crossplaneCrdSet("2.0.8"), "v2.0.8");
  EXPECT_EQ(flux::crossplaneCrdSet("1.20.5"), "v1.20.5");
  EXPECT_EQ(flux::crossplaneCrdSet("v1.19.0"), "v1.20.5");
}

// The chart brings the real CRDs of its own release: v2's operations, not v1's
// ControllerConfig, and the reverse for a 1.x chart.
TEST_F(FluxSim, ChartInstallsTheCrdsOfItsCrossplaneRelease) {
  const std::string crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/";
  kubeconfigSecret();
  ASSERT_EQ(sim.post("platform", kRepos, xp::ociRepository(plan()).object).code, 201);
  ASSERT_EQ(sim.post("platform", kHelm, xp::helmRelease(plan()).object).code, 201);
  ASSERT_TRUE(eventually([&] { return ready(release()).rfind("True", 0) == 0; })) << release().dump();
  auto file = std::filesystem::path(spr::testing::sourceDir()) / "sim" / "crds" / "crossplane" / "v2.0.8" /
              "pkg.crossplane.io_providers.yaml";
  json vendored = spr::testing::yamlToJson(YAML::LoadFile(file.string()));
  Reply served = sim.get("mcp-x", crds + "providers.pkg.crossplane.io");
  ASSERT_EQ(served.code, 200);
  EXPECT_EQ(served.body["spec"]["versions"], vendored["spec"]["versions"]);
  EXPECT_EQ(sim.get("mcp-x", crds + "operations.ops.crossplane.io").code, 200);
  EXPECT_EQ(sim.get("mcp-x", crds + "controllerconfigs.pkg.crossplane.io").code, 404);

  Reply repo = sim.get("platform", kRepos + "/crossplane");
  repo.body["spec"]["ref"] = {{"tag", "1.20.5"}};
  ASSERT_EQ(sim.call("platform", "PUT", kRepos + "/crossplane", repo.body.dump()).code, 200);
  ASSERT_TRUE(eventually([&] { return xp::releaseNotReady(release(), "1.20.5").empty(); })) << release().dump();
  EXPECT_EQ(sim.get("mcp-x", crds + "controllerconfigs.pkg.crossplane.io").code, 200);
}

// What spr writes on an MCP (Provider objects with every optional field it sets), a user's
// DeploymentRuntimeConfig and provider-kubernetes Object pass Crossplane's own schemas with
// nothing pruned; a Provider without its package is refused as kube-apiserver would.
TEST_F(FluxSim, WhatSprAndUsersWriteOnTheMcpPassesCrossplanesSchemas) {
  const std::string crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
  for (const char* set : {"v2.0.8", "provider-kubernetes-v1.2.1"})
    for (const auto& crd : flux::vendoredCrds(set)) ASSERT_EQ(sim.post("mcp-x", crdPath, crd).code, 201);
  xp::Plan p = plan();
  p.providers[0].packagePullPolicy = "Always";
  p.providers[0].pullSecrets = {"regcred", "corp-registry"};
  p.providers[0].runtimeConfigRef = {
      {"apiVersion", "pkg.crossplane.io/v1beta1"}, {"kind", "DeploymentRuntimeConfig"}, {"name", "debug"}};
  json runtimeConfig = {
      {"apiVersion", "pkg.crossplane.io/v1beta1"},
      {"kind", "DeploymentRuntimeConfig"},
      {"metadata", {{"name", "debug"}}},
      {"spec",
       {{"deploymentTemplate",
         {{"spec",
           {{"selector", json::object()},
            {"template", {{"spec", {{"containers", {{{"name", "package-runtime"}, {"args", {"--debug"}}}}}}}}}}}}}}}};
  json object = {{"apiVersion", "kubernetes.crossplane.io/v1alpha2"},
                 {"kind", "Object"},
                 {"metadata", {{"name", "team-db"}}},
                 {"spec",
                  {{"forProvider",
                    {{"manifest",
                      {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "team-db"}, {"namespace", "default"}}},
                       {"data", {{"size", "10Gi"}}}}}}}}}};
  for (const auto& [collection, obj] :
       {std::pair{std::string("/apis/pkg.crossplane.io/v1/providers"), xp::providerObjects(p)[0].object},
        std::pair{std::string("/apis/pkg.crossplane.io/v1beta1/deploymentruntimeconfigs"), runtimeConfig},
        std::pair{std::string("/apis/kubernetes.crossplane.io/v1alpha2/objects"), object}}) {
    Reply r = sim.post("mcp-x", collection, obj);
    ASSERT_EQ(r.code, 201) << r.body.dump();
    auto pruned = providers::kit::firstDifference(obj, r.body);
    EXPECT_FALSE(pruned) << "the server pruned or changed a field: " << *pruned;
  }
  json bad = xp::providerObjects(p)[0].object;
  bad["metadata"]["name"] = "no-package";
  bad["spec"].erase("package");
  Reply r = sim.post("mcp-x", "/apis/pkg.crossplane.io/v1/providers", bad);
  EXPECT_EQ(r.code, 422) << r.body.dump();
  EXPECT_NE(r.body.value("message", "").find("spec.package: Required value"), std::string::npos) << r.body.dump();
}

// openMCP's own ProviderConfig sample and e2e fixture, with their discovery ConfigMaps, are
// accepted unchanged by the CRD spr installs (spr init), field for field.
TEST(OpenMcpFixtures, ApplyUnchangedToTheProviderConfigCrd) {
  SimFixture sim;
  for (const auto& crd : xp::configCrds())
    ASSERT_EQ(sim.post("platform", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).code, 201);
  auto dir = std::filesystem::path(spr::testing::sourceDir()) / "tests" / "fixtures" / "openmcp" / "crossplane";
  for (const char* file : {"config-samples-v1alpha1_providerconfig.yaml", "test-e2e-platform-providerconfig.yaml"}) {
    for (const auto& node : YAML::LoadAllFromFile((dir / file).string())) {
      json doc = spr::testing::yamlToJson(node);
      bool config = doc["kind"] == "ProviderConfig";
      std::string path = config ? "/apis/crossplane.services.open-control-plane.io/v1alpha1/providerconfigs"
                                : "/api/v1/namespaces/default/configmaps";
      Reply r = sim.call("platform", "PUT", path + "/" + doc["metadata"]["name"].get<std::string>(), doc.dump());
      if (r.code == 404) r = sim.post("platform", path, doc);
      ASSERT_TRUE(r.code == 200 || r.code == 201) << file << ": " << r.body.dump();
      if (config) EXPECT_EQ(r.body["spec"], doc["spec"]) << file << ": a field was pruned";
      if (config) EXPECT_TRUE(xp::checkConfig(r.body).ok()) << file;
    }
  }
}

// The issue's check, as an operator would run it: real kubectl against the local API server
// and a real `spr run`: openMCP's e2e ProviderConfig, discovery ConfigMaps and Crossplane
// request apply unchanged; the request becomes Ready; the platform cluster shows a
// HelmRelease of the requested chart version targeting the MCP through a kubeconfig Secret;
// the AccessRequest asks for no wildcard; deletion removes the release and its Secret.
TEST(FluxKubectl, OpenMcpsE2eFixturesInstallThroughFluxAndDeleteCleanly) {
  SimFixture sim;
  auto dir = std::filesystem::temp_directory_path() / ("spr-flux-kubectl-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string kc = (dir / "kubeconfig").string();
  std::ofstream(kc) << sim.server->kubeconfigYaml();
  const std::string fixtures = spr::testing::sourceDir() + "/tests/fixtures/openmcp/crossplane/";
  int status = 0;
  auto run = [&](const std::string& cmd) { return spr::testing::runCommand(cmd, &status); };
  auto k = [&](const std::string& ctx, const std::string& args) {
    return run("/usr/bin/kubectl --kubeconfig " + kc + " --context " + ctx + " " + args);
  };
  const std::string spr = spr::testing::sprBinary();
  std::string out = run(spr + " init --provider-name crossplane --onboarding-kubeconfig " + kc +
                        "#onboarding --platform-kubeconfig " + kc + "#platform");
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  spr::testing::SpawnOptions spawn;
  spawn.unsetEnv = {"POD_NAMESPACE"};
  pid_t pid =
      spr::testing::spawnProcess({spr, "run", "--provider-name", "crossplane", "--journal", (dir / "journal").string(),
                                  "--onboarding-kubeconfig", kc + "#onboarding", "--platform-kubeconfig",
                                  kc + "#platform", "--metrics-bind-address", "0", "--health-probe-bind-address", "0"},
                                 spawn);
  out = k("platform", "apply -f " + fixtures + "test-e2e-platform-providerconfig.yaml");
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  std::ofstream(dir / "mcp.yaml") << "apiVersion: core.openmcp.cloud/v2alpha1\nkind: ManagedControlPlane\n"
                                     "metadata: {name: test-mcp, namespace: default}\nspec: {}\n";
  out = k("onboarding", "apply -f " + (dir / "mcp.yaml").string());
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  out = k("onboarding", "apply -f " + fixtures + "test-e2e-onboarding-crossplane.yaml");
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  out = k("onboarding", "wait --for=condition=Ready crossplane/test-mcp -n default --timeout=60s");
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  out = k("platform",
          "get helmreleases -A -o jsonpath='{range .items[*]}{.spec.kubeConfig.secretRef.name} "
          "{.status.history[0].chartVersion} {.status.conditions[0].status}{end}'");
  EXPECT_EQ(out, "crossplane-kubeconfig 1.20.5 True");
  out = k("platform", "get accessrequests -A -o jsonpath='{.items[*].spec.permissions}'");
  EXPECT_NE(out.find("customresourcedefinitions"), std::string::npos) << out;
  EXPECT_EQ(out.find('*'), std::string::npos) << "a wildcard in the AccessRequest: " << out;
  out = k("onboarding", "delete crossplane test-mcp -n default --timeout=60s");
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  out = k("platform", "get helmreleases,ocirepositories -A -o name");
  EXPECT_EQ(out, "") << "Flux objects left after deletion";
  out = k("platform", "get secrets -A -o name");
  EXPECT_EQ(out.find("crossplane-kubeconfig"), std::string::npos) << out;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spr::sim::testing
