// fetchCaBundle: resolves a ProviderConfig's caBundleRef on the platform cluster for one
// effect (ReconcileScope::caBundle()). Thread-safe when the client is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "adapters/k8s/client.h"
#include "common/status.h"
#include "providers/provider.h"

namespace spr::runtime {

// Resolves the config's caBundleRef through `platform` (the effect's recorded client):
// nullopt without a caBundleRef; kInvalidArgument naming the ConfigMap, key, namespace and
// the fix when the reference is malformed or the ConfigMap or key is missing or not PEM;
// other errors as the client returned them. The namespace is the config's stamp, else
// `podNamespace`.
[[nodiscard]] Result<std::optional<providers::CaBundle>> fetchCaBundle(k8s::Client& platform,
                                                                       const nlohmann::json& config,
                                                                       const std::string& podNamespace);

}  // namespace spr::runtime
