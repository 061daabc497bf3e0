#include "cli/scenario.h"

#include <thread>

#include "adapters/k8s/curl_transport.h"
#include "adapters/k8s/openmcp.h"
#include "runtime/access.h"

namespace spr::cli {

const k8s::GroupVersionResource kCrdResource{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
const k8s::GroupVersionResource kNamespaceResource{"", "v1", "namespaces", false};
const k8s::GroupVersionResource kClusterRequestResource{"clusters.openmcp.cloud", "v1alpha1", "clusterrequests", true};
const k8s::GroupVersionResource kDeploymentResource{"apps", "v1", "deployments", true};

Result<Connection> connect(const k8s::ClusterConfig& config) {
  Connection c;
  c.config = config;
  auto transport = k8s::makeCurlTransport(config);
  if (!transport) return transport.status();
  c.transport = std::move(*transport);
  c.client = std::make_unique<k8s::Client>(*c.transport);
  return c;
}

Status resolveClusters(const ClusterFlags& flags, k8s::ClusterConfig& onboarding, k8s::ClusterConfig& platform) {
  const k8s::Env env = k8s::Env::system();
  const std::string& platformFlag = flags.platformKubeconfig;
  auto platformCfg = k8s::resolveConfig(platformFlag, env);
  if (!platformCfg)
    return Status(
        platformFlag.empty() && platformCfg.status().code() != Code::kNotFound ? platformCfg.status().code()
                                                                               : Code::kInvalidArgument,
        (platformFlag.empty() ? "platform cluster (--platform-kubeconfig FILE[#CONTEXT], else KUBECONFIG, in-cluster "
                                "or ~/.kube/config): "
                              : "--platform-kubeconfig: ") +
            platformCfg.status().message());
  platform = *platformCfg;
  if (!flags.onboardingKubeconfig.empty()) {
    auto cfg = k8s::resolveConfig(flags.onboardingKubeconfig, env);
    if (!cfg) return Status(Code::kInvalidArgument, "--onboarding-kubeconfig: " + cfg.status().message());
    onboarding = *cfg;
    return Status();
  }
  auto provider = providers::makeProvider(flags.providerName);
  if (!provider) return Status(Code::kInvalidArgument, "--provider-name " + flags.providerName + ": no such provider");
  auto cfg = runtime::onboardingAccess(platform, flags.accessNamespace, flags.providerName,
                                       runtime::onboardingAccessRules(*provider), flags.stopRequested);
  if (!cfg) return cfg.status();
  onboarding = *cfg;
  return Status();
}

bool waitFor(const std::function<bool()>& check, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return check();
}

Status createIfMissing(k8s::Client& client, const k8s::GroupVersionResource& gvr, const std::string& ns,
                       const json& object) {
  auto created = client.create(gvr, ns, object);
  if (created || created.status().code() == Code::kAlreadyExists) return Status();
  return created.status();
}

Status ensureNamespace(k8s::Client& client, const std::string& name) {
  return createIfMissing(client, kNamespaceResource, "",
                         {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
}

namespace {

bool established(const json& crd) {
  for (const auto& c : crd.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
  return false;
}

// Create, or bring an existing CRD's spec up to date (idempotent re-install).
Status applyCrd(k8s::Client& client, const json& crd) {
  auto created = client.create(kCrdResource, "", crd);
  if (created) return Status();
  if (created.status().code() != Code::kAlreadyExists) return created.status();
  std::string name = crd["metadata"].value("name", "");
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto live = client.get(kCrdResource, "", name);
    if (!live) return live.status();
    json updated = *live;
    updated["spec"] = crd["spec"];
    auto put = client.update(kCrdResource, "", updated);
    if (put || put.status().code() != Code::kConflict) return put.status();
  }
  return Status(Code::kConflict, "CustomResourceDefinition " + name + " kept changing while spr updated it");
}

}  // namespace

Status installCrds(k8s::Client& client, const std::vector<json>& crds, std::chrono::seconds timeout) {
  for (const auto& crd : crds) SPR_RETURN_IF_ERROR(applyCrd(client, crd));
  for (const auto& crd : crds) {
    std::string name = crd["metadata"].value("name", "");
    Status last;
    bool ok = waitFor(
        [&] {
          auto live = client.get(kCrdResource, "", name);
          last = live.status();
          return live && established(*live);
        },
        timeout);
    if (!ok)
      return Status(Code::kUnavailable, "CustomResourceDefinition " + name + " did not become Established within " +
                                            std::to_string(timeout.count()) + "s" +
                                            (last.isOk() ? "" : ": " + last.message()));
  }
  return Status();
}

Status createMcp(k8s::Client& onboarding, k8s::Client& platform, const std::string& ns, const std::string& name) {
  SPR_RETURN_IF_ERROR(ensureNamespace(onboarding, ns));
  std::string mcpNs = k8s::mcpNamespace(ns, name);
  SPR_RETURN_IF_ERROR(ensureNamespace(platform, mcpNs));
  return createIfMissing(platform, kClusterRequestResource, mcpNs,
                         {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
                          {"kind", "ClusterRequest"},
                          {"metadata", {{"name", name}, {"namespace", mcpNs}}},
                          {"spec", {{"purpose", "mcp"}}}});
}

Result<std::string> mcpClusterName(k8s::Client& platform, const std::string& ns, const std::string& name) {
  std::string mcpNs = k8s::mcpNamespace(ns, name);
  auto cr = platform.get(kClusterRequestResource, mcpNs, name);
  if (!cr) return cr.status();
  std::string cluster = cr->value("status", json::object()).value("cluster", json::object()).value("name", "");
  if (cluster.empty())
    return Status(Code::kUnavailable, "ClusterRequest " + mcpNs + "/" + name + " has no status.cluster.name yet");
  return cluster;
}

json readyCondition(const json& object) {
  if (!object.is_object() || !object.contains("status")) return json();
  for (const auto& c : object["status"].value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c;
  return json();
}

bool isReady(const json& object) {
  json c = readyCondition(object);
  if (!c.is_object() || c.value("status", "") != "True") return false;
  const json& status = object["status"];
  return status.value("phase", "") == "Ready" &&
         status.value("observedGeneration", int64_t{0}) == object["metadata"].value("generation", int64_t{-1});
}

}  // namespace spr::cli
