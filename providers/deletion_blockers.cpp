// DeletionBlockers' message and JSON (providers/provider.h): what the DeletionBlocked
// condition and the CheckDeletion effect's journaled result say.
#include <algorithm>

#include "providers/provider.h"

namespace spr::providers {

namespace {

constexpr size_t kMaxKindsInMessage = 10;

std::string describeKind(const DeletionBlocker& b) {
  std::string out = std::to_string(b.count) + " " + b.kind + " (" + b.resource + ")";
  if (b.names.empty()) return out;
  out += ": ";
  for (size_t i = 0; i < b.names.size() && i < kMaxBlockerNames; ++i) out += (i ? ", " : "") + b.names[i];
  const int64_t shown = static_cast<int64_t>(std::min(b.names.size(), kMaxBlockerNames));
  if (b.count > shown) out += " and " + std::to_string(b.count - shown) + " more";
  return out;
}

}  // namespace

std::string DeletionBlockers::message() const {
  if (kinds.empty()) return "";
  std::string out =
      "deletion is blocked: resources users created from this service's kinds remain on the MCP cluster: ";
  for (size_t i = 0; i < kinds.size() && i < kMaxKindsInMessage; ++i) out += (i ? "; " : "") + describeKind(kinds[i]);
  if (kinds.size() > kMaxKindsInMessage)
    out += "; and " + std::to_string(kinds.size() - kMaxKindsInMessage) + " more kinds";
  out += ". Delete them (e.g. kubectl delete " + kinds.front().resource +
         " --all --all-namespaces on the MCP cluster); deletion then proceeds by itself";
  return out;
}

json DeletionBlockers::toJson() const {
  json out = json::array();
  for (const auto& b : kinds)
    out.push_back({{"kind", b.kind}, {"resource", b.resource}, {"count", b.count}, {"names", b.names}});
  return out;
}

}  // namespace spr::providers
