#include "cli/demo_steps.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "adapters/k8s/openmcp.h"
#include "core/journal/journal.h"
#include "providers/crossplane/crossplane.h"

namespace spr::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Time for one demo step; everything normally settles in a few seconds.
constexpr std::chrono::seconds kStepTimeout{45};
// The demo's ProviderConfig polls every 2 s so a hand-made drift is repaired quickly.
constexpr const char* kPollInterval = "2s";

std::string conditionText(const json& object) {
  json c = readyCondition(object);
  if (!c.is_object()) return "no Ready condition yet";
  return "Ready=" + c.value("status", "") + " " + c.value("reason", "") + ": " + c.value("message", "");
}

}  // namespace

DemoRun::DemoRun(std::string journalDir, int workers)
    : journalDir_(std::move(journalDir)), workers_(workers), start_(Clock::now()) {}

DemoRun::~DemoRun() { shutdown(); }

void DemoRun::shutdown() {
  if (operator_) {
    operator_->requestStop();
    (void)operator_->wait();
    operator_.reset();
  }
  for (Connection* c : {&onboarding_, &platform_}) {
    c->client.reset();  // before the transport it refers to
    c->transport.reset();
  }
  if (sim_) sim_->stop();
  sim_.reset();
}

// From /proc (start time in clock ticks since boot, against the uptime); the time since
// this DemoRun was made when /proc cannot be read.
double DemoRun::elapsedSeconds() const {
  double fallback = std::chrono::duration<double>(Clock::now() - start_).count();
  std::ifstream stat("/proc/self/stat"), uptime("/proc/uptime");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  double up = 0;
  auto paren = text.rfind(')');
  if (!(uptime >> up) || paren == std::string::npos) return fallback;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i < 22) continue;
    double started = std::strtod(field.c_str(), nullptr) / static_cast<double>(sysconf(_SC_CLK_TCK));
    if (up >= started) return up - started;
  }
  return fallback;
}

void DemoRun::step(const std::string& what) {
  std::printf("[%5.1fs] %s\n", elapsedSeconds(), what.c_str());
  std::fflush(stdout);
}

void DemoRun::done(const std::string& result) {
  std::printf("          ok: %s\n", result.c_str());
  std::fflush(stdout);
}

Status DemoRun::run() {
  SPR_RETURN_IF_ERROR(startClusters());
  SPR_RETURN_IF_ERROR(installProvider());
  SPR_RETURN_IF_ERROR(createRequests());
  SPR_RETURN_IF_ERROR(startOperator());
  SPR_RETURN_IF_ERROR(waitSettled());
  SPR_RETURN_IF_ERROR(repairDrift());
  SPR_RETURN_IF_ERROR(deleteOne());
  return stopAndCheckJournal();
}

Status DemoRun::startClusters() {
  step("starting the local API server (clusters onboarding, platform, workload)");
  sim::SimOptions options;
  options.deploymentReadyDelayMs = 500;
  auto server = sim::SimServer::start(options);
  if (!server) return Status(server.status().code(), "local API server: " + server.status().message());
  sim_ = std::move(*server);
  std::string yaml = sim_->kubeconfigYaml();
  for (auto [name, conn] : {std::pair{"onboarding", &onboarding_}, std::pair{"platform", &platform_}}) {
    auto cfg = k8s::parseKubeconfig(yaml, name, "the local API server's kubeconfig");
    if (!cfg) return cfg.status();
    auto c = connect(*cfg);
    if (!c) return c.status();
    *conn = std::move(*c);
  }
  done("serving at " + sim_->baseUrl());
  return Status();
}

Status DemoRun::installProvider() {
  step("installing the crossplane provider's CRDs and its ProviderConfig (pollInterval " + std::string(kPollInterval) +
       ")");
  provider_ = providers::makeProvider("crossplane");
  if (!provider_) return Status(Code::kInternal, "the crossplane provider is not built in");
  SPR_RETURN_IF_ERROR(installCrds(*onboarding_.client, provider_->apiCrds(), kStepTimeout));
  SPR_RETURN_IF_ERROR(installCrds(*platform_.client, provider_->configCrds(), kStepTimeout));
  for (const auto& cm : providers::crossplane::exampleDiscovery())
    SPR_RETURN_IF_ERROR(createIfMissing(*platform_.client, providers::kit::kConfigMaps, "default", cm));
  SPR_RETURN_IF_ERROR(createIfMissing(*platform_.client, provider_->kinds().config, "",
                                      providers::crossplane::exampleProviderConfig(kPollInterval)));
  done(
      "CRDs Established on onboarding and platform; ProviderConfig \"crossplane\" and its discovery ConfigMaps "
      "(Crossplane v2.0.8, 1.20.5; provider-kubernetes v1.2.1) created");
  return Status();
}

