#include "providers/crd_builder.h"

namespace spr::providers {

using nlohmann::json;

namespace {

// Adds caBundleRef to a ProviderConfig schema's spec (kept when the provider declares its own).
json withCaBundleRef(const CrdSpec& spec) {
  json schema = spec.schema;
  if (spec.kind != "ProviderConfig" || spec.namespaced || !schema.is_object()) return schema;
  json& props = schema["properties"];
  if (!props.is_object() || !props.contains("spec") || !props["spec"].is_object()) return schema;
  json& specProps = props["spec"]["properties"];
  if (!specProps.is_object()) specProps = json::object();
  if (!specProps.contains("caBundleRef")) specProps["caBundleRef"] = caBundleRefSchema();
  return schema;
}

}  // namespace

json caBundleRefSchema() {
  return schemaJson(R"({
    "type": "object",
    "description": "A ConfigMap in spr's own namespace (POD_NAMESPACE) on the platform cluster holding a PEM CA bundle that the deployed services trust: copied into the service's namespace and mounted into its workloads (SSL_CERT_DIR). Remove it to remove the copies.",
    "required": ["name", "key"],
    "properties": {
      "name": {"type": "string", "minLength": 1, "description": "The ConfigMap's name."},
      "key": {"type": "string", "minLength": 1, "description": "The data key holding the PEM bundle, e.g. ca-bundle.crt."}
    }
  })");
}

json buildCrd(const CrdSpec& spec) {
  json names = {
      {"kind", spec.kind}, {"listKind", spec.kind + "List"}, {"plural", spec.plural}, {"singular", spec.singular}};
  if (!spec.categories.is_null()) names["categories"] = spec.categories;
  json version = {{"name", spec.version},
                  {"served", true},
                  {"storage", true},
                  {"subresources", {{"status", json::object()}}},
                  {"schema", {{"openAPIV3Schema", withCaBundleRef(spec)}}}};
  if (!spec.printerColumns.is_null()) version["additionalPrinterColumns"] = spec.printerColumns;
  json metadata = {{"name", spec.plural + "." + spec.group}};
  if (!spec.labels.is_null()) metadata["labels"] = spec.labels;
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", metadata},
          {"spec",
           {{"group", spec.group},
            {"names", names},
            {"scope", spec.namespaced ? "Namespaced" : "Cluster"},
            {"versions", json::array({version})}}}};
}

json apiStatusSchema() {
  return schemaJson(R"({
    "type": "object",
    "description": "Written by the service provider runtime, never by the end user.",
    "properties": {
      "observedGeneration": {"type": "integer", "format": "int64",
        "description": "The metadata.generation the status describes."},
      "phase": {"type": "string", "description": "Progressing, Ready or Terminating."},
      "conditions": {
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": {
          "type": "object",
          "required": ["type", "status"],
          "properties": {
            "type": {"type": "string", "description": "Ready is always present."},
            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
            "reason": {"type": "string", "description": "CamelCase, e.g. VersionNotAllowed."},
            "message": {"type": "string"},
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "observedGeneration": {"type": "integer", "format": "int64"}
          }
        }
      }
    }
  })");
}

json schemaJson(const char* text) { return json::parse(text); }

}  // namespace spr::providers
