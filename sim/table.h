// Server-side printing, as kubectl asks for it (Accept: application/json;as=Table;v=v1;
// g=meta.k8s.io): a custom resource, a list of them, or one watch event's object as a
// meta.k8s.io/v1 Table whose columns are Name plus the CRD version's
// additionalPrinterColumns (Name and Age when it has none), as kube-apiserver does.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spr::sim {

// True when the Accept header asks for a meta.k8s.io Table (v1 or v1beta1).
bool wantsTable(const std::string& accept);

struct TableOptions {
  nlohmann::json printerColumns;  // the CRD version's additionalPrinterColumns (array or null)
  std::string includeObject;      // the includeObject parameter: "None", "Metadata" (default) or "Object"
  bool noHeaders = false;         // omit columnDefinitions (watch events after the first)
};

// `objects` are the items; `listMeta` the list's metadata (resourceVersion, continue).
nlohmann::json toTable(const std::vector<const nlohmann::json*>& objects, const nlohmann::json& listMeta,
                       const TableOptions& options);

// The values a printer-column JSONPath (".status.phase", ".spec.items[0].name",
// ".status.conditions[?(@.type=='Ready')].status", ".a[*].b") selects in `object`.
std::vector<nlohmann::json> jsonPathValues(const nlohmann::json& object, const std::string& path);

// "5s", "3m12s", "2d3h": kubectl's short age of an RFC 3339 timestamp (empty if unparsable).
std::string humanAge(const std::string& rfc3339);

}  // namespace spr::sim
