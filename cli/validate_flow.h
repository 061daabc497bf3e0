// The seed's validation flow for one provider (`spr validate`): SETUP, ASSESS request,
// ASSESS consume (DomainService + DomainServiceAPI available), ASSESS use the
// DomainServiceAPI, ASSESS deletion blocked by a user's object (where the provider
// declares blockers), ASSESS delete, TEARDOWN. Each step is timed and reported; the first
// failing ASSESS skips the rest (TEARDOWN always runs). Single-threaded; one per command.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/scenario.h"
#include "runtime/operator.h"
#include "sim/server.h"

namespace spr::cli {

// What the flow needs to know about a provider beyond the Provider interface: a
// ProviderConfig to offer, a request spec, and how its DomainService and DomainServiceAPI
// show up on the MCP cluster. Built in for crossplane and template; files override.
struct ValidationProfile {
  nlohmann::json providerConfig;  // the ProviderConfig object (metadata.name = provider name)
  // ConfigMaps the ProviderConfig refers to (e.g. crossplane's discovery), created on the
  // platform cluster in their metadata.namespace before it.
  std::vector<nlohmann::json> platformConfigMaps;
  nlohmann::json requestSpec;  // spec of the ServiceProviderAPI object
  // The DomainService: Deployments that must become Available (namespace, name).
  std::vector<std::pair<std::string, std::string>> deployments;
  // The DomainServiceAPI: CRD names that must be Established, and one object to create.
  std::vector<std::string> apiCrds;
  k8s::GroupVersionResource apiObjectResource;
  nlohmann::json apiObject;
  // The provider declares deletion blockers for apiObject's kind: while such an object
  // exists, deleting the request must wait with DeletionBlocked / UserResourcesPresent.
  bool apiObjectBlocksDeletion = false;
  // Where the provider copies a ProviderConfig caBundleRef's bundle on the MCP (namespace,
  // ConfigMap); the deployments above must mount it. Empty: no CA step.
  std::pair<std::string, std::string> caBundleCopy;
};
// kNotFound for a provider without a built-in profile (then --config/--request/... are needed).
[[nodiscard]] Result<ValidationProfile> builtinProfile(const std::string& provider);

struct ValidateOptions {
  std::string provider;
  std::string onboardingKubeconfig, platformKubeconfig;  // "" = the local API server
  bool externalOperator = false;                         // an operator already runs against those clusters
  std::string journalDir;                                // for the embedded operator
  std::chrono::seconds stepTimeout{60};
};

struct StepResult {
  std::string name;
  bool ok = false;
  bool skipped = false;
  double seconds = 0;
  std::string detail;
};

class ValidateFlow {
 public:
  ValidateFlow(ValidateOptions options, ValidationProfile profile);
  ~ValidateFlow();
  ValidateFlow(const ValidateFlow&) = delete;
  ValidateFlow& operator=(const ValidateFlow&) = delete;

  // Runs every step, printing each as it finishes. True when all passed.
  bool run();
  const std::vector<StepResult>& results() const { return results_; }

 private:
  Status setup();
  Status assessRequest();
  Status assessConsume();
  Status assessUse();
  Status assessCaBundle();  // validate_ca.cpp
  Status assessDeletionBlocked();
  Status assessDelete();
  Status teardown();
  Status connectMcp();
  void record(const std::string& name, const std::function<Status()>& step, bool skip);

  ValidateOptions options_;
  ValidationProfile profile_;
  std::unique_ptr<providers::Provider> provider_;
  std::unique_ptr<sim::SimServer> sim_;
  Connection onboarding_, platform_, mcp_;
  std::unique_ptr<runtime::Operator> operator_;
  std::string ns_, name_;
  std::vector<StepResult> results_;
};

}  // namespace spr::cli
