// openMCP's ProviderConfig for crossplane and its release-channel discovery: ConfigMaps in
// the service provider's namespace whose data.components is a YAML list of OCM-style
// components ({name, version, pullSecret?, resources: [{name, type, version, access:
// {type, imageReference}}]}), as service-provider-crossplane reads them (commit in docs/API.md).
#include <yaml-cpp/yaml.h>

#include "common/yaml_json.h"
#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

namespace {

const k8s::GroupVersionResource kConfigMaps{"", "v1", "configmaps", true};

OpResult badConfig(const std::string& what) {
  return OpResult::user("InvalidProviderConfig",
                        "ProviderConfig \"crossplane\": " + what + "; the operator must fix the ProviderConfig");
}

std::string shortName(const std::string& component) {
  auto slash = component.rfind('/');
  return slash == std::string::npos ? component : component.substr(slash + 1);
}

std::string requirement(const json& e) {
  std::string key = str(e, "key"), op = str(e, "operator");
  std::vector<std::string> values;
  for (const auto& v : field(e, "values"))
    if (v.is_string()) values.push_back(v.get<std::string>());
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ",") + v;
  if (op == "In") return key + " in (" + list + ")";
  if (op == "NotIn") return key + " notin (" + list + ")";
  if (op == "Exists") return key;
  if (op == "DoesNotExist") return "!" + key;
  return "";
}

}  // namespace

OpResult checkConfig(const json& providerConfig) {
  const json& spec = field(providerConfig, "spec");
  if (spec.contains("versions") || field(spec, "providers").contains("availableProviders"))
    return badConfig(
        "spec.versions and spec.providers.availableProviders are spr's earlier shape, no longer read; "
        "openMCP's shape names release-channel discovery instead: spec.crossplaneDiscoveryName (the ConfigMap "
        "publishing Crossplane versions), spec.providerDiscoverySelector (labels of the ConfigMaps publishing "
        "provider versions) and spec.providers.imagePullSecretRefs (see docs/API.md)");
  if (str(spec, "crossplaneDiscoveryName").empty())
    return badConfig(
        "spec.crossplaneDiscoveryName is required (the ConfigMap publishing Crossplane versions), with "
        "spec.providerDiscoverySelector; spr's earlier spec.versions and spec.providers.availableProviders are no "
        "longer read (see docs/API.md)");
  if (!field(spec, "providerDiscoverySelector").is_object())
    return badConfig("spec.providerDiscoverySelector is required (a label selector)");
  for (const auto& e : field(field(spec, "providerDiscoverySelector"), "matchExpressions"))
    if (requirement(e).empty())
      return badConfig("spec.providerDiscoverySelector.matchExpressions: operator \"" + str(e, "operator") +
                       "\" is not one of In, NotIn, Exists, DoesNotExist");
  return OpResult::success();
}

std::string selectorString(const json& selector) {
  std::vector<std::string> parts;
  const json& labels = field(selector, "matchLabels");
  if (labels.is_object())
    for (const auto& [k, v] : labels.items()) parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : ""));
  for (const auto& e : field(selector, "matchExpressions")) parts.push_back(requirement(e));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

OpResult parseDiscovery(const json& configMap, std::vector<json>& out) {
  const std::string name =
      str(field(configMap, "metadata"), "namespace") + "/" + str(field(configMap, "metadata"), "name");
  const std::string text = str(field(configMap, "data"), "components");
  auto bad = [&](const std::string& why) {
    return badConfig(
        "discovery ConfigMap " + name + ": data.components " + why +
        "; it must be a YAML list of {name, version, resources: [{name, type, access: {imageReference}}]}");
  };
  if (text.empty()) return bad("is missing or empty");
  json parsed;
  try {
    parsed = yamlToJson(YAML::Load(text), YamlScalars::kStrings);  // 1.20 stays a version
  } catch (const std::exception& e) {
    return bad(std::string("is not YAML (") + e.what() + ")");
  }
  if (!parsed.is_array()) return bad("is not a list");
  for (const auto& c : parsed) {
    if (str(c, "name").empty() || str(c, "version").empty() || !field(c, "resources").is_array())
      return bad("has a component without name, version or resources");
    out.push_back(c);
  }
  return OpResult::success();
}

void addComponents(const std::vector<json>& components, bool crossplane, Offer& offer) {
  for (const auto& c : components) {
    std::string name = shortName(str(c, "name")), version = str(c, "version");
    std::string chart, image;
    for (const auto& r : field(c, "resources")) {
      std::string ref = str(field(r, "access"), "imageReference");
      if (str(r, "type") == "helmChart") chart = ref;
      if (str(r, "type") == "ociImage") image = ref;
    }
    if (crossplane && name == kName && !chart.empty())
      offer.crossplane.push_back({version, chart, image, str(c, "pullSecret")});
    else if (!crossplane && !image.empty())
      offer.providers.push_back({name, version, image, str(c, "pullSecret")});
  }
}

OpResult readOffer(k8s::Client& platform, const json& config, const std::string& ns, Offer& offer) {
  offer = Offer{};
  offer.discoveryNamespace = ns;
  OpResult r = checkConfig(config);
  if (!r.ok()) return r;
  const json& spec = config["spec"];
  for (const auto& s : field(field(spec, "providers"), "imagePullSecretRefs"))
    if (!str(s, "name").empty()) offer.pullSecrets.push_back(str(s, "name"));
  const std::string cpName = str(spec, "crossplaneDiscoveryName");
  auto cm = platform.get(kConfigMaps, ns, cpName);
  if (!cm && cm.status().code() == Code::kNotFound)
    return OpResult::user("DiscoveryNotFound", "the discovery ConfigMap " + ns + "/" + cpName +
                                                   " that ProviderConfig spec.crossplaneDiscoveryName names does "
                                                   "not exist on the platform cluster; the operator must create it");
  if (!cm) return OpResult::fromStatus(cm.status(), "reading discovery ConfigMap " + ns + "/" + cpName);
  std::vector<json> components;
  r = parseDiscovery(*cm, components);
  if (!r.ok()) return r;
  addComponents(components, true, offer);
  std::string selector = selectorString(field(spec, "providerDiscoverySelector"));
  if (selector.empty()) return OpResult::success();  // an empty selector selects nothing, as in openMCP
  auto list = platform.list(kConfigMaps, ns, {selector, "", 500});
  if (!list) return OpResult::fromStatus(list.status(), "listing provider discovery ConfigMaps in " + ns);
  for (const auto& item : (*list)["items"]) {
    std::vector<json> provided;
    r = parseDiscovery(item, provided);
    if (!r.ok()) return r;
    addComponents(provided, false, offer);
  }
  return OpResult::success();
}

void splitReference(const std::string& ref, std::string& repository, std::string& tag, std::string& digest) {
  std::string rest = ref;
  digest.clear();
  tag.clear();
  auto at = rest.find('@');
  if (at != std::string::npos) {
    digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  auto colon = rest.rfind(':');
  auto slash = rest.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  repository = rest;
}

}  // namespace spr::providers::crossplane
