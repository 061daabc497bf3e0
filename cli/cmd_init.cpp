// `spr init`: the init job openmcp-operator runs before the provider's Deployment. Installs
// the provider's API CRDs on the onboarding cluster and its ProviderConfig CRDs on the
// platform cluster, idempotently (an existing CRD gets the current spec), and waits until
// they are Established. Exit 0 done, 1 a cluster refused, 2 bad flags.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/scenario.h"
#include "common/flags.h"
#include "common/log.h"

namespace spr::cli {

int cmdInit(const Args& args) {
  Flags flags("spr init", "install the provider's CRDs on the onboarding and platform clusters");
  flags.addString("provider-name", "the provider whose CRDs to install, e.g. crossplane");
  flags.addString("onboarding-kubeconfig", "FILE or FILE#context (default: via ClusterRequest, as spr run)");
  flags.addString("platform-kubeconfig", "FILE or FILE#context (default: KUBECONFIG, in-cluster, ~/.kube/config)");
  flags.addString("access-namespace", "platform namespace for the onboarding ClusterRequest", "default");
  flags.addInt("timeout-seconds", "how long to wait for the CRDs to be Established", 60);
  // Appended by openmcp-operator; accepted.
  flags.addString("environment", "openMCP environment name (accepted)", "");
  flags.addString("verbosity", "log level: DEBUG, INFO, WARN, ERROR", "INFO");
  if (auto done = parseCommandLine(flags, args)) return *done;
  log::configure(log::parseLevel(flags.getString("verbosity")), true);
  std::string name = flags.getString("provider-name");
  auto provider = providers::makeProvider(name);
  if (name.empty() || !provider) {
    std::fprintf(stderr, "spr init: --provider-name must name a built-in provider (crossplane, template); got \"%s\"\n",
                 name.c_str());
    return 2;
  }
  ClusterFlags clusterFlags{flags.getString("onboarding-kubeconfig"),
                            flags.getString("platform-kubeconfig"),
                            flags.getString("access-namespace"),
                            name,
                            {}};
  k8s::ClusterConfig onboardingCfg, platformCfg;
  Status resolved = resolveClusters(clusterFlags, onboardingCfg, platformCfg);
  if (!resolved.isOk()) {
    std::fprintf(stderr, "spr init: %s\n", resolved.message().c_str());
    return resolved.code() == Code::kInvalidArgument ? 2 : 1;
  }
  auto onboarding = connect(onboardingCfg);
  auto platform = connect(platformCfg);
  if (!onboarding || !platform) {
    std::fprintf(stderr, "spr init: %s\n", (!onboarding ? onboarding : platform).status().message().c_str());
    return 2;
  }
  std::chrono::seconds timeout(flags.getInt("timeout-seconds"));
  Status api = installCrds(*onboarding->client, provider->apiCrds(), timeout);
  Status config = api.isOk() ? installCrds(*platform->client, provider->configCrds(), timeout) : Status();
  if (!api.isOk() || !config.isOk()) {
    std::fprintf(stderr, "spr init: installing CRDs on the %s cluster: %s\n", api.isOk() ? "platform" : "onboarding",
                 (api.isOk() ? config : api).message().c_str());
    return 1;
  }
  std::printf("spr init: %zu CRD(s) on the onboarding cluster and %zu on the platform cluster are Established\n",
              provider->apiCrds().size(), provider->configCrds().size());
  return 0;
}

}  // namespace spr::cli
