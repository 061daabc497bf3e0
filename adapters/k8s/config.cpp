// Where cluster settings come from: Env::system(), kubeconfig files (single or a merged
// KUBECONFIG list), in-cluster service-account config, and spr's FILE#context flag form.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "adapters/k8s/config.h"
#include "adapters/k8s/kubeconfig.h"

namespace spr::k8s {
namespace {

const char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount/";

Result<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    Code code = err == ENOENT ? Code::kNotFound : Code::kIoError;
    return Status(code, "cannot read " + path + ": " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(Code::kIoError, "cannot read " + path + ": read error");
  return text.str();
}

std::string dirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<ClusterConfig> loadWith(const Env& env, const std::string& path, const std::string& context) {
  auto text = env.readFile(path);
  if (!text.isOk())
    return Status(Code::kInvalidArgument, "kubeconfig file " + path + (context.empty() ? "" : " context " + context) +
                                              ": " + text.status().message() + "; check the path and its permissions");
  auto doc = parseKubeconfigDoc(*text, "file " + path, dirName(path));
  if (!doc.isOk()) return doc.status();
  return selectContext(*doc, context, "file " + path);
}

// $KUBECONFIG: a colon-separated list merged in order (the first file wins per name);
// missing files are skipped as kubectl skips them, unreadable ones are errors.
Result<ClusterConfig> loadMerged(const Env& env, const std::string& list) {
  Kubeconfig merged;
  std::vector<std::string> used;
  std::stringstream parts(list);
  std::string path;
  while (std::getline(parts, path, ':')) {
    if (path.empty()) continue;
    auto text = env.readFile(path);
    if (!text.isOk()) {
      if (text.status().code() == Code::kNotFound) continue;
      return Status(Code::kInvalidArgument, "kubeconfig file " + path +
                                                " (from KUBECONFIG): " + text.status().message() +
                                                "; fix its permissions or remove it from KUBECONFIG");
    }
    auto doc = parseKubeconfigDoc(*text, "file " + path, dirName(path));
    if (!doc.isOk()) return doc.status();
    mergeKubeconfig(merged, *doc);
    used.push_back(path);
  }
  if (used.empty())
    return Status(Code::kInvalidArgument,
                  "KUBECONFIG=" + list + " names no existing file; fix the variable or unset it");
  std::string source = used.size() == 1 ? "file " + used[0] : "files " + list + " (KUBECONFIG)";
  return selectContext(merged, "", source);
}

}  // namespace

Env Env::system() {
  Env env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
  env.readFile = readWholeFile;
  env.fileExists = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  };
  return env;
}

Result<ClusterConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  return loadWith(Env::system(), path, context);
}

Result<ClusterConfig> inClusterConfig(const Env& env) {
  auto host = env.getenv("KUBERNETES_SERVICE_HOST");
  auto port = env.getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty())
    return Status(Code::kNotFound, "not running in a pod: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set");
  const std::string tokenFile = std::string(kServiceAccountDir) + "token";
  auto token = env.readFile(tokenFile);
  if (!token.isOk())
    return Status(Code::kInvalidArgument, "in-cluster config: " + token.status().message() +
                                              "; mount the service-account token (automountServiceAccountToken)");
  ClusterConfig out;
  out.name = "in-cluster";
  out.source = "in-cluster";
  bool ipv6 = host->find(':') != std::string::npos;
  out.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  out.tokenFile = tokenFile;  // re-read by the transport: projected tokens rotate
  const std::string caFile = std::string(kServiceAccountDir) + "ca.crt";
  if (env.fileExists(caFile)) out.caFile = caFile;
  return out;
}

Result<ClusterConfig> resolveConfig(const std::string& flagValue, const Env& env) {
  if (!flagValue.empty()) {
    auto hash = flagValue.rfind('#');
    if (hash == std::string::npos) return loadWith(env, flagValue, "");
    return loadWith(env, flagValue.substr(0, hash), flagValue.substr(hash + 1));
  }
  auto list = env.getenv("KUBECONFIG");
  if (list && !list->empty()) return loadMerged(env, *list);
  auto inCluster = inClusterConfig(env);
  if (inCluster.isOk() || inCluster.status().code() != Code::kNotFound) return inCluster;
  auto home = env.getenv("HOME");
  if (home && !home->empty() && env.fileExists(*home + "/.kube/config"))
    return loadWith(env, *home + "/.kube/config", "");
  return Status(Code::kNotFound,
                "no cluster configuration found: give the command's kubeconfig flag (FILE[#CONTEXT]), set KUBECONFIG, "
                "run in a pod, or create ~/.kube/config");
}

}  // namespace spr::k8s
