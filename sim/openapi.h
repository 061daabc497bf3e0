// The OpenAPI v3 documents a simulated cluster publishes (/openapi/v3 and one document per
// group-version), shaped so real kubectl (1.32) trusts the server to validate: every kind
// has paths whose patch operation carries x-kubernetes-group-version-kind and the
// fieldValidation query parameter, and components.schemas holds each kind's schema.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spr::sim {

struct OpenApiKind {
  std::string group, version, kind, resource;  // group "" = core
  bool namespaced = true;
  nlohmann::json schema;  // openAPIV3Schema; null = permissive object (built-in kinds)
  bool statusSubresource = false;
};

// GET /openapi/v2: kube-apiserver still serves the Swagger 2.0 document, and kubectl reads it
// (as protobuf) to check on the client what it cannot leave to server-side field
// validation, e.g. the items of a `kind: List`. The sim publishes no definitions there, so
// kubectl skips those client-side checks and the server validates each item as it is
// applied. JSON {"swagger":"2.0","info":{...},"paths":{},"definitions":{}}, or the same as a
// gnostic openapi_v2.Document in protobuf when `accept` names the protobuf media type.
struct OpenApiV2 {
  std::string body, contentType;
};
OpenApiV2 openapiV2Document(const std::string& accept);

// GET /openapi/v3: {"paths": {"api/v1": {"serverRelativeURL": "<prefix>/openapi/v3/api/v1?hash=<HEX>"},
// "apis/<g>/<v>": {...}}} — one entry per group-version among `kinds`. Each hash is the
// SHA-512 (upper-case hex, as kube-apiserver) of the document's JSON, so clients' caches
// refresh whenever a CRD changes a document. On the prefix: kubectl 1.32 was tested with
// both "/clusters/x/openapi/v3/..." and "/openapi/v3/..." here and fetched
// "/clusters/x/openapi/v3/..." (200) either way; the prefixed form is published so that
// clients resolving the URL against the host, not the kubeconfig server path, work too.
nlohmann::json openapiIndex(const std::string& prefix, const std::vector<OpenApiKind>& kinds);

// GET /openapi/v3/api/v1 or /openapi/v3/apis/<g>/<v>: for each kind of that group-version,
// the collection, item (and /status) paths with get/put/patch/delete/post operations,
// each tagged with x-kubernetes-group-version-kind and x-kubernetes-action, the write
// operations taking dryRun/fieldManager/fieldValidation; components.schemas with the kind,
// its List and the shared meta/v1 types. Kinds without a schema publish a permissive
// object schema and no strategic-merge-patch body, so `kubectl apply` computes its patch
// from its built-in types instead of from an empty schema.
nlohmann::json openapiDocument(const std::string& group, const std::string& version,
                               const std::vector<OpenApiKind>& kinds);

// The components.schemas key of a kind ("io.k8s.api.core.v1.ConfigMap",
// "com.example.v1.Widget" for group example.com).
std::string openapiSchemaId(const std::string& group, const std::string& version, const std::string& kind);

}  // namespace spr::sim
