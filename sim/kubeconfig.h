// Kubeconfig YAML for the sim's clusters: one cluster/user/context per entry, named after
// the cluster, with the CA inline and a bearer token. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace spr::sim {

struct KubeconfigEntry {
  std::string name;
  std::string server;  // https://127.0.0.1:PORT/clusters/<name>
  std::string token;
};

// current-context = the first entry.
std::string kubeconfigYaml(const std::vector<KubeconfigEntry>& entries, const std::string& caPem);

}  // namespace spr::sim
