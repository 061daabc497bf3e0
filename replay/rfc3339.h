// RFC 3339 timestamps for replay, audit and compaction output and flags
// ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+02:00"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace spr::replay {

// UTC with nanoseconds trimmed to what is non-zero: "2024-05-01T12:00:00.123Z".
std::string formatRfc3339(int64_t unixNanos);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" ('t'/' ' for 'T', 'z' for 'Z').
// Anything else is kInvalidArgument naming the expected format.
[[nodiscard]] Result<int64_t> parseRfc3339(const std::string& text);

}  // namespace spr::replay
