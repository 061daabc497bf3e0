#include "providers/crd_builder.h"

namespace spr::providers {

using nlohmann::json;

json buildCrd(const CrdSpec& spec) {
  json names = {
      {"kind", spec.kind}, {"listKind", spec.kind + "List"}, {"plural", spec.plural}, {"singular", spec.singular}};
  if (!spec.categories.is_null()) names["categories"] = spec.categories;
  json version = {{"name", spec.version},
                  {"served", true},
                  {"storage", true},
                  {"subresources", {{"status", json::object()}}},
                  {"schema", {{"openAPIV3Schema", spec.schema}}}};
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
