// The sim as a server: discovery and OpenAPI for kubectl, tokens, kubeconfig and TLS,
// bad input answered with the real status codes, prompt stop, and the `spr sim` binary.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "tests/sim/core_test_support.h"
#include "tests/support/paths.h"
#include "tests/support/spawn.h"

namespace spr::sim::testing {
namespace {

TEST(SimServer, ServesDiscoveryAndOpenApiPerCluster) {
  SimFixture sim;
  EXPECT_EQ(sim.server->clusterNames(), (std::vector<std::string>{"onboarding", "platform", "workload"}));
  EXPECT_EQ(sim.get("onboarding", "/version").body["major"], "1");
  EXPECT_EQ(sim.get("onboarding", "/api").body["versions"][0], "v1");
  auto groups = sim.get("onboarding", "/apis").body["groups"];
  std::set<std::string> names;
  for (auto& g : groups) names.insert(g["name"]);
  for (const char* g : {"apps", "apiextensions.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io"})
    EXPECT_TRUE(names.count(g)) << g;
  auto core = sim.get("onboarding", "/api/v1").body;
  bool hasSecrets = false;
  for (auto& r : core["resources"]) hasSecrets = hasSecrets || r["name"] == "secrets";
  EXPECT_TRUE(hasSecrets);
  auto index = sim.get("onboarding", "/openapi/v3");
  ASSERT_EQ(index.code, 200);
  std::string url = index.body["paths"]["api/v1"]["serverRelativeURL"];
  EXPECT_EQ(url.rfind("/clusters/onboarding/openapi/v3/api/v1", 0), 0u) << url;
  EXPECT_EQ(sim.get("onboarding", "/openapi/v3/apis/apps/v1").code, 200);
  // The platform cluster has the cluster provider's CRDs; the others do not.
  EXPECT_EQ(sim.get("platform", std::string(kCrds) + "/clusterrequests.clusters.openmcp.cloud").code, 200);
  EXPECT_EQ(sim.get("onboarding", std::string(kCrds) + "/clusterrequests.clusters.openmcp.cloud").code, 404);
}

TEST(SimServer, RejectsMissingAndForeignTokensWith401Status) {
  SimFixture sim;
  auto none = sim.call("onboarding", "GET", "/api/v1/namespaces", "", "", "-");
  EXPECT_EQ(none.code, 401);
  EXPECT_EQ(none.body["kind"], "Status");
  EXPECT_EQ(none.body["reason"], "Unauthorized");
  auto foreign = sim.call("onboarding", "GET", "/api/v1/namespaces", "", "", sim.token("platform"));
  EXPECT_EQ(foreign.code, 401);
  EXPECT_EQ(sim.get("onboarding", "/api/v1/namespaces").code, 200);
  // An unknown cluster: 401 without a token some cluster accepts (names cannot be probed),
  // 404 with one.
  EXPECT_EQ(sim.get("nosuchcluster", "/api/v1/namespaces").code, 401);
  EXPECT_EQ(sim.call("nosuchcluster", "GET", "/api/v1/namespaces", "", "", sim.token("onboarding")).code, 404);
}

TEST(SimServer, ClustersAreSeparateStores) {
  SimFixture sim;
  ASSERT_EQ(sim.post("onboarding", kConfigMaps, configMap("only-here")).code, 201);
  EXPECT_EQ(sim.get("onboarding", std::string(kConfigMaps) + "/only-here").code, 200);
  EXPECT_EQ(sim.get("workload", std::string(kConfigMaps) + "/only-here").code, 404);
}

std::string base64Decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

TEST(SimServer, KubeconfigCaVerifiesTheServerCertificate) {
  SimFixture sim;
  std::string yaml = sim.server->kubeconfigYaml();
  for (const char* c : {"onboarding", "platform", "workload"}) {
    EXPECT_NE(yaml.find("- name: " + std::string(c) + "\n  context:"), std::string::npos) << c;
    EXPECT_NE(yaml.find(sim.server->baseUrl() + "/clusters/" + c), std::string::npos) << c;
  }
  EXPECT_NE(yaml.find("current-context: onboarding"), std::string::npos);
  std::string marker = "certificate-authority-data: ";
  size_t pos = yaml.find(marker) + marker.size();
  std::string ca = base64Decode(yaml.substr(pos, yaml.find('\n', pos) - pos));
  std::string caFile = ::testing::TempDir() + "/sim-ca.pem";
  std::ofstream(caFile) << ca;
  httplib::SSLClient verified("127.0.0.1", sim.server->port());
  verified.set_ca_cert_path(caFile.c_str());
  verified.enable_server_certificate_verification(true);
  auto r = verified.Get("/clusters/onboarding/version", {{"Authorization", "Bearer " + sim.token("onboarding")}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
}

TEST(SimServer, BadInputGetsTheRealStatusCodesAndTheServerKeepsServing) {
  SimFixture sim;
  auto malformed = sim.call("onboarding", "POST", kConfigMaps, "{not json");
  EXPECT_EQ(malformed.code, 400);
  EXPECT_EQ(malformed.body["reason"], "BadRequest");
  auto wrongType = sim.call("onboarding", "POST", kConfigMaps, configMap("a").dump(), "text/plain");
  EXPECT_EQ(wrongType.code, 415);
  EXPECT_EQ(wrongType.body["reason"], "UnsupportedMediaType");
  auto unknown = sim.get("onboarding", "/api/v1/namespaces/default/gizmos");
  EXPECT_EQ(unknown.code, 404);
  EXPECT_EQ(unknown.body["kind"], "Status");
  json big = configMap("big", {{"blob", std::string(3 * 1024 * 1024 + 10, 'x')}});
  auto tooLarge = sim.post("onboarding", kConfigMaps, big);
  EXPECT_EQ(tooLarge.code, 413);
  EXPECT_EQ(tooLarge.body["reason"], "RequestEntityTooLarge");
  int watchCode = sim.watch("onboarding", "/apis/example.com/v1/namespaces/default/widgets?watch=true",
                            [](const json&) { return false; });
  EXPECT_EQ(watchCode, 404);
  auto badPatch =
      sim.call("onboarding", "PATCH", std::string(kConfigMaps) + "/x", "{}", "application/merge-patch+json");
  EXPECT_EQ(badPatch.code, 404);
  EXPECT_EQ(badPatch.body["message"], "configmaps \"x\" not found");
  EXPECT_EQ(sim.post("onboarding", kConfigMaps, configMap("after-bad-input")).code, 201);
}

TEST(SimServer, StopClosesOpenWatchesPromptly) {
  SimFixture sim;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    sim.watch("onboarding", std::string(kConfigMaps) + "?watch=true", [](const json&) { return true; });
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  sim.server->stop();
  watcher.join();
  EXPECT_TRUE(done);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  sim.server->stop();  // idempotent
}

TEST(SprSimBinary, WritesKubeconfigServesAndExitsZeroOnSigterm) {
  std::string bin = spr::testing::sprBinary();
  ASSERT_FALSE(bin.empty());
  std::string kubeconfig = ::testing::TempDir() + "/spr-sim-kubeconfig-" + std::to_string(getpid());
  std::string out = kubeconfig + ".out";
  spr::testing::SpawnOptions spawn;
  spawn.stdoutPath = out;
  spawn.append = false;
  pid_t pid = spr::testing::spawnProcess({bin, "sim", "--kubeconfig-out", kubeconfig, "--clusters", "a,b"}, spawn);
  std::string yaml;
  for (int i = 0; i < 100 && yaml.find("current-context") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(kubeconfig);
    yaml.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_NE(yaml.find("current-context: a"), std::string::npos) << yaml;
  size_t p = yaml.find("server: https://127.0.0.1:") + 26;
  int port = std::atoi(yaml.c_str() + p);
  httplib::SSLClient c("127.0.0.1", port);
  c.enable_server_certificate_verification(false);
  auto r = c.Get("/clusters/b/api/v1/namespaces", {{"Authorization", "Bearer " + tokenIn(yaml, "b")}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream printed(out);
  std::string text((std::istreambuf_iterator<char>(printed)), {});
  EXPECT_NE(text.find("serving at https://127.0.0.1:" + std::to_string(port)), std::string::npos) << text;
}

TEST(SprSimBinary, BadFlagsExitTwoNamingTheFlag) {
  std::string cmd = spr::testing::sprBinary() + " sim --kubeconfig-out /tmp/x --fault-error-rate 7 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(std::string(buf, n).find("--fault-error-rate"), std::string::npos);
}

}  // namespace
}  // namespace spr::sim::testing
