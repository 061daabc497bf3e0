#include "cli/validate_flow.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "adapters/k8s/openmcp.h"
#include "providers/kit.h"
#include "runtime/access.h"

namespace spr::cli {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

bool conditionTrue(const json& object, const std::string& type) {
  for (const auto& c : object.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  return false;
}

std::string describeReady(const json& object) {
  json c = readyCondition(object);
  if (!c.is_object()) return "no Ready condition";
  return "Ready=" + c.value("status", "") + " " + c.value("reason", "") + ": " + c.value("message", "");
}

// NotFound counts as gone; any other error is reported by the caller's timeout.
bool gone(k8s::Client& client, const k8s::GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
  auto got = client.get(gvr, ns, name);
  return !got && got.status().code() == Code::kNotFound;
}

}  // namespace

ValidateFlow::ValidateFlow(ValidateOptions options, ValidationProfile profile)
    : options_(std::move(options)), profile_(std::move(profile)), ns_("spr-validate"), name_("mcp-validate") {}

ValidateFlow::~ValidateFlow() {
  if (operator_) {
    operator_->requestStop();
    (void)operator_->wait();
  }
  if (sim_) sim_->stop();
}

void ValidateFlow::record(const std::string& name, const std::function<Status()>& step, bool skip) {
  StepResult r;
  r.name = name;
  auto start = SteadyClock::now();
  if (skip) {
    r.skipped = true;
    r.detail = "skipped after an earlier failure";
  } else {
    Status s = step();
    r.ok = s.isOk();
    r.detail = s.isOk() ? "" : s.message();
  }
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf("%-8s %-58s %6.1fs%s%s\n", r.skipped ? "SKIP" : (r.ok ? "PASS" : "FAIL"), name.c_str(), r.seconds,
              r.detail.empty() ? "" : "\n         ", r.detail.c_str());
  std::fflush(stdout);
  results_.push_back(r);
}

bool ValidateFlow::run() {
  bool failed = false;
  auto step = [&](const std::string& name, Status (ValidateFlow::*fn)()) {
    record(
        name, [&] { return (this->*fn)(); }, failed);
    if (!results_.back().ok) failed = true;
  };
  step("SETUP clusters, CRDs, ProviderConfig, MCP, operator", &ValidateFlow::setup);
  step("ASSESS request -> deployment and API available", &ValidateFlow::assessRequest);
  step("ASSESS consume -> DomainService and DomainServiceAPI available", &ValidateFlow::assessConsume);
  step("ASSESS use the DomainServiceAPI (object on the MCP)", &ValidateFlow::assessUse);
  if (!profile_.caBundleCopy.second.empty() && !options_.externalOperator)
    step("ASSESS caBundleRef -> the bundle on the MCP, mounted by the service", &ValidateFlow::assessCaBundle);
  if (profile_.apiObjectBlocksDeletion)
    step("ASSESS delete with a user's object -> DeletionBlocked, then proceeds", &ValidateFlow::assessDeletionBlocked);
  step("ASSESS delete -> all removed", &ValidateFlow::assessDelete);
  record(
      "TEARDOWN", [&] { return teardown(); }, false);
  bool ok = true;
  for (const auto& r : results_) ok = ok && r.ok;
  return ok;
}

Status ValidateFlow::setup() {
  provider_ = providers::makeProvider(options_.provider);
  if (!provider_) return Status(Code::kInvalidArgument, "unknown provider \"" + options_.provider + "\"");
  k8s::ClusterConfig onboardingCfg, platformCfg;
  if (options_.onboardingKubeconfig.empty() && options_.platformKubeconfig.empty()) {
    sim::SimOptions simOptions;
    simOptions.deploymentReadyDelayMs = 300;
    auto server = sim::SimServer::start(simOptions);
    if (!server) return server.status();
    sim_ = std::move(*server);
    auto o = k8s::parseKubeconfig(sim_->kubeconfigYaml(), "onboarding", "the local API server's kubeconfig");
    auto p = k8s::parseKubeconfig(sim_->kubeconfigYaml(), "platform", "the local API server's kubeconfig");
    if (!o || !p) return (!o ? o : p).status();
    onboardingCfg = *o;
    platformCfg = *p;
  } else {
    ClusterFlags flags{options_.onboardingKubeconfig, options_.platformKubeconfig, "default", options_.provider, {}};
    SPR_RETURN_IF_ERROR(resolveClusters(flags, onboardingCfg, platformCfg));
  }
  auto o = connect(onboardingCfg);
  if (!o) return o.status();
  onboarding_ = std::move(*o);
  auto p = connect(platformCfg);
  if (!p) return p.status();
  platform_ = std::move(*p);
  SPR_RETURN_IF_ERROR(installCrds(*onboarding_.client, provider_->apiCrds(), options_.stepTimeout));
  SPR_RETURN_IF_ERROR(installCrds(*platform_.client, provider_->configCrds(), options_.stepTimeout));
  for (const auto& cm : profile_.platformConfigMaps)
    SPR_RETURN_IF_ERROR(
        createIfMissing(*platform_.client, providers::kit::kConfigMaps, cm["metadata"].value("namespace", ""), cm));
  SPR_RETURN_IF_ERROR(createIfMissing(*platform_.client, provider_->kinds().config, "", profile_.providerConfig));
  SPR_RETURN_IF_ERROR(createMcp(*onboarding_.client, *platform_.client, ns_, name_));
  if (options_.externalOperator) return Status();
  runtime::OperatorOptions op;
  op.providerName = options_.provider;
  op.journalDir = options_.journalDir.empty()
                      ? (std::filesystem::temp_directory_path() / ("spr-validate-" + std::to_string(getpid()))).string()
                      : options_.journalDir;
  op.onboarding = onboardingCfg;
  op.platform = platformCfg;
  op.workers = 2;
  auto created = runtime::Operator::create(std::move(op), providers::makeProvider(options_.provider));
  if (!created) return created.status();
  operator_ = std::move(*created);
  return operator_->start();
}

Status ValidateFlow::assessRequest() {
  const auto kinds = provider_->kinds();
  json request = {{"apiVersion", kinds.api.apiVersion()},
                  {"kind", kinds.apiKind},
                  {"metadata", {{"name", name_}, {"namespace", ns_}}},
                  {"spec", profile_.requestSpec}};
  SPR_RETURN_IF_ERROR(createIfMissing(*onboarding_.client, kinds.api, ns_, request));
  std::string last;
  bool ready = waitFor(
      [&] {
        auto obj = onboarding_.client->get(kinds.api, ns_, name_);
        last = obj ? describeReady(*obj) : obj.status().message();
        return obj && isReady(*obj);
      },
      options_.stepTimeout);
  if (!ready) return Status(Code::kUnavailable, ns_ + "/" + name_ + " not Ready: " + last);
  return Status();
}

Status ValidateFlow::connectMcp() {
  if (mcp_.client) return Status();
  // What this flow does on the MCP, as its user: reads the service's Deployments, API CRDs
  // and CA bundle copy, then creates, reads and deletes one object of that API.
  const auto& use = profile_.apiObjectResource;
  json rules = json::array(
      {{{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", {"get"}}},
       {{"apiGroups", {"apiextensions.k8s.io"}}, {"resources", {"customresourcedefinitions"}}, {"verbs", {"get"}}},
       {{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get"}}},
       {{"apiGroups", {use.group}}, {"resources", {use.resource}}, {"verbs", {"get", "create", "delete"}}}});
  runtime::AccessTarget target{k8s::mcpNamespace(ns_, name_), name_, "spr-validate-" + name_, "mcp", rules};
  Result<k8s::ClusterConfig> cfg = Status(Code::kUnavailable, "not asked yet");
  waitFor(
      [&] {
        cfg = runtime::requestAccess(*platform_.client, target);
        return cfg.isOk() || cfg.status().code() != Code::kUnavailable;
      },
      options_.stepTimeout);
  if (!cfg) return Status(cfg.status().code(), "access to the MCP cluster: " + cfg.status().message());
  auto c = connect(*cfg);
  if (!c) return c.status();
  mcp_ = std::move(*c);
  return Status();
}

Status ValidateFlow::assessConsume() {
  SPR_RETURN_IF_ERROR(connectMcp());
  for (const auto& [ns, name] : profile_.deployments) {
    std::string last = "not found";
    bool available = waitFor(
        [&] {
          auto d = mcp_.client->get(kDeploymentResource, ns, name);
          last = d ? "not Available yet" : d.status().message();
          return d && conditionTrue(*d, "Available");
        },
        options_.stepTimeout);
    if (!available) return Status(Code::kUnavailable, "Deployment " + ns + "/" + name + ": " + last);
  }
  for (const auto& crd : profile_.apiCrds) {
    bool established = waitFor(
        [&] {
          auto c = mcp_.client->get(kCrdResource, "", crd);
          return c && conditionTrue(*c, "Established");
        },
        options_.stepTimeout);
    if (!established) return Status(Code::kUnavailable, "DomainServiceAPI CRD " + crd + " is not Established");
  }
  return Status();
}

Status ValidateFlow::assessUse() {
  SPR_RETURN_IF_ERROR(connectMcp());
  const auto& gvr = profile_.apiObjectResource;
  std::string ns = profile_.apiObject["metadata"].value("namespace", "");
  std::string name = profile_.apiObject["metadata"].value("name", "");
  auto created = mcp_.client->create(gvr, ns, profile_.apiObject);
  if (!created && created.status().code() != Code::kAlreadyExists)
    return Status(created.status().code(), "creating " + gvr.resource + " " + name + ": " + created.status().message());
  auto read = mcp_.client->get(gvr, ns, name);
  if (!read)
    return Status(read.status().code(), "reading " + gvr.resource + " " + name + " back: " + read.status().message());
  Status removed = mcp_.client->remove(gvr, ns, name);
  if (!removed.isOk() && removed.code() != Code::kNotFound) return removed;
  return Status();
}

// A user's object of the service's kinds holds the deletion: the request stays, with
// DeletionBlocked=True / UserResourcesPresent naming the object, and the service stays;
// deleting the object lets deletion proceed (assessDelete checks the rest).
Status ValidateFlow::assessDeletionBlocked() {
  SPR_RETURN_IF_ERROR(connectMcp());
  const auto& gvr = profile_.apiObjectResource;
  const std::string ns = profile_.apiObject["metadata"].value("namespace", "");
  const std::string name = profile_.apiObject["metadata"].value("name", "");
  auto created = mcp_.client->create(gvr, ns, profile_.apiObject);
  if (!created && created.status().code() != Code::kAlreadyExists)
    return Status(created.status().code(), "creating " + gvr.resource + " " + name + ": " + created.status().message());
  const auto api = provider_->kinds().api;
  SPR_RETURN_IF_ERROR(onboarding_.client->remove(api, ns_, name_));
  std::string last = "no DeletionBlocked condition";
  bool blocked = waitFor(
      [&] {
        auto obj = onboarding_.client->get(api, ns_, name_);
        if (!obj) {
          last = "the request is gone: " + obj.status().message();
          return false;
        }
        for (const auto& c : obj->value("status", json::object()).value("conditions", json::array()))
          if (c.value("type", "") == "DeletionBlocked") {
            last = "DeletionBlocked=" + c.value("status", "") + " " + c.value("reason", "") + ": " +
                   c.value("message", "");
            return c.value("status", "") == "True" && c.value("reason", "") == "UserResourcesPresent" &&
                   c.value("message", "").find(name) != std::string::npos;
          }
        return false;
      },
      options_.stepTimeout);
  if (!blocked) return Status(Code::kUnavailable, ns_ + "/" + name_ + " was not blocked by " + name + ": " + last);
  for (const auto& [dns, dname] : profile_.deployments)
    if (gone(*mcp_.client, kDeploymentResource, dns, dname))
      return Status(Code::kUnavailable, "Deployment " + dns + "/" + dname + " was deleted while deletion was blocked");
  Status removed = mcp_.client->remove(gvr, ns, name);
  if (!removed.isOk() && removed.code() != Code::kNotFound) return removed;
  return Status();
}

Status ValidateFlow::assessDelete() {
  SPR_RETURN_IF_ERROR(connectMcp());
  const auto api = provider_->kinds().api;
  Status asked = onboarding_.client->remove(api, ns_, name_);
  if (!asked.isOk() && asked.code() != Code::kNotFound) return asked;
  bool removed = waitFor(
      [&] {
        if (!gone(*onboarding_.client, api, ns_, name_)) return false;
        for (const auto& [ns, name] : profile_.deployments)
          if (!gone(*mcp_.client, kDeploymentResource, ns, name)) return false;
        for (const auto& crd : profile_.apiCrds)
          if (!gone(*mcp_.client, kCrdResource, "", crd)) return false;
        return true;
      },
      options_.stepTimeout);
  if (!removed) return Status(Code::kUnavailable, "the request, its deployments or its API CRDs are still there");
  return Status();
}

Status ValidateFlow::teardown() {
  if (operator_) {
    operator_->requestStop();
    Status stopped = operator_->wait();
    operator_.reset();
    if (!stopped.isOk()) return stopped;
  }
  if (sim_) {
    // Close this process's connections first: the server would wait out their keep-alive.
    for (Connection* c : {&onboarding_, &platform_, &mcp_}) {
      c->client.reset();
      c->transport.reset();
    }
    sim_->stop();
    sim_.reset();
    return Status();
  }
  // Real clusters: remove what SETUP created (the request is gone already).
  if (platform_.client) {
    Status s = platform_.client->remove(kClusterRequestResource, k8s::mcpNamespace(ns_, name_), name_);
    if (!s.isOk() && s.code() != Code::kNotFound) return s;
  }
  return Status();
}

}  // namespace spr::cli
