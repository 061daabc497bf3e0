#include "sim/kubeconfig.h"

#include "sim/tls.h"

namespace spr::sim {

std::string kubeconfigYaml(const std::vector<KubeconfigEntry>& entries, const std::string& caPem) {
  std::string ca = base64Encode(caPem);
  std::string y = "apiVersion: v1\nkind: Config\nclusters:\n";
  for (const auto& e : entries)
    y += "- name: " + e.name + "\n  cluster:\n    server: " + e.server + "\n    certificate-authority-data: " + ca +
         "\n";
  y += "users:\n";
  for (const auto& e : entries) y += "- name: " + e.name + "\n  user:\n    token: " + e.token + "\n";
  y += "contexts:\n";
  for (const auto& e : entries)
    y += "- name: " + e.name + "\n  context:\n    cluster: " + e.name + "\n    user: " + e.name + "\n";
  y += "current-context: " + (entries.empty() ? std::string() : entries.front().name) + "\npreferences: {}\n";
  return y;
}

}  // namespace spr::sim
