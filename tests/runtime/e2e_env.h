// Test fixture for end-to-end runtime tests: an in-process local API server (SimServer)
// with the crossplane provider's CRDs installed, helpers to create ProviderConfigs and
// requests (with the MCP's ClusterRequest on the platform cluster), and waits. One
// instance per test; not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"
#include "adapters/k8s/curl_transport.h"
#include "adapters/k8s/openmcp.h"
#include "providers/crossplane/crossplane.h"
#include "providers/provider.h"
#include "runtime/operator.h"
#include "sim/server.h"
#include "tests/support/eventually.h"
#include "tests/support/paths.h"
#include "tests/support/spawn.h"

namespace spr::runtime::testing {

using nlohmann::json;

const k8s::GroupVersionResource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
const k8s::GroupVersionResource kNamespaces{"", "v1", "namespaces", false};
const k8s::GroupVersionResource kClusterRequests{"clusters.openmcp.cloud", "v1alpha1", "clusterrequests", true};
const k8s::GroupVersionResource kEvents{"", "v1", "events", true};

using spr::testing::eventually;

class E2E {
 public:
  explicit E2E(const std::string& testName) {
    dir = (std::filesystem::temp_directory_path() / ("spr-rt-" + std::to_string(::getpid()) + "-" + testName)).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    sim::SimOptions options;
    options.deploymentReadyDelayMs = 50;
    auto server = sim::SimServer::start(options);
    EXPECT_TRUE(server.isOk()) << server.status().toString();
    simServer = std::move(*server);
    kubeconfig = dir + "/kubeconfig";
    std::ofstream(kubeconfig) << simServer->kubeconfigYaml();
    onboardingConfig = load("onboarding");
    platformConfig = load("platform");
    onboarding = client(onboardingConfig, &onboardingTransport);
    platform = client(platformConfig, &platformTransport);
    provider = providers::makeProvider("crossplane");
    for (const auto& crd : provider->apiCrds()) EXPECT_TRUE(createOk(*onboarding, kCrds, "", crd));
    for (const auto& crd : provider->configCrds()) EXPECT_TRUE(createOk(*platform, kCrds, "", crd));
    api = provider->kinds().api;
    config = provider->kinds().config;
    // The offer's discovery (openMCP's release channel), read when a ProviderConfig exists.
    for (const auto& cm : providers::crossplane::exampleDiscovery())
      EXPECT_TRUE(createOk(*platform, providers::kit::kConfigMaps, "default", cm));
  }
  ~E2E() {
    if (simServer) simServer->stop();
    if (!std::getenv("SPR_TEST_KEEP")) std::filesystem::remove_all(dir);  // kept to debug a failure
  }

  k8s::ClusterConfig load(const std::string& context) {
    auto cfg = k8s::loadKubeconfig(kubeconfig, context);
    EXPECT_TRUE(cfg.isOk()) << cfg.status().toString();
    return cfg.isOk() ? *cfg : k8s::ClusterConfig{};
  }
  std::unique_ptr<k8s::Client> client(const k8s::ClusterConfig& cfg, std::unique_ptr<k8s::Transport>* holder) {
    auto t = k8s::makeCurlTransport(cfg);
    EXPECT_TRUE(t.isOk()) << t.status().toString();
    *holder = std::move(*t);
    return std::make_unique<k8s::Client>(**holder);
  }
  static bool createOk(k8s::Client& c, const k8s::GroupVersionResource& gvr, const std::string& ns, const json& obj) {
    auto r = c.create(gvr, ns, obj);
    return r.isOk() || r.status().code() == Code::kAlreadyExists;
  }

  // openMCP's shape: Crossplane v2.0.8 and 1.20.5, provider-kubernetes v1.2.1 (exampleDiscovery).
  json providerConfig(const std::string& pollInterval = "10s") const {
    return providers::crossplane::exampleProviderConfig(pollInterval);
  }
  void createConfig() { ASSERT_TRUE(createOk(*platform, config, "", providerConfig())); }

