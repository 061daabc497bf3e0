// Built-in validation profiles: what `spr validate` offers, requests and checks for the
// providers compiled into spr. A provider without one is validated with --config and
// --request-spec files.
#include "cli/validate_flow.h"
#include "providers/crossplane/crossplane.h"
#include "providers/kit.h"

namespace spr::cli {
namespace {

using nlohmann::json;

ValidationProfile crossplaneProfile() {
  ValidationProfile p;
  p.providerConfig = providers::crossplane::exampleProviderConfig("5s");
  p.platformConfigMaps = providers::crossplane::exampleDiscovery();
  p.requestSpec = {{"version", "v2.0.8"},
                   {"providers", json::array({{{"name", "provider-kubernetes"}, {"version", "v1.2.1"}}})}};
  p.deployments = {{"crossplane-system", "crossplane"}};
  // The seed's example DomainServiceAPI: provider-kubernetes' Object.
  p.apiCrds = {"providers.pkg.crossplane.io", "objects.kubernetes.crossplane.io"};
  p.apiObjectResource = {"kubernetes.crossplane.io", "v1alpha2", "objects", false};
  p.apiObject = {{"apiVersion", "kubernetes.crossplane.io/v1alpha2"},
                 {"kind", "Object"},
                 {"metadata", {{"name", "spr-validate-configmap"}}},
                 {"spec",
                  {{"forProvider",
                    {{"manifest",
                      {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "spr-validate"}, {"namespace", "default"}}},
                       {"data", {{"hello", "world"}}}}}}}}}};
  p.apiObjectBlocksDeletion = true;  // an Object is a user's resource of a Crossplane kind
  p.caBundleCopy = {"crossplane-system", providers::crossplane::kCaBundleConfigMap};  // registryCaBundleConfig
  return p;
}

ValidationProfile templateProfile() {
  ValidationProfile p;
  p.providerConfig = {{"apiVersion", "template.services.open-control-plane.io/v1alpha1"},
                      {"kind", "ProviderConfig"},
                      {"metadata", {{"name", "template"}}},
                      {"spec", {{"pollInterval", "5s"}, {"image", "nginx:1.27"}, {"maxReplicas", 3}}}};
  p.requestSpec = {{"message", "hello from spr validate"}, {"replicas", 1}};
  p.deployments = {{"template-system", "template"}};
  p.caBundleCopy = {"template-system", providers::kit::kCaBundleCopyName};
  // The template service's API is the Kubernetes API of its namespace: a ConfigMap there.
  p.apiObjectResource = {"", "v1", "configmaps", true};
  p.apiObject = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", "spr-validate"}, {"namespace", "template-system"}}},
                 {"data", {{"hello", "world"}}}};
  return p;
}

}  // namespace

Result<ValidationProfile> builtinProfile(const std::string& provider) {
  if (provider == "crossplane") return crossplaneProfile();
  if (provider == "template") return templateProfile();
  return Status(Code::kNotFound,
                "no built-in validation profile for provider \"" + provider + "\"; built in: crossplane, template");
}

}  // namespace spr::cli
