// The template provider: the smallest complete provider, the starting point for a new one
// (copy this folder, rename, and follow providers/README.md). A `Template` request
// (template.services.open-control-plane.io/v1alpha1, spec {message, replicas?}) becomes a
// ConfigMap and a Deployment in namespace template-system on the end user's MCP cluster
// (with the ProviderConfig's caBundleRef: a copy of the CA bundle, mounted; kit.h).
// Stateless and thread-safe, like every Provider.
#pragma once

#include <memory>

#include "providers/provider.h"

namespace spr::providers::templ {

std::unique_ptr<Provider> makeTemplateProvider();

}  // namespace spr::providers::templ
