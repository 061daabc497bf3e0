// Fuzz target: kubeconfig loading (adapters/k8s/config, kubeconfig_yaml). The input holds
// up to three kubeconfig files separated by a line "#@@"; they are parsed alone, merged as
// a KUBECONFIG list through resolveConfig with a fake environment (no real files), and
// every context they name is selected. Invariant: every failure carries a message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "adapters/k8s/config.h"
#include "adapters/k8s/kubeconfig.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::vector<std::string> splitFiles(const std::string& input) {
  const std::string sep = "\n#@@\n";
  std::vector<std::string> files;
  size_t start = 0;
  while (files.size() < 2) {
    const size_t at = input.find(sep, start);
    if (at == std::string::npos) break;
    files.push_back(input.substr(start, at - start));
    start = at + sep.size();
  }
  files.push_back(input.substr(start));
  return files;
}

template <typename T>
void expectMessage(const spr::Result<T>& r) {
  if (!r.isOk()) FUZZ_CHECK(!r.status().message().empty(), r.status().toString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spr::k8s;
  using spr::Result;
  const std::vector<std::string> files = splitFiles(std::string(reinterpret_cast<const char*>(data), size));
  std::string list;
  for (size_t i = 0; i < files.size(); ++i) {
    list += (i ? ":" : "") + ("/fuzz/" + std::to_string(i));
    Result<Kubeconfig> doc = parseKubeconfigDoc(files[i], "fuzz file " + std::to_string(i), "/fuzz");
    expectMessage(doc);
    if (!doc.isOk()) continue;
    for (const auto& [name, context] : doc->contexts) expectMessage(selectContext(*doc, name, "fuzz"));
    expectMessage(selectContext(*doc, "", "fuzz"));
  }
  expectMessage(parseKubeconfig(files[0], "", "fuzz"));
  Env env;
  env.getenv = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "KUBECONFIG") return list;
    return std::nullopt;
  };
  env.readFile = [&](const std::string& path) -> spr::Result<std::string> {
    for (size_t i = 0; i < files.size(); ++i) {
      if (path == "/fuzz/" + std::to_string(i)) return files[i];
    }
    return spr::Result<std::string>(spr::Code::kNotFound, path + ": no such file");
  };
  env.fileExists = [&](const std::string& path) { return path.rfind("/fuzz/", 0) == 0; };
  expectMessage(resolveConfig("", env));
  return 0;
}
