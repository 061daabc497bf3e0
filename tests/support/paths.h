// Where a test finds the `spr` binary, the recorded fixtures and the source tree.
// The environment (SPR_BINARY, SPR_FIXTURES, SPR_SOURCE_DIR) wins; otherwise the paths
// compiled in by tests/CMakeLists.txt (spr_add_test) are used.
#pragma once

#include <cstdlib>
#include <string>

namespace spr::testing {

inline std::string envOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

inline std::string sprBinary() {
#ifdef SPR_BINARY_PATH
  return envOr("SPR_BINARY", SPR_BINARY_PATH);
#else
  return envOr("SPR_BINARY", "");
#endif
}

inline std::string fixturesDir() { return envOr("SPR_FIXTURES", SPR_FIXTURES_DIR); }

inline std::string sourceDir() { return envOr("SPR_SOURCE_DIR", SPR_SOURCE_DIR); }

}  // namespace spr::testing