Status DemoRun::createRequests() {
  json kubernetesProvider = json::array({{{"name", "provider-kubernetes"}, {"version", "v1.2.1"}}});
  requests_ = {
      {kDemoTenantA, "mcp-1", "v2.0.8", kubernetesProvider, true},
      {kDemoTenantA, "mcp-2", "1.20.5", json::array(), true},
      {kDemoTenantB, "mcp-1", "v2.0.8", json::array(), true},
      {kDemoTenantB, "mcp-9", "v2.0.8", json::array({{{"name", "provider-aws"}, {"version", "v1.0.0"}}}), false},
  };
  step("creating MCPs (ClusterRequests) and 4 Crossplane requests for 2 tenants; " + kDemoTenantB +
       "/mcp-9 asks for provider-aws, which the ProviderConfig does not offer");
  const auto kinds = provider_->kinds();
  for (const auto& r : requests_) {
    SPR_RETURN_IF_ERROR(createMcp(*onboarding_.client, *platform_.client, r.ns, r.name));
    json spec = {{"version", r.version}};
    if (!r.providers.empty()) spec["providers"] = r.providers;
    json request = {{"apiVersion", kinds.api.apiVersion()},
                    {"kind", kinds.apiKind},
                    {"metadata", {{"name", r.name}, {"namespace", r.ns}}},
                    {"spec", spec}};
    SPR_RETURN_IF_ERROR(createIfMissing(*onboarding_.client, kinds.api, r.ns, request));
  }
  done("requests created");
  return Status();
}

Status DemoRun::startOperator() {
  step("starting the operator (journal " + journalDir_ + ")");
  runtime::OperatorOptions options;
  options.providerName = "crossplane";
  options.journalDir = journalDir_;
  options.onboarding = onboarding_.config;
  options.platform = platform_.config;
  options.workers = workers_;
  // Waiting for MCP access retries with backoff; a quarter of the production delays keeps
  // the demo short. The ProviderConfig's pollInterval is never scaled.
  options.delayScale = 0.25;
  auto op = runtime::Operator::create(std::move(options), providers::makeProvider("crossplane"));
  if (!op) return op.status();
  operator_ = std::move(*op);
  SPR_RETURN_IF_ERROR(operator_->start());
  done("watching " + provider_->kinds().api.resource + " on onboarding and providerconfigs on platform");
  return Status();
}

void DemoRun::showProgress() {
  for (const auto& v : operator_->objects()) {
    std::string line = v.phase + (v.reason.empty() ? "" : " (" + v.reason + ")");
    if (shown_[v.key] == line) continue;
    shown_[v.key] = line;
    std::printf("          %-32s %s\n", (v.ns + "/" + v.name).c_str(), line.c_str());
  }
  std::fflush(stdout);
}

Status DemoRun::waitSettled() {
  step("reconciling: every request should become Ready, except the one asking for provider-aws");
  const auto api = provider_->kinds().api;
  std::string pending;
  bool settled = waitFor(
      [&] {
        showProgress();
        pending.clear();
        for (const auto& r : requests_) {
          auto obj = onboarding_.client->get(api, r.ns, r.name);
          if (!obj) {
            pending += " " + r.ns + "/" + r.name + " (" + obj.status().message() + ")";
            continue;
          }
          json c = readyCondition(*obj);
          bool ok = r.expectReady ? isReady(*obj)
                                  : c.is_object() && c.value("status", "") == "False" &&
                                        c.value("reason", "") == "ProviderNotAllowed";
          if (!ok) pending += " " + r.ns + "/" + r.name + " (" + conditionText(*obj) + ")";
        }
        return pending.empty();
      },
      kStepTimeout);
  if (!settled) return Status(Code::kUnavailable, "not settled after 45s:" + pending);
  auto rejected = onboarding_.client->get(api, kDemoTenantB, "mcp-9");
  done("3 Ready; " + kDemoTenantB + "/mcp-9 rejected: " + (rejected ? conditionText(*rejected) : std::string()));
  return Status();
}

