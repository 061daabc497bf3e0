// The providers built into spr, by name, and OpResult's mapping of cluster errors.
// No global registry: makeProvider builds a fresh instance for main() or a test.
#include "providers/crossplane/crossplane.h"
#include "providers/provider.h"
#include "providers/template/template.h"

namespace spr::providers {

OpResult OpResult::fromStatus(const Status& status, const std::string& what) {
  std::string message = what + ": " + status.message();
  if (status.code() == Code::kInvalid) return user("Invalid", message);
  return transient(codeName(status.code()), message);
}

std::unique_ptr<Provider> makeProvider(const std::string& name) {
  if (name == "crossplane") return crossplane::makeCrossplaneProvider();
  if (name == "template") return templ::makeTemplateProvider();
  return nullptr;
}

std::vector<std::string> providerNames() { return {"crossplane", "template"}; }

}  // namespace spr::providers
