// YAML to JSON for tests that compare manifests under deploy/ with what the code produces:
// common/yaml_json.h with YAML 1.2's core schema. Pure; thread-safe.
#pragma once

#include "common/yaml_json.h"

namespace spr::testing {

using spr::yamlToJson;

}  // namespace spr::testing