Status DemoRun::repairDrift() {
  namespace xp = providers::crossplane;
  const std::string tenantNs = k8s::mcpNamespace(kDemoTenantA, "mcp-1");
  step("changing the HelmRelease " + tenantNs + "/crossplane of " + kDemoTenantA +
       "/mcp-1 by hand (values.image.tag -> hand-edited)");
  uint64_t updatesBefore = operator_->effectsRun(lifecycle::Op::kUpdate);
  auto patched = platform_.client->mergePatch(xp::kHelmReleases, tenantNs, xp::kName,
                                              {{"spec", {{"values", {{"image", {{"tag", "hand-edited"}}}}}}}});
  if (!patched) return Status(patched.status().code(), "editing the HelmRelease: " + patched.status().message());
  std::string tag = "hand-edited";
  bool repaired = waitFor(
      [&] {
        showProgress();
        auto hr = platform_.client->get(xp::kHelmReleases, tenantNs, xp::kName);
        if (hr) tag = (*hr)["spec"]["values"]["image"].value("tag", "");
        return tag != "hand-edited" && operator_->effectsRun(lifecycle::Op::kUpdate) > updatesBefore;
      },
      kStepTimeout);
  if (!repaired) return Status(Code::kUnavailable, "drift not repaired within 45s (image tag " + tag + ")");
  done("Observe found the drift at the next poll; Update set the HelmRelease's image tag back to " + tag +
       " and Flux upgraded the release");
  return Status();
}

Status DemoRun::deleteOne() {
  step("deleting " + kDemoTenantB + "/mcp-1: the service must be removed from its MCP cluster");
  auto cluster = mcpClusterName(*platform_.client, kDemoTenantB, "mcp-1");
  if (!cluster) return cluster.status();
  auto cfg = k8s::parseKubeconfig(sim_->kubeconfigYaml(), *cluster, "the local API server's kubeconfig");
  if (!cfg) return cfg.status();
  auto mcp = connect(*cfg);
  if (!mcp) return mcp.status();
  const auto api = provider_->kinds().api;
  SPR_RETURN_IF_ERROR(onboarding_.client->remove(api, kDemoTenantB, "mcp-1"));
  bool gone = waitFor(
      [&] {
        showProgress();
        auto obj = onboarding_.client->get(api, kDemoTenantB, "mcp-1");
        auto ns = mcp->client->get(kNamespaceResource, "", "crossplane-system");
        return !obj && obj.status().code() == Code::kNotFound && !ns && ns.status().code() == Code::kNotFound;
      },
      kStepTimeout);
  if (!gone) return Status(Code::kUnavailable, "request or its crossplane-system namespace still there after 45s");
  done("Delete ran, Observe said gone, the finalizer was removed and the request disappeared");
  return Status();
}

Status DemoRun::stopAndCheckJournal() {
  step("stopping the operator and checking the journal");
  operator_->requestStop();
  Status stopped = operator_->wait();
  operator_.reset();
  if (!stopped.isOk()) return Status(stopped.code(), "operator stopped with: " + stopped.message());
  journal::Options options;
  options.createIfMissing = false;
  auto journal = journal::Journal::open(journalDir_, options);
  if (!journal) return journal.status();
  journal::VerifyReport report = (*journal)->verify();
  if (!report.ok) return Status(Code::kCorruption, "journal verify failed: " + report.reason);
  // Exactly one Create per service: the fold never repeats a Create.
  std::map<std::string, int> creates;
  Status scanned = (*journal)->scan(1, [&](const journal::Record& r) {
    if (auto* e = std::get_if<journal::EffectRequested>(&r.payload); e && e->command == "Create")
      creates[r.object.ns + "/" + r.object.name]++;
    return true;
  });
  SPR_RETURN_IF_ERROR(scanned);
  for (const auto& r : requests_) {
    int expected = r.expectReady ? 1 : 0;
    if (creates[r.ns + "/" + r.name] != expected)
      return Status(Code::kInternal, r.ns + "/" + r.name + " has " + std::to_string(creates[r.ns + "/" + r.name]) +
                                         " Create effects in the journal, expected " + std::to_string(expected));
  }
  done(std::to_string(report.recordsChecked) + " records, hash chain verified (head " + report.headHash.substr(0, 16) +
       "...), one Create per deployed service");
  return Status();
}

}  // namespace spr::cli
