// Cluster connection settings and where they come from: kubeconfig files (YAML, with
// contexts, merged KUBECONFIG lists), in-cluster service-account config, and the
// `FILE#context` form of spr's kubeconfig flags. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace spr::k8s {

// Everything needed to reach one API server. *Data fields hold PEM bytes (already
// base64-decoded); *File fields are paths read at connect time.
struct ClusterConfig {
  std::string name;    // context (or cluster) name, for messages
  std::string server;  // e.g. "https://127.0.0.1:6443/clusters/onboarding" (a path prefix is kept)
  std::string caData, caFile;
  std::string clientCertData, clientCertFile, clientKeyData, clientKeyFile;
  std::string bearerToken, tokenFile;
  bool insecureSkipTlsVerify = false;
  std::string source;  // where it came from ("kubeconfig /root/.kube/config context kind-kind", "in-cluster")
};

// The process environment, as an interface so tests supply their own.
struct Env {
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::function<Result<std::string>(const std::string&)> readFile;  // kNotFound / kIoError naming the path
  std::function<bool(const std::string&)> fileExists;
  static Env system();
};

// Parses kubeconfig YAML. `context` "" = current-context. `source` names the text in errors
// ("file /x/kubeconfig", "Secret ns/name"). Errors (kInvalidArgument) name the source,
// the context and the field that is wrong, and say how to fix it.
[[nodiscard]] Result<ClusterConfig> parseKubeconfig(const std::string& yaml, const std::string& context,
                                                    const std::string& source);
// Reads and parses one kubeconfig file (relative certificate/token paths resolved against its folder).
[[nodiscard]] Result<ClusterConfig> loadKubeconfig(const std::string& path, const std::string& context);
// spr's flag value: "" (defaults), "FILE" or "FILE#context". With "", the controller-runtime
// order: $KUBECONFIG (colon-separated, merged: first file wins per name), then in-cluster
// (KUBERNETES_SERVICE_HOST/PORT + /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}),
// then ~/.kube/config.
[[nodiscard]] Result<ClusterConfig> resolveConfig(const std::string& flagValue, const Env& env);
// In-cluster config only (kNotFound when not running in a pod).
[[nodiscard]] Result<ClusterConfig> inClusterConfig(const Env& env);

}  // namespace spr::k8s
