// FakeScope: a ReconcileScope for provider tests. The MCP cluster is a FakeCluster (via a
// real k8s::Client without retries); onboarding and platform are separate FakeClusters.
// `mcpError` makes mcp() fail as when the AccessRequest is not granted yet; `bundle` and
// `bundleError` are what caBundle() answers. Not thread-safe.
#pragma once

#include <memory>

#include "providers/provider.h"
#include "tests/providers/fake_cluster.h"

namespace spr::testing {

inline k8s::RetryPolicy noRetry() {
  k8s::RetryPolicy p;
  p.maxAttempts = 1;
  return p;
}

class FakeScope : public providers::ReconcileScope {
 public:
  explicit FakeScope(json config) : config(std::move(config)) {}

  const json& providerConfig() const override { return config; }
  k8s::Client& onboarding() override { return onboardingClient; }
  k8s::Client& platform() override { return platformClient; }
  Result<k8s::Client*> mcp() override {
    if (!mcpError.isOk()) return mcpError;
    return &mcpClient;
  }
  Result<k8s::Client*> workload() override { return Status(Code::kUnavailable, "no workload cluster in this test"); }
  Result<std::optional<providers::CaBundle>> caBundle() override {
    if (!bundleError.isOk()) return bundleError;
    return bundle;
  }

  json config;
  FakeCluster cluster;  // the MCP cluster's objects, for assertions and hand edits
  FakeCluster onboardingCluster, platformCluster;
  Status mcpError;
  std::optional<providers::CaBundle> bundle;  // what caBundle() answers, unless bundleError is set
  Status bundleError;
  k8s::Client mcpClient{cluster, noRetry()};
  k8s::Client onboardingClient{onboardingCluster, noRetry()};
  k8s::Client platformClient{platformCluster, noRetry()};
};

}  // namespace spr::testing
