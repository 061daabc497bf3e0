#include "runtime/object_util.h"

#include <algorithm>
#include <climits>

#include "core/fold/fold_input.h"

namespace spr::runtime {

using nlohmann::json;

int64_t generationOf(const json& object) {
  if (!object.is_object()) return 0;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return 0;
  auto g = meta->find("generation");
  if (g == meta->end() || !g->is_number_integer()) return 0;
  return g->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(g->get<uint64_t>(), INT64_MAX))
                                 : g->get<int64_t>();
}

// The mapping lives in core/fold (shared with replay); these names stay for the runtime.
lifecycle::ObjectSeen objectSeenOf(const json& object) { return fold::objectSeenOf(object); }

int64_t parseDurationMs(const json& value, int64_t fallbackMs) { return fold::parseDurationMs(value, fallbackMs); }

std::string fnv1aHex(const std::string& text) { return fold::fnv1aHex(text); }

}  // namespace spr::runtime
