#include "runtime/ca_bundle_fetch.h"

#include "runtime/ca_bundle.h"

namespace spr::runtime {

using nlohmann::json;

namespace {

std::string configName(const json& config) {
  return config.is_object() ? config.value("metadata", json::object()).value("name", std::string()) : "";
}

std::string keysOf(const json& data) {
  std::string out;
  if (data.is_object())
    for (auto it = data.begin(); it != data.end(); ++it) out += (out.empty() ? "" : ", ") + it.key();
  return out.empty() ? "none" : out;
}

}  // namespace

Result<std::optional<providers::CaBundle>> fetchCaBundle(k8s::Client& platform, const json& config,
                                                         const std::string& podNamespace) {
  const json spec = config.is_object() ? config.value("spec", json::object()) : json::object();
  if (!spec.is_object() || !spec.contains("caBundleRef") || spec["caBundleRef"].is_null())
    return std::optional<providers::CaBundle>();
  const std::string where = "ProviderConfig \"" + configName(config) + "\" spec.caBundleRef";
  auto ref = caBundleRefOf(config);
  if (!ref)
    return Status(Code::kInvalidArgument,
                  where + " must name a ConfigMap and a key ({name: ..., key: ...}); the operator must fix it");
  const std::string ns = namespaceOf(config, podNamespace);
  const std::string cm = "ConfigMap " + ns + "/" + ref->name;
  const std::string fix = "; create it on the platform cluster (kubectl -n " + ns + " create configmap " + ref->name +
                          " --from-file=" + ref->key + "=ca.pem) or remove caBundleRef";
  auto live = platform.get(k8s::GroupVersionResource{"", "v1", "configmaps", true}, ns, ref->name);
  if (!live && live.status().code() == Code::kNotFound)
    return Status(Code::kInvalidArgument, cm + " named by " + where + " does not exist" + fix);
  if (!live) return live.status();
  const json data = live->value("data", json::object());
  auto pem = data.is_object() ? data.find(ref->key) : data.end();
  if (!data.is_object() || pem == data.end() || !pem->is_string())
    return Status(Code::kInvalidArgument,
                  cm + " named by " + where + " has no key \"" + ref->key + "\" (it has " + keysOf(data) + ")" + fix);
  if (pem->get<std::string>().find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return Status(Code::kInvalidArgument, cm + " key \"" + ref->key + "\" named by " + where +
                                              " holds no PEM certificate (-----BEGIN CERTIFICATE-----)" + fix);
  providers::CaBundle bundle{ref->name, ref->key, pem->get<std::string>(), sha256Hex(pem->get<std::string>())};
  return std::optional<providers::CaBundle>(std::move(bundle));
}

}  // namespace spr::runtime
