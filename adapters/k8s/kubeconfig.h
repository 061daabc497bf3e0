// kubeconfig files as data: the clusters, users and contexts of one or more files (merged
// as KUBECONFIG lists are: the first file wins per name), and the selection of one context
// into a ClusterConfig. Private to spr_k8s (config.cpp, kubeconfig_yaml.cpp). Pure; thread-safe.
#pragma once

#include <map>
#include <string>

#include "adapters/k8s/config.h"

namespace spr::k8s {

struct KubeconfigCluster {
  std::string server, caFile, caData;
  bool insecure = false;
  std::string origin;  // the source it came from ("file /x/config"), for messages
};

struct KubeconfigUser {
  std::string token, tokenFile, certFile, certData, keyFile, keyData;
  bool hasExec = false, hasAuthProvider = false, hasPassword = false;
  std::string origin;
};

struct KubeconfigContext {
  std::string cluster, user, ns;
  std::string origin;
};

struct Kubeconfig {
  std::map<std::string, KubeconfigCluster> clusters;
  std::map<std::string, KubeconfigUser> users;
  std::map<std::string, KubeconfigContext> contexts;
  std::string currentContext;
};

// Parses one YAML document. `baseDir` ("" = none) resolves relative file paths, as kubectl
// resolves them against the kubeconfig's folder. Errors name `source` and the field.
[[nodiscard]] Result<Kubeconfig> parseKubeconfigDoc(const std::string& yaml, const std::string& source,
                                                    const std::string& baseDir);
// Adds what `into` lacks from `from` (the first file wins per name and for current-context).
void mergeKubeconfig(Kubeconfig& into, const Kubeconfig& from);
// The ClusterConfig of `context` ("" = current-context). `source` names the file(s) in errors.
[[nodiscard]] Result<ClusterConfig> selectContext(const Kubeconfig& config, const std::string& context,
                                                  const std::string& source);

}  // namespace spr::k8s
