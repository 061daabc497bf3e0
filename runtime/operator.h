// The operator runtime loop: watches a provider's ServiceProviderAPI kind (onboarding
// cluster) and its ProviderConfig (platform cluster), journals every input before folding
// it, runs the fold's commands as recorded effects with per-object serialization, and
// serves metrics/health. Operator is thread-safe: objects()/effectsRun()/requestStop()
// may be called from any thread while it runs. Journal record layout: runtime/RECORDS.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/k8s/config.h"
#include "common/status.h"
#include "core/statemachine/lifecycle.h"
#include "providers/provider.h"
#include "runtime/retention.h"
#include "runtime/types.h"

namespace spr::runtime {

struct OperatorOptions {
  std::string providerName;  // --provider-name
  // --provider-config-name: the cluster-scoped ProviderConfig spr reads; "" = providerName.
  std::string providerConfigName;
  std::string journalDir;
  k8s::ClusterConfig onboarding, platform;  // resolved by the caller (kubeconfig FILE#context, in-cluster, ...)
  int workers = 8;
  std::string metricsBindAddress;      // "" or "0" = off; e.g. ":8080" or "127.0.0.1:0"
  std::string healthProbeBindAddress;  // "" or "0" = off; e.g. ":8081"
  // --metrics-secure: HTTPS with these PEM files, or a self-signed certificate when both "".
  bool metricsSecure = false;
  std::string metricsCertFile, metricsKeyFile;
  // With metricsSecure: every /metrics request needs a bearer token that a TokenReview on
  // the platform cluster authenticates and a SubjectAccessReview allows (runtime/metrics_auth.h).
  // false (--metrics-auth none) serves anyone who reaches the port.
  bool metricsAuth = true;
  bool leaderElect = false;
  std::string leaderElectionNamespace = "default";
  std::string leaderElectionId;  // Lease name; "" = "spr-<providerName>"
  // spr's own namespace on the platform cluster (--pod-namespace, default $POD_NAMESPACE):
  // where the ConfigMaps a ProviderConfig's caBundleRef names live (watched).
  std::string podNamespace = "default";
  double rateLimitQps = 100;  // global provider-effect rate limit (token bucket)
  int rateLimitBurst = 200;
  // Lease timings (seconds); tests may shorten them.
  double leaseDurationSec = 15, renewDeadlineSec = 10, retryPeriodSec = 2;
  // Scale factor for the fold's backoff and not-ready requeue delays (never the ProviderConfig's
  // pollInterval); tests use e.g. 0.05.
  double delayScale = 1.0;
  std::shared_ptr<Clock> clock;  // null = system clock
  // Polled while start() waits for the platform cluster (SIGTERM before start() returned):
  // true makes start() give up waiting and the operator stop (wait() returns ok).
  std::function<bool()> stopRequested;
  // Journaled as a ProcessStarted record when start() opens the journal. flagsDigest is a
  // digest of the command line: flag values (which may hold secrets) never reach the journal.
  std::string version, build, flagsDigest, flagNames;
  // Automatic compaction by age and size (--journal-retention-*); off without a compactor.
  RetentionOptions retention;
};

class Operator {
 public:
  // Validates the options; opens nothing yet.
  [[nodiscard]] static Result<std::unique_ptr<Operator>> create(OperatorOptions options,
                                                                std::unique_ptr<providers::Provider> provider);
  virtual ~Operator() = default;

  // Opens the journal, restores state, starts (leader election,) watches, workers and the
  // metrics/health servers; returns once running.
  [[nodiscard]] virtual Status start() = 0;
  // SIGTERM: stop taking new work, drain in-flight effects. Safe from any thread (not from
  // a signal handler: call it from a thread that sigwait()s).
  virtual void requestStop() = 0;
  // Blocks until stopped; returns what stopped it: ok after requestStop, kIoError when the
  // journal failed, kUnavailable when the Lease was lost, kUnauthorized when credentials
  // were refused.
  [[nodiscard]] virtual Status wait() = 0;
  virtual std::vector<ObjectView> objects() const = 0;
  virtual uint64_t effectsRun(lifecycle::Op op) const = 0;
  // Bound ports of the metrics / health servers (0 when off), after start().
  virtual int metricsPort() const = 0;
  virtual int healthPort() const = 0;
};

}  // namespace spr::runtime
