#include "runtime/object_util.h"

#include "core/fold/fold_input.h"

namespace spr::runtime {

using nlohmann::json;

// The mapping lives in core/fold (shared with replay); these names stay for the runtime.
lifecycle::ObjectSeen objectSeenOf(const json& object) { return fold::objectSeenOf(object); }

int64_t parseDurationMs(const json& value, int64_t fallbackMs) { return fold::parseDurationMs(value, fallbackMs); }

std::string fnv1aHex(const std::string& text) { return fold::fnv1aHex(text); }

}  // namespace spr::runtime
