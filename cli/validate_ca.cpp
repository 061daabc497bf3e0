// `spr validate`'s custom CA step: a ProviderConfig caBundleRef reaches the MCP as a copy of
// the bundle, the service's workloads mount it, and taking the ref away leaves the request
// Ready. Runs with the embedded operator, whose namespace on the platform cluster is
// "default" (an external operator's namespace is not known here).
#include "cli/scenario.h"
#include "cli/validate_flow.h"
#include "common/tls.h"
#include "providers/kit.h"

namespace spr::cli {

namespace {

using nlohmann::json;

const k8s::GroupVersionResource kDeployments{"apps", "v1", "deployments", true};
constexpr const char* kBundleName = "spr-validate-ca";
constexpr const char* kBundleKey = "ca.crt";

// A real (self-signed) CA certificate, so a real cluster's workloads can load it.
Result<std::string> caPem() {
  tls::KeyPtr key = tls::newKey();
  tls::CertPtr cert =
      key ? tls::newCert("spr validate CA", key.get(), nullptr, key.get(), 1, tls::CertKind::kCa) : nullptr;
  if (!cert) return Status(Code::kInternal, "could not make a CA certificate (OpenSSL)");
  return tls::pem(cert.get());
}

bool mountsConfigMap(const json& deployment, const std::string& configMap) {
  const json spec = deployment.value("spec", json::object()).value("template", json::object()).value("spec", json());
  if (!spec.is_object()) return false;
  for (const auto& v : spec.value("volumes", json::array()))
    if (v.is_object() && v.value("configMap", json::object()).value("name", "") == configMap) return true;
  return false;
}

}  // namespace

Status ValidateFlow::assessCaBundle() {
  SPR_RETURN_IF_ERROR(connectMcp());
  auto pem = caPem();
  if (!pem) return pem.status();
  json bundle = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", kBundleName}, {"namespace", "default"}}},
                 {"data", {{kBundleKey, *pem}}}};
  SPR_RETURN_IF_ERROR(createIfMissing(*platform_.client, providers::kit::kConfigMaps, "default", bundle));
  const auto& [copyNs, copyName] = profile_.caBundleCopy;
  if (mcp_.client->get(providers::kit::kConfigMaps, copyNs, copyName))
    return Status(Code::kInternal, "ConfigMap " + copyNs + "/" + copyName +
                                       " is on the MCP before any caBundleRef was set; nothing would be shown");
  const auto config = provider_->kinds().config;
  const std::string configName = profile_.providerConfig["metadata"].value("name", "");
  auto set = platform_.client->mergePatch(config, "", configName,
                                          {{"spec", {{"caBundleRef", {{"name", kBundleName}, {"key", kBundleKey}}}}}});
  if (!set) return set.status();
  std::string last = "not checked yet";
  bool mounted = waitFor(
      [&] {
        auto copy = mcp_.client->get(providers::kit::kConfigMaps, copyNs, copyName);
        last = "ConfigMap " + copyNs + "/" + copyName + " on the MCP: ";
        if (!copy) return (last += copy.status().message(), false);
        if (copy->value("data", json::object()).dump().find("BEGIN CERTIFICATE") == std::string::npos)
          return (last += "does not hold the bundle", false);
        for (const auto& [ns, name] : profile_.deployments) {
          auto d = mcp_.client->get(kDeployments, ns, name);
          last = "Deployment " + ns + "/" + name + " does not mount ConfigMap " + copyName;
          if (!d || !mountsConfigMap(*d, copyName)) return false;
        }
        return true;
      },
      options_.stepTimeout);
  if (!mounted) return Status(Code::kUnavailable, last);
  auto unset = platform_.client->mergePatch(config, "", configName, {{"spec", {{"caBundleRef", nullptr}}}});
  if (!unset) return unset.status();
  return Status();
}

}  // namespace spr::cli
