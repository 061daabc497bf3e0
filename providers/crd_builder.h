// Builds apiextensions.k8s.io/v1 CustomResourceDefinition objects from their parts, so a
// provider's CRDs read as their schemas. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace spr::providers {

struct CrdSpec {
  CrdSpec(std::string group, std::string version, std::string kind, std::string plural, std::string singular,
          bool namespaced, nlohmann::json schema)
      : group(std::move(group)),
        version(std::move(version)),
        kind(std::move(kind)),
        plural(std::move(plural)),
        singular(std::move(singular)),
        namespaced(namespaced),
        schema(std::move(schema)) {}

  std::string group, version, kind, plural, singular;
  bool namespaced = true;
  nlohmann::json schema;          // openAPIV3Schema (type: object, properties: spec, status, ...)
  nlohmann::json printerColumns;  // additionalPrinterColumns, or null
  nlohmann::json labels;          // metadata.labels, or null
  nlohmann::json categories;      // names.categories, or null
};

// The CRD named "<plural>.<group>", one served+stored version with the status subresource.
// A cluster-scoped kind "ProviderConfig" also gets `spec.caBundleRef` (caBundleRefSchema()):
// the runtime resolves it for every provider (ReconcileScope::caBundle()), so every
// provider's ProviderConfig accepts it.
nlohmann::json buildCrd(const CrdSpec& spec);

// `spec.caBundleRef {name, key}`: a ConfigMap in spr's own namespace (POD_NAMESPACE) on the
// platform cluster holding a PEM CA bundle (openMCP's custom CA how-to; a
// corev1.ConfigMapKeySelector).
nlohmann::json caBundleRefSchema();

// The schema of `status` the runtime writes on every ServiceProviderAPI object:
// observedGeneration, phase and Kubernetes-style conditions.
nlohmann::json apiStatusSchema();

// Parses JSON text embedded in the source; a parse error is a bug in spr (throws at
// start-up in tests, never at runtime for a built binary that passed them).
nlohmann::json schemaJson(const char* text);

}  // namespace spr::providers
