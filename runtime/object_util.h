// Small helpers on API objects used by the runtime: the lifecycle input an object
// carries, redaction before journaling, durations and stable hashes. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/statemachine/lifecycle.h"

namespace spr::runtime {

// generation, deletionTimestamp, our finalizer, the openmcp.cloud/operation annotation.
lifecycle::ObjectSeen objectSeenOf(const nlohmann::json& object);
// metadata.generation, or 0 when absent or not an integer (never throws).
int64_t generationOf(const nlohmann::json& object);
// "30s", "1m", "1h30m", "500ms" or a number of seconds -> milliseconds; fallback if absent,
// malformed, not positive or longer than a year (never throws).
int64_t parseDurationMs(const nlohmann::json& value, int64_t fallbackMs);
// FNV-1a 64 of `text`, 16 hex digits (stable across builds and machines).
std::string fnv1aHex(const std::string& text);

}  // namespace spr::runtime