  // The MCP as openMCP sets it up: onboarding namespace, platform namespace mcp--<uuid>
  // with the MCP's ClusterRequest, then the end user's request.
  void createRequest(const std::string& ns, const std::string& name, const std::string& version = "v2.0.8") {
    ASSERT_TRUE(createOk(*onboarding, kNamespaces, "",
                         {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}));
    std::string mcpNs = k8s::mcpNamespace(ns, name);
    ASSERT_TRUE(createOk(*platform, kNamespaces, "",
                         {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", mcpNs}}}}));
    ASSERT_TRUE(createOk(*platform, kClusterRequests, mcpNs,
                         {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
                          {"kind", "ClusterRequest"},
                          {"metadata", {{"name", name}, {"namespace", mcpNs}}},
                          {"spec", {{"purpose", "mcp"}}}}));
    json request = {{"apiVersion", api.group + "/" + api.version},
                    {"kind", provider->kinds().apiKind},
                    {"metadata", {{"name", name}, {"namespace", ns}}},
                    {"spec", {{"version", version}}}};
    auto created = onboarding->create(api, ns, request);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
  }

  json get(const std::string& ns, const std::string& name) {
    auto r = onboarding->get(api, ns, name);
    return r.isOk() ? *r : json();
  }
  // The Ready condition, or an empty object when there is none (yet).
  static json readyCondition(const json& obj) {
    if (!obj.is_object() || !obj.contains("status")) return json::object();
    for (const auto& c : obj["status"].value("conditions", json::array()))
      if (c.value("type", "") == "Ready") return c;
    return json::object();
  }
  bool isReady(const std::string& ns, const std::string& name) {
    json obj = get(ns, name);
    json c = readyCondition(obj);
    return c.is_object() && c.value("status", "") == "True" && obj["status"].value("phase", "") == "Ready" &&
           obj["status"].value("observedGeneration", 0) == obj["metadata"].value("generation", -1);
  }

  std::string dir, kubeconfig;
  std::unique_ptr<sim::SimServer> simServer;
  k8s::ClusterConfig onboardingConfig, platformConfig;
  std::unique_ptr<k8s::Transport> onboardingTransport, platformTransport;
  std::unique_ptr<k8s::Client> onboarding, platform;
  std::unique_ptr<providers::Provider> provider;
  k8s::GroupVersionResource api, config;
};

// The operator as the e2e tests run it: the crossplane provider, 4 workers, fast backoff,
// journal in env.dir/<journal>. `tweak` adjusts the options before start. Null on failure
// (reported as a test failure).
inline std::unique_ptr<Operator> startOperator(E2E& env, const std::function<void(OperatorOptions&)>& tweak = {},
                                               const std::string& journal = "journal") {
  OperatorOptions o;
  o.providerName = "crossplane";
  o.journalDir = env.dir + "/" + journal;
  o.onboarding = env.onboardingConfig;
  o.platform = env.platformConfig;
  o.workers = 4;
  o.delayScale = 0.05;
  if (tweak) tweak(o);
  auto op = Operator::create(std::move(o), providers::makeProvider("crossplane"));
  EXPECT_TRUE(op.isOk()) << op.status().toString();
  if (!op.isOk()) return nullptr;
  Status started = (*op)->start();
  EXPECT_TRUE(started.isOk()) << started.toString();
  return std::move(*op);
}

// Starts the real `spr` binary with `args` as a child process, its stderr written to
// `logFile` (fopen `mode`: "a" appends across restarts); returns the child's pid, which the
// caller waits for or kills.
inline pid_t spawnSpr(std::vector<std::string> args, const std::string& logFile, const char* mode = "a") {
  args.insert(args.begin(), spr::testing::sprBinary());
  spr::testing::SpawnOptions o;
  o.stderrPath = logFile;
  o.append = std::string(mode) == "a";
  return spr::testing::spawnProcess(std::move(args), o);
}

// `spr run` against env's clusters as the crash tests run it (4 workers, delays scaled by
// 0.05), plus `extra` flags.
inline pid_t spawnRun(const E2E& env, const std::string& journalDir, const std::string& logFile,
                      const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"run",
                                   "--provider-name",
                                   "crossplane",
                                   "--onboarding-kubeconfig",
                                   env.kubeconfig + "#onboarding",
                                   "--platform-kubeconfig",
                                   env.kubeconfig + "#platform",
                                   "--journal",
                                   journalDir,
                                   "--workers",
                                   "4",
                                   "--delay-scale",
                                   "0.05"};
  args.insert(args.end(), extra.begin(), extra.end());
  return spawnSpr(std::move(args), logFile);
}

}  // namespace spr::runtime::testing
