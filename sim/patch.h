// PATCH bodies as the API server applies them: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902, including "test"), and strategic merge patch for built-in kinds
// (approximated: lists of objects with a "name" key merge by name; `$patch` directives
// other than on maps are not supported). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/api_status.h"

namespace spr::sim {

enum class PatchType { kMerge, kJson, kStrategic, kApply };

// Maps a PATCH Content-Type (parameters stripped) to its type; nullopt if unknown.
std::optional<PatchType> patchTypeOf(const std::string& contentType);

struct PatchResult {
  nlohmann::json object;             // the patched object when error is unset
  std::optional<ApiResponse> error;  // 400 (malformed body) or 422 (failed op)
};

PatchResult applyPatch(const nlohmann::json& original, PatchType type, const std::string& body);

}  // namespace spr::sim
