// `spr validate`: the seed's validation flow for a provider, against the local API server
// (default) or clusters given by kubeconfig. Prints each step with its result and time.
// Exit 0 all passed, 1 a step failed, 2 bad flags or files.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/validate_flow.h"
#include "common/flags.h"
#include "common/log.h"

namespace spr::cli {
namespace {

// Reads a JSON file given to a flag; errors name the flag and the file.
Status readJsonFlag(const Flags& flags, const std::string& flag, nlohmann::json* out) {
  std::string path = flags.getString(flag);
  if (path.empty()) return Status();
  std::ifstream in(path);
  if (!in) return Status(Code::kInvalidArgument, "--" + flag + " " + path + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return Status(Code::kInvalidArgument, "--" + flag + " " + path + ": not a JSON object");
  *out = parsed;
  return Status();
}

}  // namespace

int cmdValidate(const Args& args) {
  Flags flags("spr validate", "run the service-provider validation flow (SETUP, ASSESS ..., TEARDOWN)");
  flags.addString("provider-name", "the provider to validate", "crossplane");
  flags.addString("onboarding-kubeconfig", "FILE or FILE#context (default: the local API server)");
  flags.addString("platform-kubeconfig", "FILE or FILE#context (default: the local API server)");
  flags.addBool("external-operator", "an operator already runs against those clusters; do not start one");
  flags.addString("journal", "journal directory of the embedded operator (default: a new temp dir)");
  flags.addInt("step-timeout-seconds", "how long each step may take", 60);
  flags.addString("config", "JSON file: the ProviderConfig to create (default: the provider's built-in one)");
  flags.addString("request-spec", "JSON file: spec of the request (default: built in)");
  if (auto done = parseCommandLine(flags, args)) return *done;
  log::configure(log::Level::kWarn, true);
  ValidateOptions options;
  options.provider = flags.getString("provider-name");
  options.onboardingKubeconfig = flags.getString("onboarding-kubeconfig");
  options.platformKubeconfig = flags.getString("platform-kubeconfig");
  options.externalOperator = flags.getBool("external-operator");
  options.journalDir = flags.getString("journal");
  options.stepTimeout = std::chrono::seconds(flags.getInt("step-timeout-seconds"));
  if (options.onboardingKubeconfig.empty() != options.platformKubeconfig.empty()) {
    std::fprintf(stderr,
                 "spr validate: give both --onboarding-kubeconfig and --platform-kubeconfig, or neither "
                 "(the local API server)\n");
    return 2;
  }
  auto profile = builtinProfile(options.provider);
  if (!profile) {
    std::fprintf(stderr, "spr validate: %s\n", profile.status().message().c_str());
    return 2;
  }
  Status files = readJsonFlag(flags, "config", &profile->providerConfig);
  if (files.isOk()) files = readJsonFlag(flags, "request-spec", &profile->requestSpec);
  if (!files.isOk()) {
    std::fprintf(stderr, "spr validate: %s\n", files.message().c_str());
    return 2;
  }
  std::printf("spr validate: provider %s against %s\n", options.provider.c_str(),
              options.onboardingKubeconfig.empty() ? "the local API server" : "the given clusters");
  ValidateFlow flow(options, *profile);
  bool ok = flow.run();
  std::printf("spr validate: %s\n", ok ? "PASSED" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace spr::cli
