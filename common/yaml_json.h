// YAML (yaml-cpp) to nlohmann::json, for the places that read YAML documents: vendored CRDs
// in the local API server, openMCP's discovery payloads, manifests under deploy/ in tests.
// kCoreSchema types plain scalars as YAML 1.2's core schema does (true/false, null,
// integers, floats; quoted scalars stay strings); kStrings keeps every scalar a string
// (versions such as 1.20 must not become numbers). Pure; thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace spr {

enum class YamlScalars { kCoreSchema, kStrings };

nlohmann::json yamlToJson(const YAML::Node& node, YamlScalars scalars = YamlScalars::kCoreSchema);

}  // namespace spr
