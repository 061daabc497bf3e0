// The template provider. Read top to bottom: the API and its CRDs, the validation of a
// request against the ProviderConfig (user errors), the desired objects, then the four
// operations, each a fixed sequence of calls through the scope's clients.
#include "providers/template/template.h"

#include "providers/crd_builder.h"
#include "providers/kit.h"

namespace spr::providers::templ {
namespace {

using nlohmann::json;

constexpr const char* kGroup = "template.services.open-control-plane.io";
constexpr const char* kNamespace = "template-system";
constexpr const char* kName = "template";

// 1. The API: what end users write (onboarding) and what the operator offers (platform).
json apiSchema() {
  json schema = schemaJson(R"({
    "type": "object",
    "required": ["spec"],
    "properties": {
      "spec": {
        "type": "object",
        "required": ["message"],
        "properties": {
          "message": {"type": "string", "minLength": 1, "description": "Served from the ConfigMap."},
          "replicas": {"type": "integer", "minimum": 0, "description": "Default 1; at most the config's maxReplicas."}
        }
      }
    }
  })");
  schema["properties"]["status"] = apiStatusSchema();
  return schema;
}

json configSchema() {
  return schemaJson(R"({
    "type": "object",
    "required": ["spec"],
    "properties": {
      "spec": {
        "type": "object",
        "required": ["image"],
        "properties": {
          "pollInterval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
          "image": {"type": "string", "minLength": 1, "description": "The image the Deployment runs."},
          "maxReplicas": {"type": "integer", "minimum": 0, "description": "Default 3."}
        }
      },
      "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    }
  })");
}

// 2. Validation: a request the config does not allow is a user error naming the fix.
struct Plan {
  std::string message, image;
  long replicas = 1;
  std::optional<CaBundle> bundle;  // the ProviderConfig's caBundleRef, resolved
};

OpResult makePlan(const json& apiObject, const json& config, Plan& plan) {
  json spec = apiObject.value("spec", json::object());
  json offer = config.is_object() ? config.value("spec", json::object()) : json::object();
  plan.image = offer.value("image", "");
  if (plan.image.empty())
    return OpResult::user("InvalidProviderConfig",
                          "ProviderConfig \"template\" has no spec.image; the operator must set it");
  auto max = kit::intField(offer, "maxReplicas", 3);
  auto replicas = kit::intField(spec, "replicas", 1);
  if (!max)
    return OpResult::user("InvalidProviderConfig", "ProviderConfig \"template\": spec.maxReplicas must be an integer");
  if (!replicas || *replicas < 0 || *replicas > *max)
    return OpResult::user("ReplicasNotAllowed", "spec.replicas must be an integer from 0 to " + std::to_string(*max));
  plan.replicas = *replicas;
  plan.message = spec.value("message", "");
  if (plan.message.empty()) return OpResult::user("InvalidSpec", "spec.message is required");
  return OpResult::success();
}

// 3. The desired objects, in the order they are applied (and deleted in reverse). The CA
// bundle's copy (kit::ensureCaBundleCopy) goes between the Namespace and the Deployment,
// which mounts it.
std::vector<kit::Desired> desired(const Plan& plan) {
  json labels = {{"app.kubernetes.io/name", kName}, {"app.kubernetes.io/managed-by", "spr"}};
  json meta = {{"name", kName}, {"namespace", kNamespace}, {"labels", labels}};
  json container = {
      {"name", kName}, {"image", plan.image}, {"envFrom", json::array({{{"configMapRef", {{"name", kName}}}}})}};
  json podSpec = {{"containers", json::array({container})}};
  kit::mountCaBundle(podSpec, plan.bundle);
  return {
      {kit::kNamespaces,
       {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNamespace}, {"labels", labels}}}}},
      {kit::kConfigMaps,
       {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", meta}, {"data", {{"MESSAGE", plan.message}}}}},
      {kit::kDeployments,
       {{"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", meta},
        {"spec",
         {{"replicas", plan.replicas},
          {"selector", {{"matchLabels", {{"app", kName}}}}},
          {"template", {{"metadata", {{"labels", {{"app", kName}}}}}, {"spec", podSpec}}}}}}},
  };
}

// 4. The operations.
class TemplateProvider : public Provider {
 public:
  std::string name() const override { return "template"; }
  ProviderKinds kinds() const override {
    return {{kGroup, "v1alpha1", "templates", true},
            "Template",
            {kGroup, "v1alpha1", "providerconfigs", false},
            "ProviderConfig"};
  }
  std::vector<json> apiCrds() const override {
    return {buildCrd({kGroup, "v1alpha1", "Template", "templates", "template", true, apiSchema()})};
  }
  std::vector<json> configCrds() const override {
    return {
        buildCrd({kGroup, "v1alpha1", "ProviderConfig", "providerconfigs", "providerconfig", false, configSchema()})};
  }

