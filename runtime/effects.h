// Effect execution: runs one lifecycle command (provider Observe/Create/Update/Delete,
// finalizer add/remove, status write + Event, annotation clear) against the clusters
// through recording transports, and returns the outcome and the tape. Reusable by replay:
// give it a TransportFactory that answers from a tape. Thread-safe: run() may be called
// concurrently for different objects; each call builds its own clients.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"
#include "adapters/k8s/transport.h"
#include "common/status.h"
#include "providers/provider.h"
#include "runtime/effect_types.h"
#include "runtime/operator.h"
#include "runtime/recording_transport.h"

namespace spr::runtime {

// Builds the transport an effect uses to reach one cluster. The real factory pools curl
// transports by server + credential digest and wraps them in a RecordingTransport.
class TransportFactory {
 public:
  virtual ~TransportFactory() = default;
  // `clusterName` labels tape entries ("onboarding", "platform", "mcp", "workload").
  [[nodiscard]] virtual Result<std::unique_ptr<k8s::Transport>> make(const std::string& clusterName,
                                                                     const k8s::ClusterConfig& config, Tape* tape) = 0;
};
// `abort` (may be null): once true, the curl calls of every transport it made end at once
// (k8s::CurlOptions::abort).
std::unique_ptr<TransportFactory> realTransportFactory(std::shared_ptr<const std::atomic<bool>> abort = nullptr);

class EffectExecutor : public EffectRunner {
 public:
  struct Config {
    std::string providerName;
    k8s::ClusterConfig onboarding, platform;
    providers::Provider* provider = nullptr;  // must outlive the executor
    Clock* clock = nullptr;                   // must outlive the executor
    TransportFactory* factory = nullptr;      // null = realTransportFactory(); must outlive
    // Retries of the clients effects use (429/5xx). Replay keeps the attempts (the tape holds
    // them) but skips the sleeps.
    k8s::RetryPolicy retry;
    // spr's namespace on the platform cluster (POD_NAMESPACE): where caBundleRef's ConfigMap
    // is read when the journaled config does not name it (runtime/ca_bundle.h).
    std::string podNamespace = "default";
    std::string providerConfigName;  // the ProviderConfig's name; "" = providerName
  };
  explicit EffectExecutor(Config config);
  EffectOutput run(const EffectInput& input) override;
  // Removes `openmcp.cloud/operation: reconcile` from the ProviderConfig `config` names
  // (GET + PUT, retried on 409; nothing when the annotation is gone or says something
  // else), recorded in the output's tape. Defined in runtime/config_ops.cpp.
  EffectOutput clearConfigOperation(const nlohmann::json& config);
  // Shutdown: cluster calls in flight end within about a second (with the real factory),
  // retries stop waiting, and every effect that finishes from now on is `interrupted`.
  // Irreversible; thread-safe.
  void abortClusterCalls() { abort_->store(true); }

 private:
  Config config_;
  std::unique_ptr<TransportFactory> ownedFactory_;
  std::shared_ptr<std::atomic<bool>> abort_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace spr::runtime
