// From a Crossplane request and the Offer to a Plan, and from a Plan to the objects: Flux's
// OCIRepository and HelmRelease (and the kubeconfig Secret they use) on the platform
// cluster, the namespace, CA bundle copy and Provider objects on the MCP cluster.
#include <set>

#include "adapters/k8s/encoding.h"
#include "adapters/k8s/openmcp.h"
#include "providers/crossplane/crossplane.h"

namespace spr::providers::crossplane {

const k8s::GroupVersionResource kProviders{"pkg.crossplane.io", "v1", "providers", false};
const k8s::GroupVersionResource kOciRepositories{"source.toolkit.fluxcd.io", "v1", "ocirepositories", true};
const k8s::GroupVersionResource kHelmReleases{"helm.toolkit.fluxcd.io", "v2", "helmreleases", true};
const k8s::GroupVersionResource kSecrets{"", "v1", "secrets", true};
const k8s::GroupVersionResource kAccessRequests{"clusters.openmcp.cloud", "v1alpha1", "accessrequests", true};

const json& field(const json& object, const char* name) {
  static const json kNull;  // immutable; shared by every caller
  return object.is_object() && object.contains(name) ? object[name] : kNull;
}

std::string str(const json& object, const char* name) {
  const json& v = field(object, name);
  return v.is_string() ? v.get<std::string>() : std::string();
}

namespace {

std::string withoutV(const std::string& v) { return !v.empty() && v[0] == 'v' ? v.substr(1) : v; }

// Exact match first, then ignoring a leading "v" (1.20.5 names v1.20.5).
template <typename T>
const T* findVersion(const std::vector<const T*>& candidates, const std::string& version) {
  for (const T* c : candidates)
    if (c->version == version) return c;
  for (const T* c : candidates)
    if (withoutV(c->version) == withoutV(version)) return c;
  return nullptr;
}

OpResult resolveVersion(const json& spec, const Offer& offer, Plan& plan) {
  std::vector<std::string> allowed;
  std::vector<const ChartOffer*> all;
  for (const auto& c : offer.crossplane) {
    allowed.push_back(c.version);
    all.push_back(&c);
  }
  plan.version = str(spec, "version");
  if (plan.version.empty())
    return OpResult::user("InvalidSpec", "spec.version is required; allowed: " + kit::joinList(allowed));
  const ChartOffer* chosen = findVersion(all, plan.version);
  if (!chosen)
    return OpResult::user("VersionNotAllowed", "spec.version \"" + plan.version + "\" is not offered; allowed: " +
                                                   (allowed.empty() ? "none (the discovery lists no Crossplane chart)"
                                                                    : kit::joinList(allowed)));
  std::string repository;
  splitReference(chosen->chartRef, repository, plan.chartTag, plan.chartDigest);
  plan.chartUrl = repository.rfind("oci://", 0) == 0 ? repository : "oci://" + repository;
  plan.chartVersion = plan.chartTag;  // Helm stores "+" as "_" in OCI tags
  for (auto& ch : plan.chartVersion)
    if (ch == '_') ch = '+';
  if (!chosen->imageRef.empty()) {
    std::string tag, digest;
    splitReference(chosen->imageRef, plan.imageRepository, tag, digest);
    plan.imageTag = digest.empty() ? tag : tag + "@" + digest;
  }
  if (!chosen->pullSecret.empty()) plan.chartPullSecrets.push_back(chosen->pullSecret);
  return OpResult::success();
}

std::vector<std::string> offered(const Offer& offer) {
  std::vector<std::string> out;
  for (const auto& p : offer.providers) out.push_back(p.name + " " + p.version);
  return out;
}

OpResult resolveProvider(const json& wanted, const Offer& offer, Plan& plan) {
  std::string name = str(wanted, "name"), version = str(wanted, "version");
  std::vector<std::string> allowed = offered(offer);
  std::string allowedText =
      allowed.empty() ? "none (no discovery ConfigMap matches providerDiscoverySelector)" : kit::joinList(allowed);
  if (name.empty() || version.empty())
    return OpResult::user("InvalidSpec", "every spec.providers entry needs name and version; allowed: " + allowedText);
  std::vector<const ProviderOffer*> candidates;
  for (const auto& p : offer.providers)
    if (p.name == name) candidates.push_back(&p);
  const ProviderOffer* chosen = findVersion(candidates, version);
  if (!chosen)
    return OpResult::user("ProviderNotAllowed", "spec.providers: \"" + name + "\" version \"" + version +
                                                    "\" is not offered; allowed: " + allowedText);
  RequestedProvider p{name, version, chosen->package, str(wanted, "packagePullPolicy"), offer.pullSecrets, nullptr};
  if (!chosen->pullSecret.empty()) p.pullSecrets.push_back(chosen->pullSecret);
  for (const auto& s : field(wanted, "packagePullSecrets"))
    if (!str(s, "name").empty()) p.pullSecrets.push_back(str(s, "name"));
  if (field(wanted, "runtimeConfigRef").is_object()) p.runtimeConfigRef = wanted["runtimeConfigRef"];
  plan.providers.push_back(std::move(p));
  return OpResult::success();
}

}  // namespace

OpResult makePlan(const json& apiObject, const Offer& offer, Plan& plan) {
  plan = Plan{};
  plan.ownerNamespace = str(field(apiObject, "metadata"), "namespace");
  plan.ownerName = str(field(apiObject, "metadata"), "name");
  plan.tenantNamespace = k8s::mcpNamespace(plan.ownerNamespace, plan.ownerName);
  const json& spec = field(apiObject, "spec");
  OpResult r = resolveVersion(spec, offer, plan);
  if (!r.ok()) return r;
  plan.providerPullSecrets = offer.pullSecrets;
  const json& wanted = field(spec, "providers");
  if (wanted.is_null()) return OpResult::success();
  if (!wanted.is_array()) return OpResult::user("InvalidSpec", "spec.providers must be a list of {name, version}");
  std::set<std::string> seen;
  for (const auto& w : wanted) {
    if (!seen.insert(str(w, "name")).second)
      return OpResult::user("InvalidSpec", "spec.providers names \"" + str(w, "name") + "\" twice; list it once");
    r = resolveProvider(w, offer, plan);
    if (!r.ok()) return r;
  }
  return OpResult::success();
}

std::string ownerSelector(const std::string& ownerNamespace, const std::string& ownerName) {
  return std::string(kOwnerNamespaceLabel) + "=" + ownerNamespace + "," + kOwnerNameLabel + "=" + ownerName;
}

bool ownedBy(const json& object, const std::string& ownerNamespace, const std::string& ownerName) {
  const json& labels = field(field(object, "metadata"), "labels");
  return str(labels, kOwnerNamespaceLabel) == ownerNamespace && str(labels, kOwnerNameLabel) == ownerName;
}

namespace {

json labels(const Plan& plan) {
  return {{"app.kubernetes.io/name", kName},
          {kManagedByLabel, kManagedBy},
          {kOwnerNamespaceLabel, plan.ownerNamespace},
          {kOwnerNameLabel, plan.ownerName}};
}

json meta(const Plan& plan, const std::string& name, const std::string& ns) {
  json m = {{"name", name}, {"labels", labels(plan)}};
  if (!ns.empty()) m["namespace"] = ns;
  return m;
}

json names(const std::vector<std::string>& list) {
  json out = json::array();
  for (const auto& n : list) out.push_back({{"name", n}});
  return out;
}

json chartValues(const Plan& plan) {
  json values = json::object();
  if (!plan.imageRepository.empty()) values["image"] = {{"repository", plan.imageRepository}, {"tag", plan.imageTag}};
  if (!plan.chartPullSecrets.empty()) values["imagePullSecrets"] = plan.chartPullSecrets;
  if (plan.caBundle) values["registryCaBundleConfig"] = {{"name", kCaBundleConfigMap}, {"key", plan.caBundle->key}};
  return values;
}

}  // namespace

kit::Desired kubeconfigSecret(const Plan& plan, const std::string& kubeconfigBase64) {
  return {kSecrets,
          {{"apiVersion", "v1"},
           {"kind", "Secret"},
           {"metadata", meta(plan, kKubeconfigSecret, plan.tenantNamespace)},
           {"type", "Opaque"},
           {"data", {{kKubeconfigKey, kubeconfigBase64}}}}};
}

kit::Desired ociRepository(const Plan& plan) {
  json ref = {{"tag", plan.chartTag}};
  if (!plan.chartDigest.empty()) ref["digest"] = plan.chartDigest;
  json spec = {
      {"url", plan.chartUrl},
      {"ref", ref},
      {"interval", "10m"},
      {"timeout", "60s"},
      {"layerSelector", {{"mediaType", "application/vnd.cncf.helm.chart.content.v1.tar+gzip"}, {"operation", "copy"}}}};
  if (!plan.chartPullSecrets.empty()) spec["secretRef"] = {{"name", plan.chartPullSecrets.front()}};
  if (plan.caBundle) spec["certSecretRef"] = {{"name", kCaBundleConfigMap}};
  return {kOciRepositories,
          {{"apiVersion", "source.toolkit.fluxcd.io/v1"},
           {"kind", "OCIRepository"},
           {"metadata", meta(plan, kName, plan.tenantNamespace)},
           {"spec", spec}}};
}

kit::Desired helmRelease(const Plan& plan) {
  json remediation = {{"retries", 3}};
  json spec = {{"interval", "10m"},
               {"releaseName", kName},
               {"targetNamespace", kNamespace},
               {"storageNamespace", kNamespace},
               {"chartRef", {{"kind", "OCIRepository"}, {"name", kName}}},
               {"kubeConfig", {{"secretRef", {{"name", kKubeconfigSecret}, {"key", kKubeconfigKey}}}}},
               {"install", {{"crds", "CreateReplace"}, {"remediation", remediation}}},
               {"upgrade", {{"crds", "CreateReplace"}, {"remediation", remediation}}},
               {"values", chartValues(plan)}};
  return {kHelmReleases,
          {{"apiVersion", "helm.toolkit.fluxcd.io/v2"},
           {"kind", "HelmRelease"},
           {"metadata", meta(plan, kName, plan.tenantNamespace)},
           {"spec", spec}}};
}

kit::Desired caCertSecret(const Plan& plan) {
  json m = meta(plan, kCaBundleConfigMap, plan.tenantNamespace);
  json data = json::object();
  if (plan.caBundle) {
    m["annotations"] = {{kSourceDigestAnnotation, plan.caBundle->digest}};
    data["ca.crt"] = k8s::base64Encode(plan.caBundle->pem);
  }
  return {kSecrets, {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", m}, {"type", "Opaque"}, {"data", data}}};
}

kit::Desired pullSecretCopy(const Plan& plan, const std::string& name, const std::string& ns) {
  const json& source = plan.pullSecretData[name];
  return {kSecrets,
          {{"apiVersion", "v1"},
           {"kind", "Secret"},
           {"metadata", meta(plan, name, ns)},
           {"type", source.value("type", "Opaque")},
           {"data", source.value("data", json::object())}}};
}

std::vector<kit::Desired> mcpBaseObjects(const Plan& plan) {
  std::vector<kit::Desired> out;
  out.push_back(
      {kit::kNamespaces, {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", meta(plan, kNamespace, "")}}});
  for (const auto& [name, source] : plan.pullSecretData.items()) out.push_back(pullSecretCopy(plan, name, kNamespace));
  if (plan.caBundle) {
    json m = meta(plan, kCaBundleConfigMap, kNamespace);
    m["annotations"] = {{kSourceDigestAnnotation, plan.caBundle->digest}};
    out.push_back({kit::kConfigMaps,
                   {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", m},
                    {"data", {{plan.caBundle->key, plan.caBundle->pem}}}}});
  }
  return out;
}

std::vector<kit::Desired> providerObjects(const Plan& plan) {
  std::vector<kit::Desired> out;
  for (const auto& p : plan.providers) {
    json m = meta(plan, p.name, "");
    m["labels"]["app.kubernetes.io/name"] = p.name;
    m["labels"]["app.kubernetes.io/version"] = p.version;
    json spec = {{"package", p.package}};
    if (!p.packagePullPolicy.empty()) spec["packagePullPolicy"] = p.packagePullPolicy;
    if (!p.pullSecrets.empty()) spec["packagePullSecrets"] = names(p.pullSecrets);
    if (!p.runtimeConfigRef.is_null()) spec["runtimeConfigRef"] = p.runtimeConfigRef;
    out.push_back(
        {kProviders, {{"apiVersion", "pkg.crossplane.io/v1"}, {"kind", "Provider"}, {"metadata", m}, {"spec", spec}}});
  }
  return out;
}

namespace {

// The condition `type` of `object`, or null.
const json* condition(const json& object, const char* type) {
  for (const auto& c : field(field(object, "status"), "conditions"))
    if (str(c, "type") == type) return &c;
  return nullptr;
}

}  // namespace

std::string releaseNotReady(const json& hr, const std::string& chartVersion) {
  const std::string name = "HelmRelease " + str(field(hr, "metadata"), "namespace") + "/" + kName;
  const json* ready = condition(hr, "Ready");
  long generation = field(hr, "metadata").value("generation", 0L);
  long observed = field(hr, "status").is_object() ? hr["status"].value("observedGeneration", -1L) : -1L;
  if (!ready || observed != generation) return name + " is not reconciled by Flux yet";
  if (str(*ready, "status") != "True")
    return name + " is not Ready: " + str(*ready, "reason") + ": " + str(*ready, "message");
  const json& history = field(field(hr, "status"), "history");
  std::string deployed = history.is_array() && !history.empty() ? str(history[0], "chartVersion") : "";
  if (deployed != chartVersion)
    return name + " has chart version \"" + deployed + "\" deployed, want \"" + chartVersion + "\"";
  return "";
}

std::string providerNotHealthy(const json& provider) {
  const std::string name = "Provider " + str(field(provider, "metadata"), "name");
  for (const char* type : {"Installed", "Healthy"}) {
    const json* c = condition(provider, type);
    if (!c) return name + " has no " + type + " condition yet";
    if (str(*c, "status") != "True")
      return name + " is not " + type + ": " + str(*c, "reason") + " " + str(*c, "message");
  }
  return "";
}

}  // namespace spr::providers::crossplane