  // Exists when the Deployment exists; drift when any object lost a field we set;
  // ready when the Deployment is Available.
  ObserveResult observe(const json& apiObject, ReconcileScope& scope) override {
    bool deleting = apiObject.contains("metadata") && apiObject["metadata"].contains("deletionTimestamp");
    Plan plan;
    OpResult valid = makePlan(apiObject, scope.providerConfig(), plan);
    if (valid.ok() && !deleting) valid = kit::resolveCaBundle(scope, &plan.bundle);
    if (!valid.ok() && !deleting) return {valid, {}};
    auto mcp = scope.mcp();
    if (!mcp) return {OpResult::fromStatus(mcp.status(), "reaching the MCP cluster"), {}};
    auto objects = desired(plan);
    const auto& target = deleting ? objects.front() : objects.back();  // the namespace, or the Deployment
    auto live = (*mcp)->get(target.gvr, target.ns(), target.name());
    if (!live && live.status().code() == Code::kNotFound)
      return {{}, {false, false, false, target.describe() + " does not exist"}};
    if (!live) return {OpResult::fromStatus(live.status(), "reading " + target.describe()), {}};
    if (deleting) return {{}, {true, false, false, target.describe() + " is still being deleted"}};
    Observation o{true, false, kit::deploymentAvailable(*live), ""};
    auto copy = kit::caBundleCopyDrift(**mcp, kNamespace, plan.bundle);
    if (!copy) return {OpResult::fromStatus(copy.status(), "reading the CA bundle's copy"), {}};
    o.message = *copy;
    for (const auto& d : objects) {
      auto drift = kit::driftOf(**mcp, d);
      if (!drift && drift.status().code() != Code::kNotFound)
        return {OpResult::fromStatus(drift.status(), "reading " + d.describe()), {}};
      std::string what = drift ? *drift : d.describe() + " is missing";
      if (!what.empty()) o.message += (o.message.empty() ? "" : "; ") + what;
    }
    o.drift = !o.message.empty();
    if (!o.drift && !o.ready) o.message = "Deployment template-system/template is not Available yet";
    return {{}, o};
  }

  // Create and Update are the same idempotent apply.
  OpResult create(const json& apiObject, ReconcileScope& scope) override { return apply(apiObject, scope); }
  OpResult update(const json& apiObject, ReconcileScope& scope) override { return apply(apiObject, scope); }

  // Deletes in reverse order; NotFound counts as deleted, so a repeated Delete is harmless.
  // Get, create, merge-patch and delete of desired()'s Namespace, ConfigMap and Deployment.
  json mcpAccessRules() const override {
    const json verbs = {"get", "create", "patch", "delete"};
    return json::array({{{"apiGroups", {""}}, {"resources", {"namespaces", "configmaps"}}, {"verbs", verbs}},
                        {{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", verbs}}});
  }

  // Deletion blocking: this service brings no kinds of its own onto the MCP (a Namespace,
  // a ConfigMap and a Deployment only), so no user resource can depend on it and the
  // default deletionBlockers() (nothing blocks) is the honest answer. A provider whose
  // service installs CRDs overrides it to list their instances (see crossplane/blockers.cpp).
  OpResult remove(const json&, ReconcileScope& scope) override {
    auto mcp = scope.mcp();
    if (!mcp) return OpResult::fromStatus(mcp.status(), "reaching the MCP cluster");
    auto objects = desired(Plan{});
    for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
      OpResult r = it->gvr.resource == "namespaces" ? kit::ensureCaBundleCopy(**mcp, kNamespace, std::nullopt)
                                                    : OpResult::success();
      if (r.ok()) r = kit::removeIfPresent(**mcp, *it);
      if (!r.ok()) return r;
    }
    return OpResult::success();
  }

 private:
  OpResult apply(const json& apiObject, ReconcileScope& scope) {
    Plan plan;
    OpResult r = makePlan(apiObject, scope.providerConfig(), plan);
    if (r.ok()) r = kit::resolveCaBundle(scope, &plan.bundle);
    if (!r.ok()) return r;
    auto mcp = scope.mcp();
    if (!mcp) return OpResult::fromStatus(mcp.status(), "reaching the MCP cluster");
    auto objects = desired(plan);
    for (size_t i = 0; i < objects.size(); ++i) {
      if (i == 1 && plan.bundle) r = kit::ensureCaBundleCopy(**mcp, kNamespace, plan.bundle);  // before the mount
      if (!r.ok()) return r;
      r = kit::ensure(**mcp, objects[i]);
      if (!r.ok()) return r;
    }
    return plan.bundle ? r : kit::ensureCaBundleCopy(**mcp, kNamespace, plan.bundle);  // after the unmount
  }
};

}  // namespace

std::unique_ptr<Provider> makeTemplateProvider() { return std::make_unique<TemplateProvider>(); }

}  // namespace spr::providers::templ
