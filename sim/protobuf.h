// Kubernetes protobuf request bodies ("application/vnd.kubernetes.protobuf", what kubectl's
// typed one-liners such as `kubectl create namespace` send), turned into the JSON object the
// sim stores: the "k8s\0" envelope, runtime.Unknown, and the raw bytes of the core/v1
// Namespace, ConfigMap, Secret and ServiceAccount, authentication/v1 TokenRequest and
// SelfSubjectReview, authorization/v1 SelfSubjectAccessReview, rbac/v1 (Cluster)Role(Binding)
// and meta/v1 DeleteOptions. Other kinds get 415 with a message naming
// the kind and the fix. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/api_status.h"

namespace spr::sim {

inline constexpr const char* kProtobufMediaType = "application/vnd.kubernetes.protobuf";

// Decodes a protobuf request body into `out` (a JSON object with apiVersion, kind, metadata,
// ...). On failure returns the response to send: 400 for a malformed body, 415 for a kind
// the sim cannot decode.
std::optional<ApiResponse> decodeProtobufBody(const std::string& body, nlohmann::json& out);

}  // namespace spr::sim
